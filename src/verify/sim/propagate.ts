/**
 * Path-vector propagation of one origin's routes over one adjacency, the way FRR's bgpd (or
 * ospfd, for the OSPF underlay) treats them with the rendered configs:
 * - eBGP prepends the sender's ASN; a receiver drops a path holding its own ASN more often
 *   than its allowas-in permits;
 * - iBGP passes on only what a route reflector reflects: client routes to everyone, non-client
 *   routes to clients; each reflection adds the reflector's cluster id, and a reflector drops
 *   a path carrying its own; a route never goes back to the neighbour it came from;
 * - the next hop is the sender on eBGP (unless the sender keeps it: spines without VNIs keep
 *   the VTEP of EVPN routes), unchanged on iBGP; a next hop that is the receiver itself is
 *   martian and dropped;
 * - best path: shortest AS_PATH (OSPF: fewest hops), then eBGP over iBGP; every neighbour
 *   offering an equally good path is a multipath (multipath-relax, maximum-paths 64).
 * Runs are synchronous rounds until nothing changes (a Clos converges in diameter rounds).
 *
 * Twins (devices with identical rows, see twinClasses) share one run: the run from a class
 * representative, with the origin's ASN replaced by a fresh one, gives every other member's
 * routes by swapping the member and the representative. That is exact when neither twin
 * relays anybody's best path and no relaying device has either twin's ASN, because then the
 * only differences are at devices sharing the member's ASN, which drop (or with allowas-in,
 * keep) the route without passing it on. `TableSim` checks that per member and runs the
 * member on its own when it does not hold.
 */
import type { Adjacency } from './adjacency.ts';
import { twinClasses } from './adjacency.ts';

/** Interned sequences (AS paths, cluster lists): id -> (head, rest). */
export class SeqTrie {
  head: number[] = [0];
  rest: number[] = [-1];
  length: number[] = [0];
  private readonly ids = new Map<number, number>();
  static readonly EMPTY = 0;

  /** Heads are ASNs (< 2^32, or -1) or device numbers; ids stay far below 2^20. */
  prepend(head: number, rest: number): number {
    const key = rest * 4294967297 + head + 1;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.head.length;
      this.ids.set(key, id);
      this.head.push(head);
      this.rest.push(rest);
      this.length.push(this.length[rest] + 1);
    }
    return id;
  }

  /** A trie holding `head`, `rest` and `length` as another one left them (TableState). */
  static from(head: ArrayLike<number>, rest: ArrayLike<number>): SeqTrie {
    const t = new SeqTrie();
    for (let id = 1; id < head.length; id++) {
      t.ids.set(rest[id] * 4294967297 + head[id] + 1, id);
      t.head.push(head[id]);
      t.rest.push(rest[id]);
      t.length.push(t.length[rest[id]] + 1);
    }
    return t;
  }

  count(id: number, x: number): number {
    let c = 0;
    for (let p = id; p > 0; p = this.rest[p]) if (this.head[p] === x) c++;
    return c;
  }

  list(id: number): number[] {
    const out: number[] = [];
    for (let p = id; p > 0; p = this.rest[p]) out.push(this.head[p]);
    return out;
  }
}

/**
 * A TableSim's computed runs with the sequences they intern. A class's representative run is
 * absent until something asked for one of its origins (a class is computed whole: its
 * representative's run and the runs of its members that cannot share it).
 */
export interface TableState {
  classOf: Int32Array;
  reps: number[];
  repRuns: (Run | undefined)[];
  own: Run[];
  paths: SeqTrie;
  clusters: SeqTrie;
}

/** The origin's ASN in a representative run: equal to no device's. */
export const FRESH_ASN = -1;

export interface Run {
  origin: number;
  originAsn: number;
  /** AS_PATH length (OSPF: hop count) of the best path; -1 when the device has no route. */
  len: Int16Array;
  /** Best path learned over eBGP. */
  ebgp: Uint8Array;
  fromClient: Uint8Array;
  path: Int32Array;
  cluster: Int32Array;
  nh: Int32Array;
  /** Neighbour the representative best path came from (row entry index). */
  via: Int32Array;
  /** Equal best paths (ECMP). */
  multi: Int16Array;
  /** allowas-in on the session of the best path. */
  allowAs: Uint8Array;
  /** Some other device's best path may come through this device (see the end of run()). */
  transit: Uint8Array;
}

