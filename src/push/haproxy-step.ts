/**
 * HAProxy on a load-balancer node as a push step (snapshot, plan, push, rollback), over any
 * command runner (an SSH session, or a lab node): the primitive the slb domain's push builds on.
 *  - A change that only moves server weights, drains members, or adds and removes servers
 *    (what HAProxy issue #3094 asks for without a reload) goes through the runtime API
 *    (`set server B/S weight N`, `add server`, `del server` after a drain) wherever HAProxy
 *    2.6 allows it, and the file is rewritten so a later reload keeps it: the worker keeps
 *    running.
 *  - Any other change: the candidate is written beside the live file, checked with
 *    `haproxy -c -f` (refused with HAProxy's own message, nothing changed), moved into place,
 *    and the master told to reload (SIGUSR2): master-worker with `expose-fd listeners` on the
 *    stats socket hands the listening sockets to the new worker, so no connection is refused
 *    (the lab test counts). Done when `show info` answers from a new worker.
 *  - Rollback puts the previous file back the same way.
 * The runtime API is reached with python3 on the node (no socat on a Debian base).
 */
import { unifiedDiff } from '../render/diff.ts';
import type { CommandHost } from './nft-ruleset.ts';
import { shq } from './ssh-exec.ts';

export interface HaproxyTarget {
  node: string;
  host: CommandHost;
  /** The live configuration file on the node. */
  config: string;
  /** The master's pid file and the stats socket, as the rendered haproxy.cfg names them. */
  pidFile: string;
  socket: string;
}

export interface HaproxySnapshot {
  config: string | null;
}

/**
 * One runtime API change of a server: its weight (a drain is weight 0), a server added
 * (`add server`, HAProxy >= 2.5: dynamic servers) or one removed (`del server`, after it drained).
 */
export type RuntimeOp =
  | { op: 'weight'; backend: string; server: string; weight: number }
  | { op: 'add'; backend: string; server: string; /** `ADDR:PORT options...` as the file has it. */ spec: string; check: boolean }
  | { op: 'del'; backend: string; server: string };

export interface HaproxyPlan {
  changed: boolean;
  diff: string;
  summary: string;
  /** Set when the change is server weights only: applied through the runtime API, no reload. */
  runtime?: RuntimeOp[];
}

export class HaproxyStepError extends Error {}

const SOCKET_CLIENT = [
  'import socket, sys',
  's = socket.socket(socket.AF_UNIX)',
  's.settimeout(5)',
  's.connect(sys.argv[1])',
  's.sendall(sys.stdin.buffer.read())',
  'out = b""',
  'while True:',
  '    c = s.recv(65536)',
  '    if not c: break',
  '    out += c',
  'sys.stdout.write(out.decode(errors="replace"))',
].join('\n');

