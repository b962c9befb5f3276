/**
 * The per-device view templates read. Everything a template needs that is not a plain field
 * of the model (neighbours seen from this device, per-VRF network lists, split addresses,
 * the system MAC...) is computed here, once, in typed code; templates only print.
 */
import { keepsEvpnNextHop } from '../model/evpn-relay.ts';
import { Address6 } from 'ip-address';
import { servicePeerings } from '../model/service-nodes.ts';
import type {
  BgpEnd, BgpSession, Device, DeviceVlan, DeviceVrf, FabricModel, Interface, OspfAdjacency, Role, SourceLocation,
} from '../model/types.ts';

export interface Addr {
  /** "10.0.0.1/32" */
  cidr: string;
  address: string;
  prefixLen: number;
  /** Dotted netmask for IPv4, empty for IPv6. */
  mask: string;
  family: 4 | 6;
}

export interface InterfaceView {
  name: string;
  kind: Interface['kind'];
  description: string;
  mtu: number;
  ipv4?: Addr;
  ipv4Secondary: Addr[];
  ipv6?: Addr;
  /** Every address, primary first. */
  addresses: Addr[];
  unnumbered: boolean;
  peer?: { device: string; interface: string; address?: string };
  accessVlan?: number;
  taggedVlans: number[];
  endpoints: string[];
  /** OSPF settings when the interface takes part in the OSPF underlay. */
  ospf?: OspfInterfaceView & { area: string };
  source: SourceLocation;
}

export interface NeighborView {
  /** How the platform names the neighbor: the interface (unnumbered) or the peer address. */
  id: string;
  /** Peer device name. */
  peer: string;
  description: string;
  type: 'ebgp' | 'ibgp';
  layer: BgpSession['layer'];
  /** Unnumbered: the local interface the session runs over. */
  interface?: string;
  /** Numbered: the peer's address. */
  address?: string;
  remoteAs: number;
  /** Sessions between loopbacks: the local loopback interface used as source. */
  updateSource?: string;
  multihop: boolean;
  ipv4Unicast: boolean;
  evpn: boolean;
  /** This device reflects routes to the peer (iBGP RR). */
  routeReflectorClient: boolean;
  /** eBGP overlay transit (spines): keep the VTEP next hop of EVPN routes. */
  evpnNextHopUnchanged: boolean;
  /** Accept routes holding this device's own ASN this many times (0: no allowas-in). */
  allowAsIn: number;
  source: SourceLocation;
}

export interface BgpView {
  asn: number;
  routerId: string;
  neighbors: NeighborView[];
  /** Any neighbor carries IPv4 unicast / EVPN. */
  ipv4Unicast: boolean;
  evpn: boolean;
  routeReflector: boolean;
  /** Prefixes this device originates into the BGP underlay (loopback, VTEP). */
  networks: Addr[];
  /** Number of paths for ECMP. */
  maxPaths: number;
  /** allowas-in of the device's eBGP sessions (0: none); the same on every session. */
  allowAsIn: number;
  /** Junos `loops`: occurrences of the own ASN accepted, counting the one allowas-in permits. */
  asLoops: number;
}

export interface OspfInterfaceView {
  name: string;
  passive: boolean;
  networkType: 'point-to-point' | 'broadcast';
  helloInterval: number;
  deadInterval: number;
  mtu: number;
}

export interface OspfView {
  area: string;
  routerId: string;
  interfaces: OspfInterfaceView[];
}

export interface VlanView {
  vlan: number;
  name: string;
  vrf: string;
  tenant: string;
  l2vni: number;
  rd: string;
  rtImport: string[];
  rtExport: string[];
  /**
   * Import and export are both exactly the automatic route target of the device's BGP AS and
   * the VNI (ASN:VNI): platforms that derive it (FRR) need not configure it, and FRR hides it
   * from its running config, so rendering it would make every reload re-apply it.
   */
  autoRouteTargets: boolean;
  gateway4?: Addr;
  gateway6?: Addr;
  /** With an IPv6 gateway: its link-local, the anycast MAC's EUI-64 (the same on every leaf). */
  gatewayLinkLocal?: string;
  anycastMac: string;
  mtu: number;
  dhcpRelay: string[];
  untaggedPorts: string[];
  taggedPorts: string[];
  /** Local endpoints' host routes ("10.10.10.12/32"), for VRF-namespace labs (see sh-vnis). */
  hostRoutes: string[];
  source: SourceLocation;
}

