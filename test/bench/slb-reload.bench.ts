/**
 * `npm run bench slb-reload`: p99 latency while HAProxy reloads a 1,000-frontend configuration
 * (master-worker, SIGUSR2, listeners handed over by `expose-fd listeners`), printed beside p99
 * at rest measured in the same run (the reference). The configuration is the one netloom
 * renders for intents/slb1 with 1,000 HTTP virtual services (two members each, HTTP health
 * checks), run by a real haproxy in a network namespace the bench creates and deletes: the
 * VIPs and the members' addresses are on its loopback, where all traffic stays. Members are one
 * Node HTTP server; the client opens a new connection per request at a fixed rate (as clients
 * of many frontends do) to frontends in turn, and counts failures.
 * Goal (issue 13, HAProxy #1634): no visible rise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { runtimeCommand } from '../../src/domains/slb/haproxy-runtime.ts';
import { report } from './harness.ts';

const N = 1000;
const RATE = 200; // requests per second
const RELOADS = 5;
const NS = `nlbench-slb-${process.pid}`;

if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v haproxy']).status !== 0) {
  process.stdout.write('  skipped: needs root and haproxy (a network namespace of its own)\n');
  process.exit(0);
}

/** Load from inside the namespace: one request every 1000/RATE ms, each on a new connection, until stdin closes. */
const CLIENT = `
import http from 'node:http';
const [rate, n] = process.argv.slice(1).map(Number);
const samples = [];
let i = 0;
const timer = setInterval(() => {
  const k = i++ % n;
  const t0 = performance.now();
  const at = Date.now();
  const req = http.get({ host: '10.10.' + (96 + (k >> 8)) + '.' + (k & 255), port: 80, path: '/', agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => samples.push([at, performance.now() - t0, res.statusCode === 200 ? 1 : 0]));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => samples.push([at, performance.now() - t0, 0]));
}, 1000 / rate);
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  setTimeout(() => { process.stdout.write(JSON.stringify(samples)); process.exit(0); }, 1000);
});
`;
const MEMBERS = `
import http from 'node:http';
http.createServer((q, s) => { s.setHeader('X-Server', q.socket.localAddress.endsWith('.11') ? 'h1' : 'h2'); s.end('ok\\n'); }).listen(8080);
`;

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inNs = (args: string[]) => sh('ip', ['netns', 'exec', NS, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/** haproxy.cfg of lb1 for intents/slb1 with N HTTP services on VIPs 10.10.96.0 - 10.10.99.231. */
function renderConfig(dir: string, run: string): string {
  cpSync('intents/slb1', dir, { recursive: true });
  const pools: Record<string, unknown> = {};
  const services: unknown[] = [];
  for (let i = 0; i < N; i++) {
    pools[`p${i}`] = { members: [{ endpoint: 'h1', port: 8080, weight: 2 }, { endpoint: 'h2', port: 8080 }], health_check: { type: 'http', path: `/health/${i}`, interval: '10s' } };
    services.push({ name: `svc${i}`, vrf: 'BLUE', vip: `10.10.${96 + (i >> 8)}.${i & 255}`, nodes: ['lb1'], listeners: [{ port: 80, protocol: 'http' }], default_pool: `p${i}` });
  }
  const slb = { vip_ranges: [{ vrf: 'BLUE', prefix: '10.10.96.0/20' }], nodes: { lb1: { attach: ['leaf1'], targets: ['haproxy'], vrfs: { BLUE: { network: 'web', ipv4: '10.10.10.51' } } } }, pools, services };
  writeFileSync(path.join(dir, 'slb.yaml'), stringify({ slb }));
  const model = loadModelSync(dir);
  const cfg = renderModel(model, { devices: ['lb1'] }).artifacts.find((a) => a.path === 'lb1/haproxy.cfg')!.content;
  return cfg.replaceAll('/run/netloom/slb/lb1', run);
}

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-slb-reload-'));
const run = path.join(dir, 'run');
const procs: ChildProcess[] = [];
let master: number | undefined;
try {
  const cfg = renderConfig(path.join(dir, 'intent'), run);
  sh('mkdir', ['-p', run]);
  const cfgFile = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfgFile, cfg);
  const frontends = cfg.split('\n').filter((l) => l.startsWith('frontend ')).length;
  sh('ip', ['netns', 'add', NS]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  inNs(['ip', 'addr', 'add', '10.10.96.0/20', 'dev', 'lo']);
  inNs(['ip', 'addr', 'add', '10.10.10.11/32', 'dev', 'lo']);
  inNs(['ip', 'addr', 'add', '10.10.10.12/32', 'dev', 'lo']);
  procs.push(spawn('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', MEMBERS], { stdio: 'ignore' }));
  const sock = path.join(run, 'haproxy.sock');
  const workerPid = async () => {
    try {
      return Number(/^Pid: (\d+)$/m.exec(await runtimeCommand(sock, 'show info', 1000))?.[1]);
    } catch {
      return undefined;
    }
  };
  let t0 = performance.now();
  inNs(['haproxy', '-W', '-D', '-f', cfgFile]);
  master = Number(readFileSync(path.join(run, 'haproxy.pid'), 'utf8').trim());
  while (!(await workerPid())) await sleep(20);
  const startMs = performance.now() - t0;
  await sleep(500);

  const client = spawn('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', CLIENT, String(RATE), String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
  procs.push(client);
  let out = '';
  client.stdout!.on('data', (d) => (out += d));
  const done = new Promise((r) => client.on('exit', r));
  await sleep(4500);
  const restWindow = [Date.now() - 4000, Date.now()];
  const reloadWindows: number[][] = [];
  const reloadMs: number[] = [];
  for (let i = 0; i < RELOADS; i++) {
    const before = await workerPid();
    const from = Date.now();
    t0 = performance.now();
    process.kill(master, 'SIGUSR2');
    for (;;) {
      const now = await workerPid();
      if (now && now !== before) break;
      await sleep(10);
    }
    reloadMs.push(performance.now() - t0);
    reloadWindows.push([from, Date.now() + 200]);
    await sleep(800);
  }
  await sleep(1000);
  client.stdin!.end();
  await done;
  const samples = JSON.parse(out) as [number, number, number][];
  const inWin = (w: number[][]) => samples.filter(([at]) => w.some(([a, b]) => at >= a && at < b));
  const rest = inWin([restWindow]);
  const during = inWin(reloadWindows);
  const failed = samples.filter((s) => !s[2]).length;
  const lat = (xs: typeof samples) => xs.filter((s) => s[2]).map((s) => s[1]);
  process.stdout.write(`  ${frontends} frontends, ${N} backends x 2 members (HTTP checks every 10 s); haproxy started in ${startMs.toFixed(0)} ms; ${RELOADS} reloads (SIGUSR2 to a new worker answering): ${reloadMs.map((x) => x.toFixed(0)).join(', ')} ms\n`);
  process.stdout.write(`  ${samples.length} requests at ${RATE}/s, each a new connection: ${failed} failed; at rest ${rest.length} (p50 ${pct(lat(rest), 50).toFixed(2)} ms), during reloads ${during.length} (p50 ${pct(lat(during), 50).toFixed(2)} ms)\n`);
  const p99 = { rest: pct(lat(rest), 99), during: pct(lat(during), 99) };
  // The reference is the same haproxy at rest: "faster/slower" reads as the rise during reloads.
  report({ name: `p99 latency during hitless reloads of a ${frontends}-frontend haproxy.cfg`, value: p99.during, unit: 'ms', target: 'no visible rise over rest', reference: { name: 'p99 at rest, same run', value: p99.rest }, note: `p99 ${(p99.during / p99.rest).toFixed(1)}x the rest figure; ${failed} failed requests; 2 CPUs shared with the client and members` });
} finally {
  if (master) {
    try {
      process.kill(master, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const p of procs) if (p.exitCode === null && p.pid) p.kill('SIGTERM');
  await sleep(300);
  if (existsSync(`/run/netns/${NS}`)) spawnSync('ip', ['netns', 'del', NS]);
  rmSync(dir, { recursive: true, force: true });
}
