/**
 * What the load-balancer lab tests share: the lab client (lab/slb-client.py) run in an
 * endpoint, answers tallied by member, the leaf's next hops for a VIP, polling until a state
 * is reached (the time it took is the figure), and pool member servers killed and restarted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { labExec, vtysh } from '../../src/lab/index.ts';
import { repoRoot } from '../support/intent-copy.ts';

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

/** The active next hops (VTEPs) a leaf has for a prefix in a VRF. */
export async function vipVteps(lab: string, leaf: string, vrf: string, prefix: string): Promise<string[]> {
  const j = JSON.parse(await vtysh(lab, leaf, `show ip route vrf ${vrf} ${prefix} json`)) as Record<string, { selected?: boolean; nexthops: { ip?: string; active?: boolean }[] }[]>;
  return (j[prefix] ?? []).filter((r) => r.selected).flatMap((r) => r.nexthops.filter((h) => h.active && h.ip).map((h) => h.ip!)).sort();
}

/** Polls until `ok`; returns the milliseconds it took, or throws with the last value seen. */
export async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
