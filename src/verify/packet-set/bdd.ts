/**
 * A reduced ordered binary decision diagram engine with hash-consing, written for the packet-set
 * algebra (no maintained npm BDD library exists). Nodes live in typed arrays: a node is an
 * integer, 0 and 1 are the terminals, and two equal sets are always the same integer, so
 * equality is `===` and emptiness is `=== 0`.
 *
 * The operation cache is direct-mapped and lossy (as in CUDD): a lost entry costs a
 * recomputation, never a wrong answer. Nodes are never freed: a netloom process analyses a few
 * policies and exits, and keeping every node keeps every handed-out set valid.
 */
export type Node = number;
export const FALSE: Node = 0;
export const TRUE: Node = 1;

const OP_AND = 1;
const OP_OR = 2;
const OP_DIFF = 3;
const OP_MEETS = 4;

export class Bdd {
  readonly nvars: number;
  /** Nodes interleaved (variable, low, high) so one probe touches one cache line, not three arrays. */
  private nd: Int32Array;
  private count = 2;
  private table: Int32Array;
  private tableMask: number;
  private tableLimit: number;
  private cacheMask: number;
  /** Entries interleaved (op, a, b, result), for the same reason. */
  private cache: Int32Array;
  /** Node count at which the operation cache doubles. */
  private cacheGrowAt: number;

  constructor(nvars: number, cacheBits = 19, private readonly maxCacheBits = 21) {
    this.nvars = nvars;
    // Sized for a 10,000-rule policy without regrowth; untouched pages cost no memory.
    const cap = 1 << 22;
    this.nd = new Int32Array(cap * 3);
    this.nd[0] = nvars;
    this.nd[3] = nvars;
    // Load factor at most 1/2 (linear probing); doubled when reached, so a rehash never
    // allocates far more than the nodes need. Started small: the probes of a 10,000-rule
    // policy's few hundred thousand nodes then stay in the processor's caches.
    this.table = new Int32Array(1 << 20);
    this.tableMask = this.table.length - 1;
    this.tableLimit = this.table.length >> 1;
    // The operation cache grows with the nodes (an entry per two nodes, up to 2^maxCacheBits):
    // a policy's analysis keeps its lookups in the processor's caches, while the large
    // operations of a diff or a catch-all rule over many nodes still find their results.
    this.cacheMask = (1 << cacheBits) - 1;
    this.cache = new Int32Array(4 << cacheBits);
    this.cacheGrowAt = cacheBits < maxCacheBits ? 1 << (cacheBits - 1) : Infinity;
  }

  get nodeCount(): number {
    return this.count;
  }

  level(n: Node): number {
    return this.nd[n * 3]!;
  }
  low(n: Node): Node {
    return this.nd[n * 3 + 1]!;
  }
  high(n: Node): Node {
    return this.nd[n * 3 + 2]!;
  }

  /** The unique node testing `v` with children `l` (bit 0) and `h` (bit 1). */
  mk(v: number, l: Node, h: Node): Node {
    if (l === h) return l;
    const nd = this.nd;
    const t = this.table;
    const mask = this.tableMask;
    let i = hash3(v, l, h) & mask;
    for (;;) {
      const n = t[i]!;
      if (n === 0) break;
      const k = n * 3;
      if (nd[k] === v && nd[k + 1] === l && nd[k + 2] === h) return n;
      i = (i + 1) & mask;
    }
    return this.fresh(i, v, l, h);
  }

  /** Allocates a node at free table slot `i`. */
  private fresh(i: number, v: number, l: Node, h: Node): Node {
    if (this.count * 3 >= this.nd.length) this.grow();
    const n = this.count++;
    const k = n * 3;
    this.nd[k] = v;
    this.nd[k + 1] = l;
    this.nd[k + 2] = h;
    if (this.count > this.tableLimit) this.rehash();
    else this.table[i] = n;
    if (this.count > this.cacheGrowAt) this.growCache();
    return n;
  }

  /** Doubles the operation cache; its entries are dropped (a lost entry is only recomputed). */
  private growCache(): void {
    const bits = Math.log2(this.cacheMask + 1) + 1;
    this.cacheMask = (1 << bits) - 1;
    this.cache = new Int32Array(4 << bits);
    this.cacheGrowAt = bits < this.maxCacheBits ? 1 << (bits - 1) : Infinity;
  }

