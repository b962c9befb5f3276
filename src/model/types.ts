/**
 * The resolved source of truth. Every later stage (render, lab, push, verify, pcap, api)
 * reads this and never the intent. Everything is derived deterministically; arrays are
 * sorted so the JSON form is byte-stable.
 */
import type { SourceLocation } from '../util/errors.ts';
import type { PlatformName, Role } from '../intent/schema.ts';
import type { ServiceNode } from './service-nodes.ts';
import type { DciInfo, SiteInfo } from './sites.ts';

export type { PlatformName, Role, SourceLocation, ServiceNode, DciInfo, SiteInfo };

export type Underlay = 'ebgp-unnumbered' | 'ebgp' | 'ospf';
export type AfiSafi = 'ipv4-unicast' | 'ipv6-unicast' | 'l2vpn-evpn';

export interface FabricModel {
  schemaVersion: 1;
  name: string;
  site?: string;
  /** sha256 prefix over the intent files: which intent this model came from. */
  revision: string;
  intentDir: string;
  fabric: FabricSettings;
  devices: Device[];
  links: Link[];
  bgpSessions: BgpSession[];
  ospfAdjacencies: OspfAdjacency[];
  tenants: Tenant[];
  vrfs: Vrf[];
  networks: Network[];
  endpoints: Endpoint[];
  /** Domains' service nodes (load balancers, DNS servers) attached to leaves; absent when none. */
  serviceNodes?: ServiceNode[];
  /** Multi-site models (sites.yaml): the sites, in site-id order; devices name theirs. */
  sites?: SiteInfo[];
  /** Multi-site models: the WAN, the DCI links and what crosses them. */
  dci?: DciInfo;
  /**
   * Each domain's part of the model, by domain id (src/domains); the fabric's is the top
   * level. Sections of reserved domains (gslb until it lands) are kept verbatim.
   */
  domains: Record<string, unknown>;
}

export interface FabricSettings {
  underlay: Underlay;
  overlay: { type: 'evpn'; transport: 'ebgp' | 'ibgp'; routeReflectors: string[] };
  /** Underlay link MTU. */
  mtu: number;
  /** Default MTU of tenant networks. */
  hostMtu: number;
  ospfArea: string;
  anycastMac: string;
  routeTargetAsn: number;
  pools: { loopback: string; vtep: string; p2p?: string; mgmt: string; mgmtGateway?: string };
  source: SourceLocation;
}

export type InterfaceKind = 'loopback' | 'vtep' | 'fabric' | 'access' | 'mgmt';

export interface Interface {
  name: string;
  kind: InterfaceKind;
  description: string;
  mtu: number;
  /** Address with prefix length, e.g. "10.0.2.1/31". Absent on unnumbered fabric links. */
  ipv4?: string;
  /** Further addresses on the same interface (FRR's VTEP address on lo). */
  ipv4Secondary?: string[];
  ipv6?: string;
  /** Fabric links: the other end. */
  peer?: { device: string; interface: string; ipv4?: string };
  linkId?: number;
  /** Fabric links without IPv4 addresses (BGP over IPv6 link-local, RFC 5549). */
  unnumbered?: boolean;
  /** Access ports: untagged VLAN or tagged VLAN list. */
  accessVlan?: number;
  taggedVlans?: number[];
  /** Endpoints attached (access ports). */
  endpoints?: string[];
  source: SourceLocation;
}

export interface DeviceVrf {
  name: string;
  tenant: string;
  id: number;
  l3vni: number;
  l3vniVlan: number;
  rd: string;
  routeTargets: { import: string[]; export: string[] };
  source: SourceLocation;
}

export interface DeviceVlan {
  vlan: number;
  name: string;
  vrf: string;
  tenant: string;
  l2vni: number;
  rd: string;
  routeTargets: { import: string[]; export: string[] };
  /** Anycast gateway with the subnet's prefix length, e.g. "10.10.10.1/24". */
  gateway4?: string;
  gateway6?: string;
  anycastMac: string;
  mtu: number;
  dhcpRelay: string[];
  /** Local access ports carrying the VLAN (untagged or tagged). */
  ports: string[];
  /** Endpoints of the model attached here in this VLAN, addresses without prefix length. */
  hosts: { endpoint: string; ipv4?: string; ipv6?: string }[];
  source: SourceLocation;
}

