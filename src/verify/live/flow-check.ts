/**
 * Endpoint flows as a wave check of a rollout into a lab: before the first push every flow
 * through a device the rollout changes is probed from its source host's namespace; after each
 * wave, the flows through the wave's devices again. A flow that answered as predicted before
 * (or stayed silent, for an isolated pair) and no longer does was broken by the wave, which is
 * then rolled back with the flow named. Flows that did not work before are not held against a
 * wave (a later wave may be what makes them work; the post-checks and `verify --live` judge them).
 */
import type { FabricModel } from '../../model/types.ts';
import type { LabState } from '../../lab/index.ts';
import type { WaveCheck } from '../../push/driver.ts';
import { endpointFlows, flowKey, flowName, flowsThrough, type Flow } from '../flows.ts';
import { probePairs } from './probes.ts';

/**
 * Seconds an answering flow gets (ARP on both hosts and the leaves), and a silent one: a leak
 * answers within milliseconds of the first echo (ARP replies are immediate when a path exists).
 */
const ANSWER_DEADLINE_S = 2;
const SILENT_DEADLINE_S = 0.6;

export function flowProbeWaveCheck(model: FabricModel, lab: LabState): WaveCheck {
  const hosts = new Set(lab.nodes.map((n) => n.name));
  let flows: Flow[] | undefined;
  const all = () => (flows ??= endpointFlows(model, hosts));
  const before = new Map<string, boolean>();
  const probe = async (list: Flow[]) =>
    new Map((await probePairs(lab, list.map((f) => ({ ...f, deadlineS: f.answers ? ANSWER_DEADLINE_S : SILENT_DEADLINE_S })))).map((p) => [`${p.src}>${p.dst}`, p.answered]));
  return {
    name: 'flow-probes',
    async before(devices) {
      for (const [k, v] of await probe(flowsThrough(all(), devices))) before.set(k, v);
    },
    async after(devices) {
      const list = flowsThrough(all(), devices).filter((f) => before.get(flowKey(f)) === f.answers);
      const now = await probe(list);
      return list
        .filter((f) => now.get(flowKey(f)) !== f.answers)
        .map((f) => `flow ${flowName(f)} ${f.answers ? 'answered before this wave and no longer answers' : 'was silent before this wave and now answers'}`);
    },
  };
}
