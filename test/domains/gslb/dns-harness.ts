/**
 * A scratch network namespace (name starting "hgs") running Debian's pdns_server with the
 * files netloom renders for one DNS server, and real HTTP/TCP members on the model's member
 * addresses (on lo): what the DNS behaviour test queries with dig. Every process is started
 * here and stopped by its pid; the namespace is deleted at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeArtifact } from '../../../src/domains/types.ts';

const MEMBER = `
const http = require('node:http');
const [addr, port] = process.argv.slice(1);
http.createServer((q, r) => { r.writeHead(q.url === '/healthz' ? 200 : 404); r.end(q.url === '/healthz' ? 'ok\\n' : 'no\\n'); }).listen(Number(port), addr);
`;

export class DnsLab {
  readonly ns = `hgsdns${process.pid % 100000}`;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'hgs-pdns-'));
  private server?: ChildProcess;
  private readonly members = new Map<string, ChildProcess>();

  constructor(private readonly serverAddress: string) {}

  sh(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', input, timeout: 20_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** The namespace with lo up and every address the server and members use on it. */
  up(addresses: string[]): void {
    this.down();
    const must = (args: string[]) => {
      const r = this.sh(args);
      if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    };
    must(['ip', 'netns', 'add', this.ns]);
    must(['ip', '-n', this.ns, 'link', 'set', 'lo', 'up']);
    for (const a of addresses) must(['ip', '-n', this.ns, 'addr', 'add', `${a}/${a.includes(':') ? 128 : 32}`, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : [])]);
  }

  /**
   * Writes the server's rendered files as rendered, except where they name their own location
   * (the lab places them under /etc/netloom/gslb/<server>): here, the scratch directory.
   */
  writeFiles(files: NodeArtifact[]): void {
    for (const f of files) {
      const content = f.content
        .replace(/directory "[^"]*"/, `directory "${this.dir}"`)
        .replace(/^bind-config=.*$/m, `bind-config=${path.join(this.dir, 'named.conf')}`)
        .replace(/^socket-dir=.*$/m, `socket-dir=${this.dir}`);
      writeFileSync(path.join(this.dir, f.name), content);
    }
  }

  /** pdnsutil's view of a zone (the renderer's oracle for syntax; not for what LUA answers). */
  checkZone(zone: string): { status: number | null; out: string } {
    const r = this.sh(['pdnsutil', `--config-dir=${this.dir}`, 'check-zone', zone]);
    return { status: r.status, out: r.stdout + r.stderr };
  }

  /** pdns_server on the rendered pdns.conf (addresses, port, LUA and ECS settings as rendered). */
  startServer(): void {
    const log = path.join(this.dir, 'pdns.log');
    this.server = spawn('ip', ['netns', 'exec', this.ns, 'pdns_server', `--config-dir=${this.dir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.server.stderr!.on('data', (d) => {
      // The scratch directory may be gone already (cleanup after a test ends).
      try {
        writeFileSync(log, d, { flag: 'a' });
      } catch {}
    });
  }

  /** Killed, and gone: a server started right after must find its addresses free to bind. */
  async stopServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise<void>((res) => server.once('exit', () => res()));
    server.kill('SIGKILL');
    await gone;
  }

  serverLog(): string {
    try {
      return readFileSync(path.join(this.dir, 'pdns.log'), 'utf8');
    } catch {
      return '';
    }
  }

  startMember(address: string, port: number): void {
    this.stopMember(address);
    this.members.set(address, spawn('ip', ['netns', 'exec', this.ns, 'node', '-e', MEMBER, address, String(port)], { stdio: 'ignore' }));
  }

  /** Until every address accepts TCP on `port` inside the namespace (members are Node processes: ~0.2 s to start). */
  async waitListening(addresses: string[], port: number, limitMs = 10_000): Promise<void> {
    const t0 = Date.now();
    for (const a of addresses) {
      const target = a.includes(':') ? `[${a}]` : a;
      while (this.sh(['ip', 'netns', 'exec', this.ns, 'bash', '-c', `exec 3<>/dev/tcp/${a}/${port}`]).status !== 0) {
        if (Date.now() - t0 > limitMs) throw new Error(`member ${target}:${port} is not listening after ${limitMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  stopMember(address: string): void {
    const p = this.members.get(address);
    if (p) {
      p.kill('SIGKILL');
      this.members.delete(address);
    }
  }

  /** Answers (A/AAAA addresses) of each query line "NAME TYPE [+subnet=S]", in one dig run. */
  dig(queries: string[]): string[][] {
    const batch = path.join(this.dir, 'queries');
    writeFileSync(batch, queries.map((q) => `@${this.serverAddress} ${q} +noall +answer +comments +tries=1 +time=2`).join('\n') + '\n');
    const r = this.sh(['ip', 'netns', 'exec', this.ns, 'dig', '-f', batch]);
    // One ";; ->>HEADER<<-" per query, then its answer lines.
    const out: string[][] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.includes('->>HEADER<<-')) out.push([]);
      const m = /\sIN\s+(A|AAAA)\s+(\S+)$/.exec(line);
      if (m && out.length) out[out.length - 1].push(m[2]);
    }
    if (out.length !== queries.length) throw new Error(`dig answered ${out.length} of ${queries.length} queries: ${r.stdout.slice(0, 400)} ${r.stderr}`);
    return out;
  }

  down(): void {
    for (const a of [...this.members.keys()]) this.stopMember(a);
    if (this.server) {
      this.server.kill('SIGKILL');
      this.server = undefined;
    }
    this.sh(['ip', 'netns', 'del', this.ns]);
  }

  cleanup(): void {
    this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
