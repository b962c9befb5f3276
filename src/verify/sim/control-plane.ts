/**
 * The simulated control plane: the underlay table (IPv4 unicast over BGP, or OSPF), which
 * sessions come up (loopback sessions need the underlay), the L2VPN EVPN table (type-3 per
 * L2 VNI, type-2 MACs, type-5 prefixes of each VRF), each routed next hop resolved over the
 * underlay, and route-target import into VNIs and VRFs. Reachability, VTEP flood lists, ECMP
 * counts, `trace`, `model --rib` and the live comparison all read it.
 */
import { keepsEvpnNextHop } from '../../model/evpn-relay.ts';
import type { BgpSession, Device, FabricModel } from '../../model/types.ts';
import { bgpAdjacency, ospfAdjacency, type Adjacency } from './adjacency.ts';
import type { TableSim, RouteState } from './propagate.ts';
import { simulateTables, type TableCache } from './table-store.ts';

export interface SimOptions {
  /**
   * How leaves build VRFs: 'netns' (the lab on kernels without VRF devices) redistributes
   * each leaf's own endpoints as kernel /32 and /128 routes (type-5); 'kernel' learns them
   * from MAC/IP type-2 routes. Remote leaves see the same host routes either way.
   */
  vrfBackend?: 'netns' | 'kernel';
}

export interface RibNextHop {
  /** Next-hop address (VTEP, peer address) when there is one. */
  address?: string;
  /** Outgoing interface (unnumbered sessions, connected routes). */
  interface?: string;
  /** Device behind the next hop. */
  device?: string;
}

export interface RibRoute {
  vrf: string;
  prefix: string;
  protocol: 'connected' | 'kernel' | 'bgp' | 'ospf';
  nextHops: RibNextHop[];
  /** BGP: AS_PATH of the best path. */
  asPath?: number[];
  /** Device that originated the route. */
  origin: string;
  /** EVPN route type the BGP route came from (VRF tables). */
  evpnType?: 5 | 2;
}

const addr = (c?: string) => c?.split('/')[0] ?? '';
/** localeCompare(b, undefined, { numeric: true }) without building a collator per comparison. */
const numericOrder = new Intl.Collator(undefined, { numeric: true });

/** A prefix a leaf's VRF originates: its networks and hosts, and its service nodes' VIPs (bgp, via the nodes). */
export interface LocalPrefix {
  prefix: string;
  protocol: 'connected' | 'kernel' | 'bgp';
  host: boolean;
  vlan: number;
  via?: { address: string; device: string }[];
}

const rtMatch = (exp: string[], imp: string[]) => exp.some((x) => imp.includes(x));

export class ControlPlane {
  readonly model: FabricModel;
  readonly index: Map<string, number>;
  readonly underlay: TableSim;
  readonly evpn?: TableSim;
  /** Per model.bgpSessions: expected Established. */
  readonly sessionUp: Uint8Array;
  readonly options: Required<SimOptions>;
  private readonly vtepOf: string[];

