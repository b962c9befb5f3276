/**
 * Deployed nftables rulesets, read as nft's JSON (`nft -j list table ...`) and normalised, so
 * drift is judged on meaning, not text: set elements in another order, adjacent ranges merged
 * or not (`80-90, 91` = `80-91`), `ct state {established, related}` vs `established,related`,
 * handles and counter values are not drift; a changed port, a missing or extra rule, a changed
 * verdict, hook, priority or policy are, each named.
 *
 * The rendered side goes through nft too: the candidate file is loaded into a throwaway network
 * namespace and listed back as JSON (`expectedFromText`), so whatever nft prints differently
 * from how the renderer wrote it is the same on both sides.
 *
 * Rules are identified by their comment, `netloom:<policy>:<rule>` (ruleComment; the renderer
 * emits it on every rule it makes from a policy rule), else by chain position; per-rule hit
 * counters come from the same JSON (ruleCounters).
 */
import { Address4, Address6 } from 'ip-address';
import type { CommandHost, NftTableRef } from '../../push/nft-ruleset.ts';
import { NETLOOM_TABLES } from '../../push/nft-ruleset.ts';
import { shq } from '../../push/ssh-exec.ts';
import { run } from '../../lab/proc.ts';
import { EnvironmentError } from '../../util/errors.ts';

/** The comment that names a rule's origin: `netloom:<policy>:<rule>` (the rule name may hold colons). */
export function ruleComment(policy: string, rule: string): string {
  return `netloom:${policy}:${rule}`;
}

export function parseRuleComment(comment: string | undefined): { policy: string; rule: string } | undefined {
  const m = /^netloom:([^:]+):(.+)$/.exec(comment ?? '');
  return m ? { policy: m[1], rule: m[2] } : undefined;
}

export interface NormRule {
  /** The comment (`#n` added to its n-th repeat in the chain), or `#<position>` when it has none. */
  id: string;
  comment?: string;
  /** Normalised statements, in order (counter values left out). */
  exprs: string[];
  counter?: { packets: number; bytes: number };
  handle: number;
}

export interface NormChain {
  table: string;
  name: string;
  /** Base chains only. */
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
  rules: NormRule[];
}

export interface NormSet {
  table: string;
  name: string;
  type: string;
  flags: string[];
  /** Sorted, duplicates removed, numeric and address ranges merged. */
  elements: string[];
}

