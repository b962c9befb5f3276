/**
 * nftables rulesets on a device, for a push step: snapshot netloom's tables, check a candidate
 * with `nft -c -f`, apply it with one `nft -f` transaction, restore the snapshot on rollback.
 *
 * Only netloom's tables are ever touched (`table inet netloom`, `table bridge netloom` by
 * default): a candidate that names any other table, or flushes the whole ruleset, is refused
 * before anything runs. Applying replaces every managed table at once (`table X` + `delete
 * table X` + the candidate in one transaction: the device never runs half a policy, and a
 * managed table the candidate no longer has is deleted). The snapshot is plain JSON (each
 * table's `nft list table` text, null when it did not exist) - what the rollout journal stores
 * and what restores the device, deleting a table that did not exist before.
 *
 * The device is reached through any command runner with stdin (the FRR driver's SSH session,
 * or `lab exec`); `netns` runs nft inside a network namespace of the device (a VRF namespace
 * of a leaf: see lab/README.md for where each hook must live).
 */
import { DeviceError } from './errors.ts';
import { shq, type ExecOutput } from './ssh-exec.ts';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export interface NftTableRef {
  family: NftFamily;
  name: string;
}

export const NETLOOM_TABLES: readonly NftTableRef[] = [
  { family: 'inet', name: 'netloom' },
  { family: 'bridge', name: 'netloom' },
];

