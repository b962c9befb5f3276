/**
 * Packet-set analysis of a resolved firewall policy (first match wins; when stateful,
 * established/related packets are accepted before the rules; the default action last).
 *
 * The policy is kept as a decision map: every rule (and the two implicit deciders, the
 * stateful acceptance and the default) owns the disjoint set of packets it decides. Findings,
 * evaluation, search and diff read that map. A rule added, changed or removed moves packets
 * only between the deciders that overlap it (as APKeep does for forwarding rules), and only the
 * findings of rules overlapping the change are recomputed.
 */
import type { SourceLocation } from '../../util/errors.ts';
import {
  ALL, EMPTY, addressMatchSet, contains, dstAndSrc, packetBits, parseCidr, difference, engineNodes, example, intersect, isEmpty, overlaps,
  samples, servicesSet, statesSet, testsAddresses, union, type ExamplePicker, type Packet, type PacketSet,
} from '../../verify/packet-set/index.ts';
import { cubeAnyAddress, cubeBeyond, cubeCovers, cubeExample, cubeHolds, cubeHoldsBits, cubeMeets, cubesMeet, ruleCube, sideOf, specKey, type Cube } from './analysis-cube.ts';
import { BoxIndex, FULL_BOX, addressHull, protoBit, protocolsOf, type Box } from './analysis-index.ts';
import type { FwAction, FwPolicy, FwRule } from './model.ts';

export const ESTABLISHED = '(established/related)';
export const DEFAULT = '(default)';

/** A rule, or one of the implicit deciders (stateful acceptance, default action). */
export interface Decider {
  name: string;
  action: FwAction;
  source: SourceLocation;
  rule?: FwRule;
  /** Packets the decider's match fields describe. */
  match: PacketSet;
  /** Packets it decides: its match minus everything decided before it. Not kept while `lazy`. */
  decides: PacketSet;
  /**
   * The decided set was too costly to build (a rule broad on both sides deep in a large policy:
   * its set is everything not yet decided); it is worked out inside smaller regions instead, and
   * built only when asked for as a whole.
   */
  lazy?: boolean;
  box: Box;
  /** A rule's match in product form (rules only). */
  cube?: Cube;
  /** Position: -1 for the stateful acceptance, rules 0.., the default last. */
  pos: number;
  /** Scratch for the index's de-duplication. */
  mark?: number;
}

export type FindingKind = 'unmatchable' | 'unreachable' | 'conflict' | 'redundant';

export interface RelatedRule {
  name: string;
  action: FwAction;
  source: SourceLocation;
}

export interface FwFinding {
  kind: FindingKind;
  policy: string;
  rule: string;
  source: SourceLocation;
  /** unreachable: the deciders that take its packets; conflict: the earlier ones deciding
   * otherwise; redundant: the later ones (or the default) deciding its packets the same way. */
  related: RelatedRule[];
  message: string;
  /** A packet illustrating the finding (conflict: one the earlier rule decides otherwise). */
  example?: Packet;
}

export interface Verdict {
  action: FwAction;
  /** The deciding rule's name, or ESTABLISHED / DEFAULT. */
  rule: string;
  source: SourceLocation;
}

const related = (d: Decider): RelatedRule => ({ name: d.name, action: d.action, source: d.source });
/** Names for a message: the first few, then how many more (`related` keeps them all). */
const names = (ds: Decider[]) => {
  const shown = ds.slice(0, 5).map((d) => `'${d.name}'`).join(', ');
  return ds.length > 5 ? `${shown} and ${ds.length - 5} more` : shown;
};

/** A rule's match as one set: service and state on top (small), the address part below them. */
function ruleMatch(r: FwRule): PacketSet {
  return intersect(ruleServices(r), ruleAddresses(r));
}

const ruleServices = (r: FwRule): PacketSet => intersect(servicesSet(r.services), statesSet(r.state));

