/**
 * What `netloom trace SRC VIP` shows behind a load-balancer node: each listener of the
 * service owning the VIP, its routes (rules in order, then the default pool), and the members
 * serving each pool (primaries, or backups when there are none) with weights and how the node
 * reaches each member through the fabric.
 */
import type { FabricModel } from '../../model/types.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { makeContext } from '../../verify/checks/index.ts';
import { ReachabilityModel } from '../../verify/reachability.ts';
import { serviceLegEndpoint } from '../../verify/trace.ts';
import { canon6 } from '../../verify/sim/control-plane.ts';
import { poolOf, servingMembers } from './answers.ts';
import type { SlbModel } from './model.ts';

export function slbTraceLines(model: FabricModel, vip: string, nodeName: string): string[] {
  const m = model.domains.slb as SlbModel | undefined;
  const sn = (model.serviceNodes ?? []).find((n) => n.name === nodeName && n.domain === 'slb');
  if (!m || !sn) return [];
  const same = (a: string) => (a.includes(':') && vip.includes(':') ? canon6(a) === canon6(vip) : a === vip);
  const s = m.services.find((x) => x.vips.some(same) && x.nodes.includes(nodeName));
  if (!s) return [];
  const leg = sn.legs.find((l) => l.vrf === s.vrf)!;
  const rm = new ReachabilityModel(makeContext(buildFabricGraph(model)));
  const from = serviceLegEndpoint(model, sn, leg);
  const out = [`${nodeName}: virtual service ${s.name} (${s.listeners.map((l) => `${l.port}/${l.protocol}`).join(', ')})`];
  const pools = [...s.rules.map((r) => ({ label: `rule ${r.name}${r.host ? ` host ${r.host}` : ''}${r.pathPrefix ? ` path ${r.pathPrefix}*` : ''}${r.header ? ` header ${r.header.name}=${r.header.value}` : ''}`, pool: r.pool })), { label: 'default', pool: s.defaultPool }];
  for (const p of pools) {
    const pool = poolOf(m, p.pool);
    const serving = servingMembers(pool);
    const members = pool.members.map((mb) => {
      const ep = mb.endpoint ? model.endpoints.find((e) => e.name === mb.endpoint) : undefined;
      const path = ep ? rm.pairResult(from, ep).actual : 'outside the model';
      const role = mb.drain ? 'drained' : mb.backup ? 'backup' : `weight ${mb.weight}`;
      return `${mb.endpoint ?? mb.address}:${mb.port} (${role}, ${path})`;
    });
    out.push(`   ${p.label} -> pool ${pool.name} (${pool.algorithm}${pool.persistence ? `, ${pool.persistence.type} persistence` : ''}): ${members.join(', ')}; serving: ${serving.members.join(', ') || 'nobody'}${serving.backup ? ' (backups)' : ''}`);
  }
  return out;
}
