/**
 * HAProxy on a load-balancer node as a push step (snapshot, plan, push, rollback), over any
 * command runner (an SSH session, or a lab node): the primitive the slb domain's push builds on.
 *  - A change that only moves server weights or drains members (what HAProxy issue #3094 asks
 *    for without a reload) goes through the runtime API (`set server B/S weight N`), and the
 *    file is rewritten so a later restart keeps it: the worker keeps running.
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

export interface RuntimeOp {
  backend: string;
  server: string;
  weight: number;
}

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

/** One runtime API command (or several, one per line, sent in one connection: HAProxy runs them in order). */
export async function runtimeApi(t: HaproxyTarget, commands: string[]): Promise<string> {
  return run(t, 'runtime API', `python3 -c ${shq(SOCKET_CLIENT)} ${shq(t.socket)}`, commands.join(';') + '\n');
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

/** `server NAME ADDR:PORT ... weight N ...` lines by backend, for the runtime-only test. */
function servers(cfg: string): Map<string, { line: string; weight: number }> {
  const out = new Map<string, { line: string; weight: number }>();
  let backend = '';
  for (const raw of cfg.split('\n')) {
    const l = raw.trim();
    const b = /^backend\s+(\S+)/.exec(l);
    if (b) backend = b[1];
    else if (/^(frontend|listen|defaults|global)\b/.test(l)) backend = '';
    const s = /^server\s+(\S+)\s/.exec(l);
    if (s && backend) out.set(`${backend}/${s[1]}`, { line: l.replace(/\s+weight\s+\d+/, ''), weight: Number(/\sweight\s+(\d+)/.exec(l)?.[1] ?? 1) });
  }
  return out;
}

/** The weight changes that turn `from` into `to`, or undefined when anything else differs too. */
export function runtimeOnlyChange(from: string, to: string): RuntimeOp[] | undefined {
  const strip = (c: string) => c.split('\n').filter((l) => !/^\s*server\s/.test(l) && !/^\s*#/.test(l)).join('\n');
  if (strip(from) !== strip(to)) return undefined;
  const a = servers(from);
  const b = servers(to);
  if (a.size !== b.size) return undefined;
  const ops: RuntimeOp[] = [];
  for (const [k, v] of b) {
    const old = a.get(k);
    if (!old || old.line !== v.line) return undefined;
    if (old.weight !== v.weight) {
      const [backend, server] = k.split('/');
      ops.push({ backend, server, weight: v.weight });
    }
  }
  return ops;
}

export function planHaproxy(t: HaproxyTarget, snap: HaproxySnapshot, desired: string): HaproxyPlan {
  if (snap.config === desired) return { changed: false, diff: '', summary: '' };
  const diff = unifiedDiff(snap.config ?? '', desired, `${t.node}/haproxy.cfg (running)`, `${t.node}/haproxy.cfg (rendered)`);
  const runtime = snap.config === null ? undefined : runtimeOnlyChange(snap.config, desired);
  const summary = runtime ? `haproxy runtime API: ${runtime.map((o) => `${o.backend}/${o.server} weight ${o.weight}`).join(', ')}` : 'haproxy.cfg: checked, hitless reload';
  return { changed: true, diff, summary, ...(runtime ? { runtime } : {}) };
}

/** Writes, checks and reloads (or applies the runtime ops); returns what it did. */
export async function pushHaproxy(t: HaproxyTarget, plan: HaproxyPlan, desired: string, opts: { reloadTimeoutMs?: number } = {}): Promise<'runtime' | 'reload' | 'unchanged'> {
  if (!plan.changed) return 'unchanged';
  const tmp = `${t.config}.netloom-new.$$`;
  if (plan.runtime) {
    if (plan.runtime.length) {
      const out = await runtimeApi(t, plan.runtime.map((o) => `set server ${o.backend}/${o.server} weight ${o.weight}`));
      if (out.trim()) throw new HaproxyStepError(`${t.node}: the runtime API refused a weight change: ${out.trim().slice(0, 500)}`);
    }
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
