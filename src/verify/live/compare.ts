/**
 * Observed state vs the model, as a pure function with incremental re-checking.
 *
 * Expectations are derived from the simulated control plane (src/verify/sim), per device on
 * demand and kept in a cache bounded in routes (a leaf's default table holds every loopback and
 * VTEP of the fabric, so all of them at once grow with the square of the fabric): which
 * sessions carry prefixes, VNIs with their flood lists, endpoint MACs behind their VTEPs, each
 * device's routing tables per VRF route by route, underlay next-hop counts per VTEP. Routes and
 * MACs are keyed by (device, VRF or VNI, prefix or MAC), so the same subnet in two VRFs is two
 * facts. Every finding depends on one device's observation (or, for a BGP session,
 * the observations of its two ends; for a probe, its own result), so an observed change
 * re-computes only the keys of that device: `update()` touches a handful of objects.
 */
import type { BgpSession, Device, FabricModel } from '../../model/types.ts';
import type { CheckInfo, CheckResult, Finding } from '../findings.ts';
import { buildFabricGraph, type FabricGraph } from '../graph.ts';
import type { DeviceObservation, ObservedRoute } from './observed.ts';
import { ObservedDefaultTable, type DefaultExpect } from './default-table.ts';
import { AFI_KEYS, bgpSessionState, ospfAdjacencyUp, type BgpPeerState, type BgpSessionState } from '../../domains/fabric/session-state.ts';
import { ControlPlane, type RibRoute } from '../sim/control-plane.ts';
import { contains6, overlaps4, parsePrefix4 } from '../../model/ip.ts';
import { compareTable, describeDiff, type RibDiff } from './rib-compare.ts';
import { makeContext } from '../checks/types.ts';
import { ReachabilityModel } from '../reachability.ts';
import { ProbePredictor, type ProbePrediction, type ProbeResult } from './probes.ts';

export type { ProbeResult };

export interface ObservedState {
  devices: DeviceObservation[];
  probes: ProbeResult[];
}

export const LIVE_CHECKS: CheckInfo[] = [
  { id: 'live-bgp-sessions', title: 'BGP sessions established with their address families', kind: 'live', layer: 'underlay', severity: 'error', description: 'every modelled session is Established at both ends in every address family, with prefixes received where the simulation says some must arrive' },
  { id: 'live-fabric-rib', title: 'Underlay routes as simulated', kind: 'live', layer: 'underlay', severity: 'error', description: 'every loopback and VTEP /32 in the default table as the simulated RIB has it (protocol, next hops); the first device on the path where they diverge is named' },
  { id: 'live-ospf', title: 'OSPF adjacencies full', kind: 'live', layer: 'underlay', severity: 'error', description: 'every modelled adjacency is Full at both ends' },
  { id: 'live-underlay-ecmp', title: 'Underlay routes to every VTEP with the promised ECMP', kind: 'live', layer: 'underlay', severity: 'error', description: 'each VTEP has a route to every other VTEP with as many next hops as equal-cost paths start from it' },
  { id: 'live-evpn-vnis', title: 'VNIs up with the expected remote VTEPs', kind: 'live', layer: 'overlay', severity: 'error', description: 'each VNI exists with its type, local VTEP and exactly the remote VTEPs of the other leaves carrying it' },
  { id: 'live-evpn-macs', title: 'Endpoint MACs learned behind the right VTEP', kind: 'live', layer: 'overlay', severity: 'error', description: 'local on the endpoint\'s port at its leaf, remote behind its leaf\'s VTEP elsewhere' },
  { id: 'live-vrf-routes', title: 'Tenant routes in the right VRFs only', kind: 'live', layer: 'overlay', severity: 'error', description: 'each VRF table holds exactly the simulated routes with their next hops, and no prefix of another VRF' },
  { id: 'live-probes', title: 'Data-plane probes follow the reachability matrix', kind: 'live', layer: 'endpoint', severity: 'error', description: 'IPv4 and IPv6 pings answer exactly where static verification predicts: the destination address is the source\'s own, or belongs to an endpoint bridged or routed from the source\'s VRF' },
  { id: 'live-collection', title: 'State collected from every device', kind: 'live', layer: 'physical', severity: 'error', description: 'every show command answered' },
];

export interface DeviceExpect {
  vnis: { vni: number; type: 'L2' | 'L3'; remote: string[]; source: FabricModel['devices'][0]['source'] }[];
  macs: { vni: number; mac: string; endpoint: string; local?: string; remoteVtep?: string; source: FabricModel['endpoints'][0]['source'] }[];
  vrfs: { vrf: string; predicted: RibRoute[]; source: FabricModel['devices'][0]['source'] }[];
  /** Default table: loopback and VTEP /32s. */
  defaults: RibRoute[];
  /** VTEP /32 -> expected next hops. */
  underlay: { prefix: string; device: string; nexthops: number }[];
}

const addr = (c?: string) => c?.split('/')[0] ?? '';

/** Parts of a device's observation re-checked on their own: 'vnis', 'macs', 'vrf:<name>', 'default', 'ospf', 'bgp'. */
type Parts = Set<string> | 'all';
type FindingOf = (check: string, message: string, evidence: Record<string, unknown>, location?: FabricModel['devices'][0]['source'], extra?: Partial<Finding>) => Finding;

/**
 * What changed between two observations of a device: parts are compared by reference (a
 * collector that re-parses only the commands whose output changed keeps the others' objects),
 * so a steady device costs nothing. Changed errors re-check everything (they explain absences).
 */
