/**
 * `netloom trace SRC DST`: the path between two endpoints as the configuration builds it:
 * host, ingress leaf (port, VLAN), encapsulation (VNI, VTEPs), the spine layers with their
 * ECMP width, egress leaf, host. Endpoints are names or IPv4 addresses.
 */
import { UsageError } from '../util/errors.ts';
import type { Endpoint, FabricModel } from '../model/types.ts';
import type { ServiceNode, ServiceNodeLeg } from '../model/service-nodes.ts';
import { canon6, type RibRoute } from './sim/control-plane.ts';
import type { CheckContext } from './checks/types.ts';
import { countPaths } from './graph.ts';
import { ReachabilityModel, type PairResult } from './reachability.ts';
import { analyzeEcmp, ecmpCount } from './underlay.ts';

export interface TraceHop {
  /** service-node: a node routing between VRFs (a firewall) on the path. */
  kind: 'host' | 'leaf' | 'encap' | 'transit' | 'decap' | 'service-node';
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
  return traceBetween(ctx, findEndpoint(ctx, srcKey), findEndpoint(ctx, dstKey));
}

/** A service node's leg as an endpoint of its leaf: what the fabric's pair questions take. */
export function serviceLegEndpoint(model: FabricModel, n: ServiceNode, leg: ServiceNodeLeg): Endpoint {
  const net = model.networks.find((x) => x.name === leg.network)!;
  return { name: n.name, leaf: n.leaf, port: leg.port, vlan: leg.vlan, tagged: false, network: leg.network, vrf: leg.vrf, tenant: leg.tenant, l2vni: net.l2vni, ipv4: leg.ipv4, ipv6: leg.ipv6, mac: leg.mac, gateway4: leg.gateway4, gateway6: leg.gateway6, source: leg.source };
}

export interface VipTrace {
  src: string;
  srcVrf: string;
  vip: string;
  vrf: string;
  /** Every service node announcing the prefix, and whether the client's leaf uses it. */
  nodes: { node: string; domain: string; leaf: string; used: boolean }[];
  /** The client leaf's route to the VIP (simulated RIB), absent when it has none. */
  route?: RibRoute;
  /** The service node routing the client's VRF to the VIP's (a firewall node), when they differ. */
  through?: string;
  /** The path to each node the client's leaf uses. */
  legs: TraceResult[];
}

/** Whether the VIP trace is what the intent wants: reached in its own VRF (over paths that forward), isolated from others. */
export function vipTraceAsIntended(t: VipTrace): boolean {
  if (!t.route) return t.srcVrf !== t.vrf;
  return t.legs.every((l) => l.result.actual === 'routed' || l.result.actual === 'bridged');
}

/** `trace SRC VIP`: the client leaf's route to a service prefix and the path to each node announcing it. */
export function traceVip(ctx: CheckContext, srcKey: string, vip: string): VipTrace | undefined {
  const model = ctx.fg.model;
  const v6 = vip.includes(':');
  const prefix = v6 ? `${canon6(vip)}/128` : `${vip}/32`;
  const isVip = (x: { prefix: string }) => (v6 ? `${canon6(x.prefix.split('/')[0])}/128` : x.prefix) === prefix;
  const announcing = (model.serviceNodes ?? []).filter((n) => n.advertise.some(isVip));
  // The nodes owning it (a firewall node announcing it into other VRFs routes it, it is not behind it).
  const owners = announcing.filter((n) => n.advertise.some((x) => isVip(x) && x.via === undefined));
  if (!owners.length) return undefined;
  const a = findEndpoint(ctx, srcKey);
  const vrf = owners[0].advertise.find((x) => isVip(x) && x.via === undefined)!.vrf;
  const rm = new ReachabilityModel(ctx);
  // The client's own VRF: a VIP of another VRF is reached only through a node routing between them.
  const route = rm.cp.rib(a.leaf, a.vrf).find((r) => r.prefix === prefix);
  const uses = (r: RibRoute | undefined, n: { name: string; leaf: string }) => !!r && r.nextHops.some((h) => h.device === n.name || h.device === n.leaf);
  const through = a.vrf === vrf ? undefined : announcing.find((n) => n.advertise.some((x) => isVip(x) && x.vrf === a.vrf && x.via === vrf) && uses(route, n));
  // Through a node: the owners its leaf routes to in the VIP's VRF.
  const onward = through ? rm.cp.rib(through.leaf, vrf).find((r) => r.prefix === prefix) : route;
  const nodes = owners.map((n) => ({ node: n.name, domain: n.domain, leaf: n.leaf, used: (!!route && (!!through || a.vrf === vrf)) && uses(onward, n) }));
  const legOf = (n: ServiceNode) => serviceLegEndpoint(model, n, n.legs.find((l) => l.vrf === vrf && (v6 ? l.ipv6 : l.ipv4))!);
  const legs = owners.filter((n) => nodes.find((x) => x.node === n.name)!.used).map((n) => {
    if (!through) return traceBetween(ctx, a, legOf(n));
    const legA = through.legs.find((l) => l.vrf === a.vrf)!;
    const legB = through.legs.find((l) => l.vrf === vrf)!;
    const there = traceBetween(ctx, a, serviceLegEndpoint(model, through, legA));
    const on = traceBetween(ctx, serviceLegEndpoint(model, through, legB), legOf(n));
    const hop: TraceHop = { kind: 'service-node', text: `${through.name} (${through.role}): in ${legA.iface} VRF ${legA.vrf}, routed out ${legB.iface} VRF ${legB.vrf} (${through.leaf}:${legA.port} -> ${through.leaf}:${legB.port})`, devices: [through.name] };
    const ok = there.result.actual !== 'isolated' && there.result.actual !== 'broken' ? on.result : there.result;
    return { src: a.name, dst: legOf(n).name, result: { ...ok, a: a.name, b: n.name, via: through.name }, hops: [...there.hops.slice(0, -1), hop, ...on.hops.slice(1)], ecmp: Math.max(there.ecmp, on.ecmp) };
  });
  return { src: a.name, srcVrf: a.vrf, vip, vrf, nodes, ...(route ? { route } : {}), ...(through ? { through: through.name } : {}), legs };
}