  /**
   * `tables`: where the underlay and EVPN tables come from (default: simulated here;
   * table-store.ts). `fabric`: a memo shared with models of the same fabric
   * (FabricGraph.fabricMemo): the underlay adjacency and which sessions come up derive from the
   * fabric alone, so a head built from its base takes the base's (60,000 sessions at 5,000
   * devices).
   */
  constructor(model: FabricModel, index?: Map<string, number>, options: SimOptions = {}, tables: TableCache = simulateTables, fabric: <T>(key: string, compute: () => T) => T = (_, compute) => compute()) {
    this.model = model;
    this.options = { vrfBackend: options.vrfBackend ?? 'netns' };
    this.index = index ?? new Map(model.devices.map((d, i) => [d.name, i]));
    const devs = model.devices;
    this.vtepOf = devs.map((d) => addr(d.vtep));
    let uadj: Adjacency;
    let uorigins: number[];
    const under = fabric('sim-underlay-adjacency', () => {
      if (model.fabric.underlay === 'ospf') return { adj: ospfAdjacency(model, this.index), origins: devs.map((_, i) => i).filter((i) => devs[i].ospf) };
      const adj = bgpAdjacency(model, 'ipv4-unicast', this.index, (s) => !this.loopbackSession(s));
      const origins: number[] = [];
      for (let i = 0; i < devs.length; i++) if (adj.offsets[i + 1] > adj.offsets[i]) origins.push(i);
      return { adj, origins };
    });
    uadj = under.adj;
    uorigins = under.origins;
    this.underlay = tables.table(uadj, uorigins, false);
    this.sessionUp = fabric('sim-sessions-up', () => {
      const up = new Uint8Array(model.bgpSessions.length);
      model.bgpSessions.forEach((s, i) => {
        const a = this.index.get(s.a.device);
        const b = this.index.get(s.b.device);
        if (a === undefined || b === undefined) return;
        // Sessions between loopbacks need each end to reach the other's loopback.
        up[i] = !this.loopbackSession(s) || (this.reaches(b, a) && this.reaches(a, b)) ? 1 : 0;
      });
      return up;
    });
    if (model.bgpSessions.some((s) => s.afiSafis.includes('l2vpn-evpn'))) {
      // Which VTEPs keep the EVPN next hop depends on their VNIs (a tenant's): part of the key.
      const keeps = Buffer.from(Uint8Array.from(devs, (d) => (keepsEvpnNextHop(d) ? 1 : 0))).toString('latin1');
      const eadj = fabric(`sim-evpn-adjacency:${keeps}`, () => bgpAdjacency(model, 'l2vpn-evpn', this.index, (_, i) => this.sessionUp[i] === 1));
      const eorigins = devs.map((_, i) => i).filter((i) => this.originatesEvpn(i));
      this.evpn = tables.table(eadj, eorigins, true);
    }
  }

  /**
   * Whether a device has EVPN routes of its own: a type-3 per L2 VNI, or a VRF prefix (type-5).
   * A VRF without a local network (a border leaf holding only the L3 VNI) advertises nothing,
   * so its sessions receive nothing from it.
   */
  private originatesEvpn(v: number): boolean {
    const d = this.model.devices[v];
    if (!d.vtep) return false;
    return d.vlans.length > 0 || d.vrfs.some((f) => this.localVrfPrefixes(v, f.name).length > 0);
  }

  /** underlay.route(o, v) !== undefined, without building the route (60,000 sessions ask it twice). */
  private reaches(o: number, v: number): boolean {
    return o === v ? this.underlay.isOrigin(o) : this.underlay.has(o, v);
  }

  private loopbackSession(s: BgpSession): boolean {
    if (s.a.interface) return false;
    const peer = this.model.devices[this.index.get(s.b.device) ?? -1];
    return !!peer && addr(peer.loopback) === s.b.address;
  }