function changedParts(prev: DeviceObservation | undefined, o: DeviceObservation): Parts {
  if (!prev || prev === o) return prev === o ? new Set() : 'all';
  if (!sameErrors(prev.errors, o.errors) || !prev.routes !== !o.routes) return 'all';
  const out = new Set<string>();
  if (prev.vnis !== o.vnis) out.add('vnis');
  if (prev.macs !== o.macs) out.add('macs');
  if (prev.ospf !== o.ospf) out.add('ospf');
  if (prev.bgp !== o.bgp) out.add('bgp');
  if (prev.defaultTable !== o.defaultTable) out.add('default');
  for (const vrf of new Set([...Object.keys(prev.routes ?? {}), ...Object.keys(o.routes ?? {})])) {
    if (prev.routes![vrf] !== o.routes![vrf]) out.add(vrf === 'default' ? 'default' : `vrf:${vrf}`);
  }
  return out;
}

function sameErrors(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const peerIndexes = new WeakMap<BgpPeerState[], Map<string, number[]>>();
/** The entries of a BGP summary that name any of `names` as neighbour, address or hostname, in their order. */
function peerCandidates(peers: BgpPeerState[], names: string[]): BgpPeerState[] {
  let m = peerIndexes.get(peers);
  if (!m) {
    m = new Map();
    peers.forEach((p, i) => {
      for (const n of new Set([p.peer, p.address, p.hostname])) if (n !== undefined) (m!.get(n) ?? m!.set(n, []).get(n)!).push(i);
    });
    peerIndexes.set(peers, m);
  }
  const at = [...new Set(names.flatMap((n) => m!.get(n) ?? []))].sort((a, b) => a - b);
  return at.map((i) => peers[i]);
}

/** The names `device`'s summary entries for its end of the session go by (peerCandidates'). */
function endNames(s: BgpSession, device: string): string[] {
  const me = s.a.device === device ? s.a : s.b;
  const other = me === s.a ? s.b : s.a;
  return [me.interface ?? other.address ?? '', ...(me.interface ? [] : [other.device])];
}

/**
 * The names (neighbour, address, hostname) of the entries whose content differs between two
 * summaries listing the same entries in the same order; undefined (everything may have changed)
 * when they do not, or either is missing. A session none of whose names is in it has the same
 * candidates as before (peerCandidates picks them by those names), so the same signature.
 */
function touchedPeers(prev: BgpPeerState[] | undefined, next: BgpPeerState[] | undefined): Set<string> | undefined {
  if (!prev || !next || prev.length !== next.length) return undefined;
  const out = new Set<string>();
  for (let i = 0; i < next.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (a.vrf !== b.vrf || a.afi !== b.afi || a.peer !== b.peer || a.address !== b.address || a.hostname !== b.hostname) return undefined;
    if (!sameFields(a, b)) for (const n of [b.peer, b.address, b.hostname]) if (n !== undefined) out.add(n);
  }
  return out;
}

/** The same own fields with identical values (stricter than equal JSON: what differs here may still print the same, and is looked at). */
function sameFields(a: object, b: object): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
}

const setIndexes = new WeakMap<string[], Set<string>>();
function setOf(list: string[]): Set<string> {
  let s = setIndexes.get(list);
  if (!s) setIndexes.set(list, (s = new Set(list)));
  return s;
}

/** VRFs whose networks' address space holds a prefix, for telling a leak from an unexpected route. */
function vrfOwners(model: FabricModel): (prefix: string) => string[] {
  const nets = model.networks;
  return (prefix) => {
    const owners = new Set<string>();
    const v6 = prefix.includes(':');
    for (const n of nets) {
      if (v6) {
        if (n.subnet6 && contains6(n.subnet6, prefix.split('/')[0])) owners.add(n.vrf);
      } else if (n.subnet && overlaps4(parsePrefix4(n.subnet), parsePrefix4(prefix))) owners.add(n.vrf);
    }
    return [...owners];
  };
}

/**
 * What a comparison derives from the model alone (the simulated control plane and every
 * device's expectations): built once per model and graph, shared by the comparisons of every
 * poll, so a round costs the comparison of what was observed, not a re-simulation.
 */
/**
 * Routes of expectations a basis keeps at once (about 0.2 KB each): the bound of its cache
 * (default tables apart). Without them a 5,000-device fabric's are about 2.3 million (a leaf's
 * MACs and VRF routes): all held, so a re-check never derives its device again.
 */
export const EXPECT_CACHE_ROUTES = 3_000_000;
/**
 * The same for the expected default tables (every loopback and VTEP: 10,000 routes a leaf at
 * 5,000 devices), kept apart: a default table is compared when it is read, and only a table
 * read again with changes (or a view) asks for its expectation again, while the VRF tables,
 * VNIs and MACs are re-checked on every change (a VRF table re-checked derives no default table).
 */
export const TABLE_CACHE_ROUTES = 250_000;

type RestExpect = Omit<DeviceExpect, 'defaults' | 'underlay'>;
const routesOf = (e: RestExpect) => e.macs.length + e.vrfs.reduce((m, v) => m + v.predicted.length, 0) + 1;
const tableRoutesOf = (e: DefaultExpect) => e.defaults.length + e.underlay.length + 1;
/** What a device's expectation examines, in the order examined() sums them. */
const countsOf = (e: DeviceExpect) => [e.underlay.length, e.defaults.length, e.vnis.length, e.macs.length, e.vrfs.length, e.vrfs.reduce((m, v) => m + v.predicted.length, 0)];