export function formatVipTrace(t: VipTrace): string[] {
  const used = t.nodes.filter((n) => n.used);
  const head = `${t.src} -> ${t.vip} (VRF ${t.vrf}, announced by ${t.nodes.map((n) => `${n.node} on ${n.leaf}`).join(', ')}${t.through ? `, routed from VRF ${t.srcVrf} through ${t.through}` : ''}): ${t.route ? `${used.length} node${used.length === 1 ? '' : 's'} reached, route ${t.route.prefix} ${t.route.protocol} via ${t.route.nextHops.map((h) => `${h.address ?? h.interface}${h.device ? ` (${h.device})` : ''}`).join(', ')}` : `not reached: ${t.src}'s leaf has no route to ${t.vip} in VRF ${t.srcVrf}; ${t.srcVrf === t.vrf ? 'INTENT VIOLATED (expected reachable in its own VRF)' : 'as intended (VRFs isolated)'}`}`;
  const out = [head];
  for (const l of t.legs) out.push('', ...formatTrace(l));
  return out;
}

function traceBetween(ctx: CheckContext, a: Endpoint, b: Endpoint): TraceResult {
  const { fg } = ctx;
  const rm = new ReachabilityModel(ctx);
  const result = rm.pairResult(a, b);
  const node = result.actual === 'routed' && result.via ? fg.model.serviceNodes?.find((n) => n.name === result.via) : undefined;
  const legA = node?.legs.find((l) => l.vrf === a.vrf);
  const legB = node?.legs.find((l) => l.vrf === b.vrf);
  if (node && legA && legB) {
    // Between VRFs through a service node: to its leg in a's VRF, across it, from its leg in b's.
    const there = traceBetween(ctx, a, serviceLegEndpoint(fg.model, node, legA));
    const back = traceBetween(ctx, serviceLegEndpoint(fg.model, node, legB), b);
    const hop: TraceHop = { kind: 'service-node', text: `${node.name} (${node.role}): in ${legA.iface} VRF ${legA.vrf}, routed out ${legB.iface} VRF ${legB.vrf} (${node.leaf}:${legA.port} -> ${node.leaf}:${legB.port})`, devices: [node.name] };
    return { src: a.name, dst: b.name, result, hops: [...there.hops.slice(0, -1), hop, ...back.hops.slice(1)], ecmp: Math.max(there.ecmp, back.ecmp) };
  }
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
    ecmp = ecmpCount(ctx.memo('ecmp', () => fg.fabricMemo('ecmp', () => analyzeEcmp(fg))), ia, ib);
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
  const head = `${t.src} -> ${t.dst}: ${r.actual}${r.via && r.actual === 'routed' ? ` through ${r.via}` : r.vni !== undefined && r.actual !== 'isolated' && r.actual !== 'broken' ? ` over VNI ${r.vni}` : ''}${t.ecmp > 1 ? `, ${t.ecmp} equal-cost underlay paths` : ''}; ${verdict}`;
  return [head, ...t.hops.map((h, i) => `  ${String(i + 1).padStart(2)}. ${h.text}`)];
}
