/**
 * What the policies enforced at a pair's own leaves (between VRFs, at networks) do to one packet
 * between the two endpoints: the ping predictions ask it, so an echo the policy drops is not
 * predicted to answer (a firewall node's verdict is asked separately, as the node's transit).
 */
import type { Endpoint, FabricModel } from '../../model/types.ts';
import type { Packet } from '../../verify/packet-set/packet-set.ts';
import type { FirewallModel, FwAction } from './model.ts';
import { policiesOnPath, verdictText } from './live-plan.ts';
import { policyAnalysis } from './node.ts';

export function leafVerdict(model: FabricModel, a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed', packet: Packet): { action: FwAction; text: string } | undefined {
  const policies = (model.domains?.firewall as FirewallModel | undefined)?.policies;
  if (!policies?.length) return undefined;
  for (const p of policiesOnPath(policies, a, b, forwarding)) {
    if (p.enforcement.kind === 'node') continue;
    const v = policyAnalysis(p).evaluate(packet);
    if (v.action !== 'accept') {
      const where = p.enforcement.devices.filter((d) => d === a.leaf || d === b.leaf).join(', ');
      return { action: v.action, text: `${verdictText({ ...v, policy: p.name })}${where ? ` on ${where}` : ''}` };
    }
  }
  return undefined;
}