  device(name: string): Device | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.model.devices[i];
  }

  /** v's underlay route to origin o's loopback and VTEP. */
  underlayRoute(o: number, v: number): RouteState | undefined {
    return o === v ? undefined : this.underlay.route(o, v);
  }

  /** v's underlay routes to every other VTEP it reaches, with their ECMP counts (what `live-underlay-ecmp` expects). */
  vtepRoutes(v: number): { prefix: string; device: string; nexthops: number }[] {
    const devs = this.model.devices;
    // A VTEP's /32 is the last of its device's default-table prefixes (after the loopback's, when they differ).
    const { prefixes } = this.defaultOrder();
    const out: { prefix: string; device: string; nexthops: number }[] = [];
    for (let t = 0; t < devs.length; t++) {
      if (t === v || !devs[t].vtep) continue;
      const nexthops = this.underlay.ecmp(t, v);
      if (nexthops) out.push({ prefix: prefixes[t][prefixes[t].length - 1], device: devs[t].name, nexthops });
    }
    return out;
  }

  /** o's EVPN routes as v uses them: accepted, and the next hop resolved over the underlay. */
  evpnRoute(o: number, v: number): RouteState | undefined {
    if (!this.evpn || o === v) return undefined;
    const r = this.evpn.route(o, v);
    if (!r) return undefined;
    if (r.nextHop !== v && !this.underlay.has(r.nextHop, v)) return undefined;
    return r;
  }

  /** evpnRoute(o, v) !== undefined without building it (hot path of the reachability matrix). */
  evpnOk(o: number, v: number): boolean {
    if (!this.evpn || o === v) return false;
    const nh = this.evpn.nextHop(o, v);
    return nh >= 0 && (nh === v || this.underlay.has(nh, v));
  }

  private cleanMemo?: Uint8Array;
  /**
   * VTEPs that exchange EVPN routes with every other VTEP in both directions, decided per twin
   * class: the reachability matrix needs exact per-pair answers only for the others.
   */
  clean(): Uint8Array {
    if (this.cleanMemo) return this.cleanMemo;
    const n = this.model.devices.length;
    const out = new Uint8Array(n);
    this.cleanMemo = out;
    const t = this.evpn;
    if (!t) return out;
    const origins = this.evpnOrigins();
    const reps = t.reps;
    const classOk = reps.map((r) => origins.every((v) => v === r || this.evpnOk(r, v)));
    const own = new Set(t.ownRuns());
    const byAsn = new Map<number, number[]>();
    for (const v of origins) {
      const l = byAsn.get(this.model.devices[v].asn) ?? [];
      byAsn.set(this.model.devices[v].asn, l);
      l.push(v);
    }
    for (const v of origins) {
      if (own.has(v) || !classOk[t.classOf[v]]) continue;
      // Devices sharing v's ASN without allowas-in drop each other's routes.
      if (byAsn.get(this.model.devices[v].asn)!.some((w) => w !== v && !(this.evpnOk(w, v) && this.evpnOk(v, w)))) continue;
      out[v] = reps.every((r) => r === v || this.evpnOk(r, v)) ? 1 : 0;
    }
    return out;
  }

  /** Why v does not use o's EVPN routes (undefined when it does). */
  evpnProblem(o: number, v: number): string | undefined {
    const devs = this.model.devices;
    const [on, vn] = [devs[o].name, devs[v].name];
    if (o === v) return undefined;
    if (!this.evpn || !this.evpn.isOrigin(o)) return `${on} originates no EVPN routes`;
    const r = this.evpn.route(o, v);
    if (r) {
      if (r.nextHop === v || this.underlayRoute(r.nextHop, v)) return undefined;
      return `${vn} has no underlay route to ${devs[r.nextHop].name}'s VTEP ${this.vtepOf[r.nextHop]}, the next hop of ${on}'s EVPN routes${this.underlayWhy(r.nextHop, v)}`;
    }
    return `${vn} has no EVPN route from ${on}${this.why(this.evpn, o, v)}`;
  }

  private underlayWhy(o: number, v: number): string {
    return this.why(this.underlay, o, v);
  }

  private why(t: TableSim, o: number, v: number): string {
    const devs = this.model.devices;
    const reasons = t.explain(o, v);
    const loop = reasons.find((x) => x.reason === 'as-loop' || x.reason === 'own-asn');
    if (loop) return `: ${devs[v].name} drops it because AS_PATH ${loop.asPath!.join(' ')} holds its own ASN ${devs[v].asn} (no allowas-in)`;
    const cl = reasons.find((x) => x.reason === 'cluster-loop');
    if (cl) return `: ${devs[v].name} drops it (its cluster id is in the cluster list)`;
    if (!reasons.length) return `: ${devs[v].name} has no session carrying it`;
    return `: none of ${reasons.map((x) => devs[x.neighbor].name).join(', ')} advertises it to ${devs[v].name}`;
  }

  /** Remote VTEPs of v's L2 VNI (the flood list), from imported type-3 routes. */
  floodList(v: number, l2vni: number): string[] {
    const d = this.model.devices[v];
    const mine = d.vlans.find((x) => x.l2vni === l2vni);
    if (!mine || !this.evpn) return [];
    const out = new Set<string>();
    for (const o of this.exporters('vlans', mine.routeTargets.import)) {
      if (o === v) continue;
      const od = this.model.devices[o];
      if (!od.vlans.some((x) => rtMatch(x.routeTargets.export, mine.routeTargets.import))) continue;
      if (this.evpnRoute(o, v)) out.add(this.vtepOf[o]);
    }
    return [...out].sort();
  }

  private origins?: number[];
  evpnOrigins(): number[] {
    if (!this.origins) {
      this.origins = [];
      if (this.evpn) for (let i = 0; i < this.model.devices.length; i++) if (this.evpn.isOrigin(i)) this.origins.push(i);
    }
    return this.origins;
  }

  private exportIndex?: Record<'vlans' | 'vrfs', Map<string, number[]>>;
  /**
   * EVPN origins, ascending, with an L2 VNI ('vlans') or a VRF ('vrfs') exporting one of the
   * route targets `imports`: whom a VNI or VRF imports from, found by route target instead of
   * asking every origin.
   */
  protected exporters(kind: 'vlans' | 'vrfs', imports: string[]): number[] {
    if (!this.exportIndex) {
      const index = { vlans: new Map<string, number[]>(), vrfs: new Map<string, number[]>() };
      for (const o of this.evpnOrigins()) {
        const d = this.model.devices[o];
        for (const k of ['vlans', 'vrfs'] as const) {
          for (const rt of new Set(d[k].flatMap((x) => x.routeTargets.export))) {
            const l = index[k].get(rt);
            if (l) l.push(o);
            else index[k].set(rt, [o]);
          }
        }
      }
      this.exportIndex = index;
    }
    const lists = imports.map((rt) => this.exportIndex![kind].get(rt) ?? []);
    return lists.length === 1 ? lists[0] : [...new Set(lists.flat())].sort((a, b) => a - b);
  }

  /** Per device, per VRF: localVrfPrefixes (every VRF table importing it reads it again). */
  private readonly localMemo: (Map<string, readonly LocalPrefix[]> | undefined)[] = [];
  /** Prefixes v's VRF originates into EVPN (redistribute connected and kernel), with their kind. */
  localVrfPrefixes(v: number, vrf: string): readonly LocalPrefix[] {
    const memo = (this.localMemo[v] ??= new Map());
    let out = memo.get(vrf);
    if (!out) memo.set(vrf, (out = this.originated(v, vrf)));
    return out;
  }

  protected originated(v: number, vrf: string): LocalPrefix[] {
    const d = this.model.devices[v];
    const out: LocalPrefix[] = [];
    for (const x of d.vlans) {
      if (x.vrf !== vrf) continue;
      if (x.gateway4) out.push({ prefix: network(x.gateway4), protocol: 'connected', host: false, vlan: x.vlan });
      if (x.gateway6) out.push({ prefix: network6(x.gateway6), protocol: 'connected', host: false, vlan: x.vlan });
      if (!x.gateway4 && !x.gateway6) continue;
      for (const h of x.hosts) {
        if (h.ipv4 && x.gateway4) out.push({ prefix: `${h.ipv4}/32`, protocol: 'kernel', host: true, vlan: x.vlan });
        if (h.ipv6 && x.gateway6) out.push({ prefix: `${canon6(h.ipv6)}/128`, protocol: 'kernel', host: true, vlan: x.vlan });
      }
    }
    // Service prefixes (VIPs) learned over eBGP from the service nodes on this leaf.
    const byPrefix = new Map<string, LocalPrefix>();
    for (const n of this.model.serviceNodes ?? []) {
      if (n.leaf !== d.name) continue;
      for (const a of n.advertise) {
        if (a.vrf !== vrf) continue;
        const v6 = a.prefix.includes(':');
        const leg = n.legs.find((l) => l.vrf === vrf && (v6 ? l.ipv6 : l.ipv4));
        if (!leg) continue;
        const prefix = v6 ? `${canon6(a.prefix.split('/')[0])}/${a.prefix.split('/')[1] ?? 128}` : a.prefix;
        const hop = { address: v6 ? canon6(addr(leg.ipv6)) : addr(leg.ipv4), device: n.name };
        const prev = byPrefix.get(prefix);
        if (prev) prev.via!.push(hop);
        else {
          const p: LocalPrefix = { prefix, protocol: 'bgp', host: false, vlan: leg.vlan, via: [hop] };
          byPrefix.set(prefix, p);
          out.push(p);
        }
      }
    }
    return out;
  }

  /** v's routing table of one VRF: local networks, and EVPN routes imported by route target. */
  vrfRib(v: number, vrf: string): RibRoute[] {
    const d = this.model.devices[v];
    const f = d.vrfs.find((x) => x.name === vrf);
    if (!f) return [];
    const by = new Map<string, RibRoute>();
    for (const p of this.localVrfPrefixes(v, vrf)) {
      // Kernel-VRF leaves know their own hosts as neighbours, not routes.
      if (p.host && this.options.vrfBackend === 'kernel') continue;
      const nextHops = p.via ? [...p.via].sort((a, b) => a.address.localeCompare(b.address)) : [{ interface: `VLAN ${p.vlan}` }];
      by.set(p.prefix, { vrf, prefix: p.prefix, protocol: p.protocol, nextHops, origin: d.name, ...(p.via ? { asPath: [this.model.serviceNodes!.find((n) => n.name === p.via![0].device)!.asn] } : {}) });
    }
    const remote = new Map<string, { r: RouteState; o: number; host: boolean; origin: number[] }[]>();
    for (const o of this.exporters('vrfs', f.routeTargets.import)) {
      if (o === v) continue;
      const od = this.model.devices[o];
      const imported = od.vrfs.filter((g) => rtMatch(g.routeTargets.export, f.routeTargets.import));
      if (!imported.length) continue;
      const r = this.evpnRoute(o, v);
      if (!r) continue;
      for (const g of imported) {
        for (const p of this.localVrfPrefixes(o, g.name)) {
          const l = remote.get(p.prefix) ?? [];
          remote.set(p.prefix, l);
          // A service node's prefix carries the node's ASN behind the originating leaf's.
          l.push({ r, o, host: p.host, origin: p.via ? [this.model.serviceNodes!.find((n) => n.name === p.via![0].device)!.asn] : [] });
        }
      }
    }
    const iBgpMetric = (x: { r: RouteState }) => (x.r.ebgp ? 0 : this.underlayRoute(x.r.nextHop, v)?.len ?? 0);
    for (const [prefix, cands] of remote) {
      if (by.has(prefix)) continue;
      let best = cands[0];
      for (const c of cands) if (c.r.len < best.r.len || (c.r.len === best.r.len && iBgpMetric(c) < iBgpMetric(best))) best = c;
      const multi = cands.filter((c) => c.r.len === best.r.len && c.r.ebgp === best.r.ebgp && iBgpMetric(c) === iBgpMetric(best));
      const hops = new Map<string, RibNextHop>();
      for (const c of multi) hops.set(this.vtepOf[c.r.nextHop], { address: this.vtepOf[c.r.nextHop], device: this.model.devices[c.r.nextHop].name });
      by.set(prefix, { vrf, prefix, protocol: 'bgp', nextHops: [...hops.values()].sort((a, b) => a.address!.localeCompare(b.address!)), asPath: [...best.r.asPath, ...best.origin], origin: this.model.devices[best.o].name, evpnType: best.host && this.options.vrfBackend === 'kernel' ? 2 : 5 });
    }
    return [...by.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
  }

  private defaultOrderMemo?: { prefixes: string[][]; rank: number[][] };
  /**
   * Each device's loopback and VTEP /32s, and each one's place in a default table's order
   * (numeric collation; prefixes that collate equal share a place): sorted once for the
   * fabric, not once per table.
   */
  private defaultOrder(): { prefixes: string[][]; rank: number[][] } {
    if (this.defaultOrderMemo) return this.defaultOrderMemo;
    const prefixes = this.model.devices.map((d) => [...new Set([`${addr(d.loopback)}/32`, ...(d.vtep ? [`${addr(d.vtep)}/32`] : [])])]);
    const sorted = [...new Set(prefixes.flat())].sort((a, b) => numericOrder.compare(a, b));
    const place = new Map<string, number>();
    sorted.forEach((p, i) => place.set(p, i > 0 && numericOrder.compare(sorted[i - 1], p) === 0 ? place.get(sorted[i - 1])! : i));
    return (this.defaultOrderMemo = { prefixes, rank: prefixes.map((ps) => ps.map((p) => place.get(p)!)) });
  }

  /**
   * v's default table: its own loopback/VTEP, and every underlay origin's loopback and VTEP,
   * in numeric order (routes whose prefixes collate equal in the order they were added).
   */
  defaultRib(v: number): RibRoute[] {
    const devs = this.model.devices;
    const d = devs[v];
    const { prefixes, rank } = this.defaultOrder();
    const own = prefixes[v];
    const out: RibRoute[] = [];
    const place: number[] = [];
    own.forEach((p, i) => {
      out.push({ vrf: 'default', prefix: p, protocol: 'connected', nextHops: [{ interface: 'lo' }], origin: d.name });
      place.push(rank[v][i]);
    });
    const t = this.underlay;
    const proto = t.adj.protocol;
    const hopOf = new Map<number, RibNextHop>();
    const hop = (k: number): RibNextHop => {
      let h = hopOf.get(k);
      if (!h) {
        const via = t.adj.via[k];
        const nb = devs[t.adj.nbr[k]].name;
        h = via.includes('.') || via.includes(':') ? { address: via, device: nb } : { interface: via, device: nb };
        hopOf.set(k, h);
      }
      return h;
    };
    // Twins offering the same entries share one array of next hops.
    const hopsOf = new Map<number[], RibNextHop[]>();
    t.routesAt(v, (o, asPath, entries) => {
      let nextHops = hopsOf.get(entries);
      if (!nextHops) hopsOf.set(entries, (nextHops = entries.map(hop)));
      const ps = prefixes[o];
      const origin = devs[o].name;
      for (let i = 0; i < ps.length; i++) {
        const prefix = ps[i];
        if (prefix === own[0] || prefix === own[1]) continue;
        out.push(proto === 'bgp' ? { vrf: 'default', prefix, protocol: proto, nextHops, asPath, origin } : { vrf: 'default', prefix, protocol: proto, nextHops, origin });
        place.push(rank[o][i]);
      }
    });
    // A stable sort by place: place * n + position, sorted as numbers.
    const n = out.length;
    const keys = Float64Array.from(place, (x, i) => x * n + i).sort();
    return Array.from(keys, (x) => out[x % n]);
  }

  rib(device: string, vrf?: string): RibRoute[] {
    const v = this.index.get(device);
    if (v === undefined) return [];
    if (vrf && vrf !== 'default') return this.vrfRib(v, vrf);
    return this.defaultRib(v);
  }

  /**
   * Whether the `me` end of a session should receive prefixes in an address family: some
   * origin's route that the neighbour advertises and `me` accepts.
   */
  sessionCarries(sessionIndex: number, me: 'a' | 'b', afi: 'ipv4-unicast' | 'l2vpn-evpn'): boolean {
    const s = this.model.bgpSessions[sessionIndex];
    if (!this.sessionUp[sessionIndex]) return false;
    const t = afi === 'l2vpn-evpn' ? this.evpn : this.model.fabric.underlay === 'ospf' ? undefined : this.underlay;
    if (!t) return false;
    const v = this.index.get(s[me].device)!;
    const a = t.adj;
    const entries: number[] = [];
    for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) if (a.session[k] === sessionIndex) entries.push(k);
    if (!entries.length) return false;
    for (let o = 0; o < this.model.devices.length; o++) {
      if (o === v || !t.isOrigin(o)) continue;
      if (t.explainAccepts(o, v, entries)) return true;
    }
    return false;
  }
}

