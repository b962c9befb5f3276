/**
 * A rule's match in product form: its source and destination as exact address intervals per
 * family, and its services and states as a small packet set per family. Two rules' matches meet
 * exactly when, for one family, every dimension meets, so overlap, emptiness and membership are
 * decided here without building the rule's match as one BDD (a chain of up to 128 nodes per
 * address under every service node: most of a large policy's analysis time). Most rules of a
 * real policy overlap no other rule; for them no BDD of the whole match is ever built.
 */
import {
  EMPTY, bitsAddresses, contains, difference, familySet, intersect, isEmpty, memo, overlaps, parseCidr, prefixWords, productExample, servicesSet, statesSet,
  type AddressSpec, type Packet, type PacketBits, type PacketSet,
} from '../../verify/packet-set/index.ts';
import { sideHull, type Hull } from './analysis-index.ts';
import type { FwRule } from './model.ts';

/**
 * Sorted disjoint closed intervals, flattened [lo0, hi0, lo1, hi1, ...]; index 0 IPv4 (plain
 * numbers: no bigint to allocate or compare for most rules), 1 IPv6.
 */
type Intervals = [number[], bigint[]];
type Bound = number | bigint;

export interface Cube {
  src: Intervals;
  dst: Intervals;
  /** Services and states, per family (the family's ICMP only). */
  svc: [PacketSet, PacketSet];
  /** The field that makes the match empty ('combination of fields' when only their product is). */
  empty?: string;
}

const MAX = [(1n << 32n) - 1n, (1n << 128n) - 1n];
const MAX4 = 2 ** 32 - 1;

export const specKey = (m: AddressSpec): string => `${m.negate ? '!' : ''}${m.include.join()}-${m.exclude.join()}`;

/** A rule side's forms: its exact intervals and its index hull, made together and kept by one key. */
export interface Side {
  intervals: Intervals;
  hull: Hull;
}

const sides = new Map<string, Side>();

/** The side's forms. A one-prefix side (most) is found by its text, with no key built. */
export function sideOf(m: AddressSpec): Side {
  if (m.include.length === 1 && m.exclude.length === 0 && !m.negate) return memo(sides, m.include[0]!, () => ({ intervals: prefixIntervals(m.include[0]!), hull: sideHull(m) }));
  // A spec's key always holds a '-', a prefix's text never: the two kinds of key never meet.
  return memo(sides, specKey(m), () => ({ intervals: spanIntervals(m), hull: sideHull(m) }));
}

/** The addresses of a side: (includes, or every address) minus the excludes, complemented when negated. */
export const specIntervals = (m: AddressSpec): Intervals => sideOf(m).intervals;

function spanIntervals(m: AddressSpec): Intervals {
  // IPv4 bounds as numbers (from the prefix's word, no bigint), IPv6 as bigints.
  const inc: [number[], bigint[]] = [[], []];
  const exc: [number[], bigint[]] = [[], []];
  const add = (to: [number[], bigint[]], c: string) => {
    const w = prefixWords(c);
    if (w.family === 4) to[0].push(w.words[0]!, w.words[0]! + 2 ** (32 - w.len) - 1);
    else {
      const p = parseCidr(c);
      to[1].push(p.value, p.value | (MAX[1]! >> BigInt(p.len)));
    }
  };
  for (const c of m.include) add(inc, c);
  for (const c of m.exclude) add(exc, c);
  const v4 = familySpan(m, inc[0], exc[0], 0, MAX4);
  const v6 = familySpan(m, inc[1], exc[1], 0n, MAX[1]!);
  return [numbers(v4), v6.length ? v6 : NONE];
}

/** One family's intervals of a side from its includes' and excludes' bounds. */
function familySpan<T extends Bound>(m: AddressSpec, inc: T[], exc: T[], zero: T, max: T): T[] {
  const s = subtract(m.include.length === 0 ? [zero, max] : merge(inc), merge(exc));
  return m.negate ? subtract([zero, max], s) : s;
}

