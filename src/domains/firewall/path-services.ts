/**
 * The services the firewall lets through between two endpoints, computed exactly on the
 * packet-set algebra: the new connections from one endpoint's addresses to the other's, decided
 * by every policy the packet crosses given how the fabric forwards it (policiesOnPath), and the
 * accepted part turned back into protocols, port ranges and ICMP types (no port is sampled).
 * The endpoint services check (checks.ts) and `netloom trace` print it.
 */
import type { Endpoint } from '../../model/types.ts';
import { formatLocation } from '../../util/errors.ts';
import {
  EMPTY, familySet, fieldRange, intersect, isEmpty, prefixSet, protocolSet, size, stateSet, union,
  type PacketSet,
} from '../../verify/packet-set/index.ts';
import { DPORT, ICMP_TYPE, PROTO, hasIcmp, hasPorts, type Field } from '../../verify/packet-set/layout.ts';
import { FULL_BOX, addressHull, type Box } from './analysis-index.ts';
import type { Decider, PolicyAnalysis } from './analysis.ts';
import { hostPrefix } from './flow-query.ts';
import { policiesOnPath } from './live-plan.ts';
import type { FwAction, FwPolicy } from './model.ts';
import { protocolName } from './packet-text.ts';

/** Service pieces listed per deciding rule before "+N more". */
export const PIECES_SHOWN = 6;

export interface RuleServices {
  rule: string;
  kind: 'rule' | 'stateful' | 'default';
  action: FwAction;
  location: string;
  /** The services it decides for this pair ("tcp/5432", "tcp/1000-2000", "icmp/8"...). */
  services: string[];
  /** Packets it decides (bigint as text). */
  packets: string;
}

export interface PolicyServices {
  policy: string;
  /** The enforcing leaves of the two endpoints, or the firewall node between them. */
  devices: string[];
  /** Rules accepting, with the part of the end-to-end allowed services they accept. */
  accepts: RuleServices[];
  /** It accepts some of the pair's new connections, but only ones another policy on the path denies. */
  acceptsOnlyDeniedElsewhere?: true;
  denies: RuleServices[];
}

export interface PathServices {
  src: string;
  dst: string;
  forwarding: 'bridged' | 'routed' | 'isolated' | 'broken';
  /** Services every policy on the path accepts (new connections, src -> dst). */
  allowed: string[];
  /** What every policy accepts: `allowed` as a packet set. */
  passing: PacketSet;
  /** Every packet the pair's new connections can be. */
  flow: PacketSet;
  policies: PolicyServices[];
}

/** New connections from `a`'s addresses to `b`'s, per address family the two share. */
export function pairFlow(a: Endpoint, b: Endpoint): PacketSet {
  let s = EMPTY;
  for (const [x, y] of [[a.ipv4, b.ipv4], [a.ipv6, b.ipv6]] as const) {
    if (x && y) s = union(s, intersect(prefixSet('src', hostPrefix(x)), prefixSet('dst', hostPrefix(y))));
  }
  return intersect(s, stateSet('new'));
}

type Piece = { text: string; partial: boolean; family?: boolean };

const rangeText = (lo: number, hi: number) => (lo === hi ? `${lo}` : `${lo}-${hi}`);

/** The values of `f` (within `ctx`) `set` holds wholly, merged into ranges, and those it holds in part. */
function fieldPieces(set: PacketSet, ctx: PacketSet, f: Field, max: number): { full: [number, number][]; partial: number[] } {
  const full: [number, number][] = [];
  const partial: number[] = [];
  const walk = (lo: number, hi: number) => {
    const r = fieldRange(f, lo, hi);
    const s = intersect(set, r);
    if (isEmpty(s)) return;
    if (s === intersect(ctx, r)) {
      const last = full[full.length - 1];
      if (last && last[1] === lo - 1) last[1] = hi;
      else full.push([lo, hi]);
      return;
    }
    if (lo === hi) return void partial.push(lo);
    const mid = lo + Math.floor((hi - lo) / 2);
    walk(lo, mid);
    walk(mid + 1, hi);
  };
  walk(0, max);
  return { full, partial };
}

