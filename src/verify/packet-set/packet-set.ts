/**
 * The packet-set algebra: exact sets of packet headers (family, addresses, protocol, ports,
 * ICMP type/code, connection state) as hash-consed BDDs over one shared engine. A set is a
 * plain integer; equal sets are equal integers.
 */
import { Address4, Address6 } from 'ip-address';
import { NetloomError } from '../../util/errors.ts';
import { Bdd, FALSE, TRUE, type Node } from './bdd.ts';
import {
  DPORT, DST, FAMILY, ICMP_CODE, ICMP_TYPE, NVARS, PROTO, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
  SPORT, SRC, STATE, STATES, hasIcmp, hasPorts, type Field,
} from './layout.ts';

export type PacketSet = Node;
export type ConnState = (typeof STATES)[number];

/** One concrete packet header. Ports only for tcp/udp, ICMP type/code only for icmp/icmpv6. */
export interface Packet {
  family: 4 | 6;
  src: string;
  dst: string;
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
  state: ConnState;
}

const bdd = new Bdd(NVARS);

export const EMPTY: PacketSet = FALSE;
export const ALL: PacketSet = TRUE;

export const union = (a: PacketSet, b: PacketSet): PacketSet => bdd.or(a, b);
export const intersect = (a: PacketSet, b: PacketSet): PacketSet => bdd.and(a, b);
export const difference = (a: PacketSet, b: PacketSet): PacketSet => bdd.diff(a, b);
export const complement = (a: PacketSet): PacketSet => bdd.not(a);
export const isEmpty = (a: PacketSet): boolean => a === FALSE;
export const equals = (a: PacketSet, b: PacketSet): boolean => a === b;
/** Whether the two sets share a packet (cheaper than building the intersection). */
export const overlaps = (a: PacketSet, b: PacketSet): boolean => bdd.meets(a, b);
export const isSubset = (a: PacketSet, b: PacketSet): boolean => bdd.diff(a, b) === FALSE;
export const unionAll = (sets: Iterable<PacketSet>): PacketSet => {
  let r = EMPTY;
  for (const s of sets) r = bdd.or(r, s);
  return r;
};
/** Whether the set tests an address bit (otherwise it is a set of services, states and families only). */
const addressTests = new Map<PacketSet, boolean>();
export const testsAddresses = (a: PacketSet): boolean => memo(addressTests, a, () => bdd.testsFrom(a, DST.offset));
/** Nodes allocated so far (all sets share them). */
export const engineNodes = (): number => bdd.nodeCount;

// ---- field constraints ----

/** Values of `f` whose first `len` bits equal those of `value` (a `width`-bit number, at most 32 bits). */
function prefixCube(f: Field, value: number, width: number, len: number): Node {
  let n: Node = TRUE;
  for (let i = len - 1; i >= 0; i--) {
    const bit = (value >>> (width - 1 - i)) & 1;
    n = bit ? bdd.mk(f.offset + i, FALSE, n) : bdd.mk(f.offset + i, n, FALSE);
  }
  return n;
}

/** Values of a narrow field (width <= 16) in [from, to]. */
export function fieldRange(f: Field, from: number, to: number): PacketSet {
  if (from < 0 || to >= 2 ** f.width || from > to) throw new NetloomError(`${f.name} range ${from}-${to} out of bounds`);
  let r: Node = FALSE;
  let lo = from;
  // Split into aligned blocks (as a range splits into CIDRs).
  while (lo <= to) {
    let size = 1;
    while (lo % (size * 2) === 0 && lo + size * 2 - 1 <= to) size *= 2;
    const len = f.width - Math.log2(size);
    r = bdd.or(r, prefixCube(f, lo, f.width, len));
    lo += size;
  }
  return r;
}

export const familySet = (family: 4 | 6): PacketSet => bdd.mk(FAMILY.offset, family === 4 ? TRUE : FALSE, family === 4 ? FALSE : TRUE);
export const protocolSet = (proto: number): PacketSet => fieldRange(PROTO, proto, proto);
export const stateSet = (s: ConnState): PacketSet => fieldRange(STATE, STATES.indexOf(s), STATES.indexOf(s));

/** A parsed prefix: family, value as a 32- or 128-bit integer, length. */
export interface Cidr {
  family: 4 | 6;
  value: bigint;
  len: number;
}