/** x + 1 and x - 1 of either kind of bound. */
const next = <T extends Bound>(x: T): T => (typeof x === 'bigint' ? x + 1n : (x as number) + 1) as T;
const prev = <T extends Bound>(x: T): T => (typeof x === 'bigint' ? x - 1n : (x as number) - 1) as T;

function prefixIntervals(cidr: string): Intervals {
  const w = prefixWords(cidr);
  if (w.family === 4) return [numbers([w.words[0]!, w.words[0]! + 2 ** (32 - w.len) - 1]), NONE];
  const p = parseCidr(cidr);
  return [NONE4, [p.value, p.value | (MAX[1]! >> BigInt(p.len))]];
}

/**
 * The lists of a family keep one map each (an empty literal, or small integers, would have
 * another): the cube tests then meet one map per family, not a new one that deoptimises them.
 * IPv4 lists hold doubles (values up to 2^32 - 1).
 */
function numbers(xs: number[]): number[] {
  const out = [0.5];
  out.pop();
  for (const x of xs) out.push(x);
  return out;
}
const NONE4 = numbers([]);
const NONE: bigint[] = [0n];
NONE.pop();

function merge<T extends Bound>(xs: T[]): T[] {
  const pairs: [T, T][] = [];
  for (let i = 0; i < xs.length; i += 2) pairs.push([xs[i]!, xs[i + 1]!]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: T[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n && lo <= next(out[n - 1]!)) {
      if (hi > out[n - 1]!) out[n - 1] = hi;
    } else out.push(lo, hi);
  }
  return out;
}

/** a minus b, both sorted and disjoint. */
function subtract<T extends Bound>(a: T[], b: T[]): T[] {
  const out: T[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i]!;
    const hi = a[i + 1]!;
    while (j < b.length && b[j + 1]! < lo) j += 2;
    let k = j;
    while (k < b.length && b[k]! <= hi && lo <= hi) {
      if (b[k]! > lo) out.push(lo, prev(b[k]!));
      lo = next(b[k + 1]!);
      k += 2;
    }
    if (lo <= hi) out.push(lo, hi);
  }
  return out;
}

function intervalsMeet(a: readonly Bound[], b: readonly Bound[]): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i + 1]! < b[j]!) i += 2;
    else if (b[j + 1]! < a[i]!) j += 2;
    else return true;
  }
  return false;
}

function intervalsHold(a: readonly Bound[], v: Bound): boolean {
  for (let i = 0; i < a.length; i += 2) if (a[i]! <= v && v <= a[i + 1]!) return true;
  return false;
}

const perFamily = new Map<PacketSet, [PacketSet, PacketSet]>();

export function ruleCube(r: FwRule): Cube {
  const services = servicesSet(r.services);
  const state = statesSet(r.state);
  const cube = productCube(r.src, r.dst, intersect(services, state));
  if (noAddress(cube.src)) cube.empty = 'source';
  else if (noAddress(cube.dst)) cube.empty = 'destination';
  else if (isEmpty(services)) cube.empty = 'services';
  else if (isEmpty(state)) cube.empty = 'state';
  else if (!addressed(cube, 0) && !addressed(cube, 1)) cube.empty = 'combination of fields';
  return cube;
}

const noAddress = (x: Intervals) => x[0].length === 0 && x[1].length === 0;

/** The packets with a source in `src`, a destination in `dst` and header fields in `rest` (a set testing no address). */
export function productCube(src: AddressSpec, dst: AddressSpec, rest: PacketSet): Cube {
  const svc = memo(perFamily, rest, () => [intersect(rest, familySet(4)), intersect(rest, familySet(6))] as [PacketSet, PacketSet]);
  // `empty` present from the start: every cube has one shape (a field added later to some made
  // the cube tests, run on every index candidate, deoptimise and recompile).
  return { src: specIntervals(src), dst: specIntervals(dst), svc, empty: undefined };
}

/** Whether the family has packets in the cube. */
function addressed(c: Cube, f: 0 | 1): boolean {
  return c.src[f].length > 0 && c.dst[f].length > 0 && !isEmpty(c.svc[f]);
}

