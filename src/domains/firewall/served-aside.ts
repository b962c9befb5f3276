/**
 * A firewall probe plan with the ports other domains' lab processes serve set aside
 * (withoutServedPorts). The registry of domains is imported when asked: it imports this domain.
 */
import type { FabricModel } from '../../model/types.ts';
import { withoutServedPorts, type FirewallProbePlan } from './live-plan.ts';

export async function servedAside(model: FabricModel, plan: FirewallProbePlan): Promise<FirewallProbePlan> {
  const { labServedPorts } = await import('../index.ts');
  return withoutServedPorts(plan, labServedPorts(model));
}
