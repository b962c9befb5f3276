/**
 * Command execution over SSH (ssh2) for the FRR driver: one connection per device, commands
 * run through `exec` with optional stdin (uploads are `cat > file` with the content on stdin,
 * so no sftp-server is needed on the device). The host key is verified by the NETCONF client's
 * policy code (pins and known_hosts); credentials never reach a message.
 */
import { Client, type ConnectConfig } from 'ssh2';
import { Redactor, verifyHostKey, type CredentialsInit, type HostKeyPolicy, type HostKeyVerdict } from './netconf/index.ts';
import { resolveAuth } from './netconf/credentials.ts';
import { DeviceError } from './errors.ts';

export interface SshTarget {
  device: string;
  host: string;
  port: number;
  credentials: CredentialsInit;
  hostKey: HostKeyPolicy;
  connectTimeoutMs?: number;
}

export interface ExecOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export class SshExec {
  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    private readonly redactor: Redactor,
    readonly hostKeyFingerprint: string,
  ) {}

  static connect(t: SshTarget): Promise<SshExec> {
    const where = `${t.device} (${t.host}:${t.port})`;
    let auth;
    try {
      auth = resolveAuth(t.credentials);
    } catch (e) {
      return Promise.reject(new DeviceError(t.device, 'auth', `${where}: ${(e as Error).message}`));
    }
    const redactor = new Redactor(auth);
    return new Promise((resolve, reject) => {
      const client = new Client();
      let verdict: HostKeyVerdict | undefined;
      let done = false;
      const fail = (kind: DeviceError['kind'], msg: string): void => {
        if (done) return;
        done = true;
        client.destroy();
        reject(new DeviceError(t.device, kind, `${where}: ${redactor.redact(msg)}`));
      };
      client.on('error', (err: Error & { level?: string }) => {
        if (verdict && !verdict.ok) return fail('hostkey', verdict.message);
        if (err.level === 'client-authentication') return fail('auth', `authentication failed for user ${auth.username}`);
        fail('unreachable', err.message);
      });
      client.on('close', () => fail('unreachable', 'connection closed during set-up'));
      client.on('ready', () => {
        if (done) return;
        done = true;
        resolve(new SshExec(client, t, redactor, verdict && verdict.ok ? verdict.fingerprint : ''));
      });
      const cfg: ConnectConfig = {
        host: t.host,
        port: t.port,
        username: auth.username,
        readyTimeout: t.connectTimeoutMs ?? 15_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(t.hostKey, t.host, t.port, key);
          return verdict.ok;
        },
      };
      if (auth.password !== undefined) cfg.password = auth.password;
      if (auth.privateKey !== undefined) cfg.privateKey = auth.privateKey;
      if (auth.passphrase !== undefined) cfg.passphrase = auth.passphrase;
      if (auth.agent !== undefined) cfg.agent = auth.agent;
      try {
        client.connect(cfg);
      } catch (e) {
        fail('auth', (e as Error).message);
      }
    });
  }

  /** Runs a shell command line; never throws for a non-zero exit (callers decide). */
  exec(command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecOutput> {
    const t = this.target;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeviceError(t.device, 'timeout', `${t.device}: '${command.slice(0, 80)}' did not finish within ${opts.timeoutMs ?? 120_000} ms`)), opts.timeoutMs ?? 120_000);
      this.client.exec(command, (err, ch) => {
        if (err) {
          clearTimeout(timer);
          return reject(new DeviceError(t.device, 'unreachable', `${t.device}: ${this.redactor.redact(err.message)}`));
        }
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code = -1;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errs.push(d));
        ch.on('exit', (c: number | null) => {
          code = c ?? -1;
        });
        ch.on('close', () => {
          clearTimeout(timer);
          resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /** exec that throws a DeviceError naming the step when the command fails. */
  async run(step: string, command: string, opts: { stdin?: string; timeoutMs?: number; kind?: DeviceError['kind'] } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
      throw new DeviceError(this.target.device, opts.kind ?? 'command', `${this.target.device}: ${step} failed (exit ${r.code}): ${detail.slice(0, 600)}`);
    }
    return r.stdout;
  }

  /** Writes a file through `cat >` (keeps owner and mode, works on bind-mounted targets). */
  async writeFile(path: string, content: string, mode?: string): Promise<void> {
    const q = shq(path);
    await this.run(`writing ${path}`, `mkdir -p "$(dirname ${q})" && cat > ${q}.netloom-tmp && cat ${q}.netloom-tmp > ${q} && rm -f ${q}.netloom-tmp${mode ? ` && chmod ${mode} ${q}` : ''}`, { stdin: content });
  }

  /** File content, or undefined when the file does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.exec(`if [ -f ${shq(path)} ]; then cat ${shq(path)}; else exit 3; fi`);
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new DeviceError(this.target.device, 'command', `${this.target.device}: reading ${path} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  get isOpen(): boolean {
    return (this.client as unknown as { _sock?: { writable?: boolean } })._sock?.writable !== false;
  }

  close(): void {
    try {
      this.client.end();
    } catch {
      // already gone
    }
  }
}

export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