  and(a: Node, b: Node): Node {
    if (a === 0 || b === 0) return 0;
    if (a === 1 || a === b) return b;
    if (b === 1) return a;
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const c = this.cache;
    const slot = (hash3(OP_AND, a, b) & this.cacheMask) << 2;
    if (c[slot] === OP_AND && c[slot + 1] === a && c[slot + 2] === b) return c[slot + 3]!;
    const nd = this.nd;
    const va = nd[a * 3]!;
    const vb = nd[b * 3]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.and(nd[a * 3 + 1]!, nd[b * 3 + 1]!), this.and(nd[a * 3 + 2]!, nd[b * 3 + 2]!));
    else if (va < vb) r = this.rebuild(a, this.and(nd[a * 3 + 1]!, b), this.and(nd[a * 3 + 2]!, b));
    else r = this.rebuild(b, this.and(a, nd[b * 3 + 1]!), this.and(a, nd[b * 3 + 2]!));
    this.store(slot, OP_AND, a, b, r);
    return r;
  }

  or(a: Node, b: Node): Node {
    if (a === 1 || b === 1) return 1;
    if (a === 0 || a === b) return b;
    if (b === 0) return a;
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const c = this.cache;
    const slot = (hash3(OP_OR, a, b) & this.cacheMask) << 2;
    if (c[slot] === OP_OR && c[slot + 1] === a && c[slot + 2] === b) return c[slot + 3]!;
    const nd = this.nd;
    const va = nd[a * 3]!;
    const vb = nd[b * 3]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.or(nd[a * 3 + 1]!, nd[b * 3 + 1]!), this.or(nd[a * 3 + 2]!, nd[b * 3 + 2]!));
    else if (va < vb) r = this.rebuild(a, this.or(nd[a * 3 + 1]!, b), this.or(nd[a * 3 + 2]!, b));
    else r = this.rebuild(b, this.or(a, nd[b * 3 + 1]!), this.or(a, nd[b * 3 + 2]!));
    this.store(slot, OP_OR, a, b, r);
    return r;
  }

  /** a AND NOT b. */
  diff(a: Node, b: Node): Node {
    if (a === 0 || b === 1 || a === b) return 0;
    if (b === 0) return a;
    const c = this.cache;
    const slot = (hash3(OP_DIFF, a, b) & this.cacheMask) << 2;
    if (c[slot] === OP_DIFF && c[slot + 1] === a && c[slot + 2] === b) return c[slot + 3]!;
    const nd = this.nd;
    const va = nd[a * 3]!;
    const vb = nd[b * 3]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.diff(nd[a * 3 + 1]!, nd[b * 3 + 1]!), this.diff(nd[a * 3 + 2]!, nd[b * 3 + 2]!));
    else if (va < vb) r = this.rebuild(a, this.diff(nd[a * 3 + 1]!, b), this.diff(nd[a * 3 + 2]!, b));
    else r = this.mk(vb, this.diff(a, nd[b * 3 + 1]!), this.diff(a, nd[b * 3 + 2]!));
    this.store(slot, OP_DIFF, a, b, r);
    return r;
  }

  /** Whether a AND b is non-empty, without building it (stops at the first common path). */
  meets(a: Node, b: Node): boolean {
    if (a === 0 || b === 0) return false;
    if (a === 1 || b === 1 || a === b) return true;
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const c = this.cache;
    const slot = (hash3(OP_MEETS, a, b) & this.cacheMask) << 2;
    if (c[slot] === OP_MEETS && c[slot + 1] === a && c[slot + 2] === b) return c[slot + 3] === 1;
    const nd = this.nd;
    const va = nd[a * 3]!;
    const vb = nd[b * 3]!;
    let r: boolean;
    if (va === vb) r = this.meets(nd[a * 3 + 1]!, nd[b * 3 + 1]!) || this.meets(nd[a * 3 + 2]!, nd[b * 3 + 2]!);
    else if (va < vb) r = this.meets(nd[a * 3 + 1]!, b) || this.meets(nd[a * 3 + 2]!, b);
    else r = this.meets(a, nd[b * 3 + 1]!) || this.meets(a, nd[b * 3 + 2]!);
    this.store(slot, OP_MEETS, a, b, r ? 1 : 0);
    return r;
  }

  /** Whether any node of `a` tests variable `v` or a later one (depth first, stops at the first). */
  testsFrom(a: Node, v: number): boolean {
    const nd = this.nd;
    const seen = new Set<Node>();
    const stack = [a];
    while (stack.length) {
      const n = stack.pop()!;
      if (n <= 1 || seen.has(n)) continue;
      if (nd[n * 3]! >= v) return true;
      seen.add(n);
      stack.push(nd[n * 3 + 1]!, nd[n * 3 + 2]!);
    }
    return false;
  }

  not(a: Node): Node {
    return this.diff(TRUE, a);
  }

  /** Number of assignments of variables [from, nvars) that satisfy `a` (`a` tests none before `from`). */
  satCount(a: Node, from = 0): bigint {
    const memo = new Map<Node, bigint>();
    const nd = this.nd;
    const go = (n: Node): bigint => {
      if (n <= 1) return BigInt(n);
      let c = memo.get(n);
      if (c !== undefined) return c;
      const v = nd[n * 3]!;
      const l = nd[n * 3 + 1]!;
      const h = nd[n * 3 + 2]!;
      c = (go(l) << BigInt(nd[l * 3]! - v - 1)) + (go(h) << BigInt(nd[h * 3]! - v - 1));
      memo.set(n, c);
      return c;
    };
    return go(a) << BigInt(nd[a * 3]! - from);
  }

  /**
   * One satisfying assignment as a bit per variable (variables not on the path are 0), or
   * undefined for the empty set.
   */
  pick(a: Node): Uint8Array | undefined {
    if (a === 0) return undefined;
    const bits = new Uint8Array(this.nvars);
    const nd = this.nd;
    let n = a;
    while (n > 1) {
      const l = nd[n * 3 + 1]!;
      if (l !== 0) n = l;
      else {
        bits[nd[n * 3]!] = 1;
        n = nd[n * 3 + 2]!;
      }
    }
    return bits;
  }

  /**
   * pick(and(a, b)) without building the intersection: the low branch whenever the two still
   * meet there (the meets cache makes each test cheap). Undefined when they do not meet.
   */
  pickBoth(a: Node, b: Node): Uint8Array | undefined {
    if (!this.meets(a, b)) return undefined;
    const bits = new Uint8Array(this.nvars);
    const nd = this.nd;
    while (a !== 1 || b !== 1) {
      const va = nd[a * 3]!;
      const vb = nd[b * 3]!;
      const v = va < vb ? va : vb;
      const al = va === v ? nd[a * 3 + 1]! : a;
      const bl = vb === v ? nd[b * 3 + 1]! : b;
      if (this.meets(al, bl)) {
        a = al;
        b = bl;
      } else {
        bits[v] = 1;
        a = va === v ? nd[a * 3 + 2]! : a;
        b = vb === v ? nd[b * 3 + 2]! : b;
      }
    }
    return bits;
  }

  /**
   * A satisfying assignment chosen at random along the path (`random` in [0, 1)), variables
   * off the path random too; undefined for the empty set.
   */
  sample(a: Node, random: () => number): Uint8Array | undefined {
    if (a === 0) return undefined;
    const bits = new Uint8Array(this.nvars);
    for (let v = 0; v < this.nvars; v++) bits[v] = random() < 0.5 ? 0 : 1;
    const nd = this.nd;
    let n = a;
    while (n > 1) {
      const l = nd[n * 3 + 1]!;
      const h = nd[n * 3 + 2]!;
      const high = l === 0 || (h !== 0 && random() < 0.5);
      bits[nd[n * 3]!] = high ? 1 : 0;
      n = high ? h : l;
    }
    return bits;
  }

  /** Whether the assignment `bits` (one per variable) is in `a`. */
  has(a: Node, bits: ArrayLike<number>): boolean {
    const nd = this.nd;
    let n = a;
    while (n > 1) n = bits[nd[n * 3]!] ? nd[n * 3 + 2]! : nd[n * 3 + 1]!;
    return n === 1;
  }

  /** The node testing `n`'s variable with children l and h: `n` itself when they are its own (no table lookup). */
  private rebuild(n: Node, l: Node, h: Node): Node {
    const k = n * 3;
    return l === this.nd[k + 1] && h === this.nd[k + 2] ? n : this.mk(this.nd[k]!, l, h);
  }

  private store(slot: number, op: number, a: number, b: number, r: number): void {
    const c = this.cache;
    c[slot] = op;
    c[slot + 1] = a;
    c[slot + 2] = b;
    c[slot + 3] = r;
  }

  private grow(): void {
    const x = new Int32Array(this.nd.length * 2);
    x.set(this.nd);
    this.nd = x;
  }

  private rehash(): void {
    const size = this.table.length * 2;
    const t = new Int32Array(size);
    const mask = size - 1;
    const nd = this.nd;
    for (let n = 2; n < this.count; n++) {
      let i = hash3(nd[n * 3]!, nd[n * 3 + 1]!, nd[n * 3 + 2]!) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = n;
    }
    this.table = t;
    this.tableMask = mask;
    this.tableLimit = size >> 1;
  }
}

function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