export interface Device {
  name: string;
  id: number;
  role: Role;
  platform: PlatformName;
  /** Multi-site models: the device's site ('wan' for WAN routers). */
  site?: string;
  pod: number;
  asn: number;
  routerId: string;
  /** loopback0 address /32 */
  loopback: string;
  /** VTEP source /32 (leaves only). */
  vtep?: string;
  mgmt: { interface: string; ipv4: string; gateway?: string };
  interfaces: Interface[];
  vrfs: DeviceVrf[];
  vlans: DeviceVlan[];
  /** Names of BGP sessions (ids) this device takes part in. */
  bgpSessionIds: string[];
  ospf?: { area: string; routerId: string; interfaces: string[] };
  /** Route reflector for the iBGP overlay. */
  routeReflector?: boolean;
  source: SourceLocation;
}

export interface LinkEnd {
  device: string;
  interface: string;
  ipv4?: string;
}

export interface Link {
  id: number;
  kind: 'fabric' | 'explicit';
  a: LinkEnd;
  b: LinkEnd;
  /** /31 prefix when numbered. */
  prefix?: string;
  mtu: number;
  source: SourceLocation;
}

export interface BgpEnd {
  device: string;
  asn: number;
  routerId: string;
  /** Unnumbered sessions: the local interface the session runs over. */
  interface?: string;
  /** Numbered sessions: local address used as source. */
  address?: string;
  /** iBGP overlay: this end reflects routes to the other. */
  routeReflectorClient?: boolean;
  /**
   * eBGP: this end accepts routes whose AS_PATH already holds its own ASN up to this many
   * times (allowas-in). Set where another device needing this one's routes shares its ASN
   * (leaf pairs, per-pod leaves, pinned ASNs), so the design works as intended.
   */
  allowAsIn?: number;
}

export interface BgpSession {
  /** Stable id: "a--b" plus the interface for per-link sessions. */
  id: string;
  layer: 'underlay' | 'overlay' | 'underlay+overlay';
  type: 'ebgp' | 'ibgp';
  a: BgpEnd;
  b: BgpEnd;
  afiSafis: AfiSafi[];
  /** Loopback-sourced sessions needing multihop. */
  multihop: boolean;
  source: SourceLocation;
}

export interface OspfAdjacency {
  id: string;
  area: string;
  networkType: 'point-to-point';
  mtu: number;
  helloInterval: number;
  deadInterval: number;
  a: { device: string; interface: string; address: string; routerId: string };
  b: { device: string; interface: string; address: string; routerId: string };
  source: SourceLocation;
}

export interface Tenant {
  name: string;
  description?: string;
  vrfs: string[];
  source: SourceLocation;
}

export interface Vrf {
  name: string;
  tenant: string;
  id: number;
  l3vni: number;
  l3vniVlan: number;
  routeTarget: string;
  networks: string[];
  /** Devices the VRF is instantiated on. */
  devices: string[];
  source: SourceLocation;
}

export interface Network {
  name: string;
  vrf: string;
  tenant: string;
  vlan: number;
  l2vni: number;
  subnet?: string;
  gateway?: string;
  subnet6?: string;
  gateway6?: string;
  mtu: number;
  dhcpRelay: string[];
  routeTarget: string;
  /** Leaves carrying the network. */
  leaves: string[];
  source: SourceLocation;
}

export interface Endpoint {
  name: string;
  leaf: string;
  port: string;
  vlan: number;
  tagged: boolean;
  network: string;
  vrf: string;
  tenant: string;
  l2vni: number;
  ipv4?: string;
  ipv6?: string;
  mac: string;
  gateway4?: string;
  gateway6?: string;
  source: SourceLocation;
}
