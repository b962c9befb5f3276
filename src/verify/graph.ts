/**
 * The fabric as one multi-layer graph, built once from the model and shared by every check
 * (and the HTTP API): devices, interfaces, links (physical), underlay routing adjacencies
 * (BGP/OSPF per link), overlay EVPN sessions, VNIs, VRFs and endpoints. The graphology graph
 * is the queryable picture; beside it sit flat indexes (CSR adjacency over device numbers)
 * that the path-counting algorithms run on, since at 5,000 devices they dominate the time.
 */
import { MultiGraph } from 'graphology';
import type { BgpSession, Device, Endpoint, FabricModel, Interface, Link, OspfAdjacency } from '../model/types.ts';
import { linkKey } from './findings.ts';

export type Layer = 'physical' | 'underlay' | 'overlay';

export interface VniMember {
  device: string;
  kind: 'l2' | 'l3';
  vlan: number;
  vrf: string;
  import: string[];
  export: string[];
  source: Device['source'];
}

/** Undirected adjacency in compressed sparse rows: neighbours of i are targets[offsets[i]..offsets[i+1]). */
export interface Csr {
  n: number;
  offsets: Int32Array;
  targets: Int32Array;
  /** Index into model.links of the link behind each adjacency entry. */
  link: Int32Array;
}

export interface FabricGraph {
  model: FabricModel;
  graph: MultiGraph;
  devices: Device[];
  deviceIndex: Map<string, number>;
  device(name: string): Device | undefined;
  iface(device: string, name: string): Interface | undefined;
  /** The link an interface is cabled to. */
  linkAt(device: string, iface: string): Link | undefined;
  /** The link a BGP session runs over: by its end a's interface (unnumbered), else by its address (numbered); none for sessions between loopbacks. */
  sessionLink(s: BgpSession): Link | undefined;
  linkName(l: Link): string;
  sessionById: Map<string, BgpSession>;
  /** Link index -> underlay adjacencies (BGP session ids or OSPF adjacency ids) running over it. */
  underlayOnLink: Map<number, (BgpSession | OspfAdjacency)[]>;
  /**
   * A memo for what derives from the fabric's part of the model alone (src/verify/checks/types.ts
   * `reads: 'fabric'`: numbering, fabric ports, links, sessions, adjacencies, fabric settings),
   * shared with every graph of a model declared to have the same fabric (shareRouting: a plan's
   * head built from its base). The key must name every other input of the computation.
   */
  fabricMemo<T>(key: string, compute: () => T): T;
  /** Underlay graph: links that carry an underlay routing adjacency. */
  underlay: Csr;
  /** Device indices of VTEPs (leaves with a VTEP address). */
  vteps: number[];
  endpoints: Map<string, Endpoint>;
  /** VNI -> its instances on devices. */
  vnis: Map<number, VniMember[]>;
}

const addr = (cidr: string | undefined) => cidr?.split('/')[0];

/**
 * The graphology picture of the fabric. Built on first use: the checks and the plan run on
 * the flat indexes, and at 5,000 devices this graph alone took seconds and most of the garbage.
 */
