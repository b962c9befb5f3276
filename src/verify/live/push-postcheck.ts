/**
 * The live verification as a push post-check: after a wave's push, each FRR leaf's own EVPN
 * and VRF state (its VNIs up with the expected remote VTEPs, its VRFs holding their tenant
 * routes) must match the model before the push is confirmed. Collected over the push
 * driver's own SSH session, compared by the same pure function as `verify --live`.
 */
import type { FabricModel } from '../../model/types.ts';
import type { PostCheck } from '../../push/driver.ts';
import { collectFrrDevice, type Collector } from './collector.ts';
import { compareLive } from './compare.ts';

/** Checks whose findings about one device depend only on that device's own observation. */
const PER_DEVICE_CHECKS = new Set(['live-evpn-vnis', 'live-vrf-routes']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function liveVerificationPostCheck(model: FabricModel): PostCheck {
  return {
    name: 'live-verification',
    appliesTo: (d, transport) => transport === 'ssh' && d.platform === 'frr' && d.vtep !== undefined,
    async run(ctx) {
      const collector: Collector = {
        name: 'push-ssh',
        run: async (_device, command) => {
          try {
            return { ok: true, stdout: await ctx.exec!(`vtysh -c '${command}'`) };
          } catch (e) {
            return { ok: false, stdout: '', error: (e as Error).message };
          }
        },
        close: async () => {},
      };
      let problems: string[] = ['not checked'];
      for (;;) {
        const obs = await collectFrrDevice(collector, ctx.device, model);
        problems = compareLive(model, { devices: [obs], probes: [] })
          .filter((r) => PER_DEVICE_CHECKS.has(r.check.id))
          .flatMap((r) => r.findings)
          .filter((f) => f.severity === 'error' && f.evidence?.device === ctx.device.name)
          // What depends on a device changed in a later wave is checked when that wave runs.
          .filter((f) => !(f.elements?.devices ?? []).some((d) => ctx.pending.has(d)))
          .map((f) => f.message);
        // EVPN routes from the rest of the fabric take a few seconds after a reload.
        if (problems.length === 0 || Date.now() + 500 > ctx.deadline) return problems;
        await sleep(250);
      }
    },
  };
}