/** A least-recently-used cache bounded in routes; the entry just added stays whatever its size. */
class RouteCache<T> {
  private readonly map = new Map<string, T>();
  held = 0;
  constructor(readonly bound: number, private readonly size: (x: T) => number) {}
  get size_(): number {
    return this.map.size;
  }
  get(key: string): T | undefined {
    const hit = this.map.get(key);
    if (hit) {
      // Most recently used last.
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }
  add(key: string, x: T): void {
    this.map.set(key, x);
    this.held += this.size(x);
    for (const [k, v] of this.map) {
      if (this.held <= this.bound || k === key) break;
      this.map.delete(k);
      this.held -= this.size(v);
    }
  }
}

export class LiveBasis {
  readonly model: FabricModel;
  readonly fg: FabricGraph;
  readonly cp: ControlPlane;
  readonly owners: (prefix: string) => string[];
  readonly fabricHosts: Set<string>;
  /** Each fabric host's number: its bit in a kept default table (ObservedDefaultTable). */
  readonly hostIndex: Map<string, number>;
  /** Device -> its expectation but the default table, least recently used first; at most `cacheRoutes` routes held. */
  private readonly expect: RouteCache<RestExpect>;
  /** Device -> its expected default table, the same, at most `tableRoutes`. */
  private readonly tables: RouteCache<DefaultExpect>;
  readonly cacheRoutes: number;
  /** Device -> what its expectation examines (counted when first derived; small). */
  private readonly counts = new Map<string, number[]>();
  /** Expectations derived, default tables and the rest apart (a derivation after an eviction counts again). */
  derived = 0;
  readonly sessionsOf = new Map<string, BgpSession[]>();
  readonly sessionIndex = new Map<string, number>();
  /** Probe predictions by source, destination, family and address (filled as probes are seen). */
  readonly probeExpect = new Map<string, ProbePrediction | undefined>();
  probePredictor?: ProbePredictor;

  /** `opts.cp`: a simulation of this model and graph to share (a second basis, e.g. a replay's, costs no re-simulation). */
  constructor(model: FabricModel, fg?: FabricGraph, opts: { cacheRoutes?: number; tableRoutes?: number; cp?: ControlPlane } = {}) {
    this.model = model;
    this.cacheRoutes = opts.cacheRoutes ?? EXPECT_CACHE_ROUTES;
    this.expect = new RouteCache(this.cacheRoutes, routesOf);
    // A bound given for the cache (a test's one device) bounds both.
    this.tables = new RouteCache(opts.tableRoutes ?? opts.cacheRoutes ?? TABLE_CACHE_ROUTES, tableRoutesOf);
    this.fg = fg ?? buildFabricGraph(model);
    model.bgpSessions.forEach((s, i) => this.sessionIndex.set(s.id, i));
    for (const s of model.bgpSessions) {
      for (const d of [s.a.device, s.b.device]) {
        const l = this.sessionsOf.get(d) ?? [];
        this.sessionsOf.set(d, l);
        l.push(s);
      }
    }
    this.cp = opts.cp ?? new ControlPlane(model, this.fg.deviceIndex);
    this.owners = vrfOwners(model);
    this.fabricHosts = new Set(model.devices.flatMap((d) => [`${addr(d.loopback)}/32`, ...(d.vtep ? [`${addr(d.vtep)}/32`] : [])]));
    this.hostIndex = new Map([...this.fabricHosts].map((p, i) => [p, i]));
  }

  /**
   * What the simulation predicts for one device, derived on first use and cached; a device
   * evicted from the cache is derived again (the simulation is deterministic: equal content).
   */
  expectation(name: string): DeviceExpect | undefined {
    if (!this.fg.deviceIndex.has(name)) return undefined;
    let rest = this.expect.get(name);
    if (!rest) {
      rest = this.restExpect(name);
      this.derived++;
      this.expect.add(name, rest);
    }
    // The default table is derived (or found) when read: a re-check of a VRF table never asks.
    const table = () => this.table(name);
    const ex: DeviceExpect = {
      ...rest,
      get defaults() {
        return table().defaults;
      },
      get underlay() {
        return table().underlay;
      },
    };
    if (!this.counts.has(name)) this.counts.set(name, countsOf(ex));
    return ex;
  }

  /** The device's expected default table alone (cached apart from the rest), or undefined for a device not in the model. */
  defaultExpectation(name: string): DefaultExpect | undefined {
    return this.fg.deviceIndex.has(name) ? this.table(name) : undefined;
  }

  private table(name: string): DefaultExpect {
    let t = this.tables.get(name);
    if (!t) {
      t = this.tableExpect(name);
      this.derived++;
      this.tables.add(name, t);
    }
    return t;
  }

  /** Expectations held in the cache now (devices, apart from default tables), and their routes (with the default tables'). */
  cached(): { devices: number; routes: number; tables: number } {
    return { devices: this.expect.size_, routes: this.expect.held + this.tables.held, tables: this.tables.size_ };
  }

  private counted?: Record<string, string>;
  /**
   * What each model-only check examines: the devices derived so far (a poll that admits the
   * fabric over several polls derives no device early for it), fixed once every device is.
   */
  examined(): Record<string, string> {
    if (this.counted) return this.counted;
    const sum = (i: number) => [...this.counts.values()].reduce((t, c) => t + c[i], 0);
    const n = this.model.devices.length;
    const of = this.counts.size < n ? ` (${this.counts.size} of ${n} devices derived so far)` : '';
    const counted = {
      'live-bgp-sessions': `${this.model.bgpSessions.length} sessions`,
      'live-ospf': `${this.model.ospfAdjacencies.length} adjacencies`,
      'live-underlay-ecmp': `${sum(0)} VTEP routes`,
      'live-fabric-rib': `${sum(1)} underlay routes`,
      'live-evpn-vnis': `${sum(2)} VNI instances`,
      'live-evpn-macs': `${sum(3)} MAC entries`,
      'live-vrf-routes': `${sum(4)} VRF tables, ${sum(5)} routes`,
    };
    if (of) return Object.fromEntries(Object.entries(counted).map(([k, v]) => [k, k === 'live-bgp-sessions' || k === 'live-ospf' ? v : `${v}${of}`]));
    return (this.counted = counted);
  }

