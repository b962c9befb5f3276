/**
 * Questions asked of an analysed policy: example packets with a given verdict (Batfish's
 * searchFilters) and the flows two versions decide differently (Batfish's compareFilters).
 */
import {
  ALL, EMPTY, ExamplePicker, addressMatchSet, difference, example, intersect, servicesSet, size, statesSet, union,
  type Packet, type PacketSet,
} from '../../verify/packet-set/index.ts';
import { productCube, type Cube } from './analysis-cube.ts';
import { FULL_BOX, addressHull, protocolsOf, type Box } from './analysis-index.ts';
import { PolicyAnalysis, type Factored, type RelatedRule } from './analysis.ts';
import type { FwAction, FwConnState, FwPolicy, FwRule, FwService } from './model.ts';

export interface SearchQuery {
  /** Source / destination prefixes (any when absent). */
  src?: string[];
  dst?: string[];
  /** Any of these services (any when absent). */
  services?: FwService[];
  /** None of these services. */
  notServices?: FwService[];
  states?: FwConnState[];
  /** Only packets with this verdict. */
  action?: FwAction;
  /** Any further constraint. */
  set?: PacketSet;
}

export interface SearchHit {
  packet: Packet;
  action: FwAction;
  rule: RelatedRule;
  /** Every packet of the query this rule decides. */
  set: PacketSet;
}

const asAnalysis = (p: FwPolicy | PolicyAnalysis) => (p instanceof PolicyAnalysis ? p : new PolicyAnalysis(p));
const related = (d: { name: string; action: FwAction; source: RelatedRule["source"] }): RelatedRule => ({ name: d.name, action: d.action, source: d.source });

export function querySet(q: SearchQuery): { set: PacketSet; box: Box; cube: Cube; factors?: Factored } {
  const side = (cidrs?: string[]) => ({ include: cidrs ?? [], exclude: [], negate: false, refs: [] });
  // Everything but the addresses: the query is a product of its sides and this (before `set`).
  let rest = q.services?.length ? servicesSet(q.services) : ALL;
  if (q.notServices?.length) rest = difference(rest, servicesSet(q.notServices));
  if (q.states?.length) rest = intersect(rest, statesSet(q.states));
  const cube = productCube(side(q.src), side(q.dst), rest);
  const box: Box = {
    src: q.src?.length ? addressHull(q.src) : FULL_BOX.src,
    dst: q.dst?.length ? addressHull(q.dst) : FULL_BOX.dst,
    protos: q.services?.length ? protocolsOf(q.services) : FULL_BOX.protos,
  };
  const addr = (which: 'src' | 'dst', cidrs?: string[]) => (cidrs?.length ? addressMatchSet(which, side(cidrs)) : ALL);
  const addresses = intersect(addr('src', q.src), addr('dst', q.dst));
  const set = intersect(rest, addresses);
  if (q.set !== undefined) return { set: intersect(set, q.set), box, cube };
  return { set, box, cube, factors: { rest, addresses } };
}

/** One example packet per deciding rule, in rule order, for the packets of the query. */
export function search(policy: FwPolicy | PolicyAnalysis, q: SearchQuery, limit = Infinity): SearchHit[] {
  const a = asAnalysis(policy);
  const { set, box, cube, factors } = querySet(q);
  const hits: SearchHit[] = [];
  // Each hit's set is built when read: the search itself lists example packets.
  for (const part of a.decisions(set, box, (d) => !q.action || d.action === q.action, cube, factors, new ExamplePicker(set))) {
    if (hits.length >= limit) break;
    const d = part.decider;
    hits.push({ packet: part.example ? part.example()! : example(part.set)!, action: d.action, rule: related(d), get set() { return part.set; } });
  }
  return hits;
}

export interface DiffPart {
  /** Packets decided `before.action` by the old policy and `after.action` by the new one. */
  set: PacketSet;
  count: bigint;
  example: Packet;
  before: RelatedRule;
  after: RelatedRule;
}

export interface PolicyDiff {
  /** Denied (drop or reject) before, accepted now. */
  newlyAccepted: DiffPart[];
  /** Accepted before, denied now. */
  newlyDenied: DiffPart[];
  /** Denied both times, but drop became reject or the reverse. */
  denialChanged: DiffPart[];
}

/** The flows the new policy decides differently from the old one, by pair of responsible rules. */
export function diff(oldPolicy: FwPolicy | PolicyAnalysis, newPolicy: FwPolicy | PolicyAnalysis): PolicyDiff {
  const before = asAnalysis(oldPolicy);
  const after = asAnalysis(newPolicy);
  const out: PolicyDiff = { newlyAccepted: [], newlyDenied: [], denialChanged: [] };
  const denied = (a: FwAction) => a !== 'accept';
  for (const { decider: n, set: part } of after.decisions(changedRegion(before, after))) {
    for (const { decider: o, set: s } of before.decisions(part, n.box, (o) => o.action !== n.action)) {
      const bucket = !denied(n.action) ? out.newlyAccepted : !denied(o.action) ? out.newlyDenied : out.denialChanged;
      bucket.push({ set: s, count: size(s), example: example(s)!, before: related(o), after: related(n) });
    }
  }
  return out;
}

/**
 * Packets the two versions can decide differently: those matched by a rule only one version
 * has. A packet no such rule matches meets the same common rules in the same order, hence
 * the same verdict. Everything, when the defaults, statefulness or the common rules' order differ.
 */
function changedRegion(before: PolicyAnalysis, after: PolicyAnalysis): PacketSet {
  const a = before.policy;
  const b = after.policy;
  if (a.defaultAction !== b.defaultAction || a.stateful !== b.stateful) return ALL;
  const key = (r: FwRule) => JSON.stringify([r.name, r.action, r.src, r.dst, r.services, r.state]);
  const ka = before.rules().map((d) => key(d.rule!));
  const kb = after.rules().map((d) => key(d.rule!));
  const inA = new Set(ka);
  const inB = new Set(kb);
  const commonA = ka.filter((k) => inB.has(k));
  const commonB = kb.filter((k) => inA.has(k));
  if (commonA.join('\n') !== commonB.join('\n')) return ALL;
  let region = EMPTY;
  before.rules().forEach((d, i) => {
    if (!inB.has(ka[i]!)) region = union(region, d.match);
  });
  after.rules().forEach((d, i) => {
    if (!inA.has(kb[i]!)) region = union(region, d.match);
  });
  return region;
}
