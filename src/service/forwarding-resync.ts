/**
 * The service's repair of a leaf whose kernel forwarding state diverges from the model
 * (`live-fabric-forwarding`): the same re-announce of its EVPN VRF routes as `lab wait
 * --converged` and the push driver (src/domains/fabric/evpn-resync.ts), run through the
 * target's collector (lab exec or the device's SSH session), then the state read again until
 * it matches or `settleMs` passes. No configuration changes: the commands toggle a best-path
 * knob back to the running value. Entries still missing that zebra holds as the model does
 * (deleted under zebra: it does not put back an L3 VNI's router-MAC FDB entry) are then written
 * back as zebra writes them (src/domains/fabric/kernel-reinstall.ts).
 */
import type { FabricModel } from '../model/types.ts';
import { evpnResyncShell } from '../domains/fabric/evpn-resync.ts';
import { expectedForwarding, forwardingCommand, forwardingDiffs, parseForwarding, type ForwardingDiff } from '../domains/fabric/forwarding-state.ts';
import { parseZebraEvpn, reinstallCommands, ZEBRA_EVPN_COMMANDS } from '../domains/fabric/kernel-reinstall.ts';
import type { Collector } from '../verify/live/collector.ts';

export interface ResyncOutcome {
  device: string;
  /** Differences left after the repair (empty: repaired). */
  remaining: string[];
  /** Why nothing was run (no EVPN VRF in the running config, the device did not answer). */
  skipped?: string;
  /** Entries written back from zebra's own tables after the re-announce left them missing. */
  reinstalled?: string[];
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
  const settle = async (ms: number): Promise<ForwardingDiff[] | string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = await collector.run(device, cmd, { shell: true });
      if (!r.ok) return `forwarding state not read: ${r.error ?? 'failed'}`;
      const diffs = forwardingDiffs(exp, parseForwarding(r.stdout));
      if (!diffs.length || Date.now() + 250 > deadline) return diffs;
      await sleep(250);
    }
  };
  const left = await settle(settleMs);
  if (typeof left === 'string') return { device, remaining: [left] };
  if (!left.length) return { device, remaining: [] };
  // What the re-announce did not bring back and zebra still holds: written as zebra writes it.
  const [nh, vnis] = await Promise.all(ZEBRA_EVPN_COMMANDS.map((c) => collector.run(device, c)));
  if (!nh.ok || !vnis.ok) return { device, remaining: left.map((d) => d.message) };
  let plan;
  try {
    plan = reinstallCommands(dev, exp, left, parseZebraEvpn(nh.stdout, vnis.stdout));
  } catch {
    return { device, remaining: left.map((d) => d.message) };
  }
  if (!plan.commands.length) return { device, remaining: left.map((d) => d.message) };
  const wrote = await collector.run(device, plan.commands.join('; '), { shell: true });
  const reinstalled = plan.repaired.map((d) => d.message);
  if (!wrote.ok) return { device, remaining: left.map((d) => d.message), reinstalled: [] };
  const after = await settle(2000);
  return { device, remaining: typeof after === 'string' ? [after] : after.map((d) => d.message), reinstalled };
}
