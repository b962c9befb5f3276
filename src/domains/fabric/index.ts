/**
 * The fabric domain (underlay, EVPN overlay, tenants, endpoints) registered through the same
 * seam later domains use. Its intent sections are the intent's top level and its model the
 * model's top level, so it has no `intent` fragment or `resolve` of its own; every stage
 * facet below refers to the fabric's existing implementation.
 *
 * Stage code is reached through getters and arrows, never read while this module loads:
 * stage entry points import the registry, and the registry must load from any of them.
 */
import type { FabricModel } from '../../model/types.ts';
import type { FabricGraph } from '../../verify/graph.ts';
import { expectedSessions } from '../../lab/expected-from-model.ts';
import { bgpSessionsCheck, ospfNeighborsCheck } from '../../push/postcheck.ts';
import { forwardingStateCheck } from '../../push/forwarding-check.ts';
import { requiredFeatures } from '../../render/features.ts';
import { staticChecks } from '../../verify/checks/index.ts';
import { compareLive, LiveBasis, LIVE_CHECKS, type ObservedState } from '../../verify/live/compare.ts';
import { liveVerificationPostCheck } from '../../verify/live/push-postcheck.ts';
import { collectObserved } from '../../verify/live/run.ts';
import { flowProbeWaveCheck } from '../../verify/live/flow-check.ts';
import { IncrementalLive } from '../../verify/live/incremental.ts';
import { collectForwarding, compareForwarding, FORWARDING_CHECK, type ForwardingObserved } from './forwarding-live.ts';
import { collectInterfaces, compareInterfaces, InterfacesLive, INTERFACES_CHECK, type InterfacesObserved } from './interfaces-live.ts';
import type { DomainModule } from '../types.ts';

export const fabric: DomainModule<FabricModel> = {
  id: 'fabric',
  title: 'Clos fabric: underlay, EVPN overlay, tenants and endpoints',
  requires: [],
  capabilities: {
    underlay: ['ebgp-unnumbered', 'ebgp', 'ospf'],
    overlay: ['evpn-ebgp', 'evpn-ibgp', 'route-reflector', 'evpn-dci'],
    features: ['l2vni', 'l3vni', 'anycast-gateway', 'ipv6-gateway', 'dhcp-relay', 'mtu', 'tagged-ports', 'service-peering'],
  },
  render: {
    features: (view, model) => requiredFeatures(view, model),
    // The fabric is each platform's main configuration: its artifact templates themselves.
    templates: (platform) => (platform.render?.artifacts ?? []).map((a) => a.template),
  },
  verify: {
    get static() {
      return staticChecks;
    },
    live: {
      get checks() {
        return [...LIVE_CHECKS, FORWARDING_CHECK, INTERFACES_CHECK];
      },
      // The kernel's forwarding state is read after the FRR tables (and the probes, which make
      // hosts speak), as one more part of the fabric's observation.
      collect: async (target, model, opts): Promise<FabricObserved> => {
        const observed: FabricObserved = await collectObserved(target, model, opts);
        // Two independent kernel readings: side by side.
        const timed = async <T>(read: Promise<T>): Promise<[T, number]> => {
          const t0 = performance.now();
          return [await read, performance.now() - t0];
        };
        [[observed.forwarding, observed.forwardingMs], [observed.interfaces, observed.interfacesMs]] = await Promise.all([timed(collectForwarding(target, model)), timed(collectInterfaces(target, model))]);
        return observed;
      },
      compare: (model, observed, fg) => {
        const o = observed as FabricObserved;
        return [...compareLive(model, o, fg, fg && basisOf(model, fg)), compareForwarding(model, o.forwarding, o.forwardingMs), compareInterfaces(model, o.interfaces, o.interfacesMs)];
      },
      // The service's poller: FRR's tables re-checked where they changed, the kernel forwarding
      // state read and compared whole on every poll (one command per leaf), the interfaces'
      // state re-checked where it changed (one command per device).
      incremental: (model, fg, hooks) => {
        const live = new IncrementalLive(model, fg, basisOf(model, fg), hooks?.tables);
        const ifaces = new InterfacesLive(model);
        if (hooks?.recheck) live.comparison.onRecheck = hooks.recheck;
        return {
          async poll(target, opts) {
            const r = await live.poll(target, opts);
            const t0 = performance.now();
            // Beside it, each device's interfaces: state re-checked where it changed, counters against the previous poll.
            const reading = ifaces.poll(target);
            const forwarding = await collectForwarding(target, model);
            const ms = performance.now() - t0;
            const i = await reading;
            const observed: FabricObserved = { ...(r.observed as ObservedState), forwarding, interfaces: i.observed };
            return { ...r, observed, results: [...r.results, compareForwarding(model, forwarding, ms), i.result] };
          },
        };
      },
      postCheck: (model) => liveVerificationPostCheck(model),
    },
  },
  lab: {
    expected: (model) => expectedSessions(model),
  },
  push: {
    postChecks: (model) => [bgpSessionsCheck(model), ospfNeighborsCheck(model), forwardingStateCheck(model)],
    // In a lab, the endpoint flows through each wave's devices are probed before and after it.
    waveChecks: (model, target) => (target.lab ? [flowProbeWaveCheck(model, target.lab)] : []),
  },
};

/** What the fabric observes: FRR's tables and probes, each leaf's kernel forwarding state, each FRR device's interfaces. */
export type FabricObserved = ObservedState & { forwarding?: ForwardingObserved; forwardingMs?: number; interfaces?: InterfacesObserved; interfacesMs?: number };

/**
 * Expectations per graph: the service compares every poll against the model it loaded once, so
 * the simulation behind them runs once, not per poll (seconds on a few hundred devices).
 */
const bases = new WeakMap<FabricGraph, LiveBasis>();
export function basisOf(model: FabricModel, fg: FabricGraph): LiveBasis {
  let b = bases.get(fg);
  if (!b || b.model !== model) bases.set(fg, (b = new LiveBasis(model, fg)));
  return b;
}