async function run(t: HaproxyTarget, step: string, command: string, stdin?: string): Promise<string> {
  const r = await t.host.exec(command, { ...(stdin !== undefined ? { stdin } : {}), timeoutMs: 30_000 });
  if (r.code !== 0) throw new HaproxyStepError(`${t.node}: ${step} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

/** The shell command that sends its stdin to HAProxy's runtime API at `socket` and prints the answer. */
export function runtimeApiShell(socket: string): string {
  return `python3 -c ${shq(SOCKET_CLIENT)} ${shq(socket)}`;
}

/** One runtime API command (or several, one per line, sent in one connection: HAProxy runs them in order). */
export async function runtimeApi(t: HaproxyTarget, commands: string[]): Promise<string> {
  return run(t, 'runtime API', runtimeApiShell(t.socket), commands.join(';') + '\n');
}

async function workerPid(t: HaproxyTarget): Promise<number | undefined> {
  try {
    const info = await runtimeApi(t, ['show info']);
    const m = /^Pid: (\d+)$/m.exec(info);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function snapshotHaproxy(t: HaproxyTarget): Promise<HaproxySnapshot> {
  const r = await t.host.exec(`cat ${shq(t.config)}`);
  return { config: r.code === 0 ? r.stdout : null };
}

interface ServerLine {
  /** The line without its weight: what else a runtime weight change must leave alone. */
  rest: string;
  weight: number;
  /** `ADDR:PORT options...`: what `add server B/S` takes. */
  spec: string;
}

/** `server NAME ADDR:PORT ... weight N ...` lines by backend ("backend/server"), and each backend's `balance` line. */
export function haproxyServers(cfg: string): { servers: Map<string, ServerLine>; balance: Map<string, string> } {
  const out = new Map<string, ServerLine>();
  const balance = new Map<string, string>();
  let backend = '';
  for (const raw of cfg.split('\n')) {
    const l = raw.trim();
    const b = /^backend\s+(\S+)/.exec(l);
    if (b) backend = b[1];
    else if (/^(frontend|listen|defaults|global)\b/.test(l)) backend = '';
    if (backend && /^(balance|hash-type)\s/.test(l)) balance.set(backend, `${balance.get(backend) ?? ''} ${l}`.trim());
    const s = /^server\s+(\S+)\s+(.*)$/.exec(l);
    if (s && backend) out.set(`${backend}/${s[1]}`, { rest: l.replace(/\s+weight\s+\d+/, ''), weight: Number(/\sweight\s+(\d+)/.exec(l)?.[1] ?? 1), spec: s[2] });
  }
  return { servers: out, balance };
}

/**
 * Whether HAProxy 2.6 takes `add server` in a backend balanced so, and with such a server line:
 * dynamic servers need a dynamic algorithm (not static-rr, not map-based hashing) and refuse
 * `cookie` (checked against Debian's 2.6.12: "'cookie' option is not accepted for dynamic
 * server", "Backend must use a dynamic load balancing to support dynamic servers").
 */
function dynamicServerAllowed(balance: string | undefined, spec: string): boolean {
  const algo = /\bbalance\s+(\S+)/.exec(balance ?? '')?.[1] ?? 'roundrobin';
  const consistent = /\bhash-type\s+consistent\b/.test(balance ?? '');
  const dynamic = ['roundrobin', 'leastconn', 'first', 'random'].includes(algo) || (algo !== 'static-rr' && consistent);
  return dynamic && !/(^|\s)(cookie|track|use-server)\s/.test(` ${spec} `);
}

/**
 * The runtime changes that turn `from` into `to` (weights, servers added or removed), or
 * undefined when anything else differs too, or a server change HAProxy cannot make at runtime.
 */
export function runtimeOnlyChange(from: string, to: string): RuntimeOp[] | undefined {
  const strip = (c: string) => c.split('\n').filter((l) => !/^\s*server\s/.test(l) && !/^\s*#/.test(l)).join('\n');
  if (strip(from) !== strip(to)) return undefined;
  const a = haproxyServers(from);
  const b = haproxyServers(to);
  const ops: RuntimeOp[] = [];
  for (const [k, old] of a.servers) {
    if (b.servers.has(k)) continue;
    const [backend, server] = k.split('/');
    if (!dynamicServerAllowed(a.balance.get(backend), old.spec)) return undefined;
    ops.push({ op: 'del', backend, server });
  }
  for (const [k, v] of b.servers) {
    const [backend, server] = k.split('/');
    const old = a.servers.get(k);
    if (!old) {
      if (!dynamicServerAllowed(b.balance.get(backend), v.spec)) return undefined;
      ops.push({ op: 'add', backend, server, spec: v.spec, check: /(^|\s)check(\s|$)/.test(v.spec) });
      continue;
    }
    if (old.rest !== v.rest) return undefined;
    if (old.weight !== v.weight) ops.push({ op: 'weight', backend, server, weight: v.weight });
  }
  return ops;
}

function describeOp(o: RuntimeOp): string {
  if (o.op === 'weight') return `${o.backend}/${o.server} weight ${o.weight}`;
  return `${o.op === 'add' ? 'add' : 'remove'} server ${o.backend}/${o.server}`;
}

export function planHaproxy(t: HaproxyTarget, snap: HaproxySnapshot, desired: string): HaproxyPlan {
  if (snap.config === desired) return { changed: false, diff: '', summary: '' };
  const diff = unifiedDiff(snap.config ?? '', desired, `${t.node}/haproxy.cfg (running)`, `${t.node}/haproxy.cfg (rendered)`);
  const runtime = snap.config === null ? undefined : runtimeOnlyChange(snap.config, desired);
  const summary = runtime ? `haproxy runtime API: ${runtime.map(describeOp).join(', ')}` : 'haproxy.cfg: checked, hitless reload';
  return { changed: true, diff, summary, ...(runtime ? { runtime } : {}) };
}

/** Writes, checks and reloads (or applies the runtime ops); returns what it did. */
export async function pushHaproxy(t: HaproxyTarget, plan: HaproxyPlan, desired: string, opts: { reloadTimeoutMs?: number; drainTimeoutMs?: number } = {}): Promise<'runtime' | 'reload' | 'unchanged'> {
  if (!plan.changed) return 'unchanged';
  const tmp = `${t.config}.netloom-new.$$`;
  if (plan.runtime) {
    for (const o of plan.runtime) await runtimeOp(t, o, opts.drainTimeoutMs ?? 10_000);
    await run(t, `writing ${t.config}`, `cat > ${tmp} && cat ${tmp} > ${shq(t.config)} && rm -f ${tmp}`, desired);
    return 'runtime';
  }
  const before = await workerPid(t);
  // The check and the install in one command: a refused candidate leaves the live file alone.
  // Installed by rewriting the file in place (not a rename): lab nodes bind-mount single files.
  await run(t, 'haproxy -c', `f=${tmp}; cat > "$f" && if haproxy -c -q -f "$f"; then cat "$f" > ${shq(t.config)} && rm -f "$f"; else rc=$?; haproxy -c -f "$f" >&2; rm -f "$f"; exit $rc; fi`, desired);
  await reload(t, before, opts.reloadTimeoutMs ?? 10_000);
  return 'reload';
}

/** `show stat` sessions of one server (scur), or undefined when it is not there. */
async function currentSessions(t: HaproxyTarget, backend: string, server: string): Promise<number | undefined> {
  const csv = await runtimeApi(t, ['show stat']);
  const lines = csv.split('\n');
  const cols = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const [px, sv, scur] = ['pxname', 'svname', 'scur'].map((c) => cols.indexOf(c));
  for (const l of lines) {
    const f = l.split(',');
    if (f[px] === backend && f[sv] === server) return Number(f[scur]);
  }
  return undefined;
}

/**
 * One runtime change; HAProxy answers an accepted command with nothing (set, enable) or a fixed
 * line, and anything else is its refusal.
 *  - add: registered in maintenance, health checks enabled, then put in service;
 *  - del: drained (no new connections), its current sessions left to finish for up to
 *    `drainMs`, then put in maintenance, the rest shut, and deleted.
 */
async function runtimeOp(t: HaproxyTarget, o: RuntimeOp, drainMs: number): Promise<void> {
  const id = `${o.backend}/${o.server}`;
  const expect = async (cmds: string[], ok: RegExp, what: string) => {
    const out = (await runtimeApi(t, cmds)).trim();
    if (!ok.test(out)) throw new HaproxyStepError(`${t.node}: the runtime API refused ${what} ${id}: ${out.slice(0, 500)}`);
  };
  if (o.op === 'weight') return expect([`set server ${id} weight ${o.weight}`], /^$/, 'a weight change of');
  if (o.op === 'add') {
    await expect([`add server ${id} ${o.spec}`], /^New server registered\.$/, 'adding');
    return expect([...(o.check ? [`enable health ${id}`] : []), `enable server ${id}`], /^$/, 'enabling');
  }
  await expect([`set server ${id} state drain`], /^$/, 'draining');
  const t0 = Date.now();
  while (Date.now() - t0 < drainMs && ((await currentSessions(t, o.backend, o.server)) ?? 0) > 0) await new Promise((r) => setTimeout(r, 100));
  await expect([`set server ${id} state maint`, `shutdown sessions server ${id}`], /^$/, 'taking out of service');
  await expect([`del server ${id}`], /^Server deleted\.$/, 'deleting');
}

async function reload(t: HaproxyTarget, before: number | undefined, timeoutMs: number): Promise<void> {
  await run(t, 'reload', `kill -USR2 "$(cat ${shq(t.pidFile)})"`);
  const t0 = Date.now();
  for (;;) {
    const now = await workerPid(t);
    if (now !== undefined && now !== before) return;
    if (Date.now() - t0 > timeoutMs) throw new HaproxyStepError(`${t.node}: no new HAProxy worker answered within ${timeoutMs} ms of the reload (worker ${before ?? 'none'} before)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Back to the snapshot's file: through the runtime API when only weights differ, else a checked reload. */
export async function rollbackHaproxy(t: HaproxyTarget, snap: HaproxySnapshot): Promise<void> {
  if (snap.config === null) return;
  const cur = await snapshotHaproxy(t);
  await pushHaproxy(t, planHaproxy(t, cur, snap.config), snap.config);
}