/** `set` (a part of `ctx`, one address family) as services. */
function familyPieces(set: PacketSet, ctx: PacketSet): Piece[] {
  const out: Piece[] = [];
  // The protocols present, found by halving the protocol field (absent ranges cost one test).
  const { full, partial } = fieldPieces(set, ctx, PROTO, 255);
  const protos = [...full.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => ({ proto: lo + i, whole: true }))), ...partial.map((proto) => ({ proto, whole: false }))];
  for (const { proto, whole } of protos.sort((x, y) => x.proto - y.proto)) {
    const name = protocolName(proto);
    if (whole) {
      out.push({ text: hasPorts(proto) ? `${name} (any port)` : hasIcmp(proto) ? `${name} (any type)` : name, partial: false, family: hasIcmp(proto) });
      continue;
    }
    const f = hasPorts(proto) ? DPORT : hasIcmp(proto) ? ICMP_TYPE : undefined;
    if (!f) {
      out.push({ text: name, partial: true });
      continue;
    }
    const pc = intersect(ctx, protocolSet(proto));
    const values = fieldPieces(intersect(set, pc), pc, f, f === DPORT ? 65535 : 255);
    const family = f === ICMP_TYPE;
    for (const [lo, hi] of values.full) out.push({ text: `${name}/${rangeText(lo, hi)}`, partial: false, family });
    for (const v of values.partial) out.push({ text: `${name}/${v}`, partial: true, family });
  }
  return out;
}

/**
 * `set` (inside the pair's `flow`) as services: a piece held for only some of its packets
 * (some source ports or ICMP codes) says so; one held in one address family only when the
 * pair has both says which.
 */
export function describeServices(set: PacketSet, flow: PacketSet): string[] {
  const fams = ([4, 6] as const).map((f) => ({ f, ctx: intersect(flow, familySet(f)) })).filter((x) => !isEmpty(x.ctx));
  const per = fams.map(({ f, ctx }) => ({ f, pieces: familyPieces(intersect(set, ctx), ctx) }));
  const texts = (p: Piece) => `${p.text}${p.partial ? ' (in part)' : ''}`;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const { f, pieces } of per) {
    for (const p of pieces) {
      const t = texts(p);
      if (seen.has(t)) continue;
      seen.add(t);
      // ICMP is IPv4's and ICMPv6 IPv6's by construction: no family to name.
      const everywhere = p.family || per.every((o) => o.pieces.some((q) => texts(q) === t));
      out.push(everywhere || per.length === 1 ? t : `${t} (IPv${f} only)`);
    }
  }
  return out;
}

const kindOf = (d: Decider): RuleServices['kind'] => (d.rule ? 'rule' : d.pos < 0 ? 'stateful' : 'default');

/**
 * The services between `a` and `b`: per policy on the path (as the fabric forwards the pair;
 * an unforwarded pair is judged as if routed, what its policies would do), the rules deciding
 * the pair's new connections and what each accepts or denies.
 */