/** A rule's addresses, testing nothing else. */
function ruleAddresses(r: FwRule): PacketSet {
  // The destination is built straight above the source part (its bits lie above the source's),
  // never on its own and intersected.
  return dstAndSrc(specKey(r.dst), r.dst, addressMatchSet('src', r.src));
}

/** A packet set given as `rest` (testing no address) AND `addresses` (testing only addresses). */
export interface Factored {
  rest: PacketSet;
  addresses: PacketSet;
}

/**
 * A rule as a decider. Its match and decided sets are built on first use. When everything the
 * packets before it take from its match tests no address (the stateful acceptance, rules
 * matching any address such as global service rules at the top, or nothing), its decided set
 * is its match minus that address-free set (`freeBefore`): a cube with fewer services, so a rule
 * with no later rule overlapping it is analysed on its cube alone.
 */
class RuleDecider implements Decider {
  name: string;
  action: FwAction;
  source: SourceLocation;
  rule: FwRule;
  cube: Cube;
  box: Box;
  pos: number;
  lazy?: boolean;
  mark?: number;
  /** What the packets before it take from its match, when that tests no address. */
  freeBefore?: PacketSet;
  /** Its services and states minus `freeBefore`. */
  private freeRest?: PacketSet;
  private built?: PacketSet;
  private kept?: PacketSet;

  constructor(r: FwRule, pos: number, private before: PacketSet) {
    this.name = r.name;
    this.action = r.action;
    this.source = r.source;
    this.rule = r;
    this.cube = ruleCube(r);
    this.box = ruleBox(r);
    this.pos = pos;
  }

  get match(): PacketSet {
    return (this.built ??= ruleMatch(this.rule));
  }

  get decides(): PacketSet {
    return (this.kept ??= difference(this.match, this.before));
  }

  set decides(s: PacketSet) {
    this.kept = s;
    this.freeBefore = undefined;
    this.freeRest = undefined;
  }

  /** It decides its match minus `before`, a set testing no address (built when asked for). */
  decidesAllBut(before: PacketSet): void {
    this.kept = undefined;
    this.before = before;
    this.freeBefore = before;
    this.freeRest = undefined;
    this.lazy = false;
  }

  /**
   * The packets of `q` it decides, when it decides its match minus an address-free set: then
   * that is (its services minus the set, AND q's rest) AND (its addresses AND q's), two small
   * products (the first the same for every query with the same services) instead of one
   * intersection walking its whole decided set. Undefined otherwise.
   */
  factoredPart(q: Factored): PacketSet | undefined {
    if (this.freeBefore === undefined) return undefined;
    this.freeRest ??= difference(ruleServices(this.rule), this.freeBefore);
    return intersect(intersect(this.freeRest, q.rest), intersect(ruleAddresses(this.rule), q.addresses));
  }
}

function ruleBox(r: FwRule): Box {
  return { src: sideOf(r.src).hull, dst: sideOf(r.dst).hull, protos: protocolsOf(r.services) };
}

const byPos = (a: Decider, b: Decider) => a.pos - b.pos;

/** In order of position: short lists (most) sorted in place, as Array#sort allocates a work array per call. */
function sortByPos(list: Decider[]): Decider[] {
  if (list.length > 16) return list.sort(byPos);
  for (let i = 1; i < list.length; i++) {
    const d = list[i]!;
    let j = i - 1;
    for (; j >= 0 && list[j]!.pos > d.pos; j--) list[j + 1] = list[j]!;
    list[j + 1] = d;
  }
  return list;
}

export class PolicyAnalysis {
  readonly policy: FwPolicy;
  /** Rules in order; the implicit deciders are beside. */
  private readonly ordered: Decider[] = [];
  private readonly established: Decider | undefined;
  private readonly fallback: Decider;
  private readonly index = new BoxIndex<Decider>();
  private readonly found = new Map<Decider, FwFinding[]>();
  /** Per rule, the rules (itself included) whose box meets its box, in order: kept up to date
   * on every change so a re-analysis never queries the index for them again. */
  private readonly near = new Map<Decider, Decider[]>();
  private readonly emptyPart = new Map<Decider, string>();
  private fallbackStale = true;