export type Reject = 'not-advertised' | 'as-loop' | 'cluster-loop' | 'martian-next-hop' | 'split-horizon';

export interface Cand {
  len: number;
  ebgp: number;
  /** Interned AS_PATH, or -1: prepend(head, rest) of the paths trie (eBGP). */
  path: number;
  /** Interned cluster list, or -1: prepend(head, rest) of the clusters trie (reflected iBGP). */
  cluster: number;
  clusterLen: number;
  head: number;
  rest: number;
  nh: number;
}

export class Propagator {
  /** The candidate `candidate()` computed last. */
  readonly last: Cand = { len: 0, ebgp: 0, path: 0, cluster: 0, clusterLen: 0, head: 0, rest: 0, nh: 0 };
  constructor(
    readonly adj: Adjacency,
    readonly evpn: boolean,
    readonly paths = new SeqTrie(),
    readonly clusters = new SeqTrie(),
  ) {}

  /** Candidate at v from row entry k, or the reason there is none (into this.c). */
  candidate(run: Run, v: number, k: number): Reject | undefined {
    const a = this.adj;
    const u = a.nbr[k];
    if (run.len[u] < 0) return 'not-advertised';
    const c = this.last;
    if (a.protocol === 'ospf') {
      c.len = run.len[u] + 1;
      c.ebgp = 0;
      c.path = 0;
      c.cluster = 0;
      c.clusterLen = 0;
      c.nh = u;
      return undefined;
    }
    const r = a.rev[k];
    const origin = u === run.origin;
    if (!origin && run.via[u] >= 0 && a.nbr[run.via[u]] === v && !a.ebgp[k]) return 'split-horizon';
    if (!a.ebgp[k] && !origin && !run.ebgp[u]) {
      // Learned over iBGP: only a reflector passes it on.
      if (!a.routeReflector[u]) return 'not-advertised';
      if (!run.fromClient[u] && !a.client[r]) return 'not-advertised';
    }
    if (a.ebgp[k]) {
      // The AS_PATH is interned only when asked for (pathOf): most candidates are compared and dropped.
      c.head = origin ? run.originAsn : a.asn[u];
      c.rest = run.path[u];
      c.path = -1;
      if ((c.head === a.asn[v] ? 1 : 0) + this.paths.count(c.rest, a.asn[v]) > a.allowAs[k]) return 'as-loop';
      c.len = this.paths.length[c.rest] + 1;
      c.cluster = SeqTrie.EMPTY;
      c.clusterLen = 0;
      c.ebgp = 1;
    } else {
      c.path = run.path[u];
      c.len = this.paths.length[c.path];
      const reflect = !origin && !run.ebgp[u];
      if (reflect && u === v) return 'cluster-loop';
      if (a.routeReflector[v] && this.clusters.count(run.cluster[u], v) > 0) return 'cluster-loop';
      c.head = u;
      c.rest = run.cluster[u];
      c.cluster = reflect ? -1 : run.cluster[u];
      c.clusterLen = this.clusters.length[run.cluster[u]] + (reflect ? 1 : 0);
      c.ebgp = 0;
    }
    c.nh = a.nhSelf[k] ? u : run.nh[u];
    if (this.evpn && c.nh === v) return 'martian-next-hop';
    return undefined;
  }

  /** The last candidate's AS_PATH and cluster list, interned. */
  pathOf(c: Cand): number {
    return c.path >= 0 ? c.path : this.paths.prepend(c.head, c.rest);
  }

  clusterOf(c: Cand): number {
    return c.cluster >= 0 ? c.cluster : this.clusters.prepend(c.head, c.rest);
  }

  /** The last candidate computed, compared with a best: <0 better, 0 equal (multipath), >0 worse. */
  private cmp(len: number, ebgp: number): number {
    if (this.last.len !== len) return this.last.len - len;
    return ebgp - this.last.ebgp;
  }