/** Whether the two matches share a packet (exact). */
export function cubesMeet(a: Cube, b: Cube): boolean {
  for (let f: 0 | 1 = 0; f <= 1; f++) {
    // The family first (no addresses of it: empty intervals), then the services (a cached BDD
    // test, false for most candidates of the index), then the addresses (bigint comparisons).
    if (a.src[f].length === 0 || b.src[f].length === 0) continue;
    if (overlaps(a.svc[f], b.svc[f]) && intervalsMeet(a.src[f], b.src[f]) && intervalsMeet(a.dst[f], b.dst[f])) return true;
  }
  return false;
}

/** Whether the match shares a packet with `s`, a set testing no address. */
export function cubeMeets(c: Cube, s: PacketSet): boolean {
  for (let f: 0 | 1 = 0; f <= 1; f++) if (addressed(c, f as 0 | 1) && overlaps(c.svc[f], s)) return true;
  return false;
}

/** Whether the match has a packet outside `s`, a set testing no address. */
export function cubeBeyond(c: Cube, s: PacketSet): boolean {
  for (let f: 0 | 1 = 0; f <= 1; f++) if (addressed(c, f as 0 | 1) && difference(c.svc[f], s) !== EMPTY) return true;
  return false;
}

/** Whether `outer`'s match holds every packet of `inner`'s (exact). */
export function cubeCovers(outer: Cube, inner: Cube): boolean {
  for (let f: 0 | 1 = 0; f <= 1; f++) {
    if (!addressed(inner, f as 0 | 1)) continue;
    if (!intervalsCover(outer.src[f], inner.src[f]) || !intervalsCover(outer.dst[f], inner.dst[f]) || difference(inner.svc[f], outer.svc[f]) !== EMPTY) return false;
  }
  return true;
}

/** Whether every interval of `b` lies inside one of `a` (both sorted, disjoint and apart: merged). */
function intervalsCover(a: readonly Bound[], b: readonly Bound[]): boolean {
  let i = 0;
  for (let j = 0; j < b.length; j += 2) {
    while (i < a.length && a[i + 1]! < b[j]!) i += 2;
    if (i >= a.length || a[i]! > b[j]! || a[i + 1]! < b[j + 1]!) return false;
  }
  return true;
}

/** example(intersect(s, the match)) for `s` testing no address, without building the match. */
export function cubeExample(c: Cube, s: PacketSet): Packet | undefined {
  const part = (f: 0 | 1) => (c.src[f].length && c.dst[f].length ? { rest: intersect(c.svc[f], s), src: c.src[f][0]!, dst: c.dst[f][0]! } : undefined);
  return productExample([part(0), part(1)]);
}

/** Whether the match covers every address of both families on both sides. */
export function cubeAnyAddress(c: Cube): boolean {
  return everyAddress(c.src) && everyAddress(c.dst);
}

function everyAddress(x: Intervals): boolean {
  for (let f = 0; f < 2; f++) {
    const r: readonly Bound[] = x[f]!;
    if (r.length !== 2 || r[0] !== (f === 0 ? 0 : 0n) || r[1] !== (f === 0 ? MAX4 : MAX[1])) return false;
  }
  return true;
}

/** Whether the packet with header bits `bits` is in the match (as contains on the match's set). */
export function cubeHoldsBits(c: Cube, bits: PacketBits): boolean {
  const a = bitsAddresses(bits);
  return cubeHolds(c, a.family, a.src, a.dst, bits);
}

/** Whether the packet is in the match (`bits`: its header bits; `src`, `dst`: its addresses). */
export function cubeHolds(c: Cube, family: 4 | 6, src: bigint, dst: bigint, bits: PacketBits): boolean {
  if (family === 4) return intervalsHold(c.src[0], Number(src)) && intervalsHold(c.dst[0], Number(dst)) && contains(c.svc[0], bits);
  return intervalsHold(c.src[1], src) && intervalsHold(c.dst[1], dst) && contains(c.svc[1], bits);
}