function buildMultiGraph(model: FabricModel): MultiGraph {
  const g = new MultiGraph({ allowSelfLoops: false });
  for (const d of model.devices) {
    g.addNode(`dev:${d.name}`, { type: 'device', name: d.name, role: d.role, pod: d.pod, asn: d.asn, vtep: addr(d.vtep) });
    for (const itf of d.interfaces) {
      if (itf.kind === 'fabric' || itf.kind === 'access') {
        const key = `if:${d.name}:${itf.name}`;
        g.addNode(key, { type: 'interface', device: d.name, name: itf.name, kind: itf.kind, mtu: itf.mtu });
        g.addEdge(`dev:${d.name}`, key, { layer: 'physical', kind: 'has' });
      }
    }
  }
  for (const l of model.links) {
    const ka = `if:${l.a.device}:${l.a.interface}`;
    const kb = `if:${l.b.device}:${l.b.interface}`;
    if (g.hasNode(ka) && g.hasNode(kb)) g.addEdgeWithKey(`link:${l.id}`, ka, kb, { layer: 'physical', kind: 'link', mtu: l.mtu });
  }
  for (const s of model.bgpSessions) {
    const a = `dev:${s.a.device}`;
    const b = `dev:${s.b.device}`;
    if (!g.hasNode(a) || !g.hasNode(b)) continue;
    if (s.layer !== 'overlay') g.addEdgeWithKey(`bgp:${s.id}`, a, b, { layer: 'underlay', kind: 'bgp', session: s.id });
    if (s.afiSafis.includes('l2vpn-evpn')) g.addEdgeWithKey(`evpn:${s.id}`, a, b, { layer: 'overlay', kind: 'evpn', session: s.id });
  }
  for (const o of model.ospfAdjacencies) {
    const a = `dev:${o.a.device}`;
    const b = `dev:${o.b.device}`;
    if (g.hasNode(a) && g.hasNode(b)) g.addEdgeWithKey(`ospf:${o.id}`, a, b, { layer: 'underlay', kind: 'ospf', adjacency: o.id });
  }
  const vni = (device: string, n: number, kind: 'l2' | 'l3', vlan: number, vrf: string) => {
    const key = `vni:${n}`;
    if (!g.hasNode(key)) g.addNode(key, { type: 'vni', vni: n });
    g.addEdge(`dev:${device}`, key, { layer: 'overlay', kind: kind === 'l2' ? 'l2vni' : 'l3vni', vlan, vrf });
  };
  for (const d of model.devices) {
    for (const v of d.vrfs) {
      vni(d.name, v.l3vni, 'l3', v.l3vniVlan, v.name);
      const key = `vrf:${v.name}`;
      if (!g.hasNode(key)) g.addNode(key, { type: 'vrf', name: v.name, tenant: v.tenant });
      g.addEdge(`dev:${d.name}`, key, { layer: 'overlay', kind: 'vrf-member' });
    }
    for (const v of d.vlans) vni(d.name, v.l2vni, 'l2', v.vlan, v.vrf);
  }
  for (const e of model.endpoints) {
    g.addNode(`ep:${e.name}`, { type: 'endpoint', name: e.name, vlan: e.vlan, vrf: e.vrf });
    const port = `if:${e.leaf}:${e.port}`;
    if (g.hasNode(port)) g.addEdge(`ep:${e.name}`, port, { layer: 'physical', kind: 'attach' });
  }
  return g;
}

/** What a graph builds from the routing lists alone (links, sessions, OSPF adjacencies) over the device numbering. */
interface RoutingParts {
  linkAt(device: string, iface: string): Link | undefined;
  sessionLink(s: BgpSession): Link | undefined;
  /** Built on first use: of a plan's checks only bgp-session-compat asks, and a head takes its result from the base. */
  readonly sessionById: Map<string, BgpSession>;
  underlayOnLink: Map<number, (BgpSession | OspfAdjacency)[]>;
  underlay: Csr;
}

/**
 * Models whose routing lists (links, sessions, OSPF adjacencies: the very arrays) are another
 * model's, over devices of the same names in the same order: a plan's head built from its base
 * (src/plan/incremental-head.ts says so). The head's graph takes the base's routing parts (read
 * only, holding no device objects) and skips half its build. Only models declared here share:
 * a model changed in place elsewhere never meets parts built before the change.
 */
const routingFrom = new WeakMap<FabricModel, FabricModel>();
const routingOf = new WeakMap<FabricModel, RoutingParts>();

/** `model` holds `from`'s routing lists, unchanged (checked again when its graph is built). */
export function shareRouting(model: FabricModel, from: FabricModel): void {
  routingFrom.set(model, from);
}

/**
 * What derives from the fabric alone, per routing parts: a graph built afresh (a model changed
 * in place and graphed again) has new parts and so a new memo; a head built from its base
 * shares the base's parts (shareRouting), and so its memo.
 */
const fabricMemos = new WeakMap<RoutingParts, Map<string, unknown>>();