export interface VrfView {
  name: string;
  tenant: string;
  id: number;
  l3vni: number;
  l3vniVlan: number;
  rd: string;
  rtImport: string[];
  rtExport: string[];
  vlans: VlanView[];
  hasIpv4: boolean;
  hasIpv6: boolean;
  /** Router MAC of this device in this VRF (symmetric IRB), locally administered. */
  routerMac: string;
  /** eBGP with service nodes (load balancers...) on this leaf, announcing their VIPs here. */
  servicePeers: ServicePeerView[];
  source: SourceLocation;
}

export interface ServicePeerView {
  node: string;
  address: string;
  ipv4: boolean;
  ipv6: boolean;
  remoteAs: number;
  /** Prefix list of what the leaf accepts from the node (never empty: deny-all when it announces nothing). */
  prefixList: string;
  prefixes: { prefix: string; seq: number }[];
  source: SourceLocation;
}

export interface StaticRouteView {
  prefix: Addr;
  nextHop: string;
  interface?: string;
  description: string;
}

export interface DeviceView {
  hostname: string;
  id: number;
  role: Role;
  platform: string;
  pod: number;
  fabric: {
    name: string;
    site?: string;
    underlay: FabricModel['fabric']['underlay'];
    overlayTransport: 'ebgp' | 'ibgp';
    mtu: number;
    hostMtu: number;
    anycastMac: string;
  };
  asn: number;
  routerId: string;
  loopback: { name: string; addr: Addr };
  /** Leaves: VTEP source. sameAsLoopback: a second address on the loopback interface. */
  vtep?: { name: string; addr: Addr; sameAsLoopback: boolean };
  /** Locally administered MAC derived from the device id. */
  systemMac: string;
  mgmt: { name: string; addr: Addr; gateway?: string };
  interfaces: InterfaceView[];
  fabricInterfaces: InterfaceView[];
  accessInterfaces: InterfaceView[];
  bgp?: BgpView;
  ospf?: OspfView;
  /** EVPN VTEP (leaves carrying VNIs). */
  evpn?: { l2vnis: VlanView[]; l3vnis: VrfView[] };
  vrfs: VrfView[];
  /** Some VRF peers with a service node (the templates then define their prefix lists). */
  hasServicePeers: boolean;
  vlans: VlanView[];
  staticRoutes: StaticRouteView[];
  source: SourceLocation;
}

/** Lookups over the whole model, built once per render. */
export interface ModelIndex {
  model: FabricModel;
  devices: Map<string, Device>;
  sessions: Map<string, BgpSession>;
  ospfByDevice: Map<string, OspfAdjacency[]>;
}

/**
 * Sessions by id, per session list: a head model built from its base holds the base's list
 * (src/plan/incremental-head.ts, read-only like every model), so a process planning one pull
 * request after another indexes the 60,000 sessions of the 5,000-device shape once.
 */
const sessionIndexes = new WeakMap<BgpSession[], Map<string, BgpSession>>();

export function indexModel(model: FabricModel): ModelIndex {
  const devices = new Map<string, Device>();
  for (const d of model.devices) devices.set(d.name, d);
  let sessions = sessionIndexes.get(model.bgpSessions);
  if (!sessions) {
    sessions = new Map();
    for (const s of model.bgpSessions) sessions.set(s.id, s);
    sessionIndexes.set(model.bgpSessions, sessions);
  }
  const ospfByDevice = new Map<string, OspfAdjacency[]>();
  for (const a of model.ospfAdjacencies) {
    for (const end of [a.a, a.b]) {
      let l = ospfByDevice.get(end.device);
      if (!l) ospfByDevice.set(end.device, (l = []));
      l.push(a);
    }
  }
  return { model, devices, sessions, ospfByDevice };
}

