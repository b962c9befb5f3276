/** One-screen summary of a model, printed by `netloom validate`. */
import type { FabricModel } from './types.ts';
import { roleRank } from '../domains/fabric/roles.ts';
import { domains } from '../domains/index.ts';

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

const leaves = (n: number) => `${n} ${n === 1 ? 'leaf' : 'leaves'}`;
const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${v} ${k}`).join(', ');

export function summarize(model: FabricModel): string[] {
  const f = model.fabric;
  const byRole = new Map([...countBy(model.devices, (d) => d.role)].sort((a, b) => roleRank(a[0]) - roleRank(b[0])));
  const byPlatform = countBy(model.devices, (d) => d.platform);
  const sessions = countBy(model.bgpSessions, (s) => `${s.type} ${s.layer}`);
  const vnis = model.networks.length + model.vrfs.length;
  const lines = [
    `fabric ${model.name}${model.site ? ` (site ${model.site})` : ''}: valid, revision ${model.revision}`,
    `  design     underlay ${f.underlay}, overlay EVPN over ${f.overlay.transport}${f.overlay.routeReflectors.length ? ` (route reflectors: ${f.overlay.routeReflectors.join(', ')})` : ''}, MTU ${f.mtu}/${f.hostMtu}`,
    `  devices    ${model.devices.length}: ${fmt(byRole)}`,
    `  platforms  ${fmt(byPlatform)}`,
    `  links      ${model.links.length} (${model.links.filter((l) => l.prefix).length} numbered)`,
    `  bgp        ${model.bgpSessions.length} sessions${sessions.size ? `: ${fmt(sessions)}` : ''}`,
  ];
  if (model.ospfAdjacencies.length) lines.push(`  ospf       ${model.ospfAdjacencies.length} adjacencies in area ${f.ospfArea}`);
  lines.push(
    `  tenants    ${model.tenants.length}: ${model.tenants.map((t) => `${t.name} (${t.vrfs.join(', ')})`).join(', ') || 'none'}`,
    `  vrfs       ${model.vrfs.map((v) => `${v.name} L3VNI ${v.l3vni} on ${leaves(v.devices.length)}`).join('; ') || 'none'}`,
    `  vnis       ${vnis}: ${model.networks.map((n) => `VLAN ${n.vlan}->${n.l2vni} (${n.name}, ${leaves(n.leaves.length)})`).join(', ') || 'none'}`,
    `  endpoints  ${model.endpoints.length}: ${model.endpoints.slice(0, 12).map((e) => `${e.name}@${e.leaf}:${e.port}`).join(', ')}${model.endpoints.length > 12 ? ', ...' : ''}`,
  );
  for (const d of domains()) lines.push(...(d.summary?.(model) ?? []));
  return lines;
}
