// The diff of `render --diff` / `apply --dry-run` on a fully changed 10,000-line file (first,
// so the process's peak memory is still its own), then: render every device of the
// 5,000-device fabric (AVD's largest published benchmark shape), change one tenant and
// re-render only the devices whose view changed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { IncrementalRenderer } from '../../src/render/incremental.ts';
import { unifiedDiff } from '../../src/render/diff.ts';
import { spawnSync } from 'node:child_process';
import { peakRssMiB, report, timed } from './harness.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-bench-render-'));
try {
  {
    const lines = 10_000;
    const before = Array.from({ length: lines }, (_, i) => ` description old link ${i}`).join('\n') + '\n';
    const after = Array.from({ length: lines }, (_, i) => ` ip address 10.${i >> 8}.${i & 255}.1/31 (new ${i})`).join('\n') + '\n';
    const rss0 = process.memoryUsage().rss / 2 ** 20;
    const { ms, value: d } = await timed(() => unifiedDiff(before, after, 'a/f', 'b/f'));
    const grown = peakRssMiB() - rss0;
    writeFileSync(path.join(dir, 'a'), before);
    writeFileSync(path.join(dir, 'b'), after);
    const t0 = performance.now();
    const gnu = spawnSync('diff', ['-u', path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const gnuMs = performance.now() - t0;
    const ref = gnu.status === 1 ? { name: 'GNU diff -u (process)', value: gnuMs } : undefined;
    report({ name: `diff of a fully changed ${lines.toLocaleString('en-US')}-line file`, value: ms, unit: 'ms', target: '<= 200 ms', reference: ref, note: `${d.length} chars of diff; the previous O((N+M)D) Myers took 6.7 s` });
    report({ name: 'diff memory (peak RSS growth)', value: Math.max(0, Math.round(grown)), unit: 'MiB', target: '<= 100 MB', note: 'the previous Myers: 3.3 GB' });
  }
  writeGeneratedIntent(dir, generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, name: 'avd5k' }));
  const { ms: modelMs, value: model } = await timed(() => loadModelSync(dir));
  const n = model.devices.length;
  process.stdout.write(`  shape: ${n} devices on FRR (12 super-spines, 18 pods x (12 spines + 265 leaves)); model built in ${(modelMs / 1000).toFixed(2)} s (not counted)\n`);

  const { ms, value: result } = await timed(() => renderModel(model));
  const bytes = result.artifacts.reduce((s, a) => s + a.bytes, 0);
  report({
    name: 'full render (every device, every file)',
    value: ms / 1000,
    unit: 's',
    target: '<= 10 s',
    note: `${result.artifacts.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB; published AVD 9 min 14 s (554 s) for this shape, structured config alone 127 s`,
  });
  report({ name: 'full render throughput', value: Math.round(n / (ms / 1000)), unit: 'devices/s', note: 'published netlab ~2 devices/s at 400 nodes' });

  // Incremental: warm the cache, change one tenant (MTU of one network), re-render.
  const inc = new IncrementalRenderer();
  inc.render(model);
  const tenants = path.join(dir, 'tenants.yaml');
  writeFileSync(tenants, readFileSync(tenants, 'utf8').replace(/(- name: t1-v1-n1\n(\s+)vlan: 100\n)/, '$1$2mtu: 9000\n'));
  const { ms: model2Ms, value: model2 } = await timed(() => loadModelSync(dir));
  // Three changes in a row (the tenant edited, back, edited again), each after a collection so
  // the previous full render's garbage is not billed to it; the median is reported.
  const gc = (globalThis as { gc?: () => void }).gc;
  const runs: { ms: number; value: ReturnType<IncrementalRenderer['render']> }[] = [];
  for (const m of [model2, model, model2]) {
    gc?.();
    runs.push(await timed(() => inc.render(m)));
  }
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const { ms: incMs, value: incResult } = sorted[1];
  if (incResult.rerendered.length === 0 || incResult.rerendered.length === n) throw new Error(`incremental render re-rendered ${incResult.rerendered.length} devices`);
  report({
    name: 'incremental render after changing one tenant',
    value: incMs / 1000,
    unit: 's',
    target: '<= 1 s',
    note: `median of 3 (${runs.map((r) => r.ms.toFixed(0)).join(', ')} ms); ${incResult.rerendered.length} of ${n} devices re-rendered (input hashes); model rebuild ${(model2Ms / 1000).toFixed(2)} s not counted`,
  });
  report({ name: 'peak memory (RSS)', value: Math.round(peakRssMiB()), unit: 'MiB' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
