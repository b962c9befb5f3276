/**
 * Endpoint reachability from the configuration in the graph: what each endpoint pair should
 * get from the intent's tenancy (same network -> bridged over its L2 VNI, same VRF -> routed
 * over the L3 VNI, different VRFs -> isolated) and what the per-leaf VLAN/VNI/VRF/route-target
 * configuration plus the simulated control plane (src/verify/sim: which EVPN routes each leaf
 * accepts and can resolve over the underlay) actually give. `pairResult` is exact and
 * explains a failure; the matrix check uses per-endpoint sufficient conditions as a fast path
 * and calls it only for pairs the fast path cannot clear.
 */
import type { Device, DeviceVlan, DeviceVrf, Endpoint } from '../model/types.ts';
import type { CheckContext } from './checks/types.ts';
import type { FabricGraph } from './graph.ts';
import { analyzeRouteTargets, type RtAnalysis } from './checks/route-targets.ts';
import { analyzeCuts } from './underlay.ts';
import { ControlPlane } from './sim/control-plane.ts';
import { transitBetween, type TransitRoute } from '../model/service-nodes.ts';

export type Forwarding = 'bridged' | 'routed' | 'isolated';

export interface PairResult {
  a: string;
  b: string;
  expected: Forwarding;
  /** 'broken' when the expected forwarding does not work and nothing else does either. */
  actual: Forwarding | 'broken';
  /** L2 VNI when bridged, L3 VNI when routed. */
  vni?: number;
  vrf?: string;
  /** Why the actual differs from the expected. */
  reason?: string;
  /** The model object at fault. */
  at?: { source: Device['source']; device: string };
  /** Routed between VRFs through this service node (a firewall routing between its legs). */
  via?: string;
}

export function expectedForwarding(a: Endpoint, b: Endpoint): Forwarding {
  if (a.network === b.network) return 'bridged';
  if (a.vrf === b.vrf) return 'routed';
  return 'isolated';
}

/** The simulated control plane, shared by every check of one run. */
export function controlPlane(ctx: CheckContext): ControlPlane {
  return ctx.memo('sim', () => new ControlPlane(ctx.fg.model, ctx.fg.deviceIndex, {}, ctx.tables, ctx.fg.fabricMemo));
}

type Rts = { routeTargets: { import: string[]; export: string[] } };
const rtOk = (importer: Rts, exporter: Rts) => exporter.routeTargets.export.some((rt) => importer.routeTargets.import.includes(rt));

/** Leaf pairs transportProblem answers exactly before it decides `clean` for every VTEP. */
const EXACT_PAIRS = 64;

export class ReachabilityModel {
  readonly fg: FabricGraph;
  readonly rt: RtAnalysis;
  readonly cp: ControlPlane;
  private readonly ctx: CheckContext;
  private cleanMemo?: Uint8Array;
  /** transportProblem's answers so far without `clean` (a few pairs ask each exactly: cheaper than deciding every VTEP). */
  private exactAsked = 0;

  constructor(ctx: CheckContext) {
    this.ctx = ctx;
    this.fg = ctx.fg;
    this.rt = ctx.memo('rt', () => analyzeRouteTargets(ctx.fg));
    this.cp = controlPlane(ctx);
  }

  /**
   * VTEPs that exchange EVPN routes with every other VTEP (sim.clean()): decided on first use.
   * A plan asking about the endpoints of one new network reads a handful of leaf pairs exactly;
   * deciding every VTEP first cost it 0.2 s at 5,000 devices.
   */
  get clean(): Uint8Array {
    return (this.cleanMemo ??= this.cp.clean());
  }

