/**
 * Every VTEP pair is reachable over the underlay with as many equal-cost paths as the Clos
 * design promises (spines shared in a pod; spines x super-spines x spines across pods).
 * Every pair gets its exact count; failing pairs are reported grouped by signature class.
 */
import type { Finding } from '../findings.ts';
import { analyzeEcmp, designPromise, ecmpCount, promiseInputs, type EcmpAnalysis } from '../underlay.ts';
import type { FabricGraph } from '../graph.ts';
import { parentTier, roleTier } from '../../domains/fabric/roles.ts';
import type { StaticCheck } from './types.ts';

const EXAMPLES = 5;

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

/** VTEP pairs short of the promise, grouped by (smaller class, larger class, count, promised), in the order of their first pair. */
interface Group {
  a: number;
  b: number;
  count: number;
  promised: number;
  /** The first EXAMPLES pairs, in the VTEP list's order. */
  pairs: [number, number][];
  total: number;
}

/**
 * Every VTEP pair asked (the reference, and the way when a class is not uniform): 11 million
 * pairs at 4,770 leaves.
 */
export function pairGroups(fg: FabricGraph, e: EcmpAnalysis, promise: (a: number, b: number) => number): { groups: Group[]; pairs: number } {
  const vt = fg.vteps;
  const groups = new Map<string, Group>();
  let pairs = 0;
  for (let i = 0; i < vt.length; i++) {
    const a = vt[i];
    const ca = e.classOf[a];
    for (let j = i + 1; j < vt.length; j++) {
      const b = vt[j];
      const count = ecmpCount(e, a, b);
      const promised = promise(a, b);
      pairs++;
      if (count >= promised && count > 0) continue;
      const cb = e.classOf[b];
      const key = `${Math.min(ca, cb)}|${Math.max(ca, cb)}|${count}|${promised}`;
      let grp = groups.get(key);
      if (!grp) groups.set(key, (grp = { a: ca <= cb ? ca : cb, b: ca <= cb ? cb : ca, count, promised, pairs: [], total: 0 }));
      grp.total++;
      if (grp.pairs.length < EXAMPLES) grp.pairs.push([a, b]);
    }
  }
  return { groups: [...groups.values()], pairs };
}

/**
 * Whether each class's members share what the promise reads (site, pod, being a DCI end): then
 * a pair's count and promise are its two classes' (twins have the same counts to everything,
 * underlay.ts), and one pair per pair of classes answers for all of them.
 */
function uniformClasses(fg: FabricGraph, e: EcmpAnalysis): boolean {
  const what = promiseInputs(fg);
  return e.members.every((m) => m.every((v) => what[v] === what[m[0]]));
}

/** pairGroups by pairs of classes: the same groups, totals, examples and order. */
export function classPairGroups(fg: FabricGraph, e: EcmpAnalysis, promise: (a: number, b: number) => number): { groups: Group[]; pairs: number } {
  const vt = fg.vteps;
  const pos = new Map(vt.map((v, i) => [v, i]));
  const found: (Group & { first: [number, number] })[] = [];
  const k = e.members.length;
  for (let ca = 0; ca < k; ca++) {
    const ma = e.members[ca];
    for (let cb = ca; cb < k; cb++) {
      const mb = e.members[cb];
      if (ca === cb && ma.length < 2) continue;
      const [a, b] = ca === cb ? [ma[0], ma[1]] : [ma[0], mb[0]];
      const count = ecmpCount(e, a, b);
      const promised = promise(a, b);
      if (count >= promised && count > 0) continue;
      // The first pairs in the VTEP list's order: both classes' members merged by position.
      const both = (ca === cb ? ma : [...ma, ...mb]).map((v) => pos.get(v)!).sort((x, y) => x - y);
      const pairs: [number, number][] = [];
      let first: [number, number] | undefined;
      for (let i = 0; i < both.length && pairs.length < EXAMPLES; i++) {
        for (let j = i + 1; j < both.length && pairs.length < EXAMPLES; j++) {
          const x = vt[both[i]];
          const y = vt[both[j]];
          if (ca !== cb && e.classOf[x] === e.classOf[y]) continue;
          pairs.push([x, y]);
          first ??= [both[i], both[j]];
        }
      }
      const total = ca === cb ? (ma.length * (ma.length - 1)) / 2 : ma.length * mb.length;
      found.push({ a: ca, b: cb, count, promised, pairs, total, first: first! });
    }
  }
  found.sort((x, y) => x.first[0] - y.first[0] || x.first[1] - y.first[1]);
  return { groups: found.map(({ first: _, ...g }) => g), pairs: (vt.length * (vt.length - 1)) / 2 };
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
    const e: EcmpAnalysis = ctx.memo('ecmp', () => fg.fabricMemo('ecmp', () => analyzeEcmp(fg)));
    const promise = designPromise(fg);
    const { groups, pairs } = uniformClasses(fg, e) ? classPairGroups(fg, e, promise) : pairGroups(fg, e, promise);
    const findings: Finding[] = [];
    for (const grp of groups) {
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
