/**
 * A coarse spatial index over firewall rules, so the analysis compares a rule with the few
 * rules that can overlap it instead of all 10,000. Each rule gets a box (families, source and
 * destination address hulls, protocols) computed from its match fields; boxes only ever
 * over-approximate, and every candidate is then checked exactly on packet sets.
 *
 * Address hulls use the top 48 bits of an address (an IPv4 address shifted left 16), exact as
 * doubles. Rules hang in a per-family trie of 8-bit strides over the destination hull, at the
 * deepest node whose range holds the hull.
 */
import { memo, prefixWords } from '../../verify/packet-set/index.ts';
import { protocolNumber } from '../../verify/packet-set/index.ts';
import type { FwAddressMatch, FwService } from './model.ts';

const KEY_BITS = 48;
const FULL = 2 ** KEY_BITS - 1;
const STRIDE = 8;
const LEVELS = KEY_BITS / STRIDE;
const STEPS = 1 << STRIDE;

/** Key ranges [lo, hi] per family (index 0: IPv4, 1: IPv6); an empty list excludes the family. */
export type Hull = [Range[], Range[]];
type Range = [number, number];

export interface Box {
  src: Hull;
  dst: Hull;
  /** Protocol classes (protoBit), all bits = any. */
  protos: number;
}

const ANY_PROTO = 0x3f;
/** A bit per protocol class: tcp, udp, icmp, icmpv6, gre, and one for every other number. */
export function protoBit(p: number): number {
  return p === 6 ? 1 : p === 17 ? 2 : p === 1 ? 4 : p === 58 ? 8 : p === 47 ? 16 : 32;
}

export const FULL_HULL: Hull = [[[0, FULL]], [[0, FULL]]];
export const FULL_BOX: Box = { src: FULL_HULL, dst: FULL_HULL, protos: ANY_PROTO };

/** Key ranges of CIDR strings (the addresses a match can contain), or of a whole address match. */
export function addressHull(m: FwAddressMatch | string[]): Hull {
  const include = Array.isArray(m) ? m : m.include;
  if (!Array.isArray(m) && (m.negate || include.length === 0)) return FULL_HULL;
  if (include.length === 0) return FULL_HULL;
  // Rules name the same groups again and again (the hull does not depend on the excludes); one
  // prefix (most sides) is found by its text, with no key built.
  if (include.length === 1) return memo(hulls, include[0]!, () => hullOf(include));
  return memo(hulls, include.join(), () => hullOf(include));
}

const hulls = new Map<string, Hull>();

/** addressHull of a rule's side, not kept (its caller keeps it with the side's other forms). */
export function sideHull(m: { include: readonly string[]; negate: boolean }): Hull {
  return m.negate || m.include.length === 0 ? FULL_HULL : hullOf(m.include);
}

function hullOf(include: readonly string[]): Hull {
  const h: Hull = [[], []];
  // Keys from the prefix's words (host bits zero), no bigint: an IPv4 address shifted left 16,
  // an IPv6 address's top 48 bits.
  for (const s of include) {
    const { family, words, len } = prefixWords(s);
    if (family === 4) h[0].push([words[0]! * 65536, (words[0]! + 2 ** (32 - len) - 1) * 65536 + 65535]);
    else {
      const lo = words[0]! * 65536 + (words[1]! >>> 16);
      h[1].push([lo, len >= KEY_BITS ? lo : lo + 2 ** (KEY_BITS - len) - 1]);
    }
  }
  return h;
}

export function protocolsOf(services: FwService[]): number {
  return services.length === 0 ? ANY_PROTO : services.reduce((m, s) => m | protoBit(protocolNumber(s.protocol)), 0);
}

function hullsMeet(a: Hull, b: Hull, fam: 0 | 1): boolean {
  const xs = a[fam];
  const ys = b[fam];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    for (let j = 0; j < ys.length; j++) {
      const y = ys[j]!;
      if (x[0] <= y[1] && y[0] <= x[1]) return true;
    }
  }
  return false;
}

export function boxesMeet(a: Box, b: Box): boolean {
  if ((a.protos & b.protos) === 0) return false;
  return (hullsMeet(a.src, b.src, 0) && hullsMeet(a.dst, b.dst, 0)) || (hullsMeet(a.src, b.src, 1) && hullsMeet(a.dst, b.dst, 1));
}

interface TrieNode<T> {
  items: T[];
  /** Made with the first child (most nodes are leaves). */
  children: Map<number, TrieNode<T>> | undefined;
  /** The children again, for iteration without iterators. */
  kids: TrieNode<T>[];
  /** Scratch for placing an item once per node. */
  mark: number;
}

const newNode = <T>(): TrieNode<T> => ({ items: [], children: undefined, kids: [], mark: 0 });

/** The key's weight at each trie level (a table: `2 **` with a variable exponent is a call). */
const SHIFT: number[] = Array.from({ length: LEVELS + 1 }, (_, level) => 2 ** (KEY_BITS - level * STRIDE));

/** Number of trie levels whose 8-bit step is the same for lo and hi. */
function depthOf(lo: number, hi: number): number {
  let level = 0;
  while (level < LEVELS) {
    const shift = SHIFT[level + 1]!;
    if (Math.floor(lo / shift) !== Math.floor(hi / shift)) break;
    level++;
  }
  return level;
}