function routingParts(model: FabricModel, deviceIndex: Map<string, number>): RoutingParts {
  const devices = model.devices;
  const from = routingFrom.get(model);
  const same = !!from && from.links === model.links && from.bgpSessions === model.bgpSessions && from.ospfAdjacencies === model.ospfAdjacencies && from.devices.length === devices.length && devices.every((d, i) => d.name === from.devices[i].name);
  const kept = same ? routingOf.get(from) : undefined;
  if (kept) {
    routingOf.set(model, kept);
    return kept;
  }
  // Each device's interfaces (and addresses) to link numbers, keyed by the model's own strings:
  // a "device:interface" key is a new string to hash for each of 120,000 ends and 60,000 sessions.
  const links = model.links;
  const byIface: (Map<string, number> | undefined)[] = new Array(devices.length);
  const byAddr: (Map<string, number> | undefined)[] = new Array(devices.length);
  // Ends on devices the model does not have (a broken intent's): keyed by name and interface.
  let stray: Map<string, number> | undefined;
  const put = (end: Link['a'], i: number) => {
    const d = deviceIndex.get(end.device);
    const ip = addr(end.ipv4);
    if (d === undefined) {
      (stray ??= new Map()).set(JSON.stringify([end.device, end.interface]), i);
      if (ip) stray.set(JSON.stringify([end.device, '', ip]), i);
      return;
    }
    (byIface[d] ??= new Map()).set(end.interface, i);
    if (ip) (byAddr[d] ??= new Map()).set(ip, i);
  };
  for (let i = 0; i < links.length; i++) {
    put(links[i].a, i);
    put(links[i].b, i);
  }
  const indexAt = (device: string, iface: string): number | undefined => {
    const d = deviceIndex.get(device);
    return d === undefined ? stray?.get(JSON.stringify([device, iface])) : byIface[d]?.get(iface);
  };
  const indexOfAddress = (device: string, ip: string): number | undefined => {
    const d = deviceIndex.get(device);
    return d === undefined ? stray?.get(JSON.stringify([device, '', ip])) : byAddr[d]?.get(ip);
  };
  const linkAt = (device: string, iface: string): Link | undefined => {
    const i = indexAt(device, iface);
    return i === undefined ? undefined : links[i];
  };
  const sessionIndex = (s: BgpSession): number | undefined => (s.a.interface ? indexAt(s.a.device, s.a.interface) : s.a.address ? indexOfAddress(s.a.device, s.a.address) : undefined);
  const sessionLink = (s: BgpSession): Link | undefined => {
    const i = sessionIndex(s);
    return i === undefined ? undefined : links[i];
  };

  const underlayOnLink = new Map<number, (BgpSession | OspfAdjacency)[]>();
  const onLink = (i: number | undefined, x: BgpSession | OspfAdjacency) => {
    if (i === undefined) return;
    const list = underlayOnLink.get(i);
    if (list) list.push(x);
    else underlayOnLink.set(i, [x]);
  };
  for (const s of model.bgpSessions) {
    if (s.layer === 'overlay' || !deviceIndex.has(s.a.device) || !deviceIndex.has(s.b.device)) continue;
    // The link the session runs over: by interface, else by address.
    onLink(sessionIndex(s), s);
  }
  for (const o of model.ospfAdjacencies) {
    if (!deviceIndex.has(o.a.device) || !deviceIndex.has(o.b.device)) continue;
    // An adjacency runs over the link its end-a interface belongs to, if both ends agree.
    const la = indexAt(o.a.device, o.a.interface);
    if (la !== undefined && la === indexAt(o.b.device, o.b.interface)) onLink(la, o);
  }

  const underlay = buildCsr(devices.length, model.links, (l, i) => {
    if (!underlayOnLink.has(i)) return undefined;
    const a = deviceIndex.get(l.a.device);
    const b = deviceIndex.get(l.b.device);
    return a === undefined || b === undefined || a === b ? undefined : [a, b];
  });

  const sessions = model.bgpSessions;
  let sessionById: Map<string, BgpSession> | undefined;
  const parts: RoutingParts = {
    linkAt,
    sessionLink,
    get sessionById() {
      return (sessionById ??= new Map(sessions.map((s) => [s.id, s])));
    },
    underlayOnLink,
    underlay,
  };
  routingOf.set(model, parts);
  // The base's too: the next head built from it (a process planning push after push) takes them.
  if (same) routingOf.set(from, parts);
  return parts;
}

