/**
 * `netloom trace SRC DST`: the path between two endpoints as the configuration builds it:
 * host, ingress leaf (port, VLAN), encapsulation (VNI, VTEPs), the spine layers with their
 * ECMP width, egress leaf, host. Endpoints are names or IPv4 addresses.
 */
import { UsageError } from '../util/errors.ts';
import type { Endpoint } from '../model/types.ts';
import type { CheckContext } from './checks/types.ts';
import { countPaths } from './graph.ts';
import { ReachabilityModel, type PairResult } from './reachability.ts';
import { analyzeEcmp, ecmpCount } from './underlay.ts';

export interface TraceHop {
  kind: 'host' | 'leaf' | 'encap' | 'transit' | 'decap';
  text: string;
  devices: string[];
}

export interface TraceResult {
  src: string;
  dst: string;
  result: PairResult;
  hops: TraceHop[];
  ecmp: number;
}

function findEndpoint(ctx: CheckContext, key: string): Endpoint {
  const e = ctx.fg.endpoints.get(key) ?? ctx.fg.model.endpoints.find((x) => x.ipv4?.split('/')[0] === key || x.ipv6?.split('/')[0] === key);
  if (!e) throw new UsageError(`no endpoint '${key}' (endpoints: ${[...ctx.fg.endpoints.keys()].slice(0, 20).join(', ')})`);
  return e;
}

export function traceEndpoints(ctx: CheckContext, srcKey: string, dstKey: string): TraceResult {
  const { fg } = ctx;
  const a = findEndpoint(ctx, srcKey);
  const b = findEndpoint(ctx, dstKey);
  const rm = new ReachabilityModel(ctx);
  const result = rm.pairResult(a, b);
  const hops: TraceHop[] = [];
  const la = fg.device(a.leaf)!;
  const lb = fg.device(b.leaf)!;
  const addr = (e: Endpoint) => e.ipv4?.split('/')[0] ?? e.ipv6?.split('/')[0] ?? e.mac;
  hops.push({ kind: 'host', text: `${a.name} ${addr(a)} (${a.mac}) VLAN ${a.vlan}${a.tagged ? ' tagged' : ''}, ${a.network}/${a.vrf}`, devices: [] });
  hops.push({ kind: 'leaf', text: `${la.name} ${a.port} access VLAN ${a.vlan}${result.actual === 'routed' ? `, routed in VRF ${result.vrf} (gateway ${a.gateway4 ?? a.gateway6 ?? '?'})` : ''}`, devices: [la.name] });
  let ecmp = 0;
  if (result.actual === 'isolated' || result.actual === 'broken') {
    hops.push({ kind: 'leaf', text: `dropped: ${result.actual === 'isolated' ? `VRF ${a.vrf} has no route to ${addr(b)} in VRF ${b.vrf}` : result.reason}`, devices: [la.name] });
    return { src: a.name, dst: b.name, result, hops, ecmp };
  }
  if (la !== lb) {
    const kind = result.actual === 'bridged' ? 'L2' : 'L3';
    const ia = fg.deviceIndex.get(la.name)!;
    const ib = fg.deviceIndex.get(lb.name)!;
    // The simulated RIB: la's route to lb's VTEP and its next hops.
    const cp = rm.cp;
    const route = cp.underlayRoute(ib, ia);
    const nhs = route ? cp.underlay.multipathEntries(ib, ia).map((k) => fg.devices[cp.underlay.adj.nbr[k]].name) : [];
    const evpn = cp.evpnRoute(ib, ia);
    hops.push({ kind: 'encap', text: `${la.name}: VXLAN encapsulation, ${kind} VNI ${result.vni}, VTEP ${la.vtep?.split('/')[0]} -> ${lb.vtep?.split('/')[0]}; underlay route to ${lb.vtep?.split('/')[0]} via ${nhs.join(', ') || 'nothing'}${route?.asPath.length ? ` (as-path ${route.asPath.join(' ')})` : ''}${evpn ? `, EVPN routes of ${lb.name}${evpn.asPath.length ? ` as-path ${evpn.asPath.join(' ')}` : ''}` : ''}`, devices: [la.name] });
    ecmp = ecmpCount(ctx.memo('ecmp', () => analyzeEcmp(fg)), ia, ib);
    // Devices on shortest paths, layer by layer: dA[v] + dB[v] == dA[lb].
    const n = fg.underlay.n;
    const dA = new Int32Array(n);
    const dB = new Int32Array(n);
    const sA = new Float64Array(n);
    const sB = new Float64Array(n);
    const q = new Int32Array(n);
    countPaths(fg.underlay, ia, dA, sA, q);
    countPaths(fg.underlay, ib, dB, sB, q);
    const total = dA[ib];
    for (let hop = 1; hop < total; hop++) {
      const layer: string[] = [];
      for (let v = 0; v < n; v++) if (dA[v] === hop && dB[v] === total - hop) layer.push(fg.devices[v].name);
      const shown = layer.length > 8 ? `${layer.slice(0, 8).join(' | ')} | ... (${layer.length})` : layer.join(' | ');
      hops.push({ kind: 'transit', text: `${shown}  (ECMP ${layer.length} next hop${layer.length === 1 ? '' : 's'})`, devices: layer });
    }
    hops.push({ kind: 'decap', text: `${lb.name}: VXLAN decapsulation, VNI ${result.vni}${result.actual === 'routed' ? `, routed in VRF ${result.vrf} to VLAN ${b.vlan}` : ` -> VLAN ${b.vlan}`}, ${b.port}`, devices: [lb.name] });
  } else {
    hops.push({ kind: 'leaf', text: `${la.name}: local ${result.actual === 'bridged' ? `bridging in VLAN ${a.vlan}` : `routing in VRF ${result.vrf} to VLAN ${b.vlan}`} -> ${b.port}`, devices: [la.name] });
  }
  hops.push({ kind: 'host', text: `${b.name} ${addr(b)} (${b.mac}) VLAN ${b.vlan}`, devices: [] });
  return { src: a.name, dst: b.name, result, hops, ecmp };
}

export function formatTrace(t: TraceResult): string[] {
  const r = t.result;
  const verdict = r.actual === r.expected ? 'as intended' : `INTENT VIOLATED (expected ${r.expected}): ${r.reason}`;
  const head = `${t.src} -> ${t.dst}: ${r.actual}${r.vni !== undefined && r.actual !== 'isolated' && r.actual !== 'broken' ? ` over VNI ${r.vni}` : ''}${t.ecmp > 1 ? `, ${t.ecmp} equal-cost underlay paths` : ''}; ${verdict}`;
  return [head, ...t.hops.map((h, i) => `  ${String(i + 1).padStart(2)}. ${h.text}`)];
}