function stepAt(lo: number, level: number): number {
  return Math.floor(lo / SHIFT[level]!) % STEPS;
}

/** 0 when the box's destination side is at least as narrow as its source side, else 1. */
function narrower(box: Box, fam: 0 | 1): 0 | 1 {
  return minDepth(box.dst[fam]) >= minDepth(box.src[fam]) ? 0 : 1;
}

function minDepth(rs: Range[]): number {
  let d = LEVELS;
  for (let i = 0; i < rs.length; i++) d = Math.min(d, depthOf(rs[i]![0], rs[i]![1]));
  return d;
}

/**
 * Each rule hangs in two tries, under its destination ranges and under its source ranges; a
 * query walks only the trie of its narrower side, so rules and queries broad on one side (any
 * destination, a negated group) do not meet every rule.
 */
export class BoxIndex<T extends { box: Box; mark?: number }> {
  private stamp = 0;
  /** [dimension: 0 destination, 1 source][family]. */
  private readonly roots: TrieNode<T>[][] = [[newNode(), newNode()], [newNode(), newNode()]];
  /**
   * The items any on one side (any destination, a negated group) and not on the other, by that
   * other side: [the dimension they are any on][family]. At the roots they would be visited by
   * every query walking that side (most of a query's visits).
   */
  private readonly broad: TrieNode<T>[][] = [[newNode(), newNode()], [newNode(), newNode()]];
  /** Every item: a query any on both sides (a global rule) scans them instead of every trie node. */
  private readonly members = new Set<T>();

  add(item: T): void {
    this.members.add(item);
    this.place(item, true);
  }

  remove(item: T): void {
    this.members.delete(item);
    this.place(item, false);
  }

  /** Items whose box meets `box` (each once, in no particular order). */
  query(box: Box): T[] {
    const stamp = ++this.stamp;
    const out: T[] = [];
    for (let fam: 0 | 1 = 0; fam <= 1; fam++) {
      if (box.src[fam].length === 0 || box.dst[fam].length === 0) continue;
      const dim = narrower(box, fam as 0 | 1);
      if (minDepth((dim === 0 ? box.dst : box.src)[fam]) === 0) {
        for (const it of this.members) {
          if (it.mark === stamp) continue;
          it.mark = stamp;
          if (boxesMeet(it.box, box)) out.push(it);
        }
        break;
      }
      for (const h of (dim === 0 ? box.dst : box.src)[fam]) this.walk(this.roots[dim]![fam]!, h, box, stamp, out);
      // The items any on this side, by their other side.
      for (const h of (dim === 0 ? box.src : box.dst)[fam]) this.walk(this.broad[dim]![fam]!, h, box, stamp, out);
    }
    return out;
  }

  /** The items on the path to `h`'s node and below it. */
  private walk(root: TrieNode<T>, h: Range, box: Box, stamp: number, out: T[]): void {
    let n: TrieNode<T> | undefined = root;
    const depth = depthOf(h[0], h[1]);
    for (let level = 1; level <= depth && n; level++) {
      this.take(n, box, stamp, out);
      n = n.children?.get(stepAt(h[0], level));
    }
    if (n) this.all(n, box, stamp, out);
  }

  private take(n: TrieNode<T>, box: Box, stamp: number, out: T[]): void {
    const items = n.items;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.mark === stamp) continue;
      it.mark = stamp;
      if (boxesMeet(it.box, box)) out.push(it);
    }
  }

  private all(n: TrieNode<T>, box: Box, stamp: number, out: T[]): void {
    this.take(n, box, stamp, out);
    const kids = n.kids;
    for (let i = 0; i < kids.length; i++) this.all(kids[i]!, box, stamp, out);
  }

  private place(item: T, add: boolean): void {
    const { src, dst } = item.box;
    // A node once per item, even when several of its ranges end there (no scan of the
    // node's items, which is long at the roots where broad rules hang).
    const stamp = ++this.stamp;
    for (let fam: 0 | 1 = 0; fam <= 1; fam++) {
      if (src[fam].length === 0 || dst[fam].length === 0) continue;
      for (let dim = 0; dim <= 1; dim++) {
        const side = (dim === 0 ? dst : src)[fam];
        const other = (dim === 0 ? src : dst)[fam];
        const broad = minDepth(side) === 0 && minDepth(other) > 0;
        for (const h of broad ? other : side) {
          const n = this.nodeAt((broad ? this.broad : this.roots)[dim]![fam]!, h, add);
          if (!n || n.mark === stamp) continue;
          n.mark = stamp;
          if (add) n.items.push(item);
          else {
            const i = n.items.indexOf(item);
            if (i >= 0) n.items.splice(i, 1);
          }
        }
      }
    }
  }

  private nodeAt(root: TrieNode<T>, h: Range, create: boolean): TrieNode<T> | undefined {
    let n = root;
    const depth = depthOf(h[0], h[1]);
    for (let level = 1; level <= depth; level++) {
      const s = stepAt(h[0], level);
      let c = n.children?.get(s);
      if (!c) {
        if (!create) return undefined;
        c = newNode();
        (n.children ??= new Map()).set(s, c);
        n.kids.push(c);
      }
      n = c;
    }
    return n;
  }
}
