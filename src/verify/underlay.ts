/**
 * Underlay path analysis over the CSR graph of links that carry underlay routing.
 *
 * ECMP: the number of equal-cost paths between two VTEPs is the shortest-path count of a
 * unit-cost BFS. Leaves with the same neighbour multiset (every leaf of a pod in a Clos)
 * have the same counts to every other device: a shortest path from x never passes through a
 * twin r (r's neighbours are x's, so skipping r is shorter). So one BFS per signature class
 * gives every VTEP pair its exact count: count(x, t) = sigma_rep(t), count(x, rep) = sigma_rep(x).
 *
 * Single failures: bridges and articulation points by Tarjan's low-link (iterative, edges
 * identified by link so parallel links are not bridges); two devices have min-cut 1 exactly
 * when they sit in different 2-edge-connected components of one connected component.
 */
import { countPaths, type Csr, type FabricGraph } from './graph.ts';
import { roleTier, isWanRole } from '../domains/fabric/roles.ts';

export interface EcmpAnalysis {
  /** Device index -> signature class (-1 for devices that are not VTEPs). */
  classOf: Int32Array;
  reps: number[];
  members: number[][];
  dist: Int32Array[];
  sigma: Float64Array[];
  bfsRuns: number;
}

export function analyzeEcmp(fg: FabricGraph): EcmpAnalysis {
  const { underlay } = fg;
  const classOf = new Int32Array(underlay.n).fill(-1);
  const bySig = new Map<string, number>();
  const reps: number[] = [];
  const members: number[][] = [];
  for (const v of fg.vteps) {
    const nb = Array.from(underlay.targets.subarray(underlay.offsets[v], underlay.offsets[v + 1])).sort((a, b) => a - b);
    const sig = nb.join(',');
    let c = bySig.get(sig);
    // An isolated VTEP has no neighbours: it is only its own twin.
    if (c === undefined || nb.length === 0) {
      c = reps.length;
      if (nb.length) bySig.set(sig, c);
      reps.push(v);
      members.push([]);
    }
    classOf[v] = c;
    members[c].push(v);
  }
  const queue = new Int32Array(underlay.n);
  const dist: Int32Array[] = [];
  const sigma: Float64Array[] = [];
  for (const r of reps) {
    const d = new Int32Array(underlay.n);
    const s = new Float64Array(underlay.n);
    countPaths(underlay, r, d, s, queue);
    dist.push(d);
    sigma.push(s);
  }
  return { classOf, reps, members, dist, sigma, bfsRuns: reps.length };
}

/** Equal-cost underlay paths between two VTEPs (device indices); 0 when unreachable. */
export function ecmpCount(e: EcmpAnalysis, a: number, b: number): number {
  if (a === b) return 1;
  const c = e.classOf[a];
  if (c < 0) return 0;
  const r = e.reps[c];
  const t = b === r ? a : b;
  return e.dist[c][t] < 0 ? 0 : e.sigma[c][t];
}

export function ecmpDistance(e: EcmpAnalysis, a: number, b: number): number {
  if (a === b) return 0;
  const c = e.classOf[a];
  const r = e.reps[c];
  return e.dist[c][b === r ? a : b];
}

/**
 * What the Clos design promises: pod spines in common, or spines x super-spines x spines across
 * pods. Pods are per site; between two sites (a DCI) the promise is redundancy, two paths,
 * except from a DCI end itself, whose own DCI links are what the intent gives it.
 */
/** Devices at an end of a DCI link (between sites). */
function dciEnds(fg: FabricGraph): Set<string> {
  return new Set(fg.model.dci ? fg.model.links.filter((l) => fg.model.dci!.links.includes(l.id)).flatMap((l) => [l.a.device, l.b.device]) : []);
}

/** Per device, everything of it designPromise reads (site, pod, DCI end): devices with equal keys are promised alike. */
export function promiseInputs(fg: FabricGraph): string[] {
  const dciEnd = dciEnds(fg);
  return fg.devices.map((d) => `${d.site ?? ''}/${d.pod}/${dciEnd.has(d.name)}`);
}

