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
  private vr: Int32Array;
  private lo: Int32Array;
  private hi: Int32Array;
  private count = 2;
  private table: Int32Array;
  private tableMask: number;
  private readonly cacheMask: number;
  private readonly cacheA: Int32Array;
  private readonly cacheB: Int32Array;
  private readonly cacheOp: Int8Array;
  private readonly cacheR: Int32Array;

  constructor(nvars: number, cacheBits = 21) {
    this.nvars = nvars;
    const cap = 1 << 18;
    this.vr = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.hi = new Int32Array(cap);
    this.vr[0] = nvars;
    this.vr[1] = nvars;
    this.table = new Int32Array(cap * 2);
    this.tableMask = cap * 2 - 1;
    const size = 1 << cacheBits;
    this.cacheMask = size - 1;
    this.cacheA = new Int32Array(size);
    this.cacheB = new Int32Array(size);
    this.cacheOp = new Int8Array(size);
    this.cacheR = new Int32Array(size);
  }

  get nodeCount(): number {
    return this.count;
  }

  level(n: Node): number {
    return this.vr[n]!;
  }
  low(n: Node): Node {
    return this.lo[n]!;
  }
  high(n: Node): Node {
    return this.hi[n]!;
  }

  /** The unique node testing `v` with children `l` (bit 0) and `h` (bit 1). */
  mk(v: number, l: Node, h: Node): Node {
    if (l === h) return l;
    let i = hash3(v, l, h) & this.tableMask;
    const t = this.table;
    for (;;) {
      const n = t[i]!;
      if (n === 0) break;
      if (this.vr[n] === v && this.lo[n] === l && this.hi[n] === h) return n;
      i = (i + 1) & this.tableMask;
    }
    if (this.count >= this.vr.length) this.grow();
    const n = this.count++;
    this.vr[n] = v;
    this.lo[n] = l;
    this.hi[n] = h;
    if (this.count * 2 > this.table.length) this.rehash();
    else t[i] = n;
    return n;
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
    const slot = hash3(OP_AND, a, b) & this.cacheMask;
    if (this.cacheOp[slot] === OP_AND && this.cacheA[slot] === a && this.cacheB[slot] === b) return this.cacheR[slot]!;
    const va = this.vr[a]!;
    const vb = this.vr[b]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.and(this.lo[a]!, this.lo[b]!), this.and(this.hi[a]!, this.hi[b]!));
    else if (va < vb) r = this.rebuild(a, this.and(this.lo[a]!, b), this.and(this.hi[a]!, b));
    else r = this.rebuild(b, this.and(a, this.lo[b]!), this.and(a, this.hi[b]!));
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
    const slot = hash3(OP_OR, a, b) & this.cacheMask;
    if (this.cacheOp[slot] === OP_OR && this.cacheA[slot] === a && this.cacheB[slot] === b) return this.cacheR[slot]!;
    const va = this.vr[a]!;
    const vb = this.vr[b]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.or(this.lo[a]!, this.lo[b]!), this.or(this.hi[a]!, this.hi[b]!));
    else if (va < vb) r = this.rebuild(a, this.or(this.lo[a]!, b), this.or(this.hi[a]!, b));
    else r = this.rebuild(b, this.or(a, this.lo[b]!), this.or(a, this.hi[b]!));
    this.store(slot, OP_OR, a, b, r);
    return r;
  }

  /** a AND NOT b. */
  diff(a: Node, b: Node): Node {
    if (a === 0 || b === 1 || a === b) return 0;
    if (b === 0) return a;
    const slot = hash3(OP_DIFF, a, b) & this.cacheMask;
    if (this.cacheOp[slot] === OP_DIFF && this.cacheA[slot] === a && this.cacheB[slot] === b) return this.cacheR[slot]!;
    const va = this.vr[a]!;
    const vb = this.vr[b]!;
    let r: Node;
    if (va === vb) r = this.rebuild(a, this.diff(this.lo[a]!, this.lo[b]!), this.diff(this.hi[a]!, this.hi[b]!));
    else if (va < vb) r = this.rebuild(a, this.diff(this.lo[a]!, b), this.diff(this.hi[a]!, b));
    else r = this.mk(vb, this.diff(a, this.lo[b]!), this.diff(a, this.hi[b]!));
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
    const slot = hash3(OP_MEETS, a, b) & this.cacheMask;
    if (this.cacheOp[slot] === OP_MEETS && this.cacheA[slot] === a && this.cacheB[slot] === b) return this.cacheR[slot] === 1;
    const va = this.vr[a]!;
    const vb = this.vr[b]!;
    let r: boolean;
    if (va === vb) r = this.meets(this.lo[a]!, this.lo[b]!) || this.meets(this.hi[a]!, this.hi[b]!);
    else if (va < vb) r = this.meets(this.lo[a]!, b) || this.meets(this.hi[a]!, b);
    else r = this.meets(a, this.lo[b]!) || this.meets(a, this.hi[b]!);
    this.store(slot, OP_MEETS, a, b, r ? 1 : 0);
    return r;
  }

  not(a: Node): Node {
    return this.diff(TRUE, a);
  }

  /** Number of assignments of variables [from, nvars) that satisfy `a` (`a` tests none before `from`). */
  satCount(a: Node, from = 0): bigint {
    const memo = new Map<Node, bigint>();
    const go = (n: Node): bigint => {
      if (n <= 1) return BigInt(n);
      let c = memo.get(n);
      if (c !== undefined) return c;
      const v = this.vr[n]!;
      const l = this.lo[n]!;
      const h = this.hi[n]!;
      c = (go(l) << BigInt(this.vr[l]! - v - 1)) + (go(h) << BigInt(this.vr[h]! - v - 1));
      memo.set(n, c);
      return c;
    };
    return go(a) << BigInt(this.vr[a]! - from);
  }

  /**
   * One satisfying assignment as a bit per variable (variables not on the path are 0), or
   * undefined for the empty set.
   */
  pick(a: Node): Uint8Array | undefined {
    if (a === 0) return undefined;
    const bits = new Uint8Array(this.nvars);
    let n = a;
    while (n > 1) {
      const l = this.lo[n]!;
      if (l !== 0) n = l;
      else {
        bits[this.vr[n]!] = 1;
        n = this.hi[n]!;
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
    let n = a;
    while (n > 1) {
      const l = this.lo[n]!;
      const h = this.hi[n]!;
      const high = l === 0 || (h !== 0 && random() < 0.5);
      bits[this.vr[n]!] = high ? 1 : 0;
      n = high ? h : l;
    }
    return bits;
  }

  /** Whether the assignment `bits` (one per variable) is in `a`. */
  has(a: Node, bits: ArrayLike<number>): boolean {
    let n = a;
    while (n > 1) n = bits[this.vr[n]!] ? this.hi[n]! : this.lo[n]!;
    return n === 1;
  }

  /** The node testing `n`'s variable with children l and h: `n` itself when they are its own (no table lookup). */
  private rebuild(n: Node, l: Node, h: Node): Node {
    return l === this.lo[n] && h === this.hi[n] ? n : this.mk(this.vr[n]!, l, h);
  }

  private store(slot: number, op: number, a: number, b: number, r: number): void {
    this.cacheOp[slot] = op;
    this.cacheA[slot] = a;
    this.cacheB[slot] = b;
    this.cacheR[slot] = r;
  }

  private grow(): void {
    const cap = this.vr.length * 2;
    const g = (old: Int32Array) => {
      const x = new Int32Array(cap);
      x.set(old);
      return x;
    };
    this.vr = g(this.vr);
    this.lo = g(this.lo);
    this.hi = g(this.hi);
  }

  private rehash(): void {
    const size = this.table.length * 4;
    const t = new Int32Array(size);
    const mask = size - 1;
    for (let n = 2; n < this.count; n++) {
      let i = hash3(this.vr[n]!, this.lo[n]!, this.hi[n]!) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = n;
    }
    this.table = t;
    this.tableMask = mask;
  }
}

function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}