const MASKS4 = Array.from({ length: 33 }, (_, n) => {
  const m = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
});

export function addr(cidr: string): Addr {
  const slash = cidr.indexOf('/');
  const family = cidr.includes(':') ? 6 : 4;
  const raw = slash < 0 ? cidr : cidr.slice(0, slash);
  // The canonical (RFC 5952) form is what devices print back: keeps diffs and re-runs quiet.
  const address = family === 6 ? new Address6(raw).correctForm() : raw;
  const prefixLen = slash < 0 ? (family === 4 ? 32 : 128) : Number(cidr.slice(slash + 1));
  return { cidr: `${address}/${prefixLen}`, address, prefixLen, mask: family === 4 ? MASKS4[prefixLen] : '', family };
}

function hex2(n: number): string {
  return (n & 255).toString(16).padStart(2, '0');
}

/** 02:4e:<id:16>:<sub:16>: locally administered, unique per (device id, sub). */
export function derivedMac(id: number, sub: number): string {
  return ['02', '4e', hex2(id >> 8), hex2(id), hex2(sub >> 8), hex2(sub)].join(':');
}

function sourced<T extends { source: SourceLocation }>(obj: Omit<T, 'source'>, source: SourceLocation): T {
  (obj as T).source = source;
  return obj as T;
}

function interfaceView(i: Interface): InterfaceView {
  const ipv4 = i.ipv4 ? addr(i.ipv4) : undefined;
  const ipv4Secondary = (i.ipv4Secondary ?? []).map(addr);
  const ipv6 = i.ipv6 ? addr(i.ipv6) : undefined;
  return sourced<InterfaceView>({
    name: i.name,
    kind: i.kind,
    description: i.description,
    mtu: i.mtu,
    ipv4,
    ipv4Secondary,
    ipv6,
    addresses: [...(ipv4 ? [ipv4] : []), ...ipv4Secondary, ...(ipv6 ? [ipv6] : [])],
    unnumbered: i.unnumbered === true,
    peer: i.peer ? { device: i.peer.device, interface: i.peer.interface, address: i.peer.ipv4 ? addr(i.peer.ipv4).address : undefined } : undefined,
    accessVlan: i.accessVlan,
    taggedVlans: i.taggedVlans ?? [],
    endpoints: i.endpoints ?? [],
  }, i.source);
}

function vlanView(v: DeviceVlan, ifaces: InterfaceView[], asn: number | undefined): VlanView {
  const untagged: string[] = [];
  const tagged: string[] = [];
  for (const p of v.ports) {
    const i = ifaces.find((x) => x.name === p);
    if (i && i.taggedVlans.includes(v.vlan)) tagged.push(p);
    else untagged.push(p);
  }
  return sourced<VlanView>({
    vlan: v.vlan,
    name: v.name,
    vrf: v.vrf,
    tenant: v.tenant,
    l2vni: v.l2vni,
    rd: v.rd,
    rtImport: v.routeTargets.import,
    rtExport: v.routeTargets.export,
    autoRouteTargets: asn !== undefined && [...v.routeTargets.import, ...v.routeTargets.export].every((rt) => rt === `${asn}:${v.l2vni}`) && v.routeTargets.import.length === 1 && v.routeTargets.export.length === 1,
    gateway4: v.gateway4 ? addr(v.gateway4) : undefined,
    gateway6: v.gateway6 ? addr(v.gateway6) : undefined,
    gatewayLinkLocal: v.gateway6 ? eui64LinkLocal(v.anycastMac) : undefined,
    anycastMac: v.anycastMac,
    mtu: v.mtu,
    dhcpRelay: v.dhcpRelay,
    untaggedPorts: untagged,
    taggedPorts: tagged,
    hostRoutes: v.hosts.flatMap((h) => [...(h.ipv4 ? [`${h.ipv4}/32`] : []), ...(h.ipv6 ? [`${h.ipv6}/128`] : [])]),
  }, v.source);
}

