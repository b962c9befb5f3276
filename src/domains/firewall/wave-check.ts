/**
 * The firewall's wave check in a rollout into a lab: after each wave, every probe of the live
 * plan (live-plan.ts) whose deciding devices include one of the wave's, and none of a later
 * wave's, must get the verdict the new policy predicts - an accepted service connects (at the
 * translated port for a port forward), a rejected one is refused, a dropped one times out - or
 * the wave is rolled back with the probe, the rule and its line named. Listeners are started
 * before the first push, while the devices are prepared.
 *
 * Unlike the fabric's flow probes, nothing is compared with the state before the wave: a policy
 * rollout is meant to change verdicts, and a policy the devices do not enforce once pushed is
 * exactly what must be caught, whatever it did before.
 */
import type { FabricModel } from '../../model/types.ts';
import type { LabState } from '../../lab/state.ts';
import { startListeners } from '../../lab/listeners.ts';
import type { WaveCheck } from '../../push/driver.ts';
import { runServiceProbes, serviceProbeProblems } from '../../verify/live/service-probes.ts';
import { firewallProbePlan, type FirewallProbePlan } from './live-plan.ts';
import { servedAside } from './served-aside.ts';

/** Time a dropped probe is given to stay silent (an accepted connection answers in milliseconds). */
const DEADLINE_MS = 1500;

export function firewallWaveCheck(model: FabricModel, lab: LabState): WaveCheck {
  let plan: FirewallProbePlan | undefined;
  const planned = async () => (plan ??= await servedAside(model, firewallProbePlan(model, undefined, { deadlineMs: DEADLINE_MS, hosts: new Set(lab.nodes.map((n) => n.name)) })));
  return {
    name: 'firewall-probes',
    async before() {
      for (const [node, ports] of (await planned()).listeners) await startListeners(lab, node, ports);
    },
    async after(devices, ctx) {
      const later = new Set(ctx?.pending ?? []);
      const list = (await planned()).probes.filter((p) => (!p.via || p.via.some((d) => devices.includes(d))) && !(p.via ?? []).some((d) => later.has(d)));
      if (!list.length) return [];
      return serviceProbeProblems(list, await runServiceProbes(lab, list, { sources: 8 }));
    },
  };
}
