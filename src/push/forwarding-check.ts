/**
 * The data-plane post-check of an FRR leaf: the kernel's forwarding state (routes per VRF,
 * router-MAC neighbours, VXLAN FDB and flood lists; src/domains/fabric/forwarding-state.ts)
 * matches the model before the push is confirmed.
 */
import type { FabricModel } from '../model/types.ts';
import type { PostCheck } from './driver.ts';
import { expectedForwarding, forwardingCommand, forwardingProblems, parseForwarding } from '../domains/fabric/forwarding-state.ts';
import { evpnResyncShell, REPAIR_AFTER_MS } from '../domains/fabric/evpn-resync.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * FRR leaves: the kernel forwarding state matches the model before the push is confirmed.
 * Polls every 200 ms (EVPN routes from the rest of the fabric land within a second or two).
 */
export function forwardingStateCheck(model: FabricModel): PostCheck {
  return {
    name: 'forwarding-state',
    appliesTo: (d, t) => t === 'ssh' && d.platform === 'frr' && d.vtep !== undefined,
    async run(ctx) {
      const exp = expectedForwarding(model, ctx.device.name, new Set(ctx.pending.keys()));
      const cmd = forwardingCommand(ctx.device);
      const resync = evpnResyncShell(ctx.desired['frr.conf'] ?? '');
      let last: string[] = ['not checked'];
      let badSince: number | undefined;
      for (;;) {
        try {
          last = forwardingProblems(exp, parseForwarding(await ctx.exec!(cmd)));
        } catch (e) {
          last = [(e as Error).message];
        }
        if (last.length === 0 || Date.now() + 200 > ctx.deadline) return last;
        // Routes that arrived after the driver's re-announce can still lose their router MAC
        // (FRR 8.4, lab/README.md 3): the same repair as after the reload, once it persists.
        badSince ??= Date.now();
        if (resync && Date.now() - badSince >= REPAIR_AFTER_MS) {
          await ctx.exec!(resync).catch(() => undefined);
          badSince = Date.now();
        }
        await sleep(200);
      }
    },
  };
}