  /** Node growth allowed while building one rule's decided set before it is left lazy. */
  private readonly budget: number;

  constructor(policy: FwPolicy, options: { lazyBudget?: number } = {}) {
    this.policy = policy;
    this.budget = options.lazyBudget ?? 50_000;
    if (policy.stateful) {
      const m = statesSet(['established', 'related']);
      this.established = { name: ESTABLISHED, action: 'accept', source: policy.source, match: m, decides: m, box: FULL_BOX, pos: -1 };
    }
    // Each overlapping pair is found once: a rule queries the index holding the rules before it
    // and joins their lists (in order, as it comes after every rule already listed there).
    for (const r of policy.rules) {
      const d = this.decider(r, this.ordered.length);
      const cands = sortByPos(this.index.query(d.box).filter((c) => cubesMeet(c.cube!, d.cube!)));
      for (const c of cands) this.near.get(c)!.push(d);
      cands.push(d);
      this.near.set(d, cands);
      this.ordered.push(d);
      this.index.add(d);
    }
    this.fallback = { name: DEFAULT, action: policy.defaultAction, source: policy.source, match: ALL, decides: EMPTY, box: FULL_BOX, pos: policy.rules.length };
    // In order: a rule's findings read the decided sets of the rules before it.
    for (const d of this.ordered) {
      const cands = this.near.get(d)!;
      this.setDecided(d, cands);
      this.found.set(d, this.ruleFindings(d, cands));
    }
  }

  /**
   * The part of `d`'s match no decider before it matches. Only the rules whose box meets `d`'s
   * are visited, and only inside its match, so no set of the whole policy is built (such sets
   * blow up when broad and narrow rules mix).
   */
  private uncovered(d: Decider, cands: Decider[], budget = Infinity): PacketSet | undefined {
    const start = engineNodes();
    let rest = d.match;
    if (this.established) rest = difference(rest, this.established.match);
    for (const c of cands) {
      if (c.pos >= d.pos || isEmpty(rest)) break;
      rest = difference(rest, c.match);
      if (engineNodes() - start > budget) return undefined;
    }
    return rest;
  }

  private setDecided(d: Decider, cands: Decider[]): void {
    if (d instanceof RuleDecider) {
      // Only the stateful acceptance and earlier rules taking no address-specific part: no set ops on addresses.
      let before = this.established?.match ?? EMPTY;
      let free = true;
      for (const c of cands) {
        if (c.pos >= d.pos) break;
        if (c.lazy || !c.cube || !cubeAnyAddress(c.cube) || testsAddresses(c.decides)) {
          free = false;
          break;
        }
        before = union(before, c.decides);
      }
      if (free) return d.decidesAllBut(before);
    }
    const s = this.uncovered(d, cands, this.budget);
    d.lazy = s === undefined;
    d.decides = s ?? EMPTY;
  }

  /** `d`'s decided set as a whole (built now if it was lazy). */
  private decided(d: Decider): PacketSet {
    if (d.lazy) {
      d.decides = this.uncovered(d, this.near.get(d)!)!;
      d.lazy = false;
    }
    return d.decides;
  }

  /**
   * The packets of `region` that `c` decides. `regionCands` holds every rule whose box meets
   * the region's, in order (a rule's own neighbour list when the region is inside its match).
   */
  private within(c: Decider, region: PacketSet, regionCands: Decider[]): PacketSet {
    if (!c.lazy) return intersect(c.decides, region);
    let rest = intersect(region, c.match);
    if (this.established) rest = difference(rest, this.established.match);
    for (const k of regionCands) {
      if (k.pos >= c.pos || isEmpty(rest)) break;
      rest = difference(rest, k.match);
    }
    return rest;
  }