  /**
   * Whether x's best may change now that its neighbour (row entry j of the neighbour's row)
   * went from a best path of length `was` to one of length `now` (-1: none). It cannot when
   * the offer to x was and is strictly longer than x's best: x's best, its ECMP count and its
   * tie-breaks come from offers at least as short, and those neighbours queue x themselves.
   * Re-evaluating x would give its state again; in a Clos that is every spine each round.
   */
  protected mayChange(run: Run, x: number, j: number, was: number, now: number): boolean {
    const best = run.len[x];
    if (best < 0) return true;
    const hop = this.adj.protocol === 'ospf' || this.adj.ebgp[j] ? 1 : 0;
    return (was >= 0 && was + hop <= best) || (now >= 0 && now + hop <= best);
  }

  /**
   * Could u be on someone's best path: a neighbour whose best is exactly one hop longer (iBGP:
   * as long) than u's. Over-approximates (loop checks are ignored), which only costs runs.
   * Asked of each device's own row (a session is of one type at both ends), so a spine stops
   * at its first such leaf instead of every leaf scanning every spine.
   */
  protected markTransit(run: Run): void {
    const a = this.adj;
    const origin = run.origin;
    for (let u = 0; u < a.n; u++) {
      const len = run.len[u];
      if (len < 0) continue;
      // Over iBGP only a reflector, or a device that learned the route over eBGP, passes it on.
      const passesIbgp = a.protocol === 'ospf' || a.routeReflector[u] || run.ebgp[u] || u === origin;
      for (let k = a.offsets[u]; k < a.offsets[u + 1]; k++) {
        const v = a.nbr[k];
        if (v === origin) continue;
        const hop = a.protocol === 'ospf' || a.ebgp[k] ? 1 : 0;
        if (run.len[v] !== len + hop || (!hop && !passesIbgp)) continue;
        run.transit[u] = 1;
        break;
      }
    }
  }

  run(origin: number, originAsn: number): Run {
    const a = this.adj;
    const n = a.n;
    const run: Run = {
      origin,
      originAsn,
      len: new Int16Array(n).fill(-1),
      ebgp: new Uint8Array(n),
      fromClient: new Uint8Array(n),
      path: new Int32Array(n),
      cluster: new Int32Array(n),
      nh: new Int32Array(n).fill(-1),
      via: new Int32Array(n).fill(-1),
      multi: new Int16Array(n),
      allowAs: new Uint8Array(n),
      transit: new Uint8Array(n),
    };
    run.len[origin] = 0;
    run.nh[origin] = origin;
    run.multi[origin] = 1;
    // Devices to re-evaluate this round and the next, deduplicated by the round they are queued for.
    const queued = new Int32Array(n).fill(-1);
    let frontier = new Int32Array(n);
    let next = new Int32Array(n);
    let fl = 0;
    for (let k = a.offsets[origin]; k < a.offsets[origin + 1]; k++) {
      const x = a.nbr[k];
      if (queued[x] !== 0) { queued[x] = 0; frontier[fl++] = x; }
    }
    const c = this.last;
    // Next state of every frontier device is computed from the current state of all, then applied:
    // 8 numbers a device (all below 2^31: lengths, interned ids, device and entry numbers).
    const pending = new Int32Array(8 * n);
    for (let round = 0; fl && round < n + 8; round++) {
      let pl = 0;
      for (let f = 0; f < fl; f++) {
        const v = frontier[f];
        if (v === origin) continue;
        let bLen = -1, bEbgp = 0, bPath = 0, bCluster = 0, bNh = -1, bVia = -1, bMulti = 0, bCl = 0;
        for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) {
          // What candidate() rejects first, without the call: a neighbour that has no route yet.
          if (run.len[a.nbr[k]] < 0 || this.candidate(run, v, k) !== undefined) continue;
          const d = bLen < 0 ? -1 : this.cmp(bLen, bEbgp);
          const cl = c.clusterLen;
          if (d < 0 || (d === 0 && cl < bCl)) {
            bMulti = d === 0 ? bMulti + 1 : 1;
            bLen = c.len; bEbgp = c.ebgp; bPath = this.pathOf(c); bCluster = this.clusterOf(c); bNh = c.nh; bVia = k; bCl = cl;
          } else if (d === 0) bMulti++;
        }
        if (bLen !== run.len[v] || bPath !== run.path[v] || bCluster !== run.cluster[v] || bNh !== run.nh[v] || bVia !== run.via[v] || bMulti !== run.multi[v] || bEbgp !== run.ebgp[v]) {
          pending[pl] = v;
          pending[pl + 1] = bLen;
          pending[pl + 2] = bEbgp;
          pending[pl + 3] = bPath;
          pending[pl + 4] = bCluster;
          pending[pl + 5] = bNh;
          pending[pl + 6] = bVia;
          pending[pl + 7] = bMulti;
          pl += 8;
        }
      }
      let nl = 0;
      for (let i = 0; i < pl; i += 8) {
        const v = pending[i];
        // Kept where the re-queueing below reads it: pending[i + 1] becomes the old length.
        const was = run.len[v];
        run.len[v] = pending[i + 1];
        pending[i + 1] = was;
        run.ebgp[v] = pending[i + 2];
        run.path[v] = pending[i + 3];
        run.cluster[v] = pending[i + 4];
        run.nh[v] = pending[i + 5];
        const k = pending[i + 6];
        run.via[v] = k;
        run.multi[v] = pending[i + 7];
        run.fromClient[v] = k >= 0 && !a.ebgp[k] ? a.client[k] : 0;
        run.allowAs[v] = k >= 0 ? a.allowAs[k] : 0;
      }
      // After the whole round: a neighbour is compared with its state after this round.
      for (let i = 0; i < pl; i += 8) {
        const v = pending[i];
        const was = pending[i + 1];
        const now = run.len[v];
        for (let j = a.offsets[v]; j < a.offsets[v + 1]; j++) {
          const x = a.nbr[j];
          if (queued[x] !== round + 1 && this.mayChange(run, x, j, was, now)) { queued[x] = round + 1; next[nl++] = x; }
        }
      }
      [frontier, next] = [next, frontier];
      fl = nl;
    }
    this.markTransit(run);
    return run;
  }
}

