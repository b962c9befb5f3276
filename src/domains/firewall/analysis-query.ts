/**
 * Questions asked of an analysed policy: example packets with a given verdict (Batfish's
 * searchFilters) and the flows two versions decide differently (Batfish's compareFilters).
 */
import {
  ALL, addressMatchSet, difference, example, intersect, isEmpty, servicesSet, size, statesSet, union,
  type Packet, type PacketSet,
} from '../../verify/packet-set/index.ts';
import { FULL_BOX, addressHull, protocolsOf, type Box } from './analysis-index.ts';
import { PolicyAnalysis, type RelatedRule } from './analysis.ts';
import type { FwAction, FwConnState, FwPolicy, FwService } from './model.ts';

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

export function querySet(q: SearchQuery): { set: PacketSet; box: Box } {
  const addr = (which: 'src' | 'dst', cidrs?: string[]) =>
    cidrs?.length ? addressMatchSet(which, { include: cidrs, exclude: [], negate: false, refs: [] }) : ALL;
  let set = intersect(addr('src', q.src), addr('dst', q.dst));
  if (q.services?.length) set = intersect(set, servicesSet(q.services));
  if (q.notServices?.length) set = difference(set, servicesSet(q.notServices));
  if (q.states?.length) set = intersect(set, statesSet(q.states));
  if (q.set !== undefined) set = intersect(set, q.set);
  const box: Box = {
    src: q.src?.length ? addressHull(q.src) : FULL_BOX.src,
    dst: q.dst?.length ? addressHull(q.dst) : FULL_BOX.dst,
    protos: q.services?.length ? protocolsOf(q.services) : FULL_BOX.protos,
  };
  return { set, box };
}

/** One example packet per deciding rule, in rule order, for the packets of the query. */
export function search(policy: FwPolicy | PolicyAnalysis, q: SearchQuery, limit = Infinity): SearchHit[] {
  const a = asAnalysis(policy);
  const { set, box } = querySet(q);
  const hits: SearchHit[] = [];
  for (const { decider: d, set: s } of a.decisions(set, box)) {
    if (hits.length >= limit) break;
    if (q.action && d.action !== q.action) continue;
    hits.push({ packet: example(s)!, action: d.action, rule: related(d), set: s });
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
  const accBefore = before.decidedAs('accept');
  const accAfter = after.decidedAs('accept');
  const changed = [
    difference(accAfter, accBefore),
    difference(accBefore, accAfter),
    union(intersect(before.decidedAs('drop'), after.decidedAs('reject')), intersect(before.decidedAs('reject'), after.decidedAs('drop'))),
  ];
  const buckets = [out.newlyAccepted, out.newlyDenied, out.denialChanged];
  changed.forEach((set, i) => {
    if (isEmpty(set)) return;
    for (const { decider: n, set: part } of after.decisions(set)) {
      for (const { decider: o, set: s } of before.decisions(part, n.box)) {
        buckets[i]!.push({ set: s, count: size(s), example: example(s)!, before: related(o), after: related(n) });
      }
    }
  });
  return out;
}