  /** Whether a lazy rule decides any packet: random packets of its match first, else exactly. */
  private reachable(d: Decider, cands: Decider[]): boolean {
    if (!d.lazy) return !isEmpty(d.decides);
    const earlier = cands.filter((c) => c.pos < d.pos);
    for (const bits of samples(d.match, 32, d.pos + 1)) {
      if (this.established && contains(this.established.match, bits)) continue;
      if (!earlier.some((c) => cubeHoldsBits(c.cube!, bits))) return true;
    }
    return !isEmpty(this.decided(d));
  }

  /** Packets no rule decides: the default action's share, built on demand. */
  private defaultShare(): PacketSet {
    if (this.fallbackStale) {
      let rest = ALL;
      if (this.established) rest = difference(rest, this.established.match);
      for (const d of this.ordered) rest = difference(rest, this.decided(d));
      this.fallback.decides = rest;
      this.fallbackStale = false;
    }
    return this.fallback.decides;
  }

  /** Findings of every rule, in rule order. */
  findings(): FwFinding[] {
    // A loop, not flatMap: most rules have no finding, and flatMap's callbacks and spreading
    // cost more than the listing on a large policy.
    const out: FwFinding[] = [];
    for (const d of this.ordered) {
      const fs = this.found.get(d);
      if (fs) for (const f of fs) out.push(f);
    }
    return out;
  }

  /** The rules' current order (changes with insertRule/removeRule/replaceRule). */
  ruleNames(): string[] {
    return this.ordered.map((d) => d.name);
  }

  /** The rules' deciders, in order. */
  rules(): readonly Decider[] {
    return this.ordered;
  }

  /**
   * The policy as disjoint packet sets, each with the decider that decides it. The default's
   * share is the complement of every rule: costly on large policies with broad rules.
   */
  decisionMap(): Decider[] {
    this.defaultShare();
    for (const d of this.ordered) this.decided(d);
    return this.all().filter((d) => !isEmpty(d.decides));
  }

  evaluate(p: Packet): Verdict {
    const bits = packetBits(p);
    if (this.established && contains(this.established.match, bits)) return verdict(this.established);
    const box: Box = { src: addressHull([p.src]), dst: addressHull([p.dst]), protos: protoBit(p.protocol) };
    let first: Decider = this.fallback;
    const src = parseCidr(p.src).value;
    const dst = parseCidr(p.dst).value;
    for (const d of this.index.query(box)) if (d.pos < first.pos && cubeHolds(d.cube!, p.family, src, dst, bits)) first = d;
    return verdict(first);
  }

  /**
   * How the packets of `set` are decided: the deciders (in order) with the part of `set` each
   * decides. `box` over-approximates `set` and narrows the rules visited. The decided sets are
   * disjoint, so each part is one intersection (no running remainder); `wanted` skips deciders
   * whose part the caller does not need, and the default's part (the costly remainder) is
   * built only when wanted. `cube`, when given, holds `set` (exactly or not): a rule whose cube
   * misses it is passed over without touching its match; `factors`, when given, are `set` as a
   * product (RuleDecider.factoredPart). `picker`, when given (for `set`), and the default's part
   * not wanted: a rule's part is only tested for packets and given an example packet, and built
   * when its `set` is read (a search lists example packets; most callers never read the sets).
   */
  decisions(set: PacketSet, box: Box = FULL_BOX, wanted: (d: Decider) => boolean = () => true, cube?: Cube, factors?: Factored, picker?: ExamplePicker): DecisionPart[] {
    const out: DecisionPart[] = [];
    if (isEmpty(set)) return out;
    // The default's part is what no other decider takes: `set` minus their parts, so with it
    // wanted every part is worked out (and only the wanted ones listed).
    const withDefault = wanted(this.fallback);
    let rest = set;
    const take = (d: Decider, x: PacketSet) => {
      if (isEmpty(x)) return;
      if (wanted(d)) out.push({ decider: d, set: x });
      if (withDefault) rest = difference(rest, x);
    };
    if (this.established && (withDefault || wanted(this.established))) take(this.established, intersect(set, this.established.match));
    const cands = this.index.query(box).sort(byPos);
    for (const d of cands) {
      if (!withDefault && !wanted(d)) continue;
      if (withDefault && isEmpty(rest)) break;
      // The match (smaller than the decided set it holds) rules most candidates out; the cubes
      // rule them out without building it. The part itself is built straight away: testing the
      // decided set for overlap first costs as much again when it does overlap.
      if (cube ? !cubesMeet(d.cube!, cube) : !overlaps(d.match, set)) continue;
      const part = d.lazy ? this.within(d, set, cands) : factors && d instanceof RuleDecider ? d.factoredPart(factors) : undefined;
      if (part === undefined && picker && !withDefault) {
        const decides = d.decides;
        if (picker.meets(decides)) out.push(new UnbuiltPart(d, decides, picker));
        continue;
      }
      take(d, part ?? intersect(d.decides, set));
    }
    if (withDefault && !isEmpty(rest)) out.push({ decider: this.fallback, set: rest });
    return out;
  }

