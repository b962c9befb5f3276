/**
 * The endpoint reachability matrix: every endpoint pair gets the forwarding its tenancy
 * promises (bridged / routed / isolated). Per-endpoint flags are sufficient conditions for
 * the common case; any pair they cannot clear is decided by the exact ReachabilityModel.
 */
import type { Finding } from '../findings.ts';
import { ReachabilityModel, type PairResult } from '../reachability.ts';
import type { CheckContext, StaticCheck } from './types.ts';

const EXAMPLES = 5;

export const endpointReachability: StaticCheck = {
  id: 'endpoint-reachability',
  title: 'Endpoint reachability matrix',
  kind: 'static',
  layer: 'endpoint',
  severity: 'error',
  description: 'same network -> bridged over the L2 VNI, same VRF -> routed over the L3 VNI, different VRFs -> isolated (or routed through the service node announcing each side into the other, a firewall)',
  run: (ctx) => endpointMatrix(ctx, true).outcome,
};

/**
 * The check's result; `byClass` counts the pairs the flags clear per class pair
 * (`pairsByClass`) where that pays ('always': wherever it can, as the tests ask it), false
 * asks every pair (the reference the tests compare it with). `counted` says which it did.
 */
export function endpointMatrix(ctx: CheckContext, byClass: boolean | 'always'): { outcome: ReturnType<StaticCheck['run']>; counted: 'by class' | 'every pair' } {
  const { fg } = ctx;
  const rm = new ReachabilityModel(ctx);
  const eps = fg.model.endpoints;
  const n = eps.length;
  const netIdx = new Map(fg.model.networks.map((x, i) => [x.name, i]));
  const vrfIdx = new Map(fg.model.vrfs.map((x, i) => [x.name, i]));
  const netOf = new Int32Array(n);
  const vrfOf = new Int32Array(n);
  const leafOf = new Int32Array(n);
  const l2ok = new Uint8Array(n);
  const l3ok = new Uint8Array(n);
  eps.forEach((e, i) => {
    netOf[i] = netIdx.get(e.network) ?? -1;
    vrfOf[i] = vrfIdx.get(e.vrf) ?? -1;
    const li = fg.deviceIndex.get(e.leaf) ?? -1;
    leafOf[i] = li;
    const d = li >= 0 ? fg.devices[li] : undefined;
    const net = fg.model.networks[netOf[i]];
    const vrf = fg.model.vrfs[vrfOf[i]];
    const v = d?.vlans.find((x) => x.vlan === e.vlan);
    const f = d?.vrfs.find((x) => x.name === e.vrf);
    if (!d || !v || !net || !d.vtep) return;
    const l2 = v.l2vni === net.l2vni && v.vrf === net.vrf && !rm.rt.missingImport.get(v.l2vni)?.has(d.name);
    l2ok[i] = l2 ? 1 : 0;
    l3ok[i] = l2 && !!f && !!vrf && f.l3vni === vrf.l3vni && !!(v.gateway4 || v.gateway6) && !rm.rt.missingImport.get(f.l3vni)?.has(d.name) ? 1 : 0;
  });
  // The same overlay and underlay component for every VTEP is the common case.
  const reach = (x: number, y: number) => x === y || rm.transportProblem(fg.devices[x], fg.devices[y]) === undefined;
  const transportMemo = new Map<number, boolean>();
  const reachable = (x: number, y: number) => {
    if (x === y) return true;
    if (rm.clean[x] && rm.clean[y]) return true;
    const key = x * fg.devices.length + y;
    let r = transportMemo.get(key);
    if (r === undefined) transportMemo.set(key, (r = reach(x, y)));
    return r;
  };
  // VRF pairs that leak into each other, a matrix over VRF numbers (an endpoint's unknown VRF
  // is the last row, which leaks nowhere): 11 million endpoint pairs ask it, and a string key
  // per pair cost most of the check.
  const nv = fg.model.vrfs.length + 1;
  const vrfNo = (name: string) => vrfIdx.get(name) ?? -1;
  const leakVrf = new Uint8Array(nv * nv);
  const leak = (p: number, q: number) => {
    if (p < 0 || q < 0) return;
    leakVrf[p * nv + q] = 1;
    leakVrf[q * nv + p] = 1;
  };
  for (const key of rm.rt.leaks.keys()) {
    const [p, q] = key.split('|');
    leak(vrfNo(p), vrfNo(q));
  }
  // VRF pairs a service node routes between (a firewall): decided pair by pair.
  for (const n of fg.model.serviceNodes ?? []) {
    for (const r of n.advertise) if (r.via) leak(vrfNo(r.vrf), vrfNo(r.via));
  }
  const vrfRow = new Int32Array(n);
  // An endpoint whose VLAN on its leaf belongs to no other VRF (isolation holds at the leaf).
  const ownVlan = new Uint8Array(n);
  eps.forEach((e, i) => {
    vrfRow[i] = (vrfOf[i] < 0 ? nv - 1 : vrfOf[i]) * nv;
    if (leafOf[i] >= 0) ownVlan[i] = fg.devices[leafOf[i]].vlans.every((v) => v.vrf === e.vrf || v.vlan !== e.vlan) ? 1 : 0;
  });
  const counts = { bridged: 0, routed: 0, isolated: 0, failed: 0 };
  const groups = new Map<string, { r: PairResult; total: number; examples: string[] }>();
  // A pair the per-endpoint flags clear: its kind (1 bridged, 2 routed, 3 isolated), else 0.
  const fastKind = (i: number, j: number): number => {
    if (netOf[i] === netOf[j]) return l2ok[i] === 1 && l2ok[j] === 1 && reachable(leafOf[i], leafOf[j]) ? 1 : 0;
    if (vrfOf[i] === vrfOf[j]) return l3ok[i] === 1 && l3ok[j] === 1 && reachable(leafOf[i], leafOf[j]) ? 2 : 0;
    return leakVrf[vrfRow[i] + (vrfOf[j] < 0 ? nv - 1 : vrfOf[j])] === 0 && l2ok[i] === 1 && l2ok[j] === 1 && ownVlan[i] === 1 ? 3 : 0;
  };
  const KINDS = ['failed', 'bridged', 'routed', 'isolated'] as const;
  // A pair the flags cannot clear, decided by the exact model (in pair order: the first
  // examples of each group are the first pairs found).
  const exact = (i: number, j: number) => {
    const r = rm.pairResult(eps[i], eps[j]);
    if (r.actual === r.expected) {
      counts[r.actual]++;
      return;
    }
    counts.failed++;
    const key = `${r.expected}|${r.actual}|${r.reason}`;
    const g = groups.get(key) ?? { r, total: 0, examples: [] };
    groups.set(key, g);
    g.total++;
    if (g.examples.length < EXAMPLES) g.examples.push(`${r.a}-${r.b}`);
  };
  const ask = (i: number, j: number) => {
    const k = fastKind(i, j);
    if (k) counts[KINDS[k]]++;
    else exact(i, j);
  };
  const pairs = byClass !== false && pairsByClass(n, netOf, vrfOf, l2ok, l3ok, ownVlan, (i) => leafOf[i] >= 0 && !rm.clean[leafOf[i]], fastKind, byClass === 'always');
  if (pairs) {
    for (const k of [1, 2, 3] as const) counts[KINDS[k]] += pairs.fast[k];
    for (let i = 0; i < n; i++) for (const j of pairs.askWith(i)) ask(i, j);
  } else {
    // Every pair, the flags' conditions written out (a call per pair costs 3x on 11 million).
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        if (netOf[i] === netOf[j]) {
          if (l2ok[i] === 1 && l2ok[j] === 1 && reachable(leafOf[i], leafOf[j])) {
            counts.bridged++;
            continue;
          }
        } else if (vrfOf[i] === vrfOf[j]) {
          if (l3ok[i] === 1 && l3ok[j] === 1 && reachable(leafOf[i], leafOf[j])) {
            counts.routed++;
            continue;
          }
        } else if (leakVrf[vrfRow[i] + (vrfOf[j] < 0 ? nv - 1 : vrfOf[j])] === 0 && l2ok[i] === 1 && l2ok[j] === 1 && ownVlan[i] === 1) {
          counts.isolated++;
          continue;
        }
        exact(i, j);
      }
    }
  }
  const findings: Finding[] = [];
  for (const g of groups.values()) {
    const r = g.r;
    const vni = r.vni !== undefined ? ` VNI ${r.vni}` : '';
    findings.push({
      check: 'endpoint-reachability',
      severity: 'error',
      message: `${r.a} -> ${r.b}: expected ${r.expected}${r.expected !== 'isolated' ? ` over${vni}` : ''}, got ${r.actual}: ${r.reason}${g.total > 1 ? ` (${g.total} endpoint pairs)` : ''}`,
      evidence: { expected: r.expected, actual: r.actual, reason: r.reason, pairs: g.total, examples: g.examples, ...(r.vni !== undefined ? { vni: r.vni } : {}) },
      location: r.at?.source,
      elements: { endpoints: [r.a, r.b], devices: r.at ? [r.at.device] : [] },
    });
  }
  return { outcome: { findings, examined: `${(n * (n - 1)) / 2} endpoint pairs: ${counts.bridged} bridged, ${counts.routed} routed, ${counts.isolated} isolated, ${counts.failed} wrong` }, counted: pairs ? 'by class' : 'every pair' };
}

