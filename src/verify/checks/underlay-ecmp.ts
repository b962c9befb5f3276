/**
 * Every VTEP pair is reachable over the underlay with as many equal-cost paths as the Clos
 * design promises (spines shared in a pod; spines x super-spines x spines across pods).
 * Every pair gets its exact count; failing pairs are reported grouped by signature class.
 */
import type { Finding } from '../findings.ts';
import { analyzeEcmp, designPromise, ecmpCount, type EcmpAnalysis } from '../underlay.ts';
import type { FabricGraph } from '../graph.ts';
import { parentTier, roleTier } from '../../domains/fabric/roles.ts';
import type { StaticCheck } from './types.ts';

const EXAMPLES = 5;

export interface EcmpSummary {
  pairs: number;
  /** Histogram: count -> pairs. */
  histogram: Map<number, number>;
}

/** Which uplinks the design expects a leaf to have but the underlay lacks. */
function missingUplinks(fg: FabricGraph, v: number): string[] {
  const d = fg.devices[v];
  const have = new Set<string>();
  const u = fg.underlay;
  for (let k = u.offsets[v]; k < u.offsets[v + 1]; k++) have.add(fg.devices[u.targets[k]].name);
  return fg.devices.filter((x) => roleTier(x.role) === parentTier(d.role) && x.pod === d.pod && x.site === d.site && !have.has(x.name)).map((x) => x.name);
}

function names(fg: FabricGraph, list: number[], max = 6): string {
  const n = list.slice(0, max).map((i) => fg.devices[i].name);
  return list.length > max ? `${n.join(', ')} and ${list.length - max} more` : n.join(', ');
}

export const underlayEcmp: StaticCheck = {
  id: 'underlay-ecmp',
  reads: 'fabric',
  title: 'VTEP pairs reachable with the promised ECMP',
  kind: 'static',
  layer: 'underlay',
  severity: 'error',
  description: 'every VTEP pair has as many equal-cost underlay paths as the Clos design promises',
  run(ctx) {
    const { fg } = ctx;
    const e: EcmpAnalysis = ctx.memo('ecmp', () => analyzeEcmp(fg));
    const promise = designPromise(fg);
    const vt = fg.vteps;
    const groups = new Map<string, { a: number; b: number; count: number; promised: number; pairs: [number, number][]; total: number }>();
    const histogram = new Map<number, number>();
    let pairs = 0;
    // Consecutive pairs mostly share a count: tallied in a run, the histogram (in the order
    // counts first appear) is updated once per run, not once for each of 11 million pairs.
    let runCount = NaN;
    let runPairs = 0;
    const flush = () => {
      if (runPairs) histogram.set(runCount, (histogram.get(runCount) ?? 0) + runPairs);
    };
    for (let i = 0; i < vt.length; i++) {
      const a = vt[i];
      const ca = e.classOf[a];
      for (let j = i + 1; j < vt.length; j++) {
        const b = vt[j];
        const count = ecmpCount(e, a, b);
        const promised = promise(a, b);
        pairs++;
        if (count === runCount) runPairs++;
        else {
          flush();
          runCount = count;
          runPairs = 1;
        }
        if (count >= promised && count > 0) continue;
        const cb = e.classOf[b];
        const key = `${Math.min(ca, cb)}|${Math.max(ca, cb)}|${count}|${promised}`;
        let grp = groups.get(key);
        if (!grp) groups.set(key, (grp = { a: ca <= cb ? ca : cb, b: ca <= cb ? cb : ca, count, promised, pairs: [], total: 0 }));
        grp.total++;
        if (grp.pairs.length < EXAMPLES) grp.pairs.push([a, b]);
      }
    }
    flush();
    ctx.memo('ecmp-summary', (): EcmpSummary => ({ pairs, histogram }));
    const findings: Finding[] = [];
    for (const grp of groups.values()) {
      // Name the smaller side: that is where the damage is (a leaf that lost uplinks).
      const [small, big] = e.members[grp.a].length <= e.members[grp.b].length ? [grp.a, grp.b] : [grp.b, grp.a];
      const culprit = e.members[small];
      const missing = culprit.length === 1 ? missingUplinks(fg, culprit[0]) : [];
      const what = grp.count === 0 ? 'unreachable over the underlay' : `${grp.count} equal-cost underlay path${grp.count === 1 ? '' : 's'}`;
      const others = small === big ? culprit : e.members[big];
      findings.push({
        check: 'underlay-ecmp',
        severity: grp.count === 0 ? 'error' : 'error',
        message: `${names(fg, culprit)} <-> ${names(fg, others)}: ${what}, the design promises ${grp.promised} (${grp.total} VTEP pair${grp.total === 1 ? '' : 's'})${missing.length ? `; no underlay link to ${missing.join(', ')}` : ''}`,
        evidence: {
          ecmp: grp.count,
          promised: grp.promised,
          pairs: grp.total,
          examples: grp.pairs.map(([x, y]) => `${fg.devices[x].name}-${fg.devices[y].name}`),
          ...(missing.length ? { missingUplinks: missing } : {}),
        },
        location: fg.devices[culprit[0]].source,
        elements: { devices: culprit.slice(0, 50).map((i) => fg.devices[i].name) },
      });
    }
    return { findings, examined: `${pairs} VTEP pairs (${e.bfsRuns} BFS over ${e.reps.length} signature classes)` };
  },
};