  /** Packets the policy decides with `action`. */
  decidedAs(action: FwAction): PacketSet {
    this.defaultShare();
    for (const d of this.ordered) this.decided(d);
    let s = EMPTY;
    for (const d of this.all()) if (d.action === action) s = union(s, d.decides);
    return s;
  }

  // ---- incremental changes ----

  /** Inserts a rule at `pos`; the decided sets and findings are updated incrementally. */
  insertRule(pos: number, rule: FwRule): void {
    const d = this.place(pos, rule);
    this.refresh([d], d.box, d);
  }

  removeRule(pos: number): void {
    const d = this.unplace(pos);
    this.refresh([d], d.box);
  }

  replaceRule(pos: number, rule: FwRule): void {
    const old = this.unplace(pos);
    const d = this.place(pos, rule);
    this.refresh([old, d], mergeBoxes(old.box, d.box), d);
  }

  // ---- internals ----

  /** Inserts a rule: it takes the packets of its match no earlier rule decides. */
  private place(pos: number, rule: FwRule): Decider {
    const d = this.decider(rule, pos);
    this.ordered.splice(pos, 0, d);
    this.renumber(pos);
    this.index.add(d);
    const cands = this.overlapping(d);
    this.near.set(d, cands);
    for (const c of cands) if (c !== d) insertByPos(this.near.get(c)!, d);
    this.setDecided(d, cands);
    // What later rules decided inside its match is now its own.
    for (const c of cands) if (c.pos > d.pos && !c.lazy) c.decides = difference(c.decides, d.match);
    this.fallbackStale = true;
    return d;
  }

  /** Removes a rule: its packets go to the first later rule matching them (or the default). */
  private unplace(pos: number): Decider {
    const d = this.ordered[pos]!;
    const cands = this.near.get(d)!;
    if (d.lazy) {
      // Its packets are not at hand: the later rules it overlaps work theirs out again.
      const later = cands.filter((c) => c.pos > d.pos && !c.lazy && overlaps(c.match, d.match));
      for (const c of later) this.setDecided(c, this.near.get(c)!.filter((k) => k !== d));
    } else {
      let freed = d.decides;
      for (const c of cands) {
        if (isEmpty(freed)) break;
        if (c.pos <= d.pos || !overlaps(freed, c.match)) continue;
        const x = intersect(freed, c.match);
        if (!c.lazy) c.decides = union(c.decides, x);
        freed = difference(freed, x);
      }
    }
    this.ordered.splice(pos, 1);
    this.index.remove(d);
    for (const c of cands) if (c !== d) {
      const list = this.near.get(c)!;
      list.splice(list.indexOf(d), 1);
    }
    this.near.delete(d);
    this.found.delete(d);
    this.emptyPart.delete(d);
    this.renumber(pos);
    this.fallbackStale = true;
    return d;
  }