  private restExpect(name: string): RestExpect {
    const fg = this.fg;
    const cp = this.cp;
    const d = fg.device(name)!;
    const me = fg.deviceIndex.get(name)!;
    const vtepOf = (dev: string) => addr(fg.device(dev)?.vtep);
    const vnis: DeviceExpect['vnis'] = [];
    for (const v of d.vlans) vnis.push({ vni: v.l2vni, type: 'L2', remote: cp.floodList(me, v.l2vni), source: v.source });
    for (const v of d.vrfs) vnis.push({ vni: v.l3vni, type: 'L3', remote: [], source: v.source });
    const macs: DeviceExpect['macs'] = [];
    const mine = new Map(d.vlans.map((v) => [v.l2vni, v]));
    for (const e of this.model.endpoints) {
      const v = mine.get(e.l2vni);
      if (!v) continue;
      if (e.leaf === name) {
        macs.push({ vni: e.l2vni, mac: e.mac.toLowerCase(), endpoint: e.name, local: e.port, source: e.source });
        continue;
      }
      // A remote MAC arrives as a type-2 route of the endpoint's leaf, imported by route target.
      const li = fg.deviceIndex.get(e.leaf);
      const lv = li === undefined ? undefined : fg.devices[li].vlans.find((x) => x.vlan === e.vlan);
      if (li === undefined || !lv || !lv.routeTargets.export.some((rt) => v.routeTargets.import.includes(rt)) || !cp.evpnOk(li, me)) continue;
      macs.push({ vni: e.l2vni, mac: e.mac.toLowerCase(), endpoint: e.name, remoteVtep: vtepOf(e.leaf), source: e.source });
    }
    const vrfs: DeviceExpect['vrfs'] = d.vrfs.map((v) => ({ vrf: v.name, predicted: cp.vrfRib(me, v.name), source: v.source }));
    return { vnis, macs, vrfs };
  }

  private tableExpect(name: string): DefaultExpect {
    const me = this.fg.deviceIndex.get(name)!;
    return { defaults: this.cp.defaultRib(me), underlay: this.fg.device(name)!.vtep ? this.cp.vtepRoutes(me) : [] };
  }
}

export class LiveComparison {
  readonly model: FabricModel;
  readonly fg: FabricGraph;
  readonly cp: ControlPlane;
  readonly basis: LiveBasis;
  private readonly owners: (prefix: string) => string[];
  private readonly fabricHosts: Set<string>;
  private readonly sessionsOf: Map<string, BgpSession[]>;
  private readonly sessionIndex: Map<string, number>;
  private readonly obs = new Map<string, DeviceObservation>();
  /** Finding key -> findings ("bgp:<session>", "dev:<device>:<check>", "probe:<a>><b>/<family>"). */
  private readonly findings = new Map<string, Finding[]>();
  private readonly probeExpect: Map<string, ProbePrediction | undefined>;
  /** Per device, the route findings of each VRF table as last re-checked. */
  private readonly vrfFindings = new Map<string, Map<string, Finding[]>>();
  /** Device -> "<device>\n<part>" whose first-divergence search read its default table. */
  private readonly watchers = new Map<string, Set<string>>();
  private readonly watching = new Map<string, string[]>();
  recomputed = 0;
  /** Called after each device's re-check with its duration, wall and CPU (the service's per-update figure). */
  onRecheck?: (device: string, ms: number, cpuMs: number) => void;

  /** A comparison with nothing observed yet; `basis` (of this model) saves re-deriving the expectations. */
  constructor(model: FabricModel, fg?: FabricGraph, basis?: LiveBasis) {
    const b = basis && basis.model === model && (!fg || basis.fg === fg) ? basis : new LiveBasis(model, fg);
    this.basis = b;
    this.model = model;
    this.fg = b.fg;
    this.cp = b.cp;
    this.owners = b.owners;
    this.fabricHosts = b.fabricHosts;
    this.sessionsOf = b.sessionsOf;
    this.sessionIndex = b.sessionIndex;
    this.probeExpect = b.probeExpect;
  }

  /**
   * Where a missing route first goes missing: the predicted path from the origin towards the
   * device, and the first device on it (origin side) whose observed default table lacks the
   * origin's loopback. Devices not observed are skipped.
   */
  firstDivergence(origin: string, device: string, prefix: string, watch?: Set<string>): string | undefined {
    const o = this.fg.deviceIndex.get(origin);
    let v = this.fg.deviceIndex.get(device);
    if (o === undefined || v === undefined) return undefined;
    const path: number[] = [];
    const adj = this.cp.underlay.adj;
    for (let guard = 0; v !== o && guard < 64; guard++) {
      path.push(v);
      const r = this.cp.underlayRoute(o, v);
      if (!r || r.via < 0) break;
      v = adj.nbr[r.via];
    }
    for (const x of path.reverse()) {
      const name = this.fg.devices[x].name;
      watch?.add(name);
      const table = this.obs.get(name)?.defaultTable;
      if (table && !table.has(prefix)) return name;
    }
    return undefined;
  }

  /** What the simulation predicts for one device. */
  expectation(name: string): DeviceExpect | undefined {
    return this.basis.expectation(name);
  }

  /** Prefixes the default-table comparison looks at (loopbacks and VTEPs). */
  isFabricHost(prefix: string): boolean {
    return this.fabricHosts.has(prefix);
  }

  vrfOwners(prefix: string): string[] {
    return this.owners(prefix);
  }

  /** Feed or replace one device's observation; re-checks only what depends on it. */
  update(o: DeviceObservation): void {
    this.updateMany([o]);
  }

  /**
   * A device's default table as read, compared with its expectation and kept as that
   * (ObservedDefaultTable); undefined for a device not in the model.
   */
  compactDefault(device: string, routes: ObservedRoute[]): ObservedDefaultTable | undefined {
    const ex = this.fg.device(device) && this.basis.defaultExpectation(device);
    return ex && new ObservedDefaultTable(routes, ex, this.basis.hostIndex);
  }

  /**
   * The same from `show ip route json`'s text, read route by route without holding the routes
   * (ObservedDefaultTable.fromText); undefined where that reading does not apply (the caller
   * parses the text and calls compactDefault).
   */
  defaultFromText(device: string, text: string): ObservedDefaultTable | undefined {
    const ex = this.fg.device(device) && this.basis.defaultExpectation(device);
    return ex ? ObservedDefaultTable.fromText(text, ex, this.basis.hostIndex) : undefined;
  }

