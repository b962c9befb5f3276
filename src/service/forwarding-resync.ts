/**
 * The service's repair of a leaf whose kernel forwarding state diverges from the model
 * (`live-fabric-forwarding`): the same re-announce of its EVPN VRF routes as `lab wait
 * --converged` and the push driver (src/domains/fabric/evpn-resync.ts), run through the
 * target's collector (lab exec or the device's SSH session), then the state read again until
 * it matches or `settleMs` passes. No configuration changes: the commands toggle a best-path
 * knob back to the running value.
 */
import type { FabricModel } from '../model/types.ts';
import { evpnResyncShell } from '../domains/fabric/evpn-resync.ts';
import { expectedForwarding, forwardingCommand, forwardingProblems, parseForwarding } from '../domains/fabric/forwarding-state.ts';
import type { Collector } from '../verify/live/collector.ts';

export interface ResyncOutcome {
  device: string;
  /** Differences left after the repair (empty: repaired). */
  remaining: string[];
  /** Why nothing was run (no EVPN VRF in the running config, the device did not answer). */
  skipped?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function resyncForwarding(collector: Collector, model: FabricModel, device: string, settleMs = 5000): Promise<ResyncOutcome> {
  const dev = model.devices.find((d) => d.name === device);
  if (!dev?.vtep || !collector.shell) return { device, remaining: [], skipped: !dev?.vtep ? 'not a VTEP' : `${collector.name} runs no shell commands` };
  const running = await collector.run(device, 'show running-config');
  if (!running.ok) return { device, remaining: [], skipped: `running config not read: ${running.error ?? 'failed'}` };
  const shell = evpnResyncShell(running.stdout);
  if (!shell) return { device, remaining: [], skipped: 'no BGP VRF imports EVPN routes in the running config' };
  const done = await collector.run(device, shell, { shell: true });
  if (!done.ok) return { device, remaining: [], skipped: `re-announce failed: ${done.error ?? 'failed'}` };
  const exp = expectedForwarding(model, device);
  const cmd = forwardingCommand(dev);
  const deadline = Date.now() + settleMs;
  for (;;) {
    const r = await collector.run(device, cmd, { shell: true });
    const remaining = r.ok ? forwardingProblems(exp, parseForwarding(r.stdout)) : [`forwarding state not read: ${r.error ?? 'failed'}`];
    if (!remaining.length || Date.now() + 250 > deadline) return { device, remaining };
    await sleep(250);
  }
}
