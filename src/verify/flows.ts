/**
 * The endpoint flows of the reachability matrix with the devices each one crosses: every
 * ordered pair of endpoints with an IPv4 address, what the configuration gives it (the
 * reachability prediction: bridged, routed, isolated, broken) and its path as `netloom trace`
 * prints it (ingress leaf, transit spines, egress leaf). The push stage probes the flows that
 * cross a wave's devices; `apply --dry-run` names the flows a change disturbs.
 */
import type { Endpoint, FabricModel } from '../model/types.ts';
import type { Disturbance } from '../push/driver.ts';
import { makeContext, type CheckContext } from './checks/index.ts';
import { buildFabricGraph, type FabricGraph } from './graph.ts';
import { ReachabilityModel, type Forwarding } from './reachability.ts';
import { ProbePredictor } from './live/probes.ts';
import { traceEndpoints } from './trace.ts';

export interface Flow {
  src: string;
  dst: string;
  /** The destination's IPv4 address (what the source pings). */
  address: string;
  /** What the intent asks for. */
  expected: Forwarding;
  /** What the configuration gives (the reachability prediction). */
  predicted: Forwarding | 'broken';
  /** The configuration lets it answer (bridged or routed). */
  answers: boolean;
  /** L2 VNI when bridged, L3 VNI when routed. */
  vni?: number;
  vrf?: string;
  /** Devices on its path (both leaves for an isolated pair). */
  devices: string[];
  srcLeaf: string;
  dstLeaf: string;
  /** Each end's VLAN, L2 VNI and VRF. */
  ends: { leaf: string; vlan: number; l2vni?: number; vrf: string }[];
}

export const flowKey = (f: { src: string; dst: string }): string => `${f.src}>${f.dst}`;

/** "h1 -> h3 (routed, VRF BLUE, leaf1 spine1 spine2 leaf3)". */
export function flowName(f: Flow): string {
  const how = f.predicted === 'routed' ? `routed, VRF ${f.vrf}` : f.predicted === 'bridged' ? `bridged, VNI ${f.vni}` : f.predicted;
  return `${f.src} -> ${f.dst} (${how}, via ${f.devices.join(' ')})`;
}

/** Every flow between the endpoints `only` lists (default: all with an IPv4 address). */
export function endpointFlows(model: FabricModel, only?: ReadonlySet<string>, graph?: FabricGraph, context?: CheckContext): Flow[] {
  const eps = model.endpoints.filter((e) => e.ipv4 && (!only || only.has(e.name)));
  if (eps.length < 2) return [];
  const fg = graph ?? buildFabricGraph(model);
  // A context shared with the static checks of the same model computes the control plane once.
  const ctx = context ?? makeContext(fg);
  // Whether a ping answers is the live probes' own prediction: with overlapping tenant subnets
  // another endpoint owning the address may answer an isolated pair, or none a routed one.
  const probes = new ProbePredictor(model, fg, new ReachabilityModel(ctx));
  const l2vni = new Map(model.networks.map((n) => [n.name, n.l2vni]));
  const out: Flow[] = [];
  for (const a of eps) {
    for (const b of eps) {
      if (a === b) continue;
      const t = traceEndpoints(ctx, a.name, b.name);
      const r = t.result;
      const devices = [...new Set(t.hops.flatMap((h) => h.devices))];
      for (const leaf of [a.leaf, b.leaf]) if (!devices.includes(leaf)) devices.push(leaf);
      out.push({
        src: a.name,
        dst: b.name,
        address: addr(b),
        expected: r.expected,
        predicted: r.actual,
        answers: probes.predict({ src: a.name, dst: b.name, family: 4, address: addr(b) })!.answers,
        ...(r.vni !== undefined ? { vni: r.vni } : {}),
        ...(r.vrf ? { vrf: r.vrf } : {}),
        devices,
        srcLeaf: a.leaf,
        dstLeaf: b.leaf,
        ends: [a, b].map((e) => ({ leaf: e.leaf, vlan: e.vlan, l2vni: l2vni.get(e.network), vrf: e.vrf })),
      });
    }
  }
  return out;
}

const addr = (e: Endpoint): string => e.ipv4!.split('/')[0];

/** The flows whose path crosses any of `devices`. */
export function flowsThrough(flows: readonly Flow[], devices: Iterable<string>): Flow[] {
  const set = new Set(devices);
  return flows.filter((f) => f.devices.some((d) => set.has(d)));
}

/**
 * The flows a change may disturb, with why: a device on the flow's path resets a BGP session,
 * changes its underlay or everything, or a leaf at one of its ends touches that end's VLAN or
 * L2 VNI, or (routed and isolated flows) its VRF or the VRF's L3 VNI. Every other flow must not
 * lose a packet.
 */
export function disturbedFlows(model: FabricModel, flows: readonly Flow[], changes: ReadonlyMap<string, Disturbance>): { flow: Flow; why: string }[] {
  const l3vni = new Map(model.devices.flatMap((d) => d.vrfs.map((v) => [`${d.name}/${v.name}`, v.l3vni] as const)));
  const out: { flow: Flow; why: string }[] = [];
  for (const f of flows) {
    const why: string[] = [];
    for (const dev of f.devices) {
      const d = changes.get(dev);
      if (!d) continue;
      if (d.all) why.push(`${dev}: ${d.all}`);
      if (d.sessions.length) why.push(`${dev} resets BGP ${d.sessions.join(', ')}`);
      if (d.interfaces.length) why.push(`${dev}: underlay on ${d.interfaces.join(', ')}`);
      for (const e of f.ends.filter((x) => x.leaf === dev)) {
        if (d.vlans.includes(e.vlan) || (e.l2vni !== undefined && d.vnis.includes(e.l2vni))) why.push(`${dev}: VLAN ${e.vlan}`);
        const l3 = l3vni.get(`${dev}/${e.vrf}`);
        if (f.predicted !== 'bridged' && (d.vrfs.includes(e.vrf) || (l3 !== undefined && d.vnis.includes(l3)))) why.push(`${dev}: VRF ${e.vrf}`);
      }
    }
    if (why.length) out.push({ flow: f, why: [...new Set(why)].join('; ') });
  }
  return out;
}
