/**
 * The kernel's forwarding state as a live check (`verify --live`, `netloom serve`): what every
 * leaf forwards with (routes per VRF, the router-MAC neighbour and VXLAN FDB entry of each
 * remote VTEP, the flood list of each L2 VNI) against the model, read with the same command
 * and compared by the same code as the push post-check and `lab wait --converged`
 * (forwarding-state.ts).
 * Why a check of its own: zebra's tables can agree with the model while the kernel does not.
 * After a VTEP's uplink flaps, FRR 8.4 can drop that VTEP's router-MAC neighbour and FDB
 * entries on the other leaves and keep them dropped (lab/README.md 3): every BGP, EVPN and
 * route check passes and the routed traffic between the VRF's endpoints is blackholed.
 */
import type { Device, FabricModel } from '../../model/types.ts';
import type { Collector } from '../../verify/live/collector.ts';
import type { LiveTarget } from '../../verify/live/run.ts';
import type { CheckInfo, CheckResult, Finding } from '../../verify/findings.ts';
import { expectedForwarding, forwardingCommand, forwardingDiffs, parseForwarding, type ForwardingDiff } from './forwarding-state.ts';

export const FORWARDING_CHECK: CheckInfo = {
  id: 'live-fabric-forwarding',
  title: "Leaves' kernel forwarding state as modelled",
  kind: 'live',
  layer: 'overlay',
  severity: 'error',
  description:
    "each leaf's kernel (not zebra's view) holds every tenant subnet of its VRFs, connected or via the simulated VTEPs, the router-MAC neighbour and VXLAN FDB entry of every remote VTEP a VRF routes through, and every other VTEP of an L2 VNI in its flood list",
};

export interface ForwardingObserved {
  /** Why the state was not read (the target's collector runs no shell commands). */
  notApplicable?: string;
  devices: { device: string; diffs: ForwardingDiff[]; error?: string }[];
}

/** FRR leaves whose kernel state the target can read. */
function leaves(model: FabricModel, target: LiveTarget): Device[] {
  return model.devices.filter((d) => d.platform === 'frr' && d.vtep && (!target.inventory || target.inventory.devices.some((x) => x.name === d.name && x.transport === 'ssh')));
}

export async function collectForwarding(target: LiveTarget, model: FabricModel): Promise<ForwardingObserved> {
  const c: Collector = target.collector;
  if (!c.shell) return { notApplicable: `${c.name} runs no shell commands`, devices: [] };
  const devices = await Promise.all(
    leaves(model, target).map(async (d) => {
      const r = await c.run(d.name, forwardingCommand(d), { shell: true }).catch((e: Error) => ({ ok: false, stdout: '', error: e.message }));
      if (!r.ok) return { device: d.name, diffs: [], error: (r.error ?? 'failed').split('\n')[0] };
      return { device: d.name, diffs: forwardingDiffs(expectedForwarding(model, d.name), parseForwarding(r.stdout)) };
    }),
  );
  return { devices: devices.sort((a, b) => a.device.localeCompare(b.device)) };
}

/** One finding per difference, keyed by the object it is about (src/service/finding-key.ts). */
export function compareForwarding(model: FabricModel, obs: ForwardingObserved | undefined, ms = 0): CheckResult {
  const findings: Finding[] = [];
  const byName = new Map(model.devices.map((d) => [d.name, d]));
  for (const d of obs?.devices ?? []) {
    const source = byName.get(d.device)?.source;
    if (d.error) {
      findings.push({ check: FORWARDING_CHECK.id, severity: 'error', message: `${d.device}: kernel forwarding state not read: ${d.error}`, evidence: { device: d.device, command: 'forwarding-state' }, ...(source ? { location: source } : {}), elements: { devices: [d.device] } });
      continue;
    }
    for (const x of d.diffs) {
      const { message, missingVia: _via, ...ids } = x;
      findings.push({ check: FORWARDING_CHECK.id, severity: 'error', message: `${d.device}: ${message}`, evidence: { device: d.device, ...ids }, ...(source ? { location: source } : {}), elements: { devices: [d.device] } });
    }
  }
  const examined = !obs ? 'not collected' : obs.notApplicable ? `not read: ${obs.notApplicable}` : `${obs.devices.length} leaves`;
  return { check: FORWARDING_CHECK, passed: !findings.length, findings, examined, ms };
}
