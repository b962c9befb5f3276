/**
 * The troubleshooting API under load: autocannon against `GET /paths?src&dst` and
 * `GET /devices/{leaf}/bgp` (and `/status`) of `netloom serve`'s server on loopback, over a
 * generated fabric of about API_BENCH_LEAVES leaves whose devices answer every BGP session
 * Established and every other show command empty (so the RIB checks find every route missing:
 * a degraded fabric with tens of thousands of findings, the heavier case for the routes),
 * each route for API_BENCH_SECONDS (default 60) with 10 connections: requests/s, p99 latency
 * and errors. The reference measured in the same run is `GET /health` of the same server (no
 * token, no work): the ceiling Fastify and this machine give, so the ratio says what each
 * route's own work costs. The server runs in a process of its own (2 CPUs: one for it, one
 * for the load).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { loadavg } from 'node:os';
import { report } from './harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.API_BENCH_SECONDS ?? 60);
const LEAVES = Number(process.env.API_BENCH_LEAVES ?? 120);
const CONNECTIONS = 10;
const BENCH_READ_TOKEN = 'bench-read-token-0123456789';

interface Info { port: number; devices: number; sessions: number; findings: number; pollMs: number; src: string; dst: string; leaf: string }

const server = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'api-server.ts'), String(LEAVES)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, API_BENCH_TOKEN: BENCH_READ_TOKEN } });
try {
  const info = await new Promise<Info>((resolve, reject) => {
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as Info);
    });
    server.once('exit', (code) => reject(new Error(`the bench server exited ${code}`)));
  });
  process.stdout.write(`  fabric: ${info.devices} devices, ${info.sessions} BGP sessions, BGP simulated Established, routes not (first poll ${info.pollMs.toFixed(0)} ms, ${info.findings} findings); ${CONNECTIONS} connections, ${SECONDS} s per route, load average ${loadavg()[0].toFixed(1)}\n`);
  const base = `http://127.0.0.1:${info.port}`;
  const load = (url: string, auth: boolean) =>
    autocannon({ url: `${base}${url}`, connections: CONNECTIONS, duration: SECONDS, headers: auth ? { authorization: `Bearer ${BENCH_READ_TOKEN}` } : {} });
  const reference = await load('/health', false);
  const refRate = reference.requests.average;
  report({ name: 'GET /health (reference: no token, no work)', value: refRate, unit: 'req/s', note: `p99 ${reference.latency.p99} ms, ${reference.errors + reference.non2xx} errors` });
  for (const [name, url] of [
    ['GET /paths?src&dst', `/paths?src=${info.src}&dst=${info.dst}`],
    [`GET /devices/{name}/bgp`, `/devices/${info.leaf}/bgp`],
    ['GET /status', '/status'],
  ] as const) {
    const r = await load(url, true);
    report({ name: `${name} requests`, value: r.requests.average, unit: 'req/s', target: '>= 2,000 req/s', reference: { name: 'GET /health', value: refRate, higherIsBetter: true } });
    report({ name: `${name} p99 latency`, value: r.latency.p99, unit: 'ms', target: '<= 20 ms', reference: { name: 'GET /health', value: reference.latency.p99 }, note: `${r.errors} errors, ${r.non2xx} non-2xx of ${r.requests.total} requests; mean ${r.latency.mean.toFixed(2)} ms` });
  }
} finally {
  server.kill('SIGTERM');
}
