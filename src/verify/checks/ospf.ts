/** OSPF adjacencies: area, MTU, timers, network type and addressing agree at both ends. */
import type { OspfAdjacency } from '../../model/types.ts';
import type { Finding } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import type { StaticCheck } from './types.ts';

export function checkAdjacency(fg: FabricGraph, o: OspfAdjacency): Finding[] {
  const out: Finding[] = [];
  const link = fg.linkAt(o.a.device, o.a.interface);
  const f = (message: string, evidence: Record<string, unknown>) =>
    out.push({ check: 'ospf-compat', severity: 'error', message, evidence: { adjacency: o.id, ...evidence }, location: o.source, elements: { devices: [o.a.device, o.b.device], links: link ? [fg.linkName(link)] : [] } });
  const ends = [o.a, o.b].map((e) => ({ e, d: fg.device(e.device), i: fg.iface(e.device, e.interface) }));
  for (const { e, d, i } of ends) {
    if (!d) {
      f(`adjacency ${o.id}: device ${e.device} does not exist`, { device: e.device });
      return out;
    }
    if (!d.ospf) f(`adjacency ${o.id}: ${e.device} does not run OSPF`, { device: e.device });
    else {
      if (!d.ospf.interfaces.includes(e.interface)) f(`adjacency ${o.id}: OSPF is not enabled on ${e.device}:${e.interface}`, { device: e.device, interface: e.interface, ospfInterfaces: d.ospf.interfaces });
      if (d.ospf.routerId !== e.routerId) f(`adjacency ${o.id}: ${e.device} OSPF router id is ${d.ospf.routerId}, expected ${e.routerId}`, { device: e.device, expected: e.routerId, actual: d.ospf.routerId });
    }
    if (!i) f(`adjacency ${o.id}: ${e.device} has no interface ${e.interface}`, { device: e.device, interface: e.interface });
    else if (i.ipv4 !== e.address) f(`adjacency ${o.id}: ${e.device}:${e.interface} has address ${i.ipv4 ?? 'none'}, the adjacency expects ${e.address}`, { interface: `${e.device}:${e.interface}`, expected: e.address, actual: i.ipv4 ?? null });
  }
  const [a, b] = ends;
  const areaA = a.d?.ospf?.area;
  const areaB = b.d?.ospf?.area;
  if (areaA && areaB && (areaA !== areaB || areaA !== o.area)) {
    f(`adjacency ${o.id}: area mismatch, ${o.a.device} in area ${areaA}, ${o.b.device} in area ${areaB}`, { [`${o.a.device}.area`]: areaA, [`${o.b.device}.area`]: areaB, adjacencyArea: o.area });
  }
  if (a.i && b.i && (a.i.mtu !== b.i.mtu || a.i.mtu !== o.mtu)) {
    f(`adjacency ${o.id}: MTU mismatch, ${o.a.device}:${o.a.interface} ${a.i.mtu} vs ${o.b.device}:${o.b.interface} ${b.i.mtu} (stuck in ExStart)`, { [`${o.a.device}:${o.a.interface}.mtu`]: a.i.mtu, [`${o.b.device}:${o.b.interface}.mtu`]: b.i.mtu, adjacencyMtu: o.mtu });
  }
  if (!(o.helloInterval > 0) || !(o.deadInterval > o.helloInterval)) f(`adjacency ${o.id}: dead interval ${o.deadInterval} must exceed hello interval ${o.helloInterval}`, { hello: o.helloInterval, dead: o.deadInterval });
  if (o.networkType !== 'point-to-point') f(`adjacency ${o.id}: network type ${o.networkType}, fabric links are point-to-point`, { networkType: o.networkType });
  // Both addresses in one subnet (a /31 for p2p links).
  const net = (cidr: string) => {
    const [ip, len] = cidr.split('/');
    const n = ip.split('.').reduce((x, p) => x * 256 + Number(p), 0);
    const size = 2 ** (32 - Number(len));
    return `${Math.floor(n / size)}/${len}`;
  };
  if (o.a.address && o.b.address && net(o.a.address) !== net(o.b.address)) f(`adjacency ${o.id}: ${o.a.address} and ${o.b.address} are not in one subnet`, { a: o.a.address, b: o.b.address });
  if (!link || fg.linkAt(o.b.device, o.b.interface) !== link) f(`adjacency ${o.id}: ${o.a.device}:${o.a.interface} and ${o.b.device}:${o.b.interface} are not the ends of one link`, { a: `${o.a.device}:${o.a.interface}`, b: `${o.b.device}:${o.b.interface}` });
  return out;
}

export const ospfCompat: StaticCheck = {
  id: 'ospf-compat',
  reads: 'fabric',
  title: 'OSPF adjacencies compatible',
  kind: 'static',
  layer: 'underlay',
  severity: 'error',
  description: 'area, MTU, hello/dead timers, network type, router id and addressing agree at both ends of every adjacency',
  run({ fg }) {
    const findings = fg.model.ospfAdjacencies.flatMap((o) => checkAdjacency(fg, o));
    return { findings, examined: `${fg.model.ospfAdjacencies.length} adjacencies` };
  },
};