  /** Why two leaves cannot exchange VXLAN traffic, or undefined when they can. */
  transportProblem(la: Device, lb: Device): string | undefined {
    if (la === lb) return undefined;
    const ia = this.fg.deviceIndex.get(la.name)!;
    const ib = this.fg.deviceIndex.get(lb.name)!;
    if (!la.vtep || !lb.vtep) return `${!la.vtep ? la.name : lb.name} has no VTEP`;
    // Either way the same answer: `clean` is a sufficient condition, evpnProblem the exact one.
    if (this.cleanMemo === undefined && ++this.exactAsked > EXACT_PAIRS) this.cleanMemo = this.cp.clean();
    if (this.cleanMemo !== undefined && this.cleanMemo[ia] && this.cleanMemo[ib]) return undefined;
    return this.cp.evpnProblem(ib, ia) ?? this.cp.evpnProblem(ia, ib);
  }

  underlayComponent(): Int32Array {
    return this.ctx.memo('cuts', () => analyzeCuts(this.fg)).comp;
  }

  pairResult(a: Endpoint, b: Endpoint): PairResult {
    const fg = this.fg;
    // Different VRFs joined by a service node announcing each side's subnet into the other.
    const transit = transitBetween(fg.model, a, b);
    const expected = transit ? 'routed' : expectedForwarding(a, b);
    const base = { a: a.name, b: b.name, expected };
    const la = fg.device(a.leaf);
    const lb = fg.device(b.leaf);
    if (!la || !lb) return { ...base, actual: 'broken', reason: `leaf ${!la ? a.leaf : b.leaf} does not exist` };
    const va = la.vlans.find((v) => v.vlan === a.vlan);
    const vb = lb.vlans.find((v) => v.vlan === b.vlan);
    if (!va || !vb) {
      const [d, e] = !va ? [la, a] : [lb, b];
      return { ...base, actual: expected === 'isolated' ? 'isolated' : 'broken', reason: `${d.name} does not carry VLAN ${e.vlan} of ${e.name}`, at: { source: e.source, device: d.name } };
    }
    const transport = this.transportProblem(la, lb);
    const bridged = this.bridging(la, va, lb, vb, transport);
    if (bridged.ok) return { ...base, actual: 'bridged', vni: va.l2vni, vrf: va.vrf, ...(expected !== 'bridged' ? { reason: `VLAN ${a.vlan} and ${b.vlan} share L2 VNI ${va.l2vni}` } : {}) };
    const fa = la.vrfs.find((v) => v.name === va.vrf);
    const fb = lb.vrfs.find((v) => v.name === vb.vrf);
    if (transit && va.vrf === a.vrf && vb.vrf === b.vrf) {
      // Each leaf must hold the node's route to the other side (EVPN type-5 from the node's leaf).
      const sides: [Device, string, TransitRoute][] = [[la, a.vrf, transit.there], [lb, b.vrf, transit.back]];
      const missing = sides.find(([d, vrf, t]) => !this.cp.rib(d.name, vrf).some((r) => r.prefix === t.prefix));
      // No one VNI: each side's L3 VNI carries it between its leaf and the node's.
      if (!missing) return { ...base, actual: 'routed', vrf: fa?.name, via: transit.there.node };
      const [d, vrf, t] = missing;
      return { ...base, actual: 'broken', vrf, via: t.node, reason: `${d.name} VRF ${vrf} has no route to ${t.prefix}, which service node ${t.node} announces there`, at: { source: d.source, device: d.name } };
    }
    const routed = this.routing(la, va, fa, lb, vb, fb, transport);
    if (expected === 'bridged') return { ...base, actual: 'broken', vni: va.l2vni, reason: bridged.why, at: bridged.at };
    if (routed.ok) return { ...base, actual: 'routed', vni: fa!.l3vni, vrf: fa!.name, ...(expected !== 'routed' ? { reason: routed.why } : {}), ...(routed.at ? { at: routed.at } : {}) };
    if (expected === 'routed') return { ...base, actual: 'broken', vni: fa?.l3vni, vrf: fa?.name, reason: routed.why, at: routed.at };
    return { ...base, actual: 'isolated', vrf: undefined };
  }