/** Some device other than the origin, with the origin's ASN, may pass the origin's route on. */
function relaysOwnAsn(adj: Adjacency, run: Run, origin: number): boolean {
  const asn = adj.asn[origin];
  for (let v = 0; v < adj.n; v++) if (v !== origin && run.transit[v] && adj.asn[v] === asn) return true;
  return false;
}

/** One device's best route to one origin's prefixes in one table. */
export interface RouteState {
  origin: number;
  /** AS_PATH (ASNs, nearest first); OSPF: empty. */
  asPath: number[];
  len: number;
  ebgp: boolean;
  /** Device whose address is the next hop. */
  nextHop: number;
  /** Equal best paths. */
  ecmp: number;
  /** Row entry of the representative best path (the neighbour it came from). */
  via: number;
}

/**
 * Every origin's routes in one table, computed per twin class. `route(o, v)` is what device v
 * holds for origin o's prefixes (undefined: none).
 */
export class TableSim {
  readonly prop: Propagator;
  readonly classOf: Int32Array;
  readonly reps: number[];
  private readonly members: number[][];
  /** Per class, its representative's run once computed (see ensure). */
  private readonly repRuns: (Run | undefined)[];
  private readonly own = new Map<number, Run>();
  private made = 0;

  /** `restored`: the state of a TableSim computed before over an equal adjacency and origins (src/verify/sim/table-store.ts), whole or in part. */
  constructor(readonly adj: Adjacency, origins: number[], evpn: boolean, restored?: TableState) {
    if (restored) {
      this.prop = new Propagator(adj, evpn, restored.paths, restored.clusters);
      this.classOf = restored.classOf;
      this.reps = restored.reps;
      this.repRuns = [...restored.repRuns];
      for (const r of restored.own) this.own.set(r.origin, r);
      this.members = restored.reps.map(() => []);
      for (let v = 0; v < adj.n; v++) if (this.classOf[v] >= 0) this.members[this.classOf[v]].push(v);
      this.made = restored.repRuns.filter((r) => r !== undefined).length + restored.own.length;
      return;
    }
    this.prop = new Propagator(adj, evpn);
    const t = twinClasses(adj, origins);
    this.classOf = t.classOf;
    this.reps = t.reps;
    this.members = t.members;
    this.repRuns = new Array<Run | undefined>(t.reps.length).fill(undefined);
  }

