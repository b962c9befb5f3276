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
import { parseCidr } from '../../verify/packet-set/index.ts';
import { protocolNumber } from '../../verify/packet-set/index.ts';
import type { FwAddressMatch, FwService } from './model.ts';

const KEY_BITS = 48;
const FULL = 2 ** KEY_BITS - 1;
const STRIDE = 8;
const LEVELS = KEY_BITS / STRIDE;

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

function key(family: 4 | 6, value: bigint, width: number): number {
  return family === 4 ? Number(value) * 65536 : Number(value >> BigInt(width - KEY_BITS));
}

/** Key ranges of CIDR strings (the addresses a match can contain), or of a whole address match. */
export function addressHull(m: FwAddressMatch | string[]): Hull {
  const include = Array.isArray(m) ? m : m.include;
  if (!Array.isArray(m) && (m.negate || include.length === 0)) return FULL_HULL;
  if (include.length === 0) return FULL_HULL;
  const h: Hull = [[], []];
  for (const s of include) {
    const c = parseCidr(s);
    const width = c.family === 4 ? 32 : 128;
    const last = c.value | ((1n << BigInt(width - c.len)) - 1n);
    const lo = key(c.family, c.value, width);
    const hi = c.family === 4 ? key(4, last, 32) + 65535 : key(6, last, 128);
    h[c.family === 4 ? 0 : 1].push([lo, hi]);
  }
  return h;
}

export function protocolsOf(services: FwService[]): number {
  return services.length === 0 ? ANY_PROTO : services.reduce((m, s) => m | protoBit(protocolNumber(s.protocol)), 0);
}

function hullsMeet(a: Hull, b: Hull, fam: 0 | 1): boolean {
  for (const x of a[fam]) for (const y of b[fam]) if (x[0] <= y[1] && y[0] <= x[1]) return true;
  return false;
}

export function boxesMeet(a: Box, b: Box): boolean {
  if ((a.protos & b.protos) === 0) return false;
  for (const fam of [0, 1] as const) if (hullsMeet(a.src, b.src, fam) && hullsMeet(a.dst, b.dst, fam)) return true;
  return false;
}

interface TrieNode<T> {
  items: T[];
  children: Map<number, TrieNode<T>>;
}

const newNode = <T>(): TrieNode<T> => ({ items: [], children: new Map() });

/** Depth and path of the deepest trie node whose range holds [lo, hi]. */
function path(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let level = 1; level <= LEVELS; level++) {
    const shift = 2 ** (KEY_BITS - level * STRIDE);
    const a = Math.floor(lo / shift);
    if (a !== Math.floor(hi / shift)) break;
    out.push(a % 2 ** STRIDE);
  }
  return out;
}

/**
 * Each rule hangs under its destination ranges or its source ranges, whichever are narrower,
 * so rules broad on one side (any destination, a negated group) do not sit at the root where
 * every query meets them; a query walks both tries.
 */
export class BoxIndex<T extends { box: Box; mark?: number }> {
  private stamp = 0;
  /** [dimension: 0 destination, 1 source][family]. */
  private readonly roots: TrieNode<T>[][] = [[newNode(), newNode()], [newNode(), newNode()]];

  add(item: T): void {
    this.place(item, (n) => {
      if (!n.items.includes(item)) n.items.push(item);
    }, true);
  }

  remove(item: T): void {
    this.place(item, (n) => {
      const i = n.items.indexOf(item);
      if (i >= 0) n.items.splice(i, 1);
    }, false);
  }

  /** Items whose box meets `box` (each once, in no particular order). */
  query(box: Box): T[] {
    const stamp = ++this.stamp;
    const out: T[] = [];
    const take = (n: TrieNode<T>) => {
      for (const it of n.items) {
        if (it.mark === stamp) continue;
        it.mark = stamp;
        if (boxesMeet(it.box, box)) out.push(it);
      }
    };
    const all = (n: TrieNode<T>) => {
      take(n);
      for (const c of n.children.values()) all(c);
    };
    for (const fam of [0, 1] as const) {
      if (box.src[fam].length === 0 || box.dst[fam].length === 0) continue;
      for (const dim of [0, 1] as const) {
        for (const h of (dim === 0 ? box.dst : box.src)[fam]) {
          let n: TrieNode<T> | undefined = this.roots[dim]![fam]!;
          for (const step of path(h[0], h[1])) {
            take(n);
            n = n.children.get(step);
            if (!n) break;
          }
          if (n) all(n);
        }
      }
    }
    return out;
  }

  private place(item: T, at: (n: TrieNode<T>) => void, create: boolean): void {
    for (const fam of [0, 1] as const) {
      const { src, dst } = item.box;
      if (src[fam].length === 0 || dst[fam].length === 0) continue;
      const depth = (rs: Range[]) => Math.min(...rs.map((h) => path(h[0], h[1]).length));
      const dim = depth(dst[fam]) >= depth(src[fam]) ? 0 : 1;
      for (const h of (dim === 0 ? dst : src)[fam]) {
        const n = this.nodeAt(this.roots[dim]![fam]!, path(h[0], h[1]), create);
        if (n) at(n);
      }
    }
  }

  private nodeAt(root: TrieNode<T>, steps: number[], create: boolean): TrieNode<T> | undefined {
    let n = root;
    for (const s of steps) {
      let c = n.children.get(s);
      if (!c) {
        if (!create) return undefined;
        c = newNode();
        n.children.set(s, c);
      }
      n = c;
    }
    return n;
  }
}
