/**
 * What a capture is compared with: the few facts of the fabric model the findings need. The
 * model itself (src/model) is translated here by one adapter, `expectationsFromModel`, so the
 * analyzer does not depend on the model's shape.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel, type AfiSafi, type FabricModel } from '../model/index.ts';
import { UsageError } from '../util/errors.ts';

export interface VtepExpectation {
  device: string;
  vnis: Set<number>;
}

export interface BgpPeerExpectation {
  device: string;
  /** Address the session runs on (absent for BGP unnumbered: then routerId identifies it). */
  ip?: string;
  iface?: string;
  asn: number;
  routerId?: string;
}

export interface BgpSessionExpectation {
  a: BgpPeerExpectation;
  b: BgpPeerExpectation;
  /** Address families both ends should negotiate, e.g. {afi: 25, safi: 70} for L2VPN EVPN. */
  afiSafis: Array<{ afi: number; safi: number }>;
  holdTime?: number;
}

export interface OspfInterfaceExpectation {
  device: string;
  routerId: string;
  iface?: string;
  ip?: string;
  area: string;
  helloInterval?: number;
  deadInterval?: number;
  mtu?: number;
}

export interface FabricExpectations {
  /** Key: VTEP (loopback) address as text. */
  vteps: Map<string, VtepExpectation>;
  /** Largest IP packet the underlay carries unfragmented. */
  underlayMtu?: number;
  vniToVlan: Map<number, number>;
  bgpSessions: BgpSessionExpectation[];
  ospf: OspfInterfaceExpectation[];
  /** UDP ports VXLAN runs on in this fabric besides 4789. */
  vxlanPorts?: number[];
}

export function emptyExpectations(): FabricExpectations {
  return { vteps: new Map(), vniToVlan: new Map(), bgpSessions: [], ospf: [] };
}

/** Serialisable form (JSON file, tests): Maps and Sets as plain objects and arrays. */
export interface FabricExpectationsJson {
  vteps: Record<string, { device: string; vnis: number[] }>;
  underlayMtu?: number;
  vniToVlan?: Record<string, number>;
  bgpSessions?: BgpSessionExpectation[];
  ospf?: OspfInterfaceExpectation[];
  vxlanPorts?: number[];
}

export function expectationsFromJson(j: FabricExpectationsJson): FabricExpectations {
  return {
    vteps: new Map(Object.entries(j.vteps ?? {}).map(([ip, v]) => [ip, { device: v.device, vnis: new Set(v.vnis) }])),
    underlayMtu: j.underlayMtu,
    vniToVlan: new Map(Object.entries(j.vniToVlan ?? {}).map(([k, v]) => [Number(k), v])),
    bgpSessions: j.bgpSessions ?? [],
    ospf: j.ospf ?? [],
    vxlanPorts: j.vxlanPorts,
  };
}

const AFI_SAFI: Record<AfiSafi, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
  'l2vpn-evpn': { afi: 25, safi: 70 },
};

/** OSPF areas are compared in dotted form, as they appear on the wire. */
function dottedArea(a: string): string {
  if (/^\d+$/.test(a)) {
    const n = Number(a) >>> 0;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  return a;
}

/** The one adapter from the fabric model (src/model) to what the capture findings compare with. */
export function expectationsFromModel(model: FabricModel): FabricExpectations {
  const exp = emptyExpectations();
  exp.underlayMtu = model.fabric.mtu;
  for (const d of model.devices) {
    const vnis = new Set<number>([...d.vlans.map((v) => v.l2vni), ...d.vrfs.map((v) => v.l3vni)]);
    if (d.vtep) exp.vteps.set(stripPrefix(d.vtep), { device: d.name, vnis });
    for (const v of d.vlans) exp.vniToVlan.set(v.l2vni, v.vlan);
    for (const v of d.vrfs) exp.vniToVlan.set(v.l3vni, v.l3vniVlan);
  }
  for (const s of model.bgpSessions) {
    const end = (e: (typeof s)['a']): BgpPeerExpectation => ({ device: e.device, ip: e.address ? stripPrefix(e.address) : undefined, iface: e.interface, asn: e.asn, routerId: e.routerId });
    exp.bgpSessions.push({ a: end(s.a), b: end(s.b), afiSafis: s.afiSafis.map((x) => AFI_SAFI[x]).filter(Boolean) });
  }
  for (const adj of model.ospfAdjacencies) {
    for (const e of [adj.a, adj.b]) {
      exp.ospf.push({
        device: e.device, routerId: e.routerId, iface: e.interface, ip: stripPrefix(e.address), area: dottedArea(adj.area),
        helloInterval: adj.helloInterval, deadInterval: adj.deadInterval, mtu: adj.mtu,
      });
    }
  }
  return exp;
}

function stripPrefix(ip: string): string {
  return ip.split('/')[0];
}

/**
 * Expectations for `--intent DIR`: a `pcap-expectations.json` in DIR if present (hand-written
 * or exported), else the fabric model loaded from the intent through src/model.
 */
export async function loadExpectations(dir: string): Promise<FabricExpectations> {
  const json = path.join(dir, 'pcap-expectations.json');
  if (existsSync(json)) {
    let parsed: FabricExpectationsJson;
    try {
      parsed = JSON.parse(readFileSync(json, 'utf8')) as FabricExpectationsJson;
    } catch (e) {
      throw new UsageError(`${json}: not valid JSON: ${(e as Error).message}`);
    }
    return expectationsFromJson(parsed);
  }
  if (!existsSync(dir)) throw new UsageError(`--intent ${dir}: no such directory`);
  return expectationsFromModel(await loadModel(dir));
}