/** `map`'s value for `key`, built once; the map is emptied past `cap` entries (memory stays bounded). */
export function memo<K, V>(map: Map<K, V>, key: K, build: () => V, cap = 100_000): V {
  let v = map.get(key);
  if (v === undefined) {
    v = build();
    if (map.size > cap) map.clear();
    map.set(key, v);
  }
  return v;
}

/** A prefix as 32-bit words, most significant first (IPv4: one word), host bits zero. */
interface Bits {
  family: 4 | 6;
  words: number[];
  len: number;
}

/** A parsed prefix: its words (the set builders read bits) and its value (intervals read numbers). */
interface Prefix extends Bits {
  /** Made when first asked for (the analysis of IPv4 rules reads words only). */
  cidr: Readonly<Cidr> | undefined;
}

const parsed = new Map<string, Prefix>();

/** One parse per prefix text, shared by every reader (words and value in one record, one lookup). */
function parsePrefix(s: string): Prefix {
  let p = parsed.get(s);
  if (p === undefined) {
    const b = parseBitsUncached(s);
    p = { family: b.family, words: b.words, len: b.len, cidr: undefined };
    if (parsed.size > 100_000) parsed.clear();
    parsed.set(s, p);
  }
  return p;
}

const parseBits: (s: string) => Bits = parsePrefix;

/** The prefix as 32-bit words, most significant first (IPv4: one word), host bits zero; no bigint. */
export const prefixWords: (s: string) => Readonly<Bits> = parsePrefix;

export function parseCidr(s: string): Readonly<Cidr> {
  const p = parsePrefix(s);
  if (p.cidr === undefined) {
    let value = 0n;
    for (const w of p.words) value = (value << 32n) | BigInt(w);
    p.cidr = { family: p.family, value, len: p.len };
  }
  return p.cidr;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function parseBitsUncached(s: string): Bits {
  // The common forms first, without the general parser's cost; anything else (and every error)
  // goes through the general parser.
  const fast = parseIpv4(s) ?? parseIpv6(s);
  if (fast) return fast;
  const [addr, lenText] = s.split('/');
  const v4 = !addr?.includes(':') && Address4.isValid(addr ?? '');
  if (!v4 && !Address6.isValid(addr ?? '')) throw new NetloomError(`invalid address '${s}'`);
  const width = v4 ? 32 : 128;
  const len = lenText === undefined ? width : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > width || (lenText !== undefined && !/^\d+$/.test(lenText))) throw new NetloomError(`invalid prefix length in '${s}'`);
  const value = v4 ? new Address4(addr!).bigInt() : new Address6(addr!).bigInt();
  const words: number[] = [];
  for (let i = width / 32 - 1; i >= 0; i--) words.push(Number((value >> BigInt(i * 32)) & 0xffffffffn));
  return masked(v4 ? 4 : 6, words, len);
}

/**
 * Dotted IPv4 (four groups of 1-3 digits, each <= 255, optional /len of 1-2 digits <= 32), or
 * undefined for any other form. A loop over the characters, no regex or arrays, as parseIpv6.
 */
function parseIpv4(s: string): Bits | undefined {
  const n = s.length;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + c - 48;
      if (++digits > 3) return undefined;
    } else if (c === 46) {
      if (digits === 0 || dots === 3 || octet > 255) return undefined;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c === 47) break;
    else return undefined;
  }
  if (dots !== 3 || digits === 0 || octet > 255) return undefined;
  v = v * 256 + octet;
  let len = 32;
  if (i < n) {
    if (n - i - 1 < 1 || n - i - 1 > 2) return undefined;
    len = 0;
    for (let k = i + 1; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c < 48 || c > 57) return undefined;
      len = len * 10 + c - 48;
    }
    if (len > 32) return undefined;
  }
  return masked(4, [v], len);
}

/**
 * Plain IPv6 (hex groups, at most one `::`, optional /len), or undefined for any other form
 * (which the general parser then takes). One pass over the characters: no regex, split or
 * bigint, as a large policy parses tens of thousands of prefixes.
 */