  /** The observation as kept: its default table compared and dropped (a table already kept passes as is). */
  private kept(o: DeviceObservation): DeviceObservation {
    const routes = o.routes?.default;
    if (!routes) return o;
    const table = this.compactDefault(o.device, routes);
    if (!table) return o;
    const { default: _read, ...vrfs } = o.routes!;
    return { ...o, routes: vrfs, defaultTable: table };
  }

  /**
   * Feed or replace several observations (one poll's changed devices): all are stored first,
   * then each device re-checks only the parts whose observation changed (a part reused by
   * reference from the previous observation is unchanged), and so do the devices whose
   * first-divergence search read a default table that changed.
   */
  updateMany(list: DeviceObservation[]): void {
    const dirty = new Map<string, Parts>();
    const mark = (device: string, parts: Parts) => {
      const had = dirty.get(device);
      if (had === 'all' || parts === 'all') dirty.set(device, 'all');
      else if (!had) dirty.set(device, new Set(parts));
      else for (const x of parts) had.add(x);
    };
    for (const x of list) {
      const o = this.kept(x);
      const prev = this.obs.get(o.device);
      this.obs.set(o.device, o);
      const parts = changedParts(prev, o);
      if (parts === 'all' || parts.size) mark(o.device, parts);
    }
    for (const [device, parts] of [...dirty]) {
      if (parts !== 'all' && !parts.has('default')) continue;
      for (const w of this.watchers.get(device) ?? []) {
        const [dev, part] = w.split('\n');
        if (this.obs.has(dev)) mark(dev, new Set([part]));
      }
    }
    for (const [device, parts] of dirty) this.recheck(device, parts);
  }

  /** Observations fed since the last settle() whose default table changed, with when they were fed. */
  private readonly fedTables = new Map<string, number>();
  /** "<device>\n<part>" -> when its first-divergence search last read other devices' tables. */
  private readonly searchedAt = new Map<string, number>();
  private tick = 0;

  /**
   * One device's observation as soon as it is read (a poll streams them): stored and its changed
   * parts re-checked now, so neither its parsed tables nor its expectation wait for the rest of
   * the poll. The parts of other devices whose first-divergence search read its default table
   * before it changed are re-checked by settle(), once the poll has fed every device: with
   * updateMany's findings.
   */
  feed(x: DeviceObservation): void {
    const o = this.kept(x);
    const prev = this.obs.get(o.device);
    this.obs.set(o.device, o);
    const parts = changedParts(prev, o);
    const t = ++this.tick;
    if (parts === 'all' || parts.has('default')) this.fedTables.set(o.device, t);
    if (parts === 'all' || parts.size) this.recheck(o.device, parts);
  }

  /** After a poll's feed(): re-checks the searches that read a default table before it changed. */
  settle(): void {
    const dirty = new Map<string, Set<string>>();
    for (const [device, t] of this.fedTables) {
      for (const w of this.watchers.get(device) ?? []) {
        if ((this.searchedAt.get(w) ?? 0) > t) continue;
        const [dev, part] = w.split('\n');
        if (this.obs.has(dev)) (dirty.get(dev) ?? dirty.set(dev, new Set()).get(dev)!).add(part);
      }
    }
    this.fedTables.clear();
    for (const [device, parts] of dirty) this.recheck(device, parts);
  }

  private recheck(device: string, parts: Parts): void {
    const t0 = this.onRecheck ? performance.now() : 0;
    const c0 = this.onRecheck ? process.cpuUsage() : undefined;
    this.recomputeDevice(device, parts);
    if (parts === 'all' || parts.has('bgp')) {
      const bgp = this.obs.get(device)?.bgp;
      // A spine holds hundreds of sessions: only those naming an entry that changed are looked at.
      const touched = parts === 'all' ? undefined : touchedPeers(this.bgpSeen.get(device), bgp);
      this.bgpSeen.set(device, bgp);
      for (const s of this.sessionsOf.get(device) ?? []) {
        if (touched && !endNames(s, device).some((n) => touched.has(n))) continue;
        if (this.endChanged(s, device) || parts === 'all') this.set(`bgp:${s.id}`, this.compareSession(s));
      }
    }
    if (c0) {
      const c = process.cpuUsage(c0);
      this.onRecheck!(device, performance.now() - t0, (c.user + c.system) / 1000);
    }
  }

  updateProbe(p: ProbeResult): void {
    this.set(`probe:${p.src}>${p.dst}/${p.family}`, this.compareProbe(p));
  }

  private set(key: string, f: Finding[]): void {
    this.recomputed++;
    if (f.length) this.findings.set(key, f);
    else this.findings.delete(key);
  }

