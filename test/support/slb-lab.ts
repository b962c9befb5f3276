/** Helpers of the load-balancer lab tests: FRR's VIP routes, polling, the request client (lab/slb-client.py) and its tally, member servers killed and restarted, and the load client's windows. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { labExec, vtysh } from '../../src/lab/index.ts';
import { repoRoot } from './intent-copy.ts';

/** The VTEPs (active next hops) a leaf routes a VIP prefix to in a VRF. */
export async function vipVteps(lab: string, leaf: string, vrf: string, prefix: string): Promise<string[]> {
  const j = JSON.parse(await vtysh(lab, leaf, `show ip route vrf ${vrf} ${prefix} json`)) as Record<string, { selected?: boolean; nexthops: { ip?: string; active?: boolean }[] }[]>;
  return (j[prefix] ?? []).filter((r) => r.selected).flatMap((r) => r.nexthops.filter((h) => h.active && h.ip).map((h) => h.ip!)).sort();
}

/** Polls `probe` every 100 ms until `ok`; the time it took, or an error naming `what` and the last value. */
export async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request of lab/slb-load.py: wall-clock start (ms), duration (ms), ok, member or error. */
export type LoadSample = [number, number, 0 | 1, string];

const LOAD = path.join(repoRoot, 'lab/slb-load.py');

/** Steady load from an endpoint for `seconds` (lab/slb-load.py); resolves with every request. */
export async function steadyLoad(lab: string, from: string, a: { mode: string; vip: string; port: number; seconds: number; concurrency: number; host?: string; path?: string; cafile?: string }): Promise<LoadSample[]> {
  const r = await labExec(lab, from, ['python3', LOAD, a.mode, a.vip, String(a.port), String(a.seconds), String(a.concurrency), a.host ?? '', a.path ?? '', a.cafile ?? ''], { timeoutMs: a.seconds * 1000 + 30_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`slb-load.py from ${from}: no result (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
  return (JSON.parse(line) as { samples: LoadSample[] }).samples;
}

export interface LoadWindow {
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  /** Requests per second over the window. */
  rate: number;
  members: Record<string, number>;
  errors: string[];
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

/** The requests that started in [from, to): counts, failures, latency percentiles, members. */
export function loadWindow(samples: LoadSample[], from: number, to: number): LoadWindow {
  const s = samples.filter((x) => x[0] >= from && x[0] < to);
  const ms = s.map((x) => x[1]).sort((a, b) => a - b);
  const members: Record<string, number> = {};
  for (const x of s) if (x[2]) members[x[3]] = (members[x[3]] ?? 0) + 1;
  const failed = s.filter((x) => !x[2]);
  return { requests: s.length, failed: failed.length, p50: pct(ms, 50), p99: pct(ms, 99), rate: Math.round((s.length / Math.max(1, to - from)) * 1000), members, errors: [...new Set(failed.map((x) => x[3]))].slice(0, 5) };
}

export const formatWindow = (w: LoadWindow): string => `${w.requests} requests (${w.rate}/s), ${w.failed} failed, p50 ${w.p50} ms, p99 ${w.p99} ms`;

const CLIENT = path.join(repoRoot, 'lab/slb-client.py');
const MEMBER = path.join(repoRoot, 'lab/member-server.py');

export interface Answer { ok: boolean; member?: string; error?: string; alpn?: string; cookie?: string; set_cookie?: string }

/** N requests from an endpoint, each on a new connection (see lab/slb-client.py for the arguments). */
export async function requests(lab: string, from: string, mode: string, vip: string, port: number, n: number, o: { host?: string; path?: string; cafile?: string; header?: string; cookie?: string } = {}): Promise<Answer[]> {
  const r = await labExec(lab, from, ['python3', CLIENT, mode, vip, String(port), String(n), o.host ?? '', o.path ?? '', o.cafile ?? '', o.header ?? '', o.cookie ?? ''], { timeoutMs: n * 3000 + 5000 });
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Answer);
}

/** Answers by member; failures as "failed". */
export function tally(a: Answer[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of a) m[x.ok ? x.member ?? '?' : 'failed'] = (m[x.ok ? x.member ?? '?' : 'failed'] ?? 0) + 1;
  return m;
}

/** The member server of an endpoint on a port: its pid in the endpoint's namespace. */
export async function memberPid(lab: string, endpoint: string, port: number): Promise<number | undefined> {
  const pids = (await labExec(lab, endpoint, ['sh', '-c', 'for p in /proc/[0-9]*; do [ "$(readlink $p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo ${p#/proc/}; done'])).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('member-server.py')) && argv.includes(String(port))) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export const startMember = (lab: string, endpoint: string, mode: string, port: number) =>
  labExec(lab, endpoint, ['sh', '-c', `setsid -f python3 ${MEMBER} ${endpoint} ${mode} ${port} </dev/null >/dev/null 2>&1`]);
