/**
 * One intent directory through the lab: bring the fabric up in network namespaces, wait
 * until the sessions the model expects are up, then compare every prediction with reality
 * (live verification's checks, and the ping matrix per address family) until they agree or
 * the settle time runs out. The lab is always taken down, also when anything throws.
 */
import { loadModelSync, type FabricModel } from '../../model/index.ts';
import { labDown, labUp, waitConverged } from '../../lab/index.ts';
import { topologyFromModel } from '../../lab/topology-from-model.ts';
import { settleLab } from '../../lab/settle.ts';
import { labExpected } from '../../domains/index.ts';
import { buildFabricGraph } from '../graph.ts';
import { verifyStatic } from '../static.ts';
import { verifyLive } from '../live/run.ts';
import { failingTypes, tallyLive, tallyProbes, type FactTally } from './facts.ts';
import { predictProbes, type PredictedProbe } from '../live/probes.ts';
import type { ObservedState } from '../live/compare.ts';

export interface Observation {
  tallies: FactTally[];
  /** Static checks that failed on the model (design findings such as single points of failure). */
  staticFailures: string[];
  converged: boolean;
  pending: string[];
  upMs: number;
  settleMs: number;
  devices: number;
  endpoints: number;
}

export interface ObserveOptions {
  lab: string;
  convergeTimeoutS?: number;
  /** How long to wait for prediction and reality to agree after convergence. */
  settleS?: number;
  log?: (line: string) => void;
}

/** Labs this process has up right now, so a signal handler can take them down. */
export const labsUp = new Set<string>();

export async function observeIntent(dir: string, opts: ObserveOptions): Promise<Observation> {
  const model = loadModelSync(dir);
  const fg = buildFabricGraph(model);
  const staticReport = verifyStatic(model, { graph: fg });
  const staticFailures = staticReport.results.filter((r) => !r.passed).map((r) => r.check.id);
  const predicted = predictProbes(model, fg);
  // A lab of the same name left by a killed run goes first.
  await labDown(opts.lab);
  labsUp.add(opts.lab);
  try {
    const t0 = Date.now();
    const { topology, baseDir } = await topologyFromModel(dir, { name: opts.lab });
    const state = await labUp(topology, { baseDir });
    const conv = await waitConverged(state, { timeoutMs: (opts.convergeTimeoutS ?? 90) * 1000, expected: labExpected(model) });
    const upMs = Date.now() - t0;
    opts.log?.(`up and ${conv.converged ? 'converged' : `NOT converged (${conv.pending.length} pending)`} in ${(upMs / 1000).toFixed(1)} s`);
    const t1 = Date.now();
    const deadline = t1 + (opts.settleS ?? 30) * 1000;
    let tallies: FactTally[];
    // Until they agree, the settle time runs out, or the same disagreements were seen three
    // times in a row (a steady state, not convergence still under way).
    const seen: string[] = [];
    for (;;) {
      tallies = await observeOnce(model, fg, state.name, predicted);
      const failing = failingTypes(tallies);
      const signature = tallies.map((t) => `${t.type}=${t.disagreements}`).join(' ');
      seen.push(signature);
      opts.log?.(`after ${((Date.now() - t1) / 1000).toFixed(0)} s: ${failing.length ? tallies.filter((t) => t.disagreements).map((t) => `${t.type} ${t.disagreements}`).join(', ') : 'all agree'}`);
      if (!failing.length || Date.now() >= deadline || (seen.length >= 3 && seen.slice(-3).every((x) => x === signature))) break;
      await new Promise((r) => setTimeout(r, 2000));
      // FRR 8.4 can lose a router MAC after `lab up` settled (a reflector's late copy of a route
      // replacing the installed one, lab/README.md 3): what `lab wait --converged` repairs is
      // repaired here too before the next look, and said in the log.
      const s = await settleLab(state, model, { timeoutMs: 20_000, expected: labExpected(model), log: (l) => opts.log?.(`repair: ${l}`) });
      if (!s.settled) opts.log?.(`forwarding state still incomplete: ${s.pending.slice(0, 3).join('; ')}`);
    }
    return { tallies, staticFailures, converged: conv.converged, pending: conv.pending, upMs, settleMs: Date.now() - t1, devices: model.devices.length, endpoints: model.endpoints.length };
  } finally {
    await labDown(opts.lab);
    labsUp.delete(opts.lab);
  }
}

async function observeOnce(model: FabricModel, fg: ReturnType<typeof buildFabricGraph>, lab: string, predicted: PredictedProbe[]): Promise<FactTally[]> {
  // Live verification runs as `verify --live` does, its IPv4 and IPv6 probes included (they
  // go first, so hosts have spoken by the time MACs are read): every check it has counts,
  // whatever it grows, and the reachability matrix per family is tallied from its pings.
  const live = await verifyLive(model, `lab:${lab}`, { probes: true, graph: fg });
  const byKey = new Map(predicted.map((p) => [`${p.src}>${p.dst}/${p.family}`, p]));
  const measured = ((live.observed.fabric as ObservedState | undefined)?.probes ?? []).flatMap((r) => {
    const p = byKey.get(`${r.src}>${r.dst}/${r.family}`);
    return p ? [{ ...p, answered: r.answered, detail: r.detail }] : [];
  });
  return [...tallyLive(live.results), ...tallyProbes(measured)];
}