function toInt(ip: string): number {
  return ip.split('.').reduce((x, p) => x * 256 + Number(p), 0);
}

/** "10.10.10.1/24" -> "10.10.10.0/24" */
export function network(cidr: string): string {
  const [ip, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const n = Math.floor(toInt(ip) / size) * size;
  return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${len}`;
}

function expand6(ip: string): number[] {
  const [h, t] = ip.split('::');
  const hs = h ? h.split(':') : [];
  const ts = t !== undefined && t ? t.split(':') : [];
  const mid = ip.includes('::') ? 8 - hs.length - ts.length : 0;
  return [...hs, ...Array(mid).fill('0'), ...ts].map((x) => parseInt(x, 16));
}

/** RFC 5952 text of an IPv6 address (what FRR prints). */
export function canon6(ip: string): string {
  const g = expand6(ip);
  let bs = -1, bl = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bl && j - i > 1) { bs = i; bl = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bs < 0) return hex.join(':');
  return `${hex.slice(0, bs).join(':')}::${hex.slice(bs + bl).join(':')}`;
}

/** "fd00:10:10::1/64" -> "fd00:10:10::/64" */
export function network6(cidr: string): string {
  const [ip, lenS] = cidr.split('/');
  const len = Number(lenS);
  const g = expand6(ip);
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, len - i * 16));
    g[i] = keep === 0 ? 0 : g[i] & ((0xffff << (16 - keep)) & 0xffff);
  }
  return `${canon6(g.map((x) => x.toString(16)).join(':'))}/${len}`;
}