export interface NormRuleset {
  /** "family name" of every table. */
  tables: string[];
  chains: NormChain[];
  sets: NormSet[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

// --- element sets: numbers and addresses as merged intervals ---------------------------------

type Interval = { kind: 'n' | '4' | '6'; lo: bigint; hi: bigint };

function addr(s: string): Interval | undefined {
  if (Address4.isValid(s) && !s.includes('/')) {
    const v = new Address4(s).bigInt();
    return { kind: '4', lo: v, hi: v };
  }
  if (Address6.isValid(s) && !s.includes('/')) {
    const v = new Address6(s).bigInt();
    return { kind: '6', lo: v, hi: v };
  }
  return undefined;
}

function interval(v: Json): Interval | undefined {
  if (typeof v === 'number') return { kind: 'n', lo: BigInt(v), hi: BigInt(v) };
  if (typeof v === 'string') return addr(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    if (Array.isArray(o.range) && o.range.length === 2) {
      const a = interval(o.range[0]);
      const b = interval(o.range[1]);
      if (a && b && a.kind === b.kind) return { kind: a.kind, lo: a.lo, hi: b.hi };
    }
    const p = o.prefix as Obj | undefined;
    if (p && typeof p.addr === 'string' && typeof p.len === 'number') {
      const is4 = Address4.isValid(p.addr);
      const a = is4 ? new Address4(`${p.addr}/${p.len}`) : new Address6(`${p.addr}/${p.len}`);
      return { kind: is4 ? '4' : '6', lo: a.startAddress().bigInt(), hi: a.endAddress().bigInt() };
    }
  }
  return undefined;
}

function showPoint(kind: Interval['kind'], v: bigint): string {
  if (kind === 'n') return String(v);
  return kind === '4' ? Address4.fromBigInt(v).correctForm() : Address6.fromBigInt(v).correctForm();
}

/** An address interval that is exactly one prefix reads as the prefix. */
function showInterval(i: Interval): string {
  if (i.lo === i.hi) return showPoint(i.kind, i.lo);
  if (i.kind !== 'n') {
    const size = i.hi - i.lo + 1n;
    const bits = size.toString(2).length - 1;
    if (1n << BigInt(bits) === size && i.lo % size === 0n) return `${showPoint(i.kind, i.lo)}/${(i.kind === '4' ? 32 : 128) - bits}`;
  }
  return `${showPoint(i.kind, i.lo)}-${showPoint(i.kind, i.hi)}`;
}

/** Elements as a canonical sorted list: intervals merged when they touch, the rest sorted. */
export function normaliseElements(items: Json[]): string[] {
  const ivs: Interval[] = [];
  const other = new Set<string>();
  for (const it of items) {
    const iv = interval(it);
    if (iv) ivs.push(iv);
    else other.add(canon(it));
  }
  const out: string[] = [];
  for (const kind of ['n', '4', '6'] as const) {
    const list = ivs.filter((i) => i.kind === kind).sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const merged: Interval[] = [];
    for (const i of list) {
      const last = merged[merged.length - 1];
      if (last && i.lo <= last.hi + 1n) last.hi = i.hi > last.hi ? i.hi : last.hi;
      else merged.push({ ...i });
    }
    for (const m of merged) out.push(showInterval(m));
  }
  return [...out, ...[...other].sort()];
}

// --- expressions ----------------------------------------------------------------------------

/** A canonical text of an nft JSON expression: equal meaning, equal text (as far as it matters here). */
function canon(v: Json): string {
  if (v === null) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `{${normaliseElements(v).join(',')}}`;
  const o = v as Obj;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys;
    const x = o[k];
    if (k === 'set' && Array.isArray(x)) return `{${normaliseElements(x).join(',')}}`;
    const iv = k === 'range' || k === 'prefix' ? interval(o) : undefined;
    if (iv) return normaliseElements([o])[0];
    if (k === 'payload' && x && typeof x === 'object') return `${(x as Obj).protocol ?? ''} ${(x as Obj).field ?? ''}`.trim();
    if ((k === 'meta' || k === 'ct') && x && typeof x === 'object') return `${k} ${canon((x as Obj).key)}${(x as Obj).dir ? ` ${(x as Obj).dir}` : ''}`;
    return x === null ? k : `${k} ${canon(x)}`;
  }
  return `(${keys.sort().map((k) => `${k} ${canon(o[k])}`).join(' ')})`;
}

function statement(e: Obj): string {
  const [k] = Object.keys(e);
  const x = e[k];
  if (k === 'match' && x && typeof x === 'object') {
    const m = x as Obj;
    // `ct state established,related` is printed with op "in", `{ established, related }` with "==".
    const op = m.op === 'in' ? '==' : String(m.op);
    return `${canon(m.left)} ${op} ${Array.isArray(m.right) ? `{${normaliseElements(m.right).join(',')}}` : canon(m.right)}`;
  }
  if (k === 'counter') return 'counter';
  if (k === 'reject' && x && typeof x === 'object') return `reject ${(x as Obj).type ?? ''} ${canon((x as Obj).expr ?? null)}`.trim();
  return x === null ? k : `${k} ${canon(x)}`;
}

// --- parsing --------------------------------------------------------------------------------

/** `nft -j list ...` output (text or parsed) into the normalised form. */
export function parseNftJson(input: string | { nftables: Obj[] }): NormRuleset {
  let doc: { nftables?: Obj[] };
  try {
    doc = typeof input === 'string' ? (JSON.parse(input || '{"nftables":[]}') as { nftables?: Obj[] }) : input;
  } catch (e) {
    throw new EnvironmentError(`nft printed JSON that does not parse: ${(e as Error).message}`);
  }
  const out: NormRuleset = { tables: [], chains: [], sets: [] };
  const chains = new Map<string, NormChain>();
  for (const item of doc.nftables ?? []) {
    const [kind] = Object.keys(item);
    const o = item[kind] as Obj;
    const table = `${o.family} ${kind === 'table' ? o.name : o.table}`;
    if (kind === 'table') out.tables.push(table);
    else if (kind === 'chain') {
      const c: NormChain = { table, name: String(o.name), rules: [] };
      if (o.hook !== undefined) {
        Object.assign(c, { type: String(o.type), hook: String(o.hook), prio: Number(o.prio), policy: String(o.policy ?? 'accept') });
      }
      chains.set(`${table} ${o.name}`, c);
      out.chains.push(c);
    } else if (kind === 'set' || kind === 'map') {
      out.sets.push({
        table,
        name: String(o.name),
        type: kind === 'map' ? `${canon(o.type)} : ${canon(o.map)}` : canon(o.type),
        flags: Array.isArray(o.flags) ? (o.flags as string[]).slice().sort() : [],
        elements: Array.isArray(o.elem) ? normaliseElements(o.elem) : [],
      });
    } else if (kind === 'rule') {
      const c = chains.get(`${table} ${o.chain}`);
      if (!c) continue;
      const exprs = (Array.isArray(o.expr) ? (o.expr as Obj[]) : []).map(statement);
      const counterExpr = (Array.isArray(o.expr) ? (o.expr as Obj[]) : []).find((e) => 'counter' in e)?.counter as Obj | undefined;
      const comment = typeof o.comment === 'string' ? o.comment : undefined;
      // One policy rule may become several nft rules (IPv4 and IPv6): the 2nd, 3rd... get `#n`.
      const seen = comment ? c.rules.filter((r) => r.comment === comment).length : 0;
      c.rules.push({
        id: comment ? (seen ? `${comment}#${seen + 1}` : comment) : `#${c.rules.length + 1}`,
        ...(comment ? { comment } : {}),
        exprs,
        ...(counterExpr ? { counter: { packets: Number(counterExpr.packets ?? 0), bytes: Number(counterExpr.bytes ?? 0) } } : {}),
        handle: Number(o.handle),
      });
    }
  }
  return out;
}

// --- comparison -----------------------------------------------------------------------------

const chainHead = (c: NormChain) => (c.hook ? `type ${c.type} hook ${c.hook} priority ${c.prio} policy ${c.policy}` : 'regular chain');
const ruleText = (r: NormRule) => r.exprs.join(' ');

/**
 * What differs between the expected (rendered) and the actual (deployed) ruleset, one line per
 * difference, naming table, chain and rule; empty when they mean the same.
 */
export function compareNft(expected: NormRuleset, actual: NormRuleset): string[] {
  const out: string[] = [];
  const exT = new Set(expected.tables);
  const acT = new Set(actual.tables);
  for (const t of exT) if (!acT.has(t)) out.push(`table ${t}: missing`);
  for (const t of acT) if (!exT.has(t)) out.push(`table ${t}: not in the rendered ruleset`);
  const byName = <T extends { table: string; name: string }>(l: T[]) => new Map(l.map((x) => [`${x.table} ${x.name}`, x]));
  const exS = byName(expected.sets);
  const acS = byName(actual.sets);
  for (const [k, s] of exS) {
    const a = acS.get(k);
    if (!a) {
      if (acT.has(s.table)) out.push(`set ${k}: missing`);
      continue;
    }
    if (a.type !== s.type || a.flags.join() !== s.flags.join()) out.push(`set ${k}: type ${a.type} [${a.flags.join(',')}], rendered ${s.type} [${s.flags.join(',')}]`);
    const miss = s.elements.filter((e) => !a.elements.includes(e));
    const extra = a.elements.filter((e) => !s.elements.includes(e));
    if (miss.length || extra.length) out.push(`set ${k}: ${[miss.length && `missing ${miss.join(', ')}`, extra.length && `extra ${extra.join(', ')}`].filter(Boolean).join('; ')}`);
  }
  for (const k of acS.keys()) if (!exS.has(k) && exT.has(acS.get(k)!.table)) out.push(`set ${k}: not in the rendered ruleset`);
  const exC = byName(expected.chains);
  const acC = byName(actual.chains);
  for (const [k, c] of exC) {
    const a = acC.get(k);
    if (!a) {
      if (acT.has(c.table)) out.push(`chain ${k}: missing`);
      continue;
    }
    if (chainHead(a) !== chainHead(c)) out.push(`chain ${k}: ${chainHead(a)}, rendered ${chainHead(c)}`);
    out.push(...compareRules(k, c.rules, a.rules));
  }
  for (const k of acC.keys()) if (!exC.has(k) && exT.has(acC.get(k)!.table)) out.push(`chain ${k}: not in the rendered ruleset`);
  return out;
}

/**
 * Rules are aligned, not compared position by position: each rule is keyed by its id when it
 * has a comment and by its text otherwise, and the longest run of keys in the same order on both
 * sides stays put. Only what falls outside it is reported, so one deleted or inserted rule is one
 * line, not a "moved" line for every rule after it. A key on both sides outside that run is a
 * moved rule; between two aligned rules, an uncommented rule on each side is a changed rule;
 * the rest are missing or extra.
 */
function compareRules(chain: string, exp: NormRule[], act: NormRule[]): string[] {
  const ek = alignKeys(exp);
  const ak = alignKeys(act);
  const aPos = new Map(ak.map((k, j) => [k, j]));
  const common: [number, number][] = [];
  ek.forEach((k, i) => {
    const j = aPos.get(k);
    if (j !== undefined) common.push([i, j]);
  });
  const kept = new Set(longestIncreasing(common.map(([, j]) => j)));
  const anchors = common.filter((_, n) => kept.has(n));
  const lines: { at: number; text: string }[] = [];
  const eMatched = new Set<number>();
  const aMatched = new Set<number>();
  common.forEach(([i, j], n) => {
    eMatched.add(i);
    aMatched.add(j);
    const r = exp[i]!;
    const a = act[j]!;
    if (!kept.has(n)) lines.push({ at: i, text: `chain ${chain}: rule ${r.id} at position ${j + 1}, rendered at ${i + 1}` });
    if (ruleText(a) !== ruleText(r)) lines.push({ at: i, text: `chain ${chain}: rule ${r.id}: deployed '${ruleText(a)}', rendered '${ruleText(r)}'` });
  });
  // The gap (between aligned rules) each unmatched rule lies in.
  const gapOf = (pos: number, side: 0 | 1) => {
    let lo = 0;
    let hi = anchors.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (anchors[mid]![side] < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const extraInGap = new Map<number, number[]>();
  act.forEach((a, j) => {
    if (aMatched.has(j) || a.comment) return;
    const g = gapOf(j, 1);
    extraInGap.set(g, [...(extraInGap.get(g) ?? []), j]);
  });
  exp.forEach((r, i) => {
    if (eMatched.has(i)) return;
    const spare = r.comment ? undefined : extraInGap.get(gapOf(i, 0))?.shift();
    if (spare === undefined) return void lines.push({ at: i, text: `chain ${chain}: rule ${r.id} missing (${ruleText(r)})` });
    aMatched.add(spare);
    lines.push({ at: i, text: `chain ${chain}: rule ${r.id}: deployed '${ruleText(act[spare]!)}', rendered '${ruleText(r)}'` });
  });
  act.forEach((a, j) => {
    if (!aMatched.has(j)) lines.push({ at: exp.length + j, text: `chain ${chain}: rule ${a.id} not in the rendered ruleset (${ruleText(a)})` });
  });
  return lines.sort((x, y) => x.at - y.at).map((l) => l.text);
}

/** A key per rule, unique within its chain: the id if commented, else the text and its repeat number. */
function alignKeys(rules: NormRule[]): string[] {
  const seen = new Map<string, number>();
  return rules.map((r) => {
    const base = r.comment ? `id ${r.id}` : `text ${ruleText(r)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}\u0000${n}`;
  });
}

/** Indexes of one longest strictly increasing subsequence of `xs` (patience sorting, n log n). */
export function longestIncreasing(xs: number[]): number[] {
  const tails: number[] = [];
  const prev = new Array<number>(xs.length).fill(-1);
  xs.forEach((x, n) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[tails[mid]!]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[n] = tails[lo - 1]!;
    tails[lo] = n;
  });
  const out: number[] = [];
  for (let n = tails.length ? tails[tails.length - 1]! : -1; n >= 0; n = prev[n]!) out.push(n);
  return out.reverse();
}

// --- counters -------------------------------------------------------------------------------

export interface RuleCounter {
  table: string;
  chain: string;
  /** From the rule's comment (ruleComment); absent for rules netloom did not name. */
  policy?: string;
  rule?: string;
  id: string;
  handle: number;
  packets: number;
  bytes: number;
}

/**
 * The policy and rule of a counted rule: its `netloom:<policy>:<rule>` comment, or else a
 * comment that starts with the rule's name (`<rule>: text`, `<rule> (owner ...)`) in a chain
 * named `pol_<policy>` (the renderer's per-policy chains).
 */
function ruleOrigin(chain: string, comment: string | undefined): { policy: string; rule: string } | undefined {
  const named = parseRuleComment(comment);
  if (named || !comment || !chain.startsWith('pol_')) return named;
  const m = /^([A-Za-z0-9_.-]+)(?::|\s\(|$)/.exec(comment);
  return m ? { policy: chain.slice(4), rule: m[1] } : undefined;
}

/** Hit counters of every rule that has a `counter` statement. */
export function ruleCounters(rs: NormRuleset): RuleCounter[] {
  return rs.chains.flatMap((c) =>
    c.rules.filter((r) => r.counter).map((r) => ({ table: c.table, chain: c.name, ...ruleOrigin(c.name, r.comment), id: r.id, handle: r.handle, packets: r.counter!.packets, bytes: r.counter!.bytes })),
  );
}

// --- reading --------------------------------------------------------------------------------

/** The managed tables of a device (absent ones left out), normalised. */
export async function readDeployedNft(host: CommandHost, opts: { netns?: string; tables?: readonly NftTableRef[] } = {}): Promise<NormRuleset> {
  const pre = opts.netns ? `ip netns exec ${shq(opts.netns)} ` : '';
  const tables = opts.tables ?? NETLOOM_TABLES;
  // One round trip: each table's JSON on its own line, nothing for a table that does not exist.
  const cmd = tables.map((t) => `${pre}nft -j list table ${t.family} ${shq(t.name)} 2>/dev/null || echo '{"nftables":[]}'`).join('; ');
  const r = await host.exec(cmd, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new EnvironmentError(`reading nft tables failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
  const merged: Obj[] = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => (parseNftJsonDoc(l).nftables ?? []).filter((x) => !('metainfo' in x)));
  return parseNftJson({ nftables: merged });
}

function parseNftJsonDoc(line: string): { nftables?: Obj[] } {
  try {
    return JSON.parse(line) as { nftables?: Obj[] };
  } catch (e) {
    throw new EnvironmentError(`nft printed JSON that does not parse: ${(e as Error).message}`);
  }
}

let scratchSeq = 0;

/**
 * A ruleset file as nft itself reads it: loaded into a throwaway network namespace of this
 * host, listed back as JSON, the namespace deleted. Rejects (nft's message) what nft rejects.
 */
export async function expectedFromText(text: string): Promise<NormRuleset> {
  const ns = `netloom-nftx-${process.pid}-${++scratchSeq}`;
  await run('ip', ['netns', 'add', ns]);
  try {
    const load = await run('ip', ['netns', 'exec', ns, 'nft', '-f', '/dev/stdin'], { input: text, allowFail: true });
    if (load.code !== 0) throw new EnvironmentError(`the rendered ruleset does not load: ${load.stderr.trim().slice(0, 1000)}`);
    const r = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset']);
    return parseNftJson(r.stdout);
  } finally {
    await run('ip', ['netns', 'delete', ns], { allowFail: true });
  }
}