export function buildFabricGraph(model: FabricModel): FabricGraph {
  const devices = model.devices;
  const deviceIndex = new Map<string, number>();
  devices.forEach((d, i) => deviceIndex.set(d.name, i));
  // A device's interfaces by name, indexed when first asked (a plan's few checks ask few devices).
  const ifaces: (Map<string, Interface> | undefined)[] = new Array(devices.length);
  const iface = (device: string, name: string): Interface | undefined => {
    const i = deviceIndex.get(device);
    if (i === undefined) return undefined;
    let m = ifaces[i];
    if (!m) {
      m = new Map();
      for (const itf of devices[i].interfaces) m.set(itf.name, itf);
      ifaces[i] = m;
    }
    return m.get(name);
  };

  const parts = routingParts(model, deviceIndex);
  const { linkAt, sessionLink, underlayOnLink, underlay } = parts;

  const vnis = new Map<number, VniMember[]>();
  const addVni = (vni: number, m: VniMember) => {
    const list = vnis.get(vni) ?? [];
    vnis.set(vni, list);
    list.push(m);
  };
  for (const d of devices) {
    for (const v of d.vrfs) addVni(v.l3vni, { device: d.name, kind: 'l3', vlan: v.l3vniVlan, vrf: v.name, import: v.routeTargets.import, export: v.routeTargets.export, source: v.source });
    for (const v of d.vlans) addVni(v.l2vni, { device: d.name, kind: 'l2', vlan: v.vlan, vrf: v.vrf, import: v.routeTargets.import, export: v.routeTargets.export, source: v.source });
  }

  const endpoints = new Map<string, Endpoint>();
  for (const e of model.endpoints) endpoints.set(e.name, e);

  const vteps: number[] = [];
  devices.forEach((d, i) => {
    if (d.vtep) vteps.push(i);
  });

  let graph: MultiGraph | undefined;
  return {
    model,
    get graph() {
      return (graph ??= buildMultiGraph(model));
    },
    devices,
    deviceIndex,
    device: (n) => {
      const i = deviceIndex.get(n);
      return i === undefined ? undefined : devices[i];
    },
    iface,
    linkAt,
    sessionLink,
    linkName: (l) => linkKey(l.a, l.b),
    get sessionById() {
      return parts.sessionById;
    },
    underlayOnLink,
    fabricMemo<T>(key: string, compute: () => T): T {
      let m = fabricMemos.get(parts);
      if (!m) fabricMemos.set(parts, (m = new Map()));
      if (!m.has(key)) m.set(key, compute());
      return m.get(key) as T;
    },
    underlay,
    vteps,
    endpoints,
    vnis,
  };
}

/** CSR over device indices from the links `ends` accepts. */
export function buildCsr(n: number, links: Link[], ends: (l: Link, i: number) => [number, number] | undefined): Csr {
  const deg = new Int32Array(n + 1);
  const pairs: number[] = [];
  links.forEach((l, i) => {
    const e = ends(l, i);
    if (!e) return;
    deg[e[0]]++;
    deg[e[1]]++;
    pairs.push(e[0], e[1], i);
  });
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + deg[i];
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n]);
  const link = new Int32Array(offsets[n]);
  for (let k = 0; k < pairs.length; k += 3) {
    const a = pairs[k];
    const b = pairs[k + 1];
    const li = pairs[k + 2];
    targets[fill[a]] = b;
    link[fill[a]++] = li;
    targets[fill[b]] = a;
    link[fill[b]++] = li;
  }
  return { n, offsets, targets, link };
}

/** Shortest-path distances and path counts from one device (BFS, unit cost per hop). */
export function countPaths(csr: Csr, src: number, dist: Int32Array, sigma: Float64Array, queue: Int32Array): void {
  dist.fill(-1);
  sigma.fill(0);
  dist[src] = 0;
  sigma[src] = 1;
  let head = 0;
  let tail = 0;
  queue[tail++] = src;
  const { offsets, targets } = csr;
  while (head < tail) {
    const u = queue[head++];
    const du = dist[u] + 1;
    const su = sigma[u];
    for (let k = offsets[u], end = offsets[u + 1]; k < end; k++) {
      const v = targets[k];
      if (dist[v] < 0) {
        dist[v] = du;
        sigma[v] = su;
        queue[tail++] = v;
      } else if (dist[v] === du) sigma[v] += su;
    }
  }
}