export function designPromise(fg: FabricGraph): (a: number, b: number) => number {
  const spines = new Map<string, number>();
  let superSpines = 0;
  const pod = fg.devices.map((d) => `${d.site ?? ''}/${d.pod}`);
  fg.devices.forEach((d, i) => {
    const tier = roleTier(d.role);
    if (tier === 'spine') spines.set(pod[i], (spines.get(pod[i]) ?? 0) + 1);
    else if (tier === 'super-spine' && !isWanRole(d.role)) superSpines++;
  });
  const site = fg.devices.map((d) => d.site ?? '');
  const dciEnd = dciEnds(fg);
  const end = fg.devices.map((d) => dciEnd.has(d.name));
  // Each device's pod's spine count, looked up once: every VTEP pair asks.
  const podSpines = Float64Array.from(pod, (p) => spines.get(p) ?? 0);
  return (a, b) => {
    if (site[a] !== site[b]) return end[a] || end[b] ? 1 : 2;
    if (pod[a] === pod[b]) return podSpines[a];
    return podSpines[a] * superSpines * podSpines[b];
  };
}

export interface CutAnalysis {
  bridges: number[];
  articulation: { device: number; vtepsCutOff: number }[];
  /** Connected component and 2-edge-connected component per device. */
  comp: Int32Array;
  twoEdge: Int32Array;
}

export function analyzeCuts(fg: FabricGraph): CutAnalysis {
  const g: Csr = fg.underlay;
  const n = g.n;
  const isVtep = new Uint8Array(n);
  for (const v of fg.vteps) isVtep[v] = 1;
  const disc = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const vteps = new Int32Array(n);
  const comp = new Int32Array(n).fill(-1);
  const parentLink = new Int32Array(n).fill(-1);
  const parent = new Int32Array(n).fill(-1);
  const edgePos = new Int32Array(n);
  const stack = new Int32Array(n);
  const cut = new Map<number, number>();
  // (articulation point, VTEPs in a subtree it separates, component) to size once totals are known.
  const sides: [number, number, number][] = [];
  const compTotal: number[] = [];
  const bridges: number[] = [];
  let time = 0;
  let compId = 0;
  for (let root = 0; root < n; root++) {
    if (disc[root] >= 0) continue;
    let sp = 0;
    stack[sp++] = root;
    disc[root] = low[root] = time++;
    comp[root] = compId;
    vteps[root] = isVtep[root];
    edgePos[root] = g.offsets[root];
    let rootChildren = 0;
    const compVteps: number[] = [];
    while (sp > 0) {
      const u = stack[sp - 1];
      if (edgePos[u] < g.offsets[u + 1]) {
        const k = edgePos[u]++;
        const v = g.targets[k];
        const li = g.link[k];
        if (li === parentLink[u]) continue;
        if (disc[v] < 0) {
          disc[v] = low[v] = time++;
          comp[v] = compId;
          vteps[v] = isVtep[v];
          parent[v] = u;
          parentLink[v] = li;
          edgePos[v] = g.offsets[v];
          stack[sp++] = v;
          if (u === root) rootChildren++;
        } else if (disc[v] < low[u]) low[u] = disc[v];
      } else {
        sp--;
        const p = parent[u];
        if (p >= 0) {
          if (low[u] < low[p]) low[p] = low[u];
          vteps[p] += vteps[u];
          if (low[u] > disc[p]) bridges.push(parentLink[u]);
          if (p !== root && low[u] >= disc[p]) sides.push([p, vteps[u], compId]);
          if (p === root) compVteps.push(vteps[u]);
        }
      }
    }
    if (rootChildren > 1) {
      // Removing the root leaves every subtree but the largest cut off from it.
      const sorted = compVteps.sort((a, b) => b - a);
      cut.set(root, sorted.slice(1).reduce((x, y) => x + y, 0));
    }
    compTotal.push(vteps[root]);
    compId++;
  }
  // A separated subtree counts by the smaller side: the VTEPs actually cut off from the rest.
  for (const [p, side, c] of sides) {
    const other = compTotal[c] - side - isVtep[p];
    cut.set(p, (cut.get(p) ?? 0) + Math.min(side, other));
  }
  // 2-edge-connected components: flood fill without crossing bridges.
  const bridgeSet = new Set(bridges);
  const twoEdge = new Int32Array(n).fill(-1);
  let te = 0;
  for (let s = 0; s < n; s++) {
    if (twoEdge[s] >= 0) continue;
    let sp = 0;
    stack[sp++] = s;
    twoEdge[s] = te;
    while (sp > 0) {
      const u = stack[--sp];
      for (let k = g.offsets[u]; k < g.offsets[u + 1]; k++) {
        const v = g.targets[k];
        if (twoEdge[v] < 0 && !bridgeSet.has(g.link[k])) {
          twoEdge[v] = te;
          stack[sp++] = v;
        }
      }
    }
    te++;
  }
  return { bridges, articulation: [...cut].map(([device, vtepsCutOff]) => ({ device, vtepsCutOff })), comp, twoEdge };
}
