/**
 * The observed state of a device, parsed from FRR 8.4's JSON (`vtysh -c '... json'`). Parsers
 * are tolerant: a command that failed leaves its part undefined with the reason kept, so
 * comparisons can say *why* (e.g. "bgpd is not running").
 */
import type { BgpPeerState, OspfNeighborState } from '../../domains/fabric/session-state.ts';
import type { ObservedDefaultTable } from './default-table.ts';

/** A BGP neighbour per VRF and address family (the shared session-state reading). */
export type ObservedBgpPeer = BgpPeerState;

export interface ObservedVni {
  vni: number;
  type: string;
  state?: string;
  vtep?: string;
  vrf?: string;
  remoteVteps: string[];
}

export interface ObservedMac {
  vni: number;
  mac: string;
  type: string;
  intf?: string;
  remoteVtep?: string;
}

export interface ObservedRoute {
  vrf: string;
  prefix: string;
  protocol: string;
  /** Active next hops of the selected entry. */
  nexthops: number;
  /** Those next hops: address and/or outgoing interface. */
  hops?: { ip?: string; iface?: string }[];
}

export interface DeviceObservation {
  device: string;
  /** Commands that failed: command -> reason. */
  errors: Record<string, string>;
  bgp?: ObservedBgpPeer[];
  vnis?: ObservedVni[];
  macs?: ObservedMac[];
  /**
   * VRF -> routes (only VRFs that were asked for). A live comparison keeps the default table
   * as `defaultTable` instead (what it read of it) and drops it from here.
   */
  routes?: Record<string, ObservedRoute[]>;
  /** The default table as compared when it was read (LiveComparison.compactDefault). */
  defaultTable?: ObservedDefaultTable;
  ospf?: OspfNeighborState[];
}

export { AFI_KEYS, parseBgpSummary, parseOspfNeighbors } from '../../domains/fabric/session-state.ts';

type J = Record<string, unknown>;
const obj = (x: unknown): J => (x && typeof x === 'object' && !Array.isArray(x) ? (x as J) : {});

/** `show evpn vni detail json` (an array in FRR 8.4; older releases keyed by VNI). */
export function parseEvpnVniDetail(json: unknown): ObservedVni[] {
  const list = Array.isArray(json) ? json : Object.values(obj(json));
  return list.map((v) => {
    const x = obj(v);
    const remote = (x.numRemoteVteps ?? x.remoteVteps) as unknown;
    const remoteVteps = Array.isArray(remote) ? remote.map((r) => (typeof r === 'string' ? r : String(obj(r).ip ?? ''))).filter(Boolean) : [];
    return { vni: Number(x.vni), type: String(x.type ?? ''), state: x.state as string | undefined, vtep: (x.vtepIp ?? x.localVtepIp) as string | undefined, vrf: x.vrf as string | undefined, remoteVteps: remoteVteps.sort() };
  });
}

/** `show evpn mac vni all json` */
export function parseEvpnMacs(json: unknown): ObservedMac[] {
  const out: ObservedMac[] = [];
  for (const [vni, body] of Object.entries(obj(json))) {
    for (const [mac, m] of Object.entries(obj(obj(body).macs))) {
      const x = obj(m);
      out.push({ vni: Number(vni), mac: mac.toLowerCase(), type: String(x.type ?? ''), intf: x.intf as string | undefined, remoteVtep: x.remoteVtep as string | undefined });
    }
  }
  return out;
}

/** IPv6 routes over an IPv4 VTEP have IPv4-mapped next hops (::ffff:a00:101 is 10.0.1.1). */
export function unmapIpv4(ip: string): string {
  // Only an address starting with ':' can be one (most are not: no pattern run).
  if (ip.charCodeAt(0) !== 58) return ip;
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return ip;
  if (m[1]) return m[1];
  const hi = parseInt(m[2], 16);
  const lo = parseInt(m[3], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** `show ip route [vrf X] json`, `show ipv6 route [vrf X] json` */
export function parseRoutes(vrf: string, json: unknown): ObservedRoute[] {
  const out: ObservedRoute[] = [];
  for (const [prefix, entries] of Object.entries(obj(json))) out.push(routeOf(vrf, prefix, entries));
  return out;
}

/** One prefix of a routing table: its entries (as parsed) read into the route kept. */
export function routeOf(vrf: string, prefix: string, entries: unknown): ObservedRoute {
  const list = Array.isArray(entries) ? entries : [];
  const sel = list.map(obj).find((e) => e.selected === true) ?? obj(list[0]);
  const all = Array.isArray(sel.nexthops) ? sel.nexthops.map(obj).filter((n) => n.active === true || n.fib === true) : [];
  // A recursive next hop is listed twice, as itself and resolved: count the resolved ones.
  const active = all.some((n) => n.resolver === true) ? all.filter((n) => n.recursive !== true) : all;
  const hops = active.map((n) => ({ ...(typeof n.ip === 'string' ? { ip: unmapIpv4(n.ip) } : {}), ...(typeof n.interfaceName === 'string' ? { iface: n.interfaceName } : {}) }));
  return { vrf, prefix, protocol: String(sel.protocol ?? ''), nexthops: active.length, hops };
}
