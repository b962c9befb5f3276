// Continuous verification at scale: the service's real per-poll path (Monitor: every domain's
// collect + compare, damping, finding keys, correlation, metrics and baselines, the SQLite store)
// over AVD-shaped fabrics, with a collector that answers each show command with the FRR 8.4 JSON
// a healthy device would print (synthesized from the model's own simulation), so the figures are
// netloom's cost, not SSH's. A round where one spine link fails re-simulates the fabric without
// that link for the routes and reports the session Active at both ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { ReplayCollector, synthesize } from '../support/replay-fabric.ts';
import { peakRssMiB, report } from './harness.ts';

const PERIOD_MS = 10_000;
interface Scale { devices: number; load: number; steadyMs: number; failMs: number; recoverMs: number; commands: number; failing: number; incidents: string[]; findings: number; rss: number }

async function measure(model: FabricModel, label: string): Promise<Scale> {
  const t0 = performance.now();
  const fg = buildFabricGraph(model);
  const healthy = synthesize(model, new LiveComparison(model, fg));
  // One spine-leaf (or spine-super-spine) link fails: the fabric without it, simulated.
  const ends = (l: FabricModel['links'][0]) => [`${l.a.device}:${l.a.interface}`, `${l.b.device}:${l.b.interface}`];
  const link = model.links.find((l) => /spine/.test(l.a.device) || /spine/.test(l.b.device))!;
  const onLink = (s: FabricModel['bgpSessions'][0]) =>
    s.layer !== 'overlay' && [s.a.device, s.b.device].sort().join() === [link.a.device, link.b.device].sort().join() && (!s.a.interface || ends(link).includes(`${s.a.device}:${s.a.interface}`));
  const sessions = model.bgpSessions.filter(onLink);
  const less = structuredClone(model);
  less.links = less.links.filter((l) => l.id !== link.id);
  less.bgpSessions = less.bgpSessions.filter((s) => !sessions.some((x) => x.id === s.id));
  const failed = synthesize(model, new LiveComparison(less, buildFabricGraph(less)), new Set(sessions.map((s) => s.id)));
  const load = performance.now() - t0;

  const dir = mkdtempSync(path.join(tmpdir(), `netloom-bench-serve-${label}-`));
  const collector = new ReplayCollector();
  collector.table = healthy;
  const store = openSqliteStore(path.join(dir, 'netloom.db'));
  const monitor = new Monitor(model, fg, { collector, describe: 'replayed FRR JSON' }, store, { probes: false, capture: false });
  try {
    const first = await monitor.pollOnce();
    if (first.failing) throw new Error(`${label}: a healthy synthesized round has ${first.failing} failing findings, e.g. ${first.results.flatMap((r) => r.findings)[0]?.message}`);
    const rounds = 3;
    let t = performance.now();
    collector.commands = 0;
    for (let i = 0; i < rounds; i++) await monitor.pollOnce();
    const steadyMs = (performance.now() - t) / rounds;
    const commands = collector.commands / rounds;
    collector.table = failed;
    t = performance.now();
    const r = await monitor.pollOnce();
    const failMs = performance.now() - t;
    const incidents = monitor.openIncidents().map((i) => i.summary);
    collector.table = healthy;
    t = performance.now();
    await monitor.pollOnce();
    const recoverMs = performance.now() - t;
    return { devices: model.devices.length, load, steadyMs, failMs, recoverMs, commands, failing: r.failing, incidents, findings: r.findings.size, rss: peakRssMiB() };
  } finally {
    await monitor.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function avd(pods: number): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-serve-intent-'));
  try {
    writeGeneratedIntent(dir, generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, pods, name: `avd${pods}p` }));
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const full = AVD_BENCHMARK_SHAPE.pods!;
const dc1 = await measure(loadModelSync(path.join(import.meta.dirname, '../../intents/dc1')), 'dc1');
process.stdout.write(`  dc1: ${dc1.devices} devices, ${dc1.commands} show commands per round; one link down -> ${dc1.findings} findings, ${dc1.incidents.length} incident: ${dc1.incidents.join(' | ')}\n`);
report({ name: 'dc1 poll round, steady (nothing changed)', value: dc1.steadyMs, unit: 'ms', note: `link-down round ${dc1.failMs.toFixed(1)} ms, recovery round ${dc1.recoverMs.toFixed(1)} ms` });
const pods = (process.env.NETLOOM_BENCH_SERVE_PODS ?? '1,2').split(',').map(Number);
const figures: Scale[] = [];
for (const p of pods) {
  const s = await measure(avd(p), `avd${p}p`);
  figures.push(s);
  process.stdout.write(`  AVD shape, ${p} of ${full} pods: ${s.devices} devices, ${s.commands} show commands per round (set up in ${(s.load / 1000).toFixed(1)} s); one spine link down -> ${s.findings} findings, ${s.incidents.length} incident${s.incidents.length === 1 ? '' : 's'}: ${s.incidents.join(' | ')}\n`);
  const linear = (dc1.steadyMs / dc1.devices) * s.devices;
  report({ name: `poll round, ${s.devices} devices, steady (nothing changed)`, value: s.steadyMs / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, reference: { name: 'dc1 round scaled linearly', value: linear / 1000 }, note: `${((s.steadyMs / PERIOD_MS) * 100).toFixed(0)}% of the default period; ${((s.steadyMs * 1000) / s.devices).toFixed(0)} us per device` });
  report({ name: `poll round, ${s.devices} devices, one spine link down (raise + correlate)`, value: s.failMs / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, note: `recovery round ${(s.recoverMs / 1000).toFixed(2)} s` });
  report({ name: `peak memory (RSS) after ${s.devices} devices`, value: Math.round(s.rss), unit: 'MiB' });
}
if (figures.length >= 2) {
  // Growth between the two largest sizes, extrapolated to the full 18-pod, 5,000-device shape.
  const [a, b] = figures.slice(-2);
  const k = Math.log(b.steadyMs / a.steadyMs) / Math.log(b.devices / a.devices);
  const at5k = b.steadyMs * (4998 / b.devices) ** k;
  report({ name: 'poll round at 4998 devices (18 pods), extrapolated', value: at5k / 1000, unit: 's', target: `<= ${PERIOD_MS / 1000} s period`, reference: { name: 'default period', value: PERIOD_MS / 1000 }, note: `round time grows as devices^${k.toFixed(2)} between ${a.devices} and ${b.devices} devices; the full shape is not run (see README)` });
}