  private all(): Decider[] {
    return [...(this.established ? [this.established] : []), ...this.ordered, this.fallback];
  }

  private decider(r: FwRule, pos: number): Decider {
    const d = new RuleDecider(r, pos, this.established?.match ?? EMPTY);
    if (d.cube.empty) this.emptyPart.set(d, d.cube.empty);
    return d;
  }

  /** The rules whose match meets `d`'s (itself included), in order: the index's candidates checked on their cubes. */
  private overlapping(d: Decider): Decider[] {
    return this.index.query(d.box).filter((c) => c === d || cubesMeet(c.cube!, d.cube!)).sort(byPos);
  }

  private renumber(from: number): void {
    for (let i = from; i < this.ordered.length; i++) this.ordered[i]!.pos = i;
    this.fallback.pos = this.ordered.length;
  }

  /** Recomputes the findings of the rules whose match meets one of the `changed` rules'. */
  private refresh(changed: Decider[], box: Box, added?: Decider): void {
    for (const c of this.index.query(box)) if (c !== added && changed.some((x) => cubesMeet(c.cube!, x.cube!))) this.found.set(c, this.ruleFindings(c, this.near.get(c)!));
    if (added) this.found.set(added, this.ruleFindings(added, this.near.get(added)!));
  }

  /** `cands`: the rules whose box meets `d`'s, in order. */
  private ruleFindings(d: Decider, cands: Decider[]): FwFinding[] {
    const base = { policy: this.policy.name, rule: d.name, source: d.source };
    const empty = this.emptyPart.get(d);
    if (empty) return [{ ...base, kind: 'unmatchable', related: [], message: `rule '${d.name}' can match no packet (its ${empty} is empty)` }];
    // What the earlier rules take from it tests no address (their decided sets are
    // address-free): which of them take packets, and whether any are left, read on its cube.
    const free = d instanceof RuleDecider ? d.freeBefore : undefined;
    const earlier = cands.filter((c) => c.pos < d.pos && (free !== undefined ? cubeMeets(d.cube!, c.decides) : this.takesFrom(c, d, cands)));
    // The stateful acceptance takes every rule's established/related packets by design: it is
    // named only when it is all that stands in front of the rule.
    const est = this.established;
    if (est && earlier.length === 0 && (free !== undefined ? cubeMeets(d.cube!, est.match) : overlaps(est.decides, d.match))) earlier.push(est);
    if (!(free !== undefined ? cubeBeyond(d.cube!, free) : this.reachable(d, cands))) {
      return [{ ...base, kind: 'unreachable', related: earlier.map(related), message: `rule '${d.name}' is never reached: shadowed by ${names(earlier)}` }];
    }
    const out: FwFinding[] = [];
    const against = earlier.filter((c) => c.action !== d.action && c !== this.established);
    if (against.length) {
      // Decided on its cube: the earlier rule's decided set tests no address, and the example is
      // read on the cube (its match not built).
      const ex = free !== undefined ? cubeExample(d.cube!, against[0]!.decides) : example(this.within(against[0]!, d.match, cands));
      out.push({
        ...base, kind: 'conflict', related: against.map(related), example: ex,
        message: `rule '${d.name}' (${d.action}) is partly shadowed by ${names(against)} deciding otherwise`,
      });
    }
    // Redundant when every packet it decides would, without it, get the same action.
    const same: Decider[] = [];
    const next = cands[cands.indexOf(d) + 1];
    // Decided on its cube and followed by no overlapping rule, or first by one whose match holds
    // its own (a catch-all): that one (or the default) would decide all its packets.
    if (free !== undefined && (next === undefined || cubeCovers(next.cube!, d.cube!))) {
      const heir = next ?? this.fallback;
      if (heir.action !== d.action) return out;
      same.push(heir);
      return [...out, redundant(base, d, same)];
    }
    // A lazy rule no later rule overlaps needs no set: its packets all go to the default.
    const unfollowed = d.lazy && !cands.some((c) => c.pos > d.pos && overlaps(c.match, d.match));
    let rest = unfollowed ? d.match : this.decided(d);
    for (const c of cands) {
      if (c.pos <= d.pos) continue;
      const left = difference(rest, c.match);
      if (left === rest) continue;
      if (c.action !== d.action) return out;
      same.push(c);
      rest = left;
      if (isEmpty(rest)) break;
    }
    if (!isEmpty(rest)) {
      if (this.fallback.action !== d.action) return out;
      same.push(this.fallback);
    }
    out.push(redundant(base, d, same));
    return out;
  }