function servicePeerViews(model: FabricModel, d: Device, vrf: string): ServicePeerView[] {
  return servicePeerings(model, d.name)
    .filter((p) => p.vrf === vrf)
    .map((p) => sourced<ServicePeerView>({
      node: p.node,
      address: p.nodeAddress,
      ipv4: p.afi === 'ipv4',
      ipv6: p.afi === 'ipv6',
      remoteAs: p.nodeAsn,
      prefixList: `NL-SN-${p.node}-${vrf}-${p.afi === 'ipv4' ? 4 : 6}`.toUpperCase(),
      prefixes: p.prefixes.map((prefix, i) => ({ prefix, seq: 5 * (i + 1) })),
    }, (model.serviceNodes ?? []).find((n) => n.name === p.node)!.source));
}

function vrfView(model: FabricModel, d: Device, v: DeviceVrf, vlans: VlanView[]): VrfView {
  const mine = vlans.filter((x) => x.vrf === v.name);
  return sourced<VrfView>({
    name: v.name,
    tenant: v.tenant,
    id: v.id,
    l3vni: v.l3vni,
    l3vniVlan: v.l3vniVlan,
    rd: v.rd,
    rtImport: v.routeTargets.import,
    rtExport: v.routeTargets.export,
    vlans: mine,
    hasIpv4: mine.some((x) => x.gateway4),
    hasIpv6: mine.some((x) => x.gateway6),
    routerMac: derivedMac(d.id, v.id),
    servicePeers: servicePeerViews(model, d, v.name),
  }, v.source);
}

function neighborView(ix: ModelIndex, d: Device, s: BgpSession, loopbackName: string): NeighborView {
  const [me, other]: [BgpEnd, BgpEnd] = s.a.device === d.name ? [s.a, s.b] : [s.b, s.a];
  const peer = ix.devices.get(other.device);
  const evpn = s.afiSafis.includes('l2vpn-evpn');
  const loopbackSession = !me.interface && me.address !== undefined && peer !== undefined && addr(peer.loopback).address === other.address;
  const address = me.interface ? undefined : other.address;
  if (!me.interface && !address) throw new Error(`model: BGP session ${s.id} has neither an interface nor an address for ${other.device}`);
  return sourced<NeighborView>({
    id: me.interface ?? address!,
    peer: other.device,
    description: other.device,
    type: s.type,
    layer: s.layer,
    interface: me.interface,
    address,
    remoteAs: other.asn,
    updateSource: loopbackSession ? loopbackName : undefined,
    multihop: s.multihop,
    ipv4Unicast: s.afiSafis.includes('ipv4-unicast'),
    evpn,
    routeReflectorClient: other.routeReflectorClient === true,
    evpnNextHopUnchanged: evpn && s.type === 'ebgp' && keepsEvpnNextHop(d),
    allowAsIn: me.allowAsIn ?? 0,
  }, s.source);
}