function parseIpv6(s: string): Bits | undefined {
  const h: number[] = [];
  let gap = -1;
  let i = 0;
  const n = s.length;
  if (s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < n && s.charCodeAt(i) !== 47) {
    let v = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) break;
      v = v * 16 + d;
      digits++;
    }
    if (digits === 0 || digits > 4 || h.length === 8) return undefined;
    h.push(v);
    if (i === n || s.charCodeAt(i) === 47) break;
    if (s.charCodeAt(i) !== 58) return undefined;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = h.length;
      i++;
    } else if (i === n || s.charCodeAt(i) === 47) return undefined;
  }
  let len = 128;
  if (i < n) {
    const t = s.slice(i + 1);
    if (!/^\d{1,3}$/.test(t)) return undefined;
    len = Number(t);
    if (len > 128) return undefined;
  }
  if (gap < 0 ? h.length !== 8 : h.length > 7) return undefined;
  const all = gap < 0 ? h : [...h.slice(0, gap), ...Array<number>(8 - h.length).fill(0), ...h.slice(gap)];
  const words = [0, 1, 2, 3].map((k) => (all[2 * k]! * 65536 + all[2 * k + 1]!) >>> 0);
  return masked(6, words, len);
}

function masked(family: 4 | 6, words: number[], len: number): Bits {
  const out = words.map((w, i) => {
    const keep = Math.min(32, Math.max(0, len - i * 32));
    return keep === 0 ? 0 : keep === 32 ? w >>> 0 : (w & ~(0xffffffff >>> keep)) >>> 0;
  });
  return { family, words: out, len };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.family, c.value)}/${c.len}`;
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 6) return formatIpv6(value);
  const v = Number(value);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * RFC 5952 text, as ip-address's correctForm writes it (lowercase groups without leading
 * zeros, the longest run of two or more zero groups as `::`, the first of equal runs) without
 * its parsing and regular expressions: every conflict finding formats an example packet.
 */
function formatIpv6(value: bigint): string {
  const hex = value.toString(16).padStart(32, '0');
  const groups: string[] = [];
  let best = -1;
  let bestLen = 1;
  let run = 0;
  for (let i = 0; i < 8; i++) {
    const g = parseInt(hex.slice(i * 4, i * 4 + 4), 16);
    groups.push(g.toString(16));
    run = g === 0 ? run + 1 : 0;
    if (run > bestLen) {
      bestLen = run;
      best = i - run + 1;
    }
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Prefixes to include and to exclude, possibly negated: the address side of a rule. */
export interface AddressSpec {
  include: readonly string[];
  exclude: readonly string[];
  negate: boolean;
}

interface Entry extends Bits {
  inc: boolean;
}

/**
 * The packets whose source (or destination) address is in the spec (no include: any address of
 * both families), intersected with `below`, a set testing only the family and variables after
 * the field's: built in one walk down the prefixes' bits, each node made once with `mk`, rather
 * than as a chain per prefix combined by unions, differences, a complement and an intersection
 * (which made and discarded most of the nodes). The result is the same canonical set.
 */
export function addressSetOver(which: 'src' | 'dst', spec: AddressSpec, below: PacketSet = TRUE): PacketSet {
  const f = which === 'src' ? SRC : DST;
  const split = below > TRUE && bdd.level(below) === FAMILY.offset;
  const under = [split ? bdd.low(below) : below, split ? bdd.high(below) : below];
  for (const u of under) if (u > TRUE && bdd.level(u) < f.offset + f.width) throw new NetloomError(`addressSetOver: ${which === 'dst' ? 'the set below tests more than source addresses and the family' : 'a set below source addresses tests a field'}`);
  const entries: Entry[][] = [[], []];
  for (const c of spec.include) entries[parseBits(c).family === 4 ? 0 : 1]!.push({ ...parseBits(c), inc: true });
  for (const c of spec.exclude) entries[parseBits(c).family === 4 ? 0 : 1]!.push({ ...parseBits(c), inc: false });
  const anyAddress = spec.include.length === 0;
  const [t4, t6] = [0, 1].map((fam) => {
    const inside = spec.negate ? FALSE : under[fam]!;
    const outside = spec.negate ? under[fam]! : FALSE;
    return inside === outside ? inside : addressTree(f.offset, entries[fam]!, anyAddress, inside, outside);
  });
  return bdd.mk(FAMILY.offset, t4!, t6!);
}

/**
 * The BDD over an address field (first variable `offset`) of "covered by an include (or none
 * given) and by no exclude": `inside` for those addresses, `outside` for the rest. Module-level
 * state and functions, not closures: this runs once per node of every rule's address part.
 */
let treeOffset = 0;
let treeAny = false;
let treeIn: Node = TRUE;
let treeOut: Node = FALSE;

function addressTree(offset: number, entries: Entry[], anyAddress: boolean, inside: Node, outside: Node): Node {
  treeOffset = offset;
  treeAny = anyAddress;
  treeIn = inside;
  treeOut = outside;
  return treeNode(0, entries, false, false);
}

/** The node at depth `d` for the entries on this path (`inc`/`exc`: an include/exclude ends above). */
function treeNode(d: number, es: Entry[], inc: boolean, exc: boolean): Node {
  if (es.length === 1 && !exc && es[0]!.len > d) return treeChain(d, es[0]!, inc || treeAny);
  let deeperInc = false;
  let deeperExc = false;
  let lo: Entry[] | undefined;
  let hi: Entry[] | undefined;
  let loInc = inc;
  let hiInc = inc;
  let loExc = exc;
  let hiExc = exc;
  for (let i = 0; i < es.length; i++) {
    const e = es[i]!;
    if (e.len === d) {
      // Ends here: covers both halves below.
      if (e.inc) loInc = hiInc = inc = true;
      else loExc = hiExc = exc = true;
      continue;
    }
    if (e.inc) deeperInc = true;
    else deeperExc = true;
    if ((e.words[d >>> 5]! >>> (31 - (d & 31))) & 1) (hi ??= []).push(e);
    else (lo ??= []).push(e);
  }
  if (exc) return treeOut;
  const included = inc || treeAny;
  if (included && !deeperExc) return treeIn;
  if (!included && !deeperInc) return treeOut;
  const l = lo ? treeNode(d + 1, lo, loInc, loExc) : loInc || treeAny ? treeIn : treeOut;
  const h = hi ? treeNode(d + 1, hi, hiInc, hiExc) : hiInc || treeAny ? treeIn : treeOut;
  return bdd.mk(treeOffset + d, l, h);
}

/** One entry left below depth `d` (the common case: a single prefix): a chain of its bits, no arrays. */
function treeChain(d: number, e: Entry, included: boolean): Node {
  // Included with an exclude below: out on its path, in beside it; the reverse for an include.
  const onPath = e.inc ? treeIn : treeOut;
  const beside = included ? treeIn : treeOut;
  if (onPath === beside) return onPath;
  let n = onPath;
  for (let i = e.len - 1; i >= d; i--) {
    n = (e.words[i >>> 5]! >>> (31 - (i & 31))) & 1 ? bdd.mk(treeOffset + i, beside, n) : bdd.mk(treeOffset + i, n, beside);
  }
  return n;
}

/** Packets whose source (or destination) address lies in the prefix; host bits are ignored. */
const prefixSets = new Map<string, PacketSet>();

export function prefixSet(which: 'src' | 'dst', cidr: string | Cidr): PacketSet {
  const text = typeof cidr === 'string' ? cidr : formatCidr(cidr);
  return memo(prefixSets, which + text, () => addressSetOver(which, { include: [text], exclude: [], negate: false }));
}

/**
 * The destination side AND `srcSet` (a set over the family and source addresses only), built as
 * the destination part ending in the source part (destination bits lie above the source bits)
 * instead of by a general intersection: a rule's match is mostly this. `key` names the spec.
 */
const dstOverSrc = new Map<string, PacketSet>();

export function dstAndSrc(key: string, dst: AddressSpec, srcSet: PacketSet): PacketSet {
  return memo(dstOverSrc, `${key} ${srcSet}`, () => addressSetOver('dst', dst, srcSet), 200_000);
}

export function dstPrefixAndSrc(cidr: string, srcSet: PacketSet): PacketSet {
  return dstAndSrc(cidr, { include: [cidr], exclude: [], negate: false }, srcSet);
}

// ---- services ----

export const tcpUdpPorts = (proto: number, which: 'src' | 'dst', from: number, to: number): PacketSet =>
  bdd.and(protocolSet(proto), fieldRange(which === 'src' ? SPORT : DPORT, from, to));

export const icmpTypeSet = (proto: number, type: number, code?: number): PacketSet => {
  let s = bdd.and(protocolSet(proto), fieldRange(ICMP_TYPE, type, type));
  if (code !== undefined) s = bdd.and(s, fieldRange(ICMP_CODE, code, code));
  return s;
};

// ---- packets ----

/** Writes `value` as the first `width` bits of field `f`. */
function putField(bits: Uint8Array, f: Field, value: bigint | number, width = f.width): void {
  const text = value.toString(2).padStart(width, '0');
  for (let i = 0; i < width; i++) bits[f.offset + i] = text.charCodeAt(i) - 48;
}

function encode(p: Packet): Uint8Array {
  const bits = new Uint8Array(NVARS);
  const put = (f: Field, value: bigint | number, width = f.width) => putField(bits, f, value, width);
  bits[FAMILY.offset] = p.family === 4 ? 0 : 1;
  put(STATE, STATES.indexOf(p.state));
  const aw = p.family === 4 ? 32 : 128;
  put(DST, addressValue(p.dst, p.family), aw);
  put(SRC, addressValue(p.src, p.family), aw);
  put(PROTO, p.protocol);
  if (hasPorts(p.protocol)) {
    put(DPORT, p.dstPort ?? 0);
    put(SPORT, p.srcPort ?? 0);
  }
  if (hasIcmp(p.protocol)) {
    put(ICMP_TYPE, p.icmpType ?? 0);
    put(ICMP_CODE, p.icmpCode ?? 0);
  }
  return bits;
}

function addressValue(a: string, family: 4 | 6): bigint {
  const c = parseCidr(a);
  if (c.family !== family) throw new NetloomError(`address ${a} is not IPv${family}`);
  return c.value;
}

export function contains(set: PacketSet, p: Packet | PacketBits): boolean {
  return bdd.has(set, p instanceof Uint8Array ? p : encode(p));
}

/** A packet's header bits, for testing many sets against one packet. */
export type PacketBits = Uint8Array;
export const packetBits = (p: Packet): PacketBits => encode(p);

/** The set holding exactly one packet. */
export function packetSet(p: Packet): PacketSet {
  const bits = encode(p);
  const w = p.family === 4 ? 32 : 128;
  const within = (v: number, f: Field, width = f.width) => v >= f.offset && v < f.offset + width;
  const meaningful = (v: number) =>
    within(v, FAMILY) || within(v, STATE) || within(v, PROTO) || within(v, DST, w) || within(v, SRC, w) ||
    (hasPorts(p.protocol) && (within(v, DPORT) || within(v, SPORT))) ||
    (hasIcmp(p.protocol) && (within(v, ICMP_TYPE) || within(v, ICMP_CODE)));
  let n: Node = TRUE;
  for (let v = NVARS - 1; v >= 0; v--) if (meaningful(v)) n = bits[v] ? bdd.mk(v, FALSE, n) : bdd.mk(v, n, FALSE);
  return n;
}

function read(bits: Uint8Array, f: Field, width = f.width): bigint {
  // 32 bits at a time as a number: a bigint operation per bit made decoding an IPv6 packet
  // hundreds of allocations.
  let v = 0n;
  for (let w = 0; w < width; w += 32) {
    const n = Math.min(32, width - w);
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 2 + bits[f.offset + w + i]!;
    v = (v << BigInt(n)) | BigInt(x);
  }
  return v;
}

/** The family and addresses of a packet's header bits (an IPv4 address: the field's top 32 bits). */
export function bitsAddresses(bits: PacketBits): { family: 4 | 6; src: bigint; dst: bigint } {
  const family = bits[FAMILY.offset] ? 6 : 4;
  const aw = family === 4 ? 32 : 128;
  return { family, src: read(bits, SRC, aw), dst: read(bits, DST, aw) };
}

function decode(bits: Uint8Array): Packet {
  const { family, src, dst } = bitsAddresses(bits);
  const protocol = Number(read(bits, PROTO));
  const p: Packet = {
    family,
    src: formatAddress(family, src),
    dst: formatAddress(family, dst),
    protocol,
    state: STATES[Number(read(bits, STATE))]!,
  };
  if (hasPorts(protocol)) {
    p.srcPort = Number(read(bits, SPORT));
    p.dstPort = Number(read(bits, DPORT));
  }
  if (hasIcmp(protocol)) {
    p.icmpType = Number(read(bits, ICMP_TYPE));
    p.icmpCode = Number(read(bits, ICMP_CODE));
  }
  return p;
}

let preferred: PacketSet[] | undefined;
const preferredSets = (): PacketSet[] =>
  (preferred ??= [PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6].map((p) => bdd.and(stateSet('new'), protocolSet(p))).concat(stateSet('new')));

/**
 * A packet of the set (undefined when empty). New tcp, then udp, icmp connections are preferred
 * so examples read like real flows; otherwise the lowest values are chosen.
 */
export function example(set: PacketSet): Packet | undefined {
  if (set === FALSE) return undefined;
  for (const pref of preferredSets()) {
    const bits = bdd.pickBoth(set, pref);
    if (bits) return decode(bits);
  }
  return decode(bdd.pick(set)!);
}

/**
 * example() of a set given per family as header fields (`rest`, testing no address) from every
 * source to every destination of address lists whose lowest addresses are `src` and `dst`,
 * without building the set: its lowest packet has the lowest service part and those addresses.
 * `parts[0]` is IPv4 (addresses as numbers), `parts[1]` IPv6; undefined for a family without
 * packets.
 */
export function productExample(parts: readonly ({ rest: PacketSet; src: bigint | number; dst: bigint | number } | undefined)[]): Packet | undefined {
  const prefs = preferredSets();
  for (let i = 0; i <= prefs.length; i++) {
    const pref = i < prefs.length ? prefs[i]! : TRUE;
    for (const part of parts) {
      if (part === undefined) continue;
      const bits = pref === TRUE ? bdd.pick(part.rest) : bdd.pickBoth(part.rest, pref);
      if (!bits) continue;
      const width = bits[FAMILY.offset] ? 128 : 32;
      putField(bits, DST, part.dst, width);
      putField(bits, SRC, part.src, width);
      return decode(bits);
    }
  }
  return undefined;
}

/**
 * Example packets of parts of one set, `within`: example(intersect(a, within)) without building
 * the intersection (new nodes for every part). pickBoth walks `a` beside each preferred part of
 * `within`, built once for all parts; pick(x AND y AND pref) is the same packet however the
 * three are grouped.
 */
export class ExamplePicker {
  private readonly prefs: (PacketSet | undefined)[] = [];
  constructor(readonly within: PacketSet) {}

  /** Whether `a` shares a packet with `within`. */
  meets(a: PacketSet): boolean {
    return bdd.meets(a, this.within);
  }

  example(a: PacketSet): Packet | undefined {
    if (!bdd.meets(a, this.within)) return undefined;
    const pref = preferredSets();
    for (let i = 0; i < pref.length; i++) {
      const bits = bdd.pickBoth(a, (this.prefs[i] ??= bdd.and(pref[i]!, this.within)));
      if (bits) return decode(bits);
    }
    return decode(bdd.pickBoth(a, this.within)!);
  }
}

/**
 * Random packets of the set (as header bits, for `contains`), from a seeded generator: the
 * same seed gives the same packets. Fields a packet does not carry may be set; `contains`
 * ignores them.
 */
export function samples(set: PacketSet, count: number, seed = 1): PacketBits[] {
  let x = seed >>> 0 || 1;
  const random = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const out: PacketBits[] = [];
  for (let i = 0; i < count; i++) {
    const b = bdd.sample(set, random);
    if (!b) break;
    out.push(b);
  }
  return out;
}

/** Number of distinct packets in the set (fields a packet does not carry are not counted). */
export function size(set: PacketSet): bigint {
  let total = 0n;
  const special = [PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6];
  for (const family of [4, 6] as const) {
    const addrIgnored = family === 4 ? 2 * 96 : 0;
    const fam = bdd.and(set, familySet(family));
    if (fam === FALSE) continue;
    let others = fam;
    for (const proto of special) {
      const ps = protocolSet(proto);
      others = bdd.diff(others, ps);
      const ignored = addrIgnored + (hasPorts(proto) ? ICMP_TYPE.width + ICMP_CODE.width : DPORT.width + SPORT.width);
      total += bdd.satCount(bdd.and(fam, ps)) >> BigInt(ignored);
    }
    total += bdd.satCount(others) >> BigInt(addrIgnored + DPORT.width + SPORT.width + ICMP_TYPE.width + ICMP_CODE.width);
  }
  return total;
}
