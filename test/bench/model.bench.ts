// Validate + resolve the 5,000-device shape of AVD's largest published benchmark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadavg } from 'node:os';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadIntentDir } from '../../src/intent/load.ts';
import { validateSchema } from '../../src/intent/validate.ts';
import { resolveModel } from '../../src/model/resolve.ts';
import { peakRssMiB, report, timed } from './harness.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-model-'));
try {
  writeGeneratedIntent(dir, generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, name: 'avd5k' }));
  const rssBefore = process.memoryUsage().rss / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const { ms, value: phases } = await timed(() => {
    const t0 = performance.now();
    const loaded = loadIntentDir(dir);
    const t1 = performance.now();
    const { intent, locator } = validateSchema(loaded);
    const t2 = performance.now();
    const model = resolveModel({ intent, locator, revision: loaded.revision, intentDir: dir });
    const t3 = performance.now();
    return { model, load: t1 - t0, schema: t2 - t1, resolve: t3 - t2 };
  });
  const cpu = process.cpuUsage(cpu0);
  const m = phases.model;
  process.stdout.write(
    `  shape: ${m.devices.length} devices (12 super-spines, 18 pods x (12 spines + 265 leaves)), ${m.links.length} links, ${m.bgpSessions.length} BGP sessions, ${m.networks.length + m.vrfs.length} VNIs, ${m.endpoints.length} endpoints\n`,
  );
  report({ name: 'validate + resolve (cold, one run)', value: ms / 1000, unit: 's', target: '<= 3 s', note: `parse ${phases.load.toFixed(0)} ms, schema ${phases.schema.toFixed(0)} ms, resolve ${phases.resolve.toFixed(0)} ms; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, load average ${loadavg()[0].toFixed(1)}; AVD published 376-403 s input validation for this shape` });
  report({ name: 'peak memory (RSS)', value: Math.round(peakRssMiB()), unit: 'MiB', target: '<= 1536 MiB', note: `process baseline ${Math.round(rssBefore)} MiB` });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