export function pathServices(
  policies: readonly FwPolicy[], analysisOf: (p: FwPolicy) => PolicyAnalysis, a: Endpoint, b: Endpoint, forwarding: PathServices['forwarding'],
): PathServices {
  const flow = pairFlow(a, b);
  const onPath = policiesOnPath(policies, a, b, forwarding === 'bridged' ? 'bridged' : 'routed');
  const box: Box = { src: addressHull([a.ipv4, a.ipv6].filter((x): x is string => !!x).map(hostPrefix)), dst: addressHull([b.ipv4, b.ipv6].filter((x): x is string => !!x).map(hostPrefix)), protos: FULL_BOX.protos };
  const decided = onPath.map((p) => ({ p, parts: isEmpty(flow) ? [] : analysisOf(p).decisions(flow, box) }));
  let passing = flow;
  for (const { parts } of decided) {
    const acc = parts.filter((x) => x.decider.action === 'accept').reduce((s, x) => union(s, x.set), EMPTY);
    passing = intersect(passing, acc);
  }
  const entry = (d: Decider, set: PacketSet): RuleServices => ({
    rule: d.name, kind: kindOf(d), action: d.action, location: formatLocation(d.source),
    services: d.rule ? describeServices(set, flow) : [], packets: size(set).toString(),
  });
  const out: PolicyServices[] = decided.map(({ p, parts }) => {
    const own = parts.filter((x) => x.decider.action === 'accept');
    const accepts = own.map((x) => ({ ...x, set: intersect(x.set, passing) })).filter((x) => !isEmpty(x.set)).map((x) => ({ ...entry(x.decider, x.set), services: describeServices(x.set, flow) }));
    return {
      policy: p.name,
      devices: p.enforcement.kind === 'node' ? p.enforcement.devices : p.enforcement.devices.filter((d) => d === a.leaf || d === b.leaf),
      accepts,
      ...(!accepts.length && own.some((x) => !isEmpty(x.set)) ? { acceptsOnlyDeniedElsewhere: true as const } : {}),
      denies: parts.filter((x) => x.decider.action !== 'accept').map((x) => entry(x.decider, x.set)),
    };
  });
  return { src: a.name, dst: b.name, forwarding, allowed: describeServices(passing, flow), passing, flow, policies: out };
}

const listed = (s: string[]) => (s.length > PIECES_SHOWN ? `${s.slice(0, PIECES_SHOWN).join(', ')} and ${s.length - PIECES_SHOWN} more` : s.join(', '));
const verb: Record<FwAction, string> = { accept: 'allows', drop: 'drops', reject: 'rejects' };

/** "allows tcp/5432 (rule app-to-db, firewall.yaml:36), icmp/8 (rule echo, ...); rejects ...; drops the rest (default, firewall.yaml:21)". */
function policyText(p: PolicyServices): string {
  const acc = p.accepts.map((r) => (r.kind === 'rule' ? `${listed(r.services)} (rule ${r.rule}, ${r.location})` : `the rest (default accept, ${r.location})`));
  const parts = [acc.length ? `allows ${acc.join(', ')}` : p.acceptsOnlyDeniedElsewhere ? 'allows nothing another policy on the path passes' : 'allows nothing'];
  for (const r of p.denies) {
    parts.push(r.kind === 'default' ? `${verb[r.action]} the rest (default ${r.action}, ${r.location})` : `${verb[r.action]} ${listed(r.services)} (rule ${r.rule}, ${r.location})`);
  }
  return parts.join('; ');
}

/** What the firewall does to the pair, in one line: "allows tcp/5432 (rule app-to-db, ...); drops the rest (...)". */
export function servicesText(s: PathServices): string {
  if (!s.policies.length) return 'no firewall policy on this path';
  if (s.policies.length === 1) return policyText(s.policies[0]!);
  const all = s.allowed.length ? `allows ${listed(s.allowed)}` : 'allows nothing';
  return `${all} end to end; ${s.policies.map((p) => `policy ${p.policy} ${policyText(p)}`).join('; ')}`;
}

/** Where the policies on the path are enforced: "policy tiers on leaf1, leaf3". */
export const enforcedText = (s: PathServices): string => s.policies.map((p) => `policy ${p.policy} on ${p.devices.join(', ') || '(no leaf of the pair)'}`).join('; ');

/** The JSON form: the packet sets left out. */
export function servicesJson(s: PathServices): Omit<PathServices, 'passing' | 'flow'> & { summary: string } {
  const { passing: _p, flow: _f, ...rest } = s;
  return { ...rest, summary: servicesText(s) };
}