  /**
   * Class c's runs, computed on first use: a plan asks about a few origins (the VTEPs, the
   * endpoints it traces), and a spine's loopback run is never read there.
   */
  private ensure(c: number): Run {
    const done = this.repRuns[c];
    if (done) return done;
    const adj = this.adj;
    const rep = this.reps[c];
    const run = this.prop.run(rep, adj.protocol === 'bgp' ? FRESH_ASN : adj.asn[rep]);
    this.repRuns[c] = run;
    this.made++;
    // The representative's run uses a fresh ASN, so a device sharing the representative's
    // ASN accepts its route there; route() drops it at that device, but when the device
    // relays it (e.g. a spine passing another spine's loopback to a leaf with one uplink)
    // everything downstream is wrong too: then the representative runs with its own ASN.
    if (adj.protocol === 'bgp' && relaysOwnAsn(adj, run, rep)) {
      this.own.set(rep, this.prop.run(rep, adj.asn[rep]));
      this.made++;
    }
    let transitAsns: Set<number> | undefined;
    for (const x of this.members[c]) {
      if (x === rep) continue;
      let exact = !run.transit[x];
      if (exact && adj.protocol === 'bgp') {
        if (!transitAsns) {
          transitAsns = new Set();
          for (let v = 0; v < adj.n; v++) if (run.transit[v] && v !== rep) transitAsns.add(adj.asn[v]);
        }
        exact = !transitAsns.has(adj.asn[x]) && !transitAsns.has(adj.asn[rep]);
      }
      if (!exact) {
        this.own.set(x, this.prop.run(x, adj.asn[x]));
        this.made++;
      }
    }
    return run;
  }

  /** Every class computed. */
  private all(): void {
    for (let c = 0; c < this.reps.length; c++) this.ensure(c);
  }

  /** Propagation runs made so far. */
  get computedRuns(): number {
    return this.made;
  }

  /** Propagation runs the whole table takes (every class computed). */
  get runs(): number {
    this.all();
    return this.made;
  }

  isOrigin(o: number): boolean {
    return this.classOf[o] >= 0;
  }

  /** The run and the device standing for v in it. */
  private locate(o: number, v: number): { run: Run; at: number; swap: number } | undefined {
    const c = this.classOf[o];
    if (c < 0) return undefined;
    const repRun = this.ensure(c);
    const own = this.own.get(o);
    if (own) return { run: own, at: v, swap: -1 };
    const rep = this.reps[c];
    if (o === rep) return { run: repRun, at: v, swap: -1 };
    return { run: repRun, at: v === rep ? o : v === o ? rep : v, swap: o };
  }

  /** route(o, v) !== undefined, without building the route; also gives the next hop. */
  has(o: number, v: number): boolean {
    return this.nextHop(o, v) >= 0;
  }

  /** Next-hop device of v's route to o, -1 when v has none. */
  nextHop(o: number, v: number): number {
    const at = this.standIn(o, v);
    if (at < 0) return -1;
    const nh = this.standRun.nh[at];
    const rep = this.standRep;
    return rep < 0 ? nh : nh === rep ? o : nh === o ? rep : nh;
  }

  /** route(o, v)'s ECMP count without building the route; 0 when v has none. */
  ecmp(o: number, v: number): number {
    const at = this.standIn(o, v);
    return at < 0 ? 0 : this.standRun.multi[at];
  }

  /** Set by standIn: o's run, and the representative swapped with o in it (-1: none). */
  private standRun!: Run;
  private standRep = -1;
  /** The device standing for v in o's run, -1 when v has no route to o (what route() drops included). */
  private standIn(o: number, v: number): number {
    if (o === v) return -1;
    const c = this.classOf[o];
    if (c < 0) return -1;
    const repRun = this.ensure(c);
    const own = this.own.get(o);
    const rep = this.reps[c];
    const run = own ?? repRun;
    const swap = !own && o !== rep;
    const at = swap ? (v === rep ? o : v === o ? rep : v) : v;
    if (run.len[at] < 0) return -1;
    const a = this.adj;
    if (run.originAsn === FRESH_ASN && run.ebgp[at] && a.asn[v] === a.asn[o] && run.allowAs[at] < 1) return -1;
    this.standRun = run;
    this.standRep = swap ? rep : -1;
    return at;
  }

  /** What a TableSim over an equal adjacency and origins restores instead of running. */
  state(): TableState {
    // As computed so far: a restored table computes the rest when asked.
    return { classOf: this.classOf, reps: this.reps, repRuns: [...this.repRuns], own: [...this.own.values()], paths: this.prop.paths, clusters: this.prop.clusters };
  }