/**
 * Endpoints the flags decide alike, in classes (network, VRF, the three flags, whether the
 * leaf's VTEP is clean): a pair of clean classes has one fast verdict for all its pairs when
 * both orders of two of their endpoints give it (the isolated verdict reads the lower
 * endpoint's VLAN flag), so the 11 million pairs of the 5,000-device shape are counted per
 * class pair, and only the other pairs are asked one by one, in pair order (the first
 * examples of each finding are the first pairs found). Undefined when those are many (a
 * broken fabric, many unclean VTEPs): then every pair is asked.
 */
function pairsByClass(
  n: number,
  netOf: Int32Array,
  vrfOf: Int32Array,
  l2ok: Uint8Array,
  l3ok: Uint8Array,
  ownVlan: Uint8Array,
  unclean: (i: number) => boolean,
  fastKind: (i: number, j: number) => number,
  always: boolean,
): { fast: number[]; askWith: (i: number) => number[] } | undefined {
  const ids = new Map<string, number>();
  const cls = new Int32Array(n);
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const key = `${netOf[i]}|${vrfOf[i]}|${l2ok[i]}${l3ok[i]}${ownVlan[i]}${unclean(i) ? 'u' : ''}`;
    let c = ids.get(key);
    if (c === undefined) {
      ids.set(key, (c = members.length));
      members.push([]);
    }
    cls[i] = c;
    members[c].push(i);
  }
  const k = members.length;
  // Classes that hardly group the endpoints: counting by class pair would cost more.
  if (!always && k * k > (n * n) / 4) return undefined;
  const fast = [0, 0, 0, 0];
  const askClasses: number[][] = members.map(() => []);
  let asked = 0;
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const x = members[a][0];
      const y = members[b][0];
      const count = a === b ? (members[a].length * (members[a].length - 1)) / 2 : members[a].length * members[b].length;
      if (!count) continue;
      // An unclean VTEP's transport is asked per leaf pair: never a class's verdict.
      const kind = unclean(x) || unclean(y) ? 0 : fastKind(x, y);
      if (kind && (a === b || fastKind(y, x) === kind)) fast[kind] += count;
      else {
        askClasses[a].push(b);
        if (a !== b) askClasses[b].push(a);
        asked += count;
      }
    }
    if (!always && asked > (n * (n - 1)) / 16) return undefined;
  }
  return {
    fast,
    askWith: (i) => {
      const out: number[] = [];
      for (const c of askClasses[cls[i]]) for (const j of members[c]) if (j > i) out.push(j);
      return out.sort((p, q) => p - q);
    },
  };
}