  private bridging(la: Device, va: DeviceVlan, lb: Device, vb: DeviceVlan, transport: string | undefined): { ok: boolean; why?: string; at?: PairResult['at'] } {
    if (va.l2vni !== vb.l2vni) {
      const net = this.fg.model.networks.find((n) => n.vlan === va.vlan);
      // Blame the leaf that departs from the network's VNI.
      const [bad, v] = net && vb.l2vni !== net.l2vni ? [lb, vb] : [la, va];
      return { ok: false, why: `VNI mismatch: ${la.name} maps VLAN ${va.vlan} to VNI ${va.l2vni}, ${lb.name} maps VLAN ${vb.vlan} to VNI ${vb.l2vni}`, at: { source: v.source, device: bad.name } };
    }
    if (la === lb) return { ok: true };
    if (transport) return { ok: false, why: transport, at: { source: la.source, device: la.name } };
    if (!rtOk(va, vb)) return { ok: false, why: `${la.name} does not import a route target ${lb.name} exports for VNI ${va.l2vni} (${vb.routeTargets.export.join(', ')})`, at: { source: va.source, device: la.name } };
    if (!rtOk(vb, va)) return { ok: false, why: `${lb.name} does not import a route target ${la.name} exports for VNI ${va.l2vni} (${va.routeTargets.export.join(', ')})`, at: { source: vb.source, device: lb.name } };
    return { ok: true };
  }

  private routing(la: Device, va: DeviceVlan, fa: DeviceVrf | undefined, lb: Device, vb: DeviceVlan, fb: DeviceVrf | undefined, transport: string | undefined): { ok: boolean; why?: string; at?: PairResult['at'] } {
    if (!fa || !fb) {
      const [d, v] = !fa ? [la, va] : [lb, vb];
      return { ok: false, why: `${d.name} has no VRF ${v.vrf}`, at: { source: v.source, device: d.name } };
    }
    if (!(va.gateway4 || va.gateway6) || !(vb.gateway4 || vb.gateway6)) {
      const [d, v] = !(va.gateway4 || va.gateway6) ? [la, va] : [lb, vb];
      return { ok: false, why: `${d.name} has no gateway on VLAN ${v.vlan}`, at: { source: v.source, device: d.name } };
    }
    if (fa.name !== fb.name) {
      // Different VRFs: routed only through a route-target leak.
      if (la !== lb && !transport && fa.l3vni !== fb.l3vni && (rtOk(fa, fb) || rtOk(fb, fa))) {
        const [imp, exp] = rtOk(fa, fb) ? [fa, fb] : [fb, fa];
        const dev = imp === fa ? la : lb;
        return { ok: true, why: `route leak: ${dev.name} VRF ${imp.name} imports ${exp.routeTargets.export.filter((rt) => imp.routeTargets.import.includes(rt)).join(', ')} exported by VRF ${exp.name}`, at: { source: imp.source, device: dev.name } };
      }
      if (la !== lb && !transport && fa.l3vni === fb.l3vni) {
        return { ok: true, why: `VRFs ${fa.name} and ${fb.name} share L3 VNI ${fa.l3vni}`, at: { source: fb.source, device: lb.name } };
      }
      return { ok: false, why: `VRF ${fa.name} and VRF ${fb.name} are separate` };
    }
    if (la === lb) return { ok: true };
    if (fa.l3vni !== fb.l3vni) return { ok: false, why: `VNI mismatch: VRF ${fa.name} uses L3 VNI ${fa.l3vni} on ${la.name} and ${fb.l3vni} on ${lb.name}`, at: { source: fb.source, device: lb.name } };
    if (transport) return { ok: false, why: transport, at: { source: la.source, device: la.name } };
    if (!rtOk(fa, fb)) return { ok: false, why: `${la.name} VRF ${fa.name} does not import a route target ${lb.name} exports (${fb.routeTargets.export.join(', ')})`, at: { source: fa.source, device: la.name } };
    if (!rtOk(fb, fa)) return { ok: false, why: `${lb.name} VRF ${fb.name} does not import a route target ${la.name} exports (${fa.routeTargets.export.join(', ')})`, at: { source: fb.source, device: lb.name } };
    return { ok: true };
  }
}