export function buildDeviceView(ix: ModelIndex, d: Device): DeviceView {
  const f = ix.model.fabric;
  const interfaces = d.interfaces.map(interfaceView);
  const loopbackIf = interfaces.find((i) => i.kind === 'loopback');
  const loopbackName = loopbackIf?.name ?? 'lo';
  const vtepIf = interfaces.find((i) => i.kind === 'vtep');
  const vlans = d.vlans.map((v) => vlanView(v, interfaces, d.asn));
  const vrfs = d.vrfs.map((v) => vrfView(ix.model, d, v, vlans));

  let bgp: BgpView | undefined;
  if (d.bgpSessionIds.length) {
    const neighbors = d.bgpSessionIds.map((id) => {
      const s = ix.sessions.get(id);
      if (!s) throw new Error(`model: device ${d.name} lists unknown BGP session ${id}`);
      return neighborView(ix, d, s, loopbackName);
    });
    const ipv4Unicast = neighbors.some((n) => n.ipv4Unicast);
    const allowAsIn = Math.max(0, ...neighbors.map((n) => n.allowAsIn));
    const networks: Addr[] = [];
    if (ipv4Unicast) {
      networks.push(addr(d.loopback));
      if (d.vtep && d.vtep !== d.loopback) networks.push(addr(d.vtep));
    }
    bgp = {
      asn: d.asn,
      routerId: d.routerId,
      neighbors,
      ipv4Unicast,
      evpn: neighbors.some((n) => n.evpn),
      routeReflector: d.routeReflector === true,
      networks,
      maxPaths: 64,
      allowAsIn,
      asLoops: allowAsIn + 1,
    };
  }

  let ospf: OspfView | undefined;
  if (d.ospf) {
    const adjs = ix.ospfByDevice.get(d.name) ?? [];
    const byIf = new Map<string, OspfAdjacency>();
    for (const a of adjs) byIf.set(a.a.device === d.name ? a.a.interface : a.b.interface, a);
    const names = [...d.ospf.interfaces];
    // The VTEP source must be reachable through the underlay even when it is its own loopback.
    if (vtepIf && !names.includes(vtepIf.name)) names.push(vtepIf.name);
    ospf = {
      area: d.ospf.area,
      routerId: d.ospf.routerId,
      interfaces: names.map((name) => {
        const a = byIf.get(name);
        const i = interfaces.find((x) => x.name === name);
        return {
          name,
          passive: !a,
          networkType: a ? a.networkType : 'broadcast',
          helloInterval: a?.helloInterval ?? 10,
          deadInterval: a?.deadInterval ?? 40,
          mtu: a?.mtu ?? i?.mtu ?? f.mtu,
        };
      }),
    };
    for (const oi of ospf.interfaces) {
      const i = interfaces.find((x) => x.name === oi.name);
      if (i) i.ospf = { ...oi, area: ospf.area };
    }
  }

  const mgmtAddr = addr(d.mgmt.ipv4);
  const staticRoutes: StaticRouteView[] = d.mgmt.gateway
    ? [{ prefix: addr('0.0.0.0/0'), nextHop: d.mgmt.gateway, interface: d.mgmt.interface, description: 'management default route' }]
    : [];

  return sourced<DeviceView>({
    hostname: d.name,
    id: d.id,
    role: d.role,
    platform: d.platform,
    pod: d.pod,
    fabric: {
      name: ix.model.name,
      site: ix.model.site,
      underlay: f.underlay,
      overlayTransport: f.overlay.transport,
      mtu: f.mtu,
      hostMtu: f.hostMtu,
      anycastMac: f.anycastMac,
    },
    asn: d.asn,
    routerId: d.routerId,
    loopback: { name: loopbackName, addr: addr(d.loopback) },
    vtep: d.vtep
      ? { name: vtepIf?.name ?? loopbackName, addr: addr(d.vtep), sameAsLoopback: !vtepIf || vtepIf.name === loopbackName }
      : undefined,
    systemMac: derivedMac(d.id, 0),
    mgmt: { name: d.mgmt.interface, addr: mgmtAddr, gateway: d.mgmt.gateway },
    interfaces,
    fabricInterfaces: interfaces.filter((i) => i.kind === 'fabric'),
    accessInterfaces: interfaces.filter((i) => i.kind === 'access'),
    bgp,
    ospf,
    evpn: d.vtep && (vlans.length || vrfs.length) ? { l2vnis: vlans, l3vnis: vrfs } : undefined,
    vrfs,
    hasServicePeers: vrfs.some((v) => v.servicePeers.length > 0),
    vlans,
    staticRoutes,
  }, d.source);
}

/** fe80::/64 address of a MAC by modified EUI-64 (RFC 4291 appendix A), e.g. fe80::200:5eff:fe00:101. */
export function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0] ^= 0x02;
  const w = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  return `fe80::${w.map((x) => x.toString(16)).join(':')}`;
}