  private recomputeDevice(name: string, parts: Parts = 'all'): void {
    const o = this.obs.get(name)!;
    const d = this.fg.device(name);
    if (!d || !this.fg.deviceIndex.has(name)) {
      this.set(`dev:${name}:collection`, [{ check: 'live-collection', severity: 'warning', message: `observed device ${name} is not in the model`, evidence: { device: name } }]);
      return;
    }
    const has = (part: string) => parts === 'all' || parts.has(part);
    // Derived only for the parts that read it: the default table is kept as its differences, so
    // re-checking another device's search (settle) derives nothing the cache has let go.
    let held: DeviceExpect | undefined;
    const ex = () => (held ??= this.basis.expectation(name)!);
    const f = (check: string, message: string, evidence: Record<string, unknown>, location = d.source, extra: Partial<Finding> = {}): Finding => ({ check, severity: 'error', message, evidence: { device: name, ...evidence }, location, elements: { devices: [name] }, ...extra });
    // Errors of commands whose absence is explained by the BGP findings are not repeated.
    const coll = Object.entries(o.errors)
      .filter(([cmd]) => !cmd.startsWith('show bgp'))
      .map(([cmd, why]) => f('live-collection', `${name}: '${cmd}' failed: ${why}`, { command: cmd, reason: why }));
    this.set(`dev:${name}:collection`, coll);

    if (has('vnis')) this.set(`dev:${name}:vnis`, this.compareVnis(name, d, ex(), o, f));
    if (has('macs')) this.set(`dev:${name}:macs`, this.compareMacs(name, ex(), o, f));

    const ribFinding = (check: string, x: RibDiff, source: FabricModel['devices'][0]['source'], watch: Set<string>) => {
      const origin = x.predicted?.origin;
      const diverges = x.kind === 'missing' && origin && origin !== name ? this.firstDivergence(origin, name, x.vrf === 'default' ? x.prefix : `${addr(this.fg.device(origin)?.loopback)}/32`, watch) : undefined;
      // A service node's prefix (a VIP) depends on that node too: a rollout changing the node
      // in a later wave does not judge it at the leaf yet.
      const announcers = (this.model.serviceNodes ?? []).filter((n) => n.advertise.some((a) => a.vrf === x.vrf && a.prefix === x.prefix)).map((n) => n.name);
      const devices = [name, ...(origin && origin !== name ? [origin] : []), ...(diverges && diverges !== name ? [diverges] : []), ...announcers];
      return f(check, `${describeDiff(name, x)}${diverges ? `; first divergence on the path at ${diverges}` : ''}`, {
        vrf: x.vrf, prefix: x.prefix, kind: x.kind,
        predicted: x.predicted ? { protocol: x.predicted.protocol, nextHops: x.predicted.nextHops, origin: x.predicted.origin, asPath: x.predicted.asPath ?? null } : null,
        observed: x.observed ?? null,
        ...(x.belongsTo ? { belongsTo: x.belongsTo } : {}),
        ...(diverges ? { firstDivergence: diverges } : {}),
      }, source, { elements: { devices: [...new Set(devices)] } });
    };
    let vrfDone = this.vrfFindings.get(name);
    if (!vrfDone) this.vrfFindings.set(name, (vrfDone = new Map()));
    let routesChanged = false;
    // The device's VRFs in its expectation's order (deviceExpect maps them in order).
    for (const [i, { name: vrf }] of d.vrfs.entries()) {
      const part = `vrf:${vrf}`;
      if (!has(part) && vrfDone.has(vrf)) continue;
      const v = ex().vrfs[i];
      routesChanged = true;
      const watch = new Set<string>();
      const rf: Finding[] = [];
      const routes = o.routes?.[v.vrf];
      if (!o.routes) {
        // Nothing routed was collected: no table is judged.
      } else if (!routes) {
        const why = o.errors[`show ip route vrf ${v.vrf} json`];
        rf.push(f('live-vrf-routes', `${name}: VRF ${v.vrf} has no routing table${why ? `: ${why}` : ''}`, { vrf: v.vrf, reason: why ?? 'not collected' }, v.source));
      } else {
        // IPv6 routes are compared only where they were collected.
        const has6 = routes.some((r) => r.prefix.includes(':'));
        const predicted = has6 ? v.predicted : v.predicted.filter((r) => !r.prefix.includes(':'));
        for (const x of compareTable(v.vrf, predicted, routes, { ownerVrfs: (p) => (this.owners(p).includes(v.vrf) ? [] : this.owners(p)) })) rf.push(ribFinding('live-vrf-routes', x, v.source, watch));
      }
      vrfDone.set(v.vrf, rf);
      this.watch(name, part, watch);
    }
    if (routesChanged) this.set(`dev:${name}:routes`, d.vrfs.flatMap((v) => vrfDone.get(v.name) ?? []));

    if (has('default')) {
      const uf: Finding[] = [];
      const bf: Finding[] = [];
      const watch = new Set<string>();
      // Compared with the expectation when it was read: its differences are what is kept.
      const def = o.defaultTable;
      if (def) {
        for (const x of def.diffs) bf.push(ribFinding('live-fabric-rib', x, d.source, watch));
        for (const u of def.underlay) {
          const n = u.observed;
          if (n === null) uf.push(f('live-underlay-ecmp', `${name}: no underlay route to ${u.device}'s VTEP ${u.prefix}`, { prefix: u.prefix, peer: u.device, expectedNexthops: u.expected, observedNexthops: 0 }, d.source, { elements: { devices: [name, u.device] } }));
          else uf.push(f('live-underlay-ecmp', `${name}: reduced ECMP to ${u.device}'s VTEP ${u.prefix}: ${n} next hop${n === 1 ? '' : 's'}, expected ${u.expected}`, { prefix: u.prefix, peer: u.device, expectedNexthops: u.expected, observedNexthops: n }, d.source, { elements: { devices: [name, u.device] } }));
        }
      }
      this.watch(name, 'default', watch);
      this.set(`dev:${name}:underlay`, uf);
      this.set(`dev:${name}:rib`, bf);
    }

    if (has('ospf')) {
      const of: Finding[] = [];
      if (o.ospf || o.errors['show ip ospf neighbor json']) {
        for (const adj of this.model.ospfAdjacencies) {
          const [me, peer] = adj.a.device === name ? [adj.a, adj.b] : adj.b.device === name ? [adj.b, adj.a] : [undefined, undefined];
          if (!me || !peer) continue;
          const n = o.ospf?.find((x) => x.routerId === peer.routerId || x.iface === me.interface);
          const why = o.errors['show ip ospf neighbor json'];
          // The link the adjacency runs over, as a BGP session's finding names its own: the
          // service's correlation (src/service/correlate.ts) then explains the adjacency down
          // by the link, with its interfaces and the routes over it, not by a device.
          const link = this.fg.linkAt(me.device, me.interface);
          if (!n || !ospfAdjacencyUp(n)) of.push(f('live-ospf', `${name}: OSPF adjacency ${adj.id} is ${n ? n.state : 'absent'}${why ? `: ${why}` : ''}`, { adjacency: adj.id, interface: me.interface, peer: peer.device, state: n?.state ?? null, reason: why ?? null }, adj.source, { elements: { devices: [name, peer.device], links: link ? [this.fg.linkName(link)] : [] } }));
        }
      }
      this.set(`dev:${name}:ospf`, of);
    }
  }

