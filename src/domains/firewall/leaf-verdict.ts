/**
 * What the policies enforced at a pair's own leaves (between VRFs, at networks) do to one packet
 * between the two endpoints: the ping predictions ask it, so an echo the policy drops is not
 * predicted to answer (a firewall node's verdict is asked separately, as the node's transit).
 * A policy judges only the packets its rendered forward chain jumps into it for: addresses in
 * its scope (src in one VRF's subnets and dst in another's; or either in its networks'), so a
 * packet to an address beyond them (a load balancer's VIP from another site) passes it.
 */
import { containsCidr } from 'cidr-tools';
import type { Endpoint, FabricModel } from '../../model/types.ts';
import type { Packet } from '../../verify/packet-set/packet-set.ts';
import type { FirewallModel, FwAction, FwPolicy } from './model.ts';
import { policiesOnPath, verdictText } from './live-plan.ts';
import { policyAnalysis } from './node.ts';
import { policyScope } from './render-common.ts';

/** Each policy's scope (a policy object belongs to one model): asked once per probe and policy. */
const scopes = new WeakMap<FwPolicy, ReturnType<typeof policyScope>>();

/** Whether the policy's forward-chain jumps take the packet (render-nft.ts scopeJumps). */
export function inPolicyScope(p: FwPolicy, model: FabricModel, packet: Packet): boolean {
  const key = packet.family === 4 ? 'v4' : 'v6';
  const host = (a: string) => `${a}/${packet.family === 4 ? 32 : 128}`;
  const within = (list: string[], a: string) => list.some((c) => containsCidr(c, host(a)));
  let scope = scopes.get(p);
  if (!scope) scopes.set(p, (scope = policyScope(p, model)));
  if (p.enforcement.kind === 'inter-vrf' || p.enforcement.kind === 'node') {
    return scope.some((x) => within(x[key], packet.src) && scope.some((y) => y !== x && within(y[key], packet.dst)));
  }
  const all = scope.flatMap((m) => m[key]);
  return within(all, packet.src) || within(all, packet.dst);
}

export function leafVerdict(model: FabricModel, a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed', packet: Packet): { action: FwAction; text: string } | undefined {
  const policies = (model.domains?.firewall as FirewallModel | undefined)?.policies;
  if (!policies?.length) return undefined;
  for (const p of policiesOnPath(policies, a, b, forwarding)) {
    if (p.enforcement.kind === 'node' || !inPolicyScope(p, model, packet)) continue;
    const v = policyAnalysis(p).evaluate(packet);
    if (v.action !== 'accept') {
      const where = p.enforcement.devices.filter((d) => d === a.leaf || d === b.leaf).join(', ');
      return { action: v.action, text: `${verdictText({ ...v, policy: p.name })}${where ? ` on ${where}` : ''}` };
    }
  }
  return undefined;
}