  /** Devices that run on their own (twin shortcut not exact for them). */
  ownRuns(): number[] {
    this.all();
    return [...this.own.keys()];
  }

  route(o: number, v: number): RouteState | undefined {
    const l = this.locate(o, v);
    if (!l) return undefined;
    const { run, at, swap } = l;
    if (run.len[at] < 0) return undefined;
    const a = this.adj;
    if (v !== o && a.protocol === 'bgp' && run.originAsn === FRESH_ASN && run.ebgp[at] && a.asn[v] === a.asn[o] && run.allowAs[at] < 1) return undefined;
    const rep = run.origin;
    const map = (x: number) => (swap < 0 ? x : x === rep ? swap : x === swap ? rep : x);
    const asPath = this.prop.paths.list(run.path[at]).map((x) => (x === FRESH_ASN ? a.asn[o] : x));
    let via = run.via[at];
    if (swap >= 0 && via >= 0) {
      // The same neighbour seen from v's own row (twins have the same neighbours).
      const nb = map(a.nbr[via]);
      via = -1;
      for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) if (a.nbr[k] === nb) { via = k; break; }
    }
    return { origin: o, asPath, len: run.len[at], ebgp: run.ebgp[at] === 1, nextHop: map(run.nh[at]), ecmp: run.multi[at], via };
  }

  /** Row entries of `at` (the device standing for v) mapped to v's own row, with what each offers. */
  private offers(o: number, v: number): { k: number; why?: Reject; len: number; ebgp: number; path: number }[] {
    const l = this.locate(o, v);
    if (!l) return [];
    const { run, at, swap } = l;
    const a = this.adj;
    const rep = run.origin;
    const map = (x: number) => (swap < 0 ? x : x === rep ? swap : x === swap ? rep : x);
    const used = new Set<number>();
    const out: { k: number; why?: Reject; len: number; ebgp: number; path: number }[] = [];
    const c = this.prop.last;
    for (let j = a.offsets[at]; j < a.offsets[at + 1]; j++) {
      const why = this.prop.candidate(run, at, j);
      const nb = map(a.nbr[j]);
      let k = -1;
      for (let i = a.offsets[v]; i < a.offsets[v + 1]; i++) if (a.nbr[i] === nb && !used.has(i)) { k = i; break; }
      if (k < 0) continue;
      used.add(k);
      out.push({ k, why, len: c.len, ebgp: c.ebgp, path: why === undefined || why === 'as-loop' ? this.prop.pathOf(c) : 0 });
    }
    return out;
  }

  /** Why v has no route from o: the reason per neighbour. */
  explain(o: number, v: number): { neighbor: number; reason: Reject | 'own-asn'; asPath?: number[] }[] {
    const a = this.adj;
    const fix = (p: number) => this.prop.paths.list(p).map((x) => (x === FRESH_ASN ? a.asn[o] : x));
    return this.offers(o, v).map((x) => {
      if (x.why) return { neighbor: a.nbr[x.k], reason: x.why, ...(x.why === 'as-loop' ? { asPath: fix(x.path) } : {}) };
      return { neighbor: a.nbr[x.k], reason: 'own-asn' as const, asPath: fix(x.path) };
    });
  }

  /** Whether one of v's row entries `ks` offers o's route and v accepts it (counts in pfxRcd). */
  explainAccepts(o: number, v: number, ks: number[]): boolean {
    const a = this.adj;
    const l = this.locate(o, v);
    if (!l) return false;
    const fresh = l.run.originAsn === FRESH_ASN && a.protocol === 'bgp';
    return this.offers(o, v).some((x) => !x.why && ks.includes(x.k) && !(fresh && a.ebgp[x.k] && a.asn[v] === a.asn[o] && a.allowAs[x.k] < 1));
  }

  /** Which row entries of v carry an equally good path from o (the ECMP next hops), one pair at a time (routesAt answers a whole table). */
  multipathEntries(o: number, v: number): number[] {
    const best = this.route(o, v);
    if (!best) return [];
    return this.offers(o, v).filter((x) => !x.why && x.len === best.len && x.ebgp === (best.ebgp ? 1 : 0)).map((x) => x.k);
  }

  private occurrenceMemo?: Int32Array;
  /** Per row entry: how many earlier entries of its row have the same neighbour (parallel sessions). */
  private occurrence(): Int32Array {
    if (this.occurrenceMemo) return this.occurrenceMemo;
    const a = this.adj;
    const occ = new Int32Array(a.nbr.length);
    const seen = new Int32Array(a.n);
    for (let v = 0; v < a.n; v++) {
      for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) occ[k] = seen[a.nbr[k]]++;
      for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) seen[a.nbr[k]] = 0;
    }
    return (this.occurrenceMemo = occ);
  }

  /** v's row as neighbour -> its entries in row order. */
  private rowIndex(v: number): Map<number, number[]> {
    const a = this.adj;
    const row = new Map<number, number[]>();
    for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) {
      const l = row.get(a.nbr[k]);
      if (l) l.push(k);
      else row.set(a.nbr[k], [k]);
    }
    return row;
  }

  /**
   * Every origin's route at v, for a whole table: each origin o that v has a route to, with
   * route(o, v)'s AS_PATH and multipathEntries(o, v) (same entries, same order). Twins that
   * share their representative's run and are not v's neighbours offer v the same entries (the
   * swap of member and representative touches neither v nor its row), so those are read once
   * per class, and the array is shared by the class's members.
   */
  routesAt(v: number, each: (o: number, asPath: number[], entries: number[]) => void): void {
    const a = this.adj;
    const row = this.rowIndex(v);
    // Per class: 0 not read yet, 1 read (shared[c]), 2 its members are read one by one.
    const state = new Uint8Array(this.reps.length);
    const shared: ({ entries: number[]; path: number[] } | null)[] = [];
    for (let o = 0; o < a.n; o++) {
      const c = this.classOf[o];
      if (o === v || c < 0) continue;
      const run = this.ensure(c);
      if (state[c] === 0) state[c] = v === this.reps[c] || row.has(this.reps[c]) ? 2 : 1;
      if (state[c] === 2 || this.own.has(o)) {
        const r = this.route(o, v);
        if (!r) continue;
        const l = this.locate(o, v)!;
        each(o, r.asPath, this.entriesAt(l.run, l.at, l.swap, r.len, r.ebgp ? 1 : 0, row));
        continue;
      }
      let s = shared[c];
      if (s === undefined) s = shared[c] = run.len[v] < 0 ? null : { entries: this.entriesAt(run, v, -1, run.len[v], run.ebgp[v], row), path: this.prop.paths.list(run.path[v]) };
      if (!s) continue;
      // What route() drops: o's ASN is v's own (the run had a fresh one).
      if (run.originAsn === FRESH_ASN && run.ebgp[v] && a.asn[v] === a.asn[o] && run.allowAs[v] < 1) continue;
      const asPath = s.path.slice();
      for (let i = 0; i < asPath.length; i++) if (asPath[i] === FRESH_ASN) asPath[i] = a.asn[o];
      each(o, asPath, s.entries);
    }
  }

  /**
   * The row entries of v (standing as `at` in the run) whose offer is as good as the best (len,
   * ebgp). An offer can be only if the neighbour's own best is one hop (iBGP: no hop) shorter,
   * which its length says without building the candidate; the i-th session to a neighbour in
   * at's row is the i-th to the swapped neighbour in v's row (what offers() finds by scanning).
   */
  private entriesAt(run: Run, at: number, swap: number, len: number, ebgp: number, row: Map<number, number[]>): number[] {
    const a = this.adj;
    const rep = run.origin;
    const hop = a.protocol === 'ospf' ? 1 : 0;
    const occ = this.occurrence();
    const c = this.prop.last;
    const out: number[] = [];
    for (let j = a.offsets[at]; j < a.offsets[at + 1]; j++) {
      const u = a.nbr[j];
      const lu = run.len[u];
      if (lu < 0 || a.ebgp[j] !== ebgp || lu + (hop | a.ebgp[j]) !== len) continue;
      if (this.prop.candidate(run, at, j) !== undefined || c.len !== len || c.ebgp !== ebgp) continue;
      const k = row.get(swap < 0 ? u : u === rep ? swap : u === swap ? rep : u)?.[occ[j]];
      if (k !== undefined) out.push(k);
    }
    return out;
  }
}
