// Static verification of the 5,000-device AVD shape (every check, every VTEP pair's ECMP
// count, single-failure analysis), and live comparison of dc1's state recorded from FRR.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { makeContext } from '../../src/verify/checks/types.ts';
import { controlPlane } from '../../src/verify/reachability.ts';
import { compareLive, LiveComparison } from '../../src/verify/live/compare.ts';
import { model, recordedObservations } from '../verify/helpers.ts';
import { peakRssMiB, report } from './harness.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-verify-'));
try {
  writeGeneratedIntent(dir, generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, name: 'avd5k' }));
  const m = loadModelSync(dir);
  const t0 = performance.now();
  const fg = buildFabricGraph(m);
  const tGraph = performance.now() - t0;
  const ctx = makeContext(fg);
  const tSim0 = performance.now();
  const cp = controlPlane(ctx);
  const tSim = performance.now() - tSim0;
  const r = verifyStatic(m, { graph: fg, ctx });
  const total = performance.now() - t0;
  const by = (id: string) => r.results.find((x) => x.check.id === id)!;
  process.stdout.write(`  shape: ${m.devices.length} devices, ${fg.vteps.length} VTEPs, ${m.links.length} links, graph ${fg.graph.order} nodes / ${fg.graph.size} edges; ${r.results.filter((x) => !x.passed).length} checks failed\n`);
  report({ name: 'static verification, all checks (graph + control-plane simulation + checks)', value: total / 1000, unit: 's', target: '<= 10 s', note: `graph ${(tGraph / 1000).toFixed(2)} s; Batfish guide: ~60 s data plane alone at 10k devices on 4+ cores` });
  report({ name: 'control-plane simulation (underlay + EVPN RIBs of every device)', value: tSim / 1000, unit: 's', note: `${cp.underlay.runs + (cp.evpn?.runs ?? 0)} propagation runs for ${cp.underlay.reps.length + (cp.evpn?.reps.length ?? 0)} twin classes instead of ${m.devices.length + (cp.evpn ? cp.evpnOrigins().length : 0)} origins` });
  report({ name: 'ECMP count for every VTEP pair', value: by('underlay-ecmp').ms / 1000, unit: 's', note: by('underlay-ecmp').examined });
  report({ name: 'single-failure analysis (articulation points, bridges, min-cut-1 pairs)', value: by('single-points-of-failure').ms / 1000, unit: 's' });
  report({ name: 'endpoint reachability matrix', value: by('endpoint-reachability').ms / 1000, unit: 's', note: by('endpoint-reachability').examined });
  report({ name: 'peak memory (RSS)', value: Math.round(peakRssMiB()), unit: 'MiB', target: '<= 2048 MiB' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const dc1 = model('dc1');
const obs = recordedObservations();
const dc1Graph = buildFabricGraph(dc1);
compareLive(dc1, { devices: obs, probes: [] }, dc1Graph);
const runs = 50;
let t = performance.now();
for (let i = 0; i < runs; i++) compareLive(dc1, { devices: obs, probes: [] }, dc1Graph);
report({ name: 'live comparison of dc1 collected state (FRR 8.4 JSON)', value: (performance.now() - t) / runs, unit: 'ms', target: '<= 50 ms', note: `mean of ${runs}, expectations included` });
const c = new LiveComparison(dc1, dc1Graph);
for (const o of obs) c.update(o);
const up = obs.find((o) => o.device === 'spine2')!;
const down = structuredClone(up);
for (const p of down.bgp!) if (p.peer === 'eth1') p.state = 'Active';
const n = 2000;
t = performance.now();
for (let i = 0; i < n; i++) c.update(i % 2 ? up : down);
report({ name: 're-check after one observed change (a session going down/up)', value: ((performance.now() - t) / n) * 1000, unit: 'us', target: '<= 1000 us', note: `mean of ${n}; NetPlumber 50-500 us per update` });