  /** Records which devices' default tables a part of `device` read, so their change re-checks it. */
  private watch(device: string, part: string, devices: Set<string>): void {
    const key = `${device}\n${part}`;
    this.searchedAt.set(key, this.tick);
    for (const w of this.watching.get(key) ?? []) this.watchers.get(w)?.delete(key);
    if (!devices.size) {
      this.watching.delete(key);
      return;
    }
    this.watching.set(key, [...devices]);
    for (const w of devices) {
      const s = this.watchers.get(w) ?? new Set<string>();
      this.watchers.set(w, s);
      s.add(key);
    }
  }

  private compareVnis(name: string, d: Device, ex: DeviceExpect, o: DeviceObservation, f: FindingOf): Finding[] {
    const vf: Finding[] = [];
    if (!ex.vnis.length || !o.vnis) return vf;
    const byVni = new Map(o.vnis.map((v) => [v.vni, v]));
    for (const e of ex.vnis) {
      const v = byVni.get(e.vni);
      if (!v) {
        vf.push(f('live-evpn-vnis', `${name}: VNI ${e.vni} (${e.type}) is not configured`, { vni: e.vni, expectedType: e.type, observedVnis: [...byVni.keys()] }, e.source));
        continue;
      }
      if (v.type !== e.type) vf.push(f('live-evpn-vnis', `${name}: VNI ${e.vni} is ${v.type}, expected ${e.type}`, { vni: e.vni, expectedType: e.type, observedType: v.type }, e.source));
      if (e.type === 'L3' && v.state && v.state !== 'Up') vf.push(f('live-evpn-vnis', `${name}: L3 VNI ${e.vni} is ${v.state}`, { vni: e.vni, state: v.state }, e.source));
      if (e.type === 'L2' && v.type === 'L2') {
        if (v.vtep && v.vtep !== addr(d.vtep)) vf.push(f('live-evpn-vnis', `${name}: VNI ${e.vni} sources VXLAN from ${v.vtep}, expected VTEP ${addr(d.vtep)}`, { vni: e.vni, expected: addr(d.vtep), observed: v.vtep }, e.source));
        const want = setOf(e.remote);
        const got = setOf(v.remoteVteps);
        const missing = e.remote.filter((r) => !got.has(r));
        const extra = v.remoteVteps.filter((r) => !want.has(r));
        if (missing.length || extra.length) {
          const who = (ip: string) => this.model.devices.find((x) => addr(x.vtep) === ip)?.name ?? ip;
          vf.push(f('live-evpn-vnis', `${name}: VNI ${e.vni} remote VTEPs ${missing.length ? `lack ${missing.map((m) => `${m} (${who(m)})`).join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `include unexpected ${extra.map((m) => `${m} (${who(m)})`).join(', ')}` : ''}`, { vni: e.vni, expected: e.remote, observed: v.remoteVteps }, e.source, { elements: { devices: [name, ...missing.map(who), ...extra.map(who)] } }));
        }
      }
    }
    const expected = new Set(ex.vnis.map((x) => x.vni));
    for (const v of o.vnis) if (!expected.has(v.vni)) vf.push(f('live-evpn-vnis', `${name}: unexpected VNI ${v.vni} (${v.type})`, { vni: v.vni, type: v.type, expected: [...expected] }));
    return vf;
  }

  private compareMacs(name: string, ex: DeviceExpect, o: DeviceObservation, f: FindingOf): Finding[] {
    const mf: Finding[] = [];
    if (!o.macs) return mf;
    const seen = new Map(o.macs.map((m) => [`${m.vni}/${m.mac}`, m]));
    for (const e of ex.macs) {
      const m = seen.get(`${e.vni}/${e.mac}`);
      const where = e.local ? `local on ${e.local}` : `behind VTEP ${e.remoteVtep}`;
      if (!m) mf.push(f('live-evpn-macs', `${name}: MAC ${e.mac} of ${e.endpoint} not learned in VNI ${e.vni} (expected ${where})`, { vni: e.vni, mac: e.mac, endpoint: e.endpoint, expected: where }, e.source, { elements: { devices: [name], endpoints: [e.endpoint] } }));
      else if (e.local ? m.type !== 'local' || (m.intf && m.intf !== e.local) : m.type !== 'remote' || m.remoteVtep !== e.remoteVtep) {
        mf.push(f('live-evpn-macs', `${name}: MAC ${e.mac} of ${e.endpoint} in VNI ${e.vni} is ${m.type === 'local' ? `local on ${m.intf}` : `behind VTEP ${m.remoteVtep}`}, expected ${where}`, { vni: e.vni, mac: e.mac, endpoint: e.endpoint, expected: where, observed: m }, e.source, { elements: { devices: [name], endpoints: [e.endpoint] } }));
      }
    }
    return mf;
  }

  /** What `device`'s summary says of its end of the session, as last compared: a spine re-checks only the sessions whose entries changed. */
  private readonly endSeen = new Map<string, string>();
  /** Device -> its BGP summary as its sessions were last brought up to date (endSeen). */
  private readonly bgpSeen = new Map<string, BgpPeerState[] | undefined>();
  private endChanged(s: BgpSession, device: string): boolean {
    const sig = JSON.stringify(peerCandidates(this.obs.get(device)?.bgp ?? [], endNames(s, device)));
    const key = `${s.id}\n${device}`;
    if (this.endSeen.get(key) === sig) return false;
    this.endSeen.set(key, sig);
    return true;
  }

  private peerView(s: BgpSession, me: 'a' | 'b'): { state?: BgpSessionState; reason?: string; observed: boolean } {
    const end = s[me];
    const other = me === 'a' ? s.b : s.a;
    const o = this.obs.get(end.device);
    if (!o) return { observed: false };
    const err = Object.entries(o.errors).find(([c]) => c.startsWith('show bgp'))?.[1];
    if (err) return { reason: err, observed: true };
    const key = end.interface ?? other.address ?? '';
    const aliases = end.interface ? [] : [other.device];
    // Only the entries that can match (by neighbour, address or hostname): a spine has hundreds.
    return { state: bgpSessionState(peerCandidates(o.bgp ?? [], [key, ...aliases]), { key, aliases, vrf: 'default' }, s.afiSafis), observed: true };
  }

  private compareSession(s: BgpSession): Finding[] {
    const problems: string[] = [];
    const evidence: Record<string, unknown> = { session: s.id, afiSafis: s.afiSafis };
    let observedAny = false;
    for (const me of ['a', 'b'] as const) {
      const dev = s[me].device;
      const v = this.peerView(s, me);
      if (!v.observed) continue;
      observedAny = true;
      if (v.reason) {
        problems.push(`${dev}: ${v.reason}`);
        evidence[dev] = { reason: v.reason };
        continue;
      }
      const st = v.state!;
      for (const afi of s.afiSafis) {
        const down = st.down.find((x) => x.afi === AFI_KEYS[afi]);
        if (st.missingAfis.includes(afi)) problems.push(`${dev}: ${afi} not configured towards ${me === 'a' ? s.b.device : s.a.device}`);
        else if (down) problems.push(`${dev}: ${afi} is ${down.state}`);
        // Only where the simulation says the session carries routes: a leaf without VNIs receives no EVPN prefixes.
        else if (st.noPrefixes.includes(afi) && afi !== 'ipv6-unicast' && this.cp.sessionCarries(this.sessionIndex.get(s.id)!, me, afi)) problems.push(`${dev}: ${afi} Established but received no prefixes`);
      }
      evidence[dev] = st.perAfi;
    }
    if (!observedAny || !problems.length) return [];
    // Numbered sessions too (found by address): the correlation explains a link down by its link.
    const link = this.fg.sessionLink(s);
    return [{
      check: 'live-bgp-sessions',
      severity: 'error',
      message: `session ${s.id} not established: ${problems.join('; ')}`,
      evidence: { ...evidence, problems },
      location: s.source,
      elements: { devices: [s.a.device, s.b.device], links: link ? [this.fg.linkName(link)] : [] },
    }];
  }

  /** What the simulation predicts for one probe: judged by who owns the address in the source's VRF. */
  probePrediction(p: ProbeResult): ProbePrediction | undefined {
    const key = `${p.src}>${p.dst}/${p.family}/${p.address}`;
    if (!this.probeExpect.has(key)) {
      const b = this.basis;
      if (!b.probePredictor) {
        // The reachability matrix over this comparison's own simulated control plane.
        const ctx = makeContext(this.fg);
        ctx.memo('sim', () => this.cp);
        b.probePredictor = new ProbePredictor(this.model, this.fg, new ReachabilityModel(ctx));
      }
      this.probeExpect.set(key, b.probePredictor.predict(p));
    }
    return this.probeExpect.get(key);
  }

  private compareProbe(p: ProbeResult): Finding[] {
    const key = `${p.src}>${p.dst}`;
    const exp = this.probePrediction(p);
    if (!exp) return [{ check: 'live-probes', severity: 'error', message: `probe ${key}: endpoint not in the model`, evidence: { ...p } }];
    if (p.answered === exp.answers) return [];
    const a = this.fg.endpoints.get(p.src)!;
    const v = p.family === 6 ? 'IPv6 ' : '';
    const why = exp.reason && exp.predicted !== 'isolated' ? ` (${exp.reason})` : '';
    // The answer was predicted from another owner of the address (the source itself, or the same address in the source's VRF).
    const other = exp.answeredBy && exp.answeredBy !== p.dst ? ` from ${exp.answeredBy === p.src ? 'itself' : exp.answeredBy}, which owns ${p.address} too` : '';
    return [{
      check: 'live-probes',
      severity: 'error',
      message: exp.answers ? `${p.src} -> ${p.dst} (${v}${p.address}): expected ${other ? `an answer${other}` : exp.predicted}, no answer` : `${p.src} -> ${p.dst} (${v}${p.address}): expected ${exp.predicted}${why}, but it answered`,
      evidence: { src: p.src, dst: p.dst, family: p.family, address: p.address, expected: exp.predicted, answers: exp.answers, answeredBy: exp.answeredBy ?? null, answered: p.answered, detail: p.detail ?? null },
      location: a.source,
      elements: { endpoints: [p.src, p.dst], devices: [a.leaf, this.fg.endpoints.get(p.dst)!.leaf] },
    }];
  }

  allFindings(): Finding[] {
    return [...this.findings.values()].flat();
  }

  results(ms = 0): CheckResult[] {
    const by = new Map<string, Finding[]>(LIVE_CHECKS.map((c) => [c.id, []]));
    for (const f of this.allFindings()) by.get(f.check)?.push(f);
    const count = { ...this.basis.examined(), 'live-probes': `${this.probeExpect.size} probes`, 'live-collection': `${this.obs.size} devices` } as Record<string, string>;
    return LIVE_CHECKS.map((c) => {
      const findings = by.get(c.id)!;
      return { check: c, passed: !findings.some((f) => f.severity === 'error'), findings, examined: count[c.id], ms };
    });
  }
}

/** The pure comparison: observed state + model -> one result per live check. */
export function compareLive(model: FabricModel, observed: ObservedState, fg?: FabricGraph, basis?: LiveBasis): CheckResult[] {
  const t0 = performance.now();
  const c = new LiveComparison(model, fg, basis);
  c.updateMany(observed.devices);
  for (const p of observed.probes) c.updateProbe(p);
  return c.results(performance.now() - t0);
}