  /**
   * Whether the earlier rule `c` decides packets of `d`'s match. When `d`'s match holds `c`'s (a
   * catch-all after many rules), that is whether `c` decides any packet, read on `c`'s cube
   * when it is decided on it: no rule's decided set is built for the catch-all.
   */
  private takesFrom(c: Decider, d: Decider, cands: Decider[]): boolean {
    if (!c.lazy && cubeCovers(d.cube!, c.cube!)) return c instanceof RuleDecider && c.freeBefore !== undefined ? cubeBeyond(c.cube, c.freeBefore) : !isEmpty(c.decides);
    return c.lazy ? !isEmpty(this.within(c, d.match, cands)) : overlaps(c.decides, d.match);
  }
}

/** A decider's part of a set: `set` as one set, `example` a packet of it. */
export interface DecisionPart {
  decider: Decider;
  readonly set: PacketSet;
  example?: () => Packet | undefined;
}

/** The part of `picker.within` that `decides` holds, built when read; its example found without it. */
class UnbuiltPart implements DecisionPart {
  private built?: PacketSet;
  constructor(readonly decider: Decider, private readonly decides: PacketSet, private readonly picker: ExamplePicker) {}
  get set(): PacketSet {
    return (this.built ??= intersect(this.decides, this.picker.within));
  }
  example(): Packet | undefined {
    return this.picker.example(this.decides);
  }
}

function redundant(base: Pick<FwFinding, 'policy' | 'rule' | 'source'>, d: Decider, same: Decider[]): FwFinding {
  return {
    ...base, kind: 'redundant', related: same.map(related),
    message: `rule '${d.name}' is redundant: without it ${names(same)} ${same.length > 1 ? 'decide' : 'decides'} its packets the same way (${d.action})`,
  };
}

function insertByPos(list: Decider[], d: Decider): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.pos < d.pos) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, d);
}

function verdict(d: Decider): Verdict {
  return { action: d.action, rule: d.name, source: d.source };
}

function mergeBoxes(a: Box, b: Box): Box {
  const hull = (x: Box['src'], y: Box['src']): Box['src'] => [[...x[0], ...y[0]], [...x[1], ...y[1]]];
  const protos = a.protos | b.protos;
  return { src: hull(a.src, b.src), dst: hull(a.dst, b.dst), protos };
}

/** The analysis of a policy (builds the decision map and every rule's findings). */
export function analyzePolicy(policy: FwPolicy): PolicyAnalysis {
  return new PolicyAnalysis(policy);
}

/** analyzePolicy, once per policy object: for callers asking about many flows. */
export function analysisCache(): (p: FwPolicy) => PolicyAnalysis {
  const cache = new Map<FwPolicy, PolicyAnalysis>();
  return (p) => {
    let a = cache.get(p);
    if (!a) cache.set(p, (a = analyzePolicy(p)));
    return a;
  };
}

/** The verdict for one packet: action and deciding rule with its source. */
export function evaluate(policy: FwPolicy | PolicyAnalysis, p: Packet): Verdict {
  return (policy instanceof PolicyAnalysis ? policy : new PolicyAnalysis(policy)).evaluate(p);
}
