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

/** [lo, hi] per family (index 0: IPv4, 1: IPv6), undefined when the family is excluded. */
export type Hull = [[number, number] | undefined, [number, number] | undefined];

export interface Box {
  src: Hull;
  dst: Hull;
  /** Protocol numbers, undefined = any. */
  protos: Set<number> | undefined;
}

export const FULL_HULL: Hull = [[0, FULL], [0, FULL]];
export const FULL_BOX: Box = { src: FULL_HULL, dst: FULL_HULL, protos: undefined };

function key(family: 4 | 6, value: bigint, width: number): number {
  return family === 4 ? Number(value) * 65536 : Number(value >> BigInt(width - KEY_BITS));
}

/** Hull of CIDR strings (the addresses a match can contain), or of a whole address match. */
export function addressHull(m: FwAddressMatch | string[]): Hull {
  const include = Array.isArray(m) ? m : m.include;
  if (!Array.isArray(m) && (m.negate || include.length === 0)) return FULL_HULL;
  if (include.length === 0) return FULL_HULL;
  const h: Hull = [undefined, undefined];
  for (const s of include) {
    const c = parseCidr(s);
    const width = c.family === 4 ? 32 : 128;
    const last = c.value | ((1n << BigInt(width - c.len)) - 1n);
    const lo = key(c.family, c.value, width);
    const hi = c.family === 4 ? key(4, last, 32) + 65535 : key(6, last, 128);
    const i = c.family === 4 ? 0 : 1;
    const cur = h[i];
    h[i] = cur ? [Math.min(cur[0], lo), Math.max(cur[1], hi)] : [lo, hi];
  }
  return h;
}

export function protocolsOf(services: FwService[]): Set<number> | undefined {
  return services.length === 0 ? undefined : new Set(services.map((s) => protocolNumber(s.protocol)));
}

function hullsMeet(a: Hull, b: Hull, fam: 0 | 1): boolean {
  const x = a[fam];
  const y = b[fam];
  return x !== undefined && y !== undefined && x[0] <= y[1] && y[0] <= x[1];
}

export function boxesMeet(a: Box, b: Box): boolean {
  if (a.protos && b.protos) {
    let any = false;
    for (const p of a.protos) if (b.protos.has(p)) { any = true; break; }
    if (!any) return false;
  }
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

export class BoxIndex<T extends { box: Box }> {
  private readonly roots: [TrieNode<T>, TrieNode<T>] = [newNode(), newNode()];

  add(item: T): void {
    for (const fam of [0, 1] as const) {
      const h = item.box.dst[fam];
      if (h && item.box.src[fam]) this.nodeAt(fam, path(h[0], h[1]), true)!.items.push(item);
    }
  }

  remove(item: T): void {
    for (const fam of [0, 1] as const) {
      const h = item.box.dst[fam];
      if (!h || !item.box.src[fam]) continue;
      const n = this.nodeAt(fam, path(h[0], h[1]), false);
      if (n) n.items.splice(n.items.indexOf(item), 1);
    }
  }

  /** Items whose box meets `box` (each once, in no particular order). */
  query(box: Box): T[] {
    const seen = new Set<T>();
    const out: T[] = [];
    const take = (n: TrieNode<T>) => {
      for (const it of n.items) if (!seen.has(it) && boxesMeet(it.box, box)) (seen.add(it), out.push(it));
    };
    const all = (n: TrieNode<T>) => {
      take(n);
      for (const c of n.children.values()) all(c);
    };
    for (const fam of [0, 1] as const) {
      const h = box.dst[fam];
      if (!h || !box.src[fam]) continue;
      let n: TrieNode<T> | undefined = this.roots[fam];
      for (const step of path(h[0], h[1])) {
        take(n);
        n = n.children.get(step);
        if (!n) break;
      }
      if (n) all(n);
    }
    return out;
  }

  private nodeAt(fam: 0 | 1, steps: number[], create: boolean): TrieNode<T> | undefined {
    let n = this.roots[fam];
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