/** Runs a shell command line on the device; never throws for a non-zero exit. */
export interface CommandHost {
  exec(command: string, opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecOutput>;
}

export interface NftTarget {
  device: string;
  host: CommandHost;
  /** Network namespace on the device the tables live in (e.g. a leaf's VRF namespace). */
  netns?: string;
  /** The tables netloom owns there (default NETLOOM_TABLES). */
  tables?: readonly NftTableRef[];
}

export interface NftSnapshot {
  netns?: string;
  /** Each managed table's `nft list table` text; null: the table did not exist. */
  tables: (NftTableRef & { text: string | null })[];
}

const FAMILIES = new Set<string>(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const OBJECTS = new Set(['table', 'chain', 'rule', 'set', 'map', 'element', 'counter', 'quota', 'flowtable', 'limit', 'ct', 'secmark', 'synproxy']);
const VERBS = new Set(['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush', 'reset', 'list']);

const key = (t: NftTableRef) => `${t.family} ${t.name}`;

/** The text without comments (a `#` outside a quoted string starts one). */
function stripComments(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

/**
 * Every table a ruleset file names at top level (`table F N {`, `add rule F N ...`; a missing
 * family is nft's default, ip), with its line. `flush ruleset` and `include` are reported as
 * problems: they reach beyond the file's own tables.
 */
export function tablesNamed(text: string): { tables: (NftTableRef & { line: number })[]; problems: string[] } {
  const tables: (NftTableRef & { line: number })[] = [];
  const problems: string[] = [];
  const statement = (stmt: string, line: number) => {
    const w = stmt.trim().split(/\s+/).filter(Boolean);
    if (!w.length) return;
    if (w[0] === 'include') problems.push(`line ${line}: include is not allowed (the file must be self-contained)`);
    let k = VERBS.has(w[0]) ? 1 : 0;
    if (w[k] === 'ruleset') return void problems.push(`line ${line}: '${w.slice(0, k + 1).join(' ')}' reaches every table of the device`);
    if (!OBJECTS.has(w[k])) return;
    k++;
    const family = FAMILIES.has(w[k]) ? (w[k++] as NftFamily) : 'ip';
    if (w[k]) tables.push({ family, name: w[k], line });
  };
  // Only top-level statements name tables: text inside braces and strings is skipped.
  let depth = 0;
  text.split('\n').forEach((raw, i) => {
    const line = stripComments(raw);
    let cur = '';
    let quoted = false;
    for (const c of line) {
      if (c === '"') quoted = !quoted;
      if (quoted) continue;
      if (c === '{') {
        if (depth === 0) statement(cur, i + 1);
        cur = '';
        depth++;
      } else if (c === '}') depth = Math.max(0, depth - 1);
      else if (depth === 0 && c === ';') {
        statement(cur, i + 1);
        cur = '';
      } else if (depth === 0) cur += c;
    }
    if (depth === 0) statement(cur, i + 1);
  });
  return { tables, problems };
}

function managed(t: NftTarget): readonly NftTableRef[] {
  return t.tables ?? NETLOOM_TABLES;
}

function nft(t: NftTarget, args: string): string {
  return `${t.netns ? `ip netns exec ${shq(t.netns)} ` : ''}nft ${args}`;
}

const where = (t: NftTarget) => `${t.device}${t.netns ? ` (namespace ${t.netns})` : ''}`;

async function must(t: NftTarget, step: string, command: string, stdin?: string): Promise<string> {
  const r = await t.host.exec(command, { stdin, timeoutMs: 120_000 });
  if (r.code !== 0) throw new DeviceError(t.device, 'command', `${where(t)}: ${step} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 1500)}`);
  return r.stdout;
}

/** The managed tables as they are now (journal this before changing anything). */
export async function snapshotNft(t: NftTarget): Promise<NftSnapshot> {
  const listed = new Set(
    (await must(t, 'nft list tables', nft(t, 'list tables')))
      .split('\n')
      .map((l) => l.trim().replace(/^table\s+/, ''))
      .filter(Boolean),
  );
  const tables: NftSnapshot['tables'] = [];
  for (const ref of managed(t)) {
    const text = listed.has(key(ref)) ? await must(t, `nft list table ${key(ref)}`, nft(t, `list table ${ref.family} ${shq(ref.name)}`)) : null;
    tables.push({ ...ref, text });
  }
  return { ...(t.netns ? { netns: t.netns } : {}), tables };
}

/** One transaction: every managed table emptied away (created first so the delete never fails), then `body`. */
function replacing(tables: readonly NftTableRef[], body: string): { text: string; offset: number } {
  const head = tables.map((r) => `table ${r.family} ${r.name}\ndelete table ${r.family} ${r.name}\n`).join('');
  return { text: head + body + (body.endsWith('\n') || !body ? '' : '\n'), offset: tables.length * 2 };
}

/** nft names the file /dev/stdin and counts lines of the whole transaction: point at the candidate's own lines. */
function candidateLines(msg: string, offset: number): string {
  return msg.replace(/\/dev\/stdin:(\d+):/g, (_m, n: string) => `candidate:${Number(n) - offset}:`);
}

/** Refuses a candidate that names a table netloom does not own there. */
export function checkCandidateTables(t: NftTarget, candidate: string): void {
  const own = new Set(managed(t).map(key));
  const { tables, problems } = tablesNamed(candidate);
  for (const x of tables) if (!own.has(key(x))) problems.push(`line ${x.line}: table ${key(x)} is not netloom's (managed: ${[...own].join(', ')})`);
  if (problems.length) throw new DeviceError(t.device, 'rejected', `${where(t)}: candidate ruleset refused: ${problems.join('; ')}`);
}

/** `nft -c -f` of exactly the transaction applyNft would run; DeviceError 'rejected' with the candidate's line numbers. */
export async function checkNft(t: NftTarget, candidate: string): Promise<void> {
  checkCandidateTables(t, candidate);
  const { text, offset } = replacing(managed(t), candidate);
  const r = await t.host.exec(nft(t, '-c -f /dev/stdin'), { stdin: text, timeoutMs: 120_000 });
  if (r.code !== 0) throw new DeviceError(t.device, 'rejected', `${where(t)}: nft -c rejected the ruleset: ${candidateLines((r.stderr || r.stdout).trim(), offset).slice(0, 1500)}`);
}

/** Checks, then applies the candidate as one transaction. Returns the snapshot taken before. */
export async function applyNft(t: NftTarget, candidate: string, before?: NftSnapshot): Promise<NftSnapshot> {
  const snap = before ?? (await snapshotNft(t));
  await checkNft(t, candidate);
  const { text, offset } = replacing(managed(t), candidate);
  const r = await t.host.exec(nft(t, '-f /dev/stdin'), { stdin: text, timeoutMs: 120_000 });
  if (r.code !== 0) throw new DeviceError(t.device, 'rejected', `${where(t)}: nft -f failed: ${candidateLines((r.stderr || r.stdout).trim(), offset).slice(0, 1500)}`);
  return snap;
}

/** `nft list` text without counter values (they move with traffic, and restore rewinds them). */
export function withoutCounterValues(text: string): string {
  return text.replace(/\bpackets \d+ bytes \d+/g, 'packets _ bytes _');
}

/**
 * Back to the snapshot in one transaction: each managed table as it was, deleted when it did
 * not exist. Idempotent; checks the tables read back as the snapshot (counter values aside).
 */
export async function restoreNft(t: NftTarget, snap: NftSnapshot): Promise<void> {
  const target = { ...t, netns: snap.netns, tables: snap.tables.map(({ family, name }) => ({ family, name })) };
  const { text } = replacing(target.tables, snap.tables.map((x) => x.text ?? '').join(''));
  await must(target, 'restoring the previous ruleset (nft -f)', nft(target, '-f /dev/stdin'), text);
  const now = await snapshotNft(target);
  const differs = snap.tables.filter((x, i) => (x.text === null) !== (now.tables[i].text === null) || withoutCounterValues(x.text ?? '') !== withoutCounterValues(now.tables[i].text ?? ''));
  if (differs.length) throw new DeviceError(t.device, 'command', `${where(target)}: after restoring, ${differs.map(key).join(', ')} still differ from the snapshot`);
}

/** Runs shell command lines inside a lab node (its namespace and view), as `lab exec` does. */
export function labCommandHost(exec: (argv: string[], opts: { input?: string; timeoutMs?: number }) => Promise<ExecOutput>): CommandHost {
  return { exec: (command, opts = {}) => exec(['sh', '-c', command], { input: opts.stdin ?? '', timeoutMs: opts.timeoutMs }) };
}

/**
 * With br_netfilter loaded, bridged frames run the IPv4/IPv6 hooks of the namespace holding the
 * bridge, and the skb keeps that mark when a macvlan hands it to a VRF namespace, whose
 * PRE_ROUTING hooks then skip it (seen: no conntrack entry there; br_netfilter's ip_sabotage_in,
 * as we read the kernel): no conntrack entry, no DNAT,
 * `ct state` never established for the traffic a leaf routes. A policy enforced in a VRF
 * namespace needs bridge-nf-call-ip(6)tables off in the leaf's own namespace (lab/README.md).
 * Idempotent; a no-op where br_netfilter is not loaded. Not rolled back: nothing netloom runs
 * depends on bridged frames visiting IP hooks.
 */
export async function disableBridgeNetfilter(device: string, host: CommandHost): Promise<void> {
  const files = ['/proc/sys/net/bridge/bridge-nf-call-iptables', '/proc/sys/net/bridge/bridge-nf-call-ip6tables'];
  await must({ device, host }, 'turning bridge-nf-call-ip(6)tables off', files.map((f) => `if [ -e ${f} ]; then echo 0 > ${f}; fi`).join('; '));
}
