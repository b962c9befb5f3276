// `netloom plan` between two git revisions of the 5,000-device AVD shape that differ by one
// tenant (a VRF and a network on two leaves): both models, the semantic diff, the render of the
// affected devices, the behavioural diff and the static verification; then again with the
// base's model and what the first plan derived from it (render-input hashes, check results,
// flows: the memo) from the cache by its git tree, as a pull request's next push finds it, with
// the intent files parsed before (all but the head's changed one).
// Each is measured on one thread (what the CLI does by default) and, as its reference in the same
// run, with the head's static checks and flows on a worker thread (NETLOOM_PLAN_WORKER); the cold
// plan is also the cached one's. Each plan process runs this file compiled into one module, as
// the CLI runs its own; one cold plan runs through tsx beside it. All reports must be identical.
// CPU seconds (of both threads) are printed beside wall seconds: the machine is shared.
// The cached target is measured where a base stays cached in memory: `netloom serve`'s GET
// /plans (its route plugin, its planner thread), which planned the pull request's first push
// before; the CLI reading the base from the disk cache is printed beside it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import type { FabricModel } from '../../src/model/index.ts';
import { fabricFrom, loadHeadModel } from '../../src/plan/incremental-head.ts';
import { exportIntent, intentRepo, resolveRevision, revisionPaths } from '../../src/plan/git-revision.ts';
import { cachedModel, IntentFileCache, isCached, modelCacheDir } from '../../src/plan/model-cache.ts';
import { startSideAnalysis, type SideAnalysisWorker } from '../../src/plan/side-analysis.ts';
import { buildPlan, type PlanSide } from '../../src/plan/plan.ts';
import { formatPlanJson } from '../../src/plan/format.ts';
import { peakRssMiB, report, timed } from './harness.ts';
import { bundled } from '../../src/cli/start-bundle.mjs';
import Fastify from 'fastify';
import { planRoutes } from '../../src/api/routes/plans.ts';
import type { ApiContext } from '../../src/api/context.ts';
import type { Plan } from '../../src/plan/plan.ts';

// Each plan runs in a process of its own (as the CLI does: what the process loads and compiles
// on first use counts), started by this file with `--run LABEL THREADS REPO HEAD` (HEAD: `from
// base`, the head's model built from the base's where only tenants changed, as the CLI does, or
// `full`, resolved from nothing: the reference).
const child = process.argv.indexOf('--run');
const repo = child > 0 ? process.argv[child + 3] : mkdtempSync(path.join(tmpdir(), 'netloom-bench-plan-'));
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=bench@netloom', '-c', 'user.name=bench', ...args], { cwd: repo });
interface RunResult {
  ms: number;
  cpuS: number;
  phases: Record<string, number>;
  /** sha256 of the JSON report. */
  json: string;
  summary: string;
  rssMiB: number;
  /** What the head took from the base (PlanOptions.reused). */
  reused: string[];
}
if (child > 0 && process.argv[child + 1] === 'resident') {
  process.env.NETLOOM_CACHE_DIR = path.join(repo, '.cache');
  process.stdout.write(JSON.stringify({ ...(await residentPlan(path.join(repo, 'fab'))), rssMiB: peakRssMiB() }) + '\n');
  process.exit(0);
}
if (child > 0) {
  process.env.NETLOOM_CACHE_DIR = path.join(repo, '.cache');
  const r = await runPlan(intentRepo(path.join(repo, 'fab')), process.argv[child + 2] as 'one thread' | 'worker', process.argv[child + 4] as HeadFrom);
  process.stdout.write(JSON.stringify({ ...r, rssMiB: peakRssMiB() }) + '\n');
  process.exit(0);
}

type HeadFrom = 'from base' | 'full';

async function runPlan(ir: ReturnType<typeof intentRepo>, threads: 'one thread' | 'worker', headFrom: HeadFrom): Promise<Omit<RunResult, 'rssMiB'>> {
  process.env.NETLOOM_PLAN_WORKER = threads === 'worker' ? 'always' : 'never';
  const phases: Record<string, number> = {};
  const cleanups: (() => void)[] = [];
  const saves: (() => void)[] = [];
  const reused: string[] = [];
  const cpu0 = process.cpuUsage();
  let worker: SideAnalysisWorker | undefined;
  const { ms, value: plan } = await timed(() => {
    // As the CLI: the head's analysis starts on the second core before anything is loaded.
    const headCommit = resolveRevision(ir, 'HEAD', '--head');
    worker = isCached(ir, headCommit) ? undefined : startSideAnalysis(ir, headCommit);
    const files = new IntentFileCache();
    saves.push(() => files.save());
    const side = (rev: string, base?: { model?: FabricModel; dir?: string; placesRoot?: string }): PlanSide & { dir?: string; placesRoot?: string } => {
      const t0 = performance.now();
      const commit = resolveRevision(ir, rev, '--base');
      // The head from the base's model where only tenants changed (as the CLI does).
      // Each side's places relative to its root, as the CLI records them.
      const rootOf = (dir: string) => dir.slice(0, dir.length - ir.dir.length).replace(/\/$/, '');
      const c = cachedModel(ir, commit, (dir) => loadHeadModel(dir, files, headFrom === 'full' ? undefined : base, rootOf(dir)), () => exportIntent(ir, commit), { builtFrom: (m) => fabricFrom.get(m) });
      cleanups.push(c.cleanup);
      saves.push(c.save);
      phases[`${rev}: ${c.cached ? 'model from the cache' : 'git archive and model'}`] = performance.now() - t0;
      return { rev, commit, model: c.model, memo: c.memo, dir: c.dir, placesRoot: c.root, ...revisionPaths(c.root) };
    };
    const base = side('HEAD~1');
    const head = { ...side('HEAD', base), ...(worker ? { analysis: worker } : {}) };
    return buildPlan(ir.dir, base, head, { canary: 1, waveSize: 5, timings: phases, reused });
  });
  worker?.close();
  const cpu = process.cpuUsage(cpu0);
  // As the CLI does, once the report is out (not part of the figure, said in the note).
  const t0 = performance.now();
  for (const save of saves) save();
  if (saves.length) phases['(after the report) cache entries written'] = performance.now() - t0;
  for (const c of cleanups) c();
  const m = plan.blastRadius.devices;
  const summary = `  plan: ${plan.changes.length} objects changed, ${m.length} devices' configs change (${m.map((d) => d.device).join(', ')}), ${plan.behaviour.reachabilityScope}\n`;
  return { ms, cpuS: (cpu.user + cpu.system) / 1e6, phases, json: createHash('sha256').update(formatPlanJson(plan, [])).digest('hex'), summary, reused };
}

/**
 * `netloom serve`'s GET /plans (the route's own plugin, through Fastify's injection): the
 * service planned the pull request's first push before (its base and that head in memory, its
 * code compiled), then the measured request plans the next push, HEAD, never seen before.
 */
async function residentPlan(intentDir: string): Promise<Omit<RunResult, 'rssMiB'>> {
  const app = Fastify({ logger: false });
  await app.register(planRoutes, { monitor: { model: { intentDir } } } as unknown as ApiContext);
  const ask = async (head: string) => {
    const r = await app.inject({ method: 'GET', url: `/plans?base=HEAD~1&head=${head}&format=json` });
    if (r.statusCode !== 200) throw new Error(`GET /plans: ${r.statusCode} ${r.body}`);
    return r.json() as { report: string; base: { resident: boolean }; head: { resident: boolean }; ms: number; phases: Record<string, number> };
  };
  const first = await ask('first-push');
  // The service writes the disk cache after each reply: done before the measured request.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cpu0 = process.cpuUsage();
  const { ms, value: r } = await timed(() => ask('HEAD'));
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  const plan = JSON.parse(r.report) as Plan;
  const reused = [`first push: base ${first.base.resident ? 'in memory' : 'loaded'}`, `measured: base ${r.base.resident ? 'in memory' : 'loaded'}, head ${r.head.resident ? 'in memory' : 'loaded'}`];
  const m = plan.blastRadius.devices;
  return { ms, cpuS: (cpu.user + cpu.system) / 1e6, phases: { 'the plan as the route timed it': r.ms, ...r.phases }, json: createHash('sha256').update(formatPlanJson(plan, [])).digest('hex'), summary: `  plan: ${plan.changes.length} objects changed, ${m.length} devices' configs change (${m.map((d) => d.device).join(', ')}), ${plan.behaviour.reachabilityScope}\n`, reused };
}

try {
  writeGeneratedIntent(path.join(repo, 'fab'), generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, name: 'avd5k' }));
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
  appendFileSync(
    path.join(repo, 'fab/tenants.yaml'),
    ['  - name: tenant-new', '    vrfs:', '      - name: TNEW', '        id: 99', '        networks:', '          - name: new-n1', '            vlan: 300', '            subnet: 172.30.0.0/20', '            gateway: 172.30.0.1', '            leaves: [p1-leaf1, p1-leaf2]', ''].join('\n'),
  );
  git('commit', '-qam', 'one tenant');
  // The pull request's first push (another tenant), planned by the service before the measured one.
  git('checkout', '-q', '-b', 'first-push', 'HEAD~1');
  appendFileSync(
    path.join(repo, 'fab/tenants.yaml'),
    ['  - name: tenant-first', '    vrfs:', '      - name: TFIRST', '        id: 98', '        networks:', '          - name: first-n1', '            vlan: 301', '            subnet: 172.31.0.0/20', '            gateway: 172.31.0.1', '            leaves: [p1-leaf3, p1-leaf4]', ''].join('\n'),
  );
  git('commit', '-qam', 'first push');
  git('checkout', '-q', '-');
  // The model cache of this run only: cold first, then with the base's entry (a new head commit).
  process.env.NETLOOM_CACHE_DIR = path.join(repo, '.cache');
  let rss = 0;
  // reuse false: NETLOOM_PLAN_REUSE=off, nothing taken from the base's results (the reference of the reuse).
  // Each plan process runs this file compiled into one module, as the CLI runs its own
  // (src/cli/start-bundle.mjs): tsx would add its loader's round trips and the __name() call
  // esbuild's keepNames puts on every named closure as it is created (tens of ms in the plan's
  // hottest loops), which no user's `netloom plan` pays. One cold plan through tsx is printed
  // beside it; without esbuild the runs go through tsx and say so.
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const bundle = await bundled(root, fileURLToPath(import.meta.url), path.join(root, 'node_modules/.cache/netloom-bench-plan'));
  const run = (label: string, threads: 'one thread' | 'worker', headFrom: HeadFrom = 'from base', reuse = true, through: 'bundle' | 'tsx' = 'bundle'): RunResult => {
    // NETLOOM_BENCH_CPU_PROF=DIR: each plan process writes V8 CPU profiles there, one per thread (where the seconds go).
    const prof = process.env.NETLOOM_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NETLOOM_BENCH_CPU_PROF}`] : [];
    const main = bundle && through === 'bundle' ? [fileURLToPath(bundle)] : [...process.execArgv, fileURLToPath(import.meta.url)];
    const out = execFileSync(process.execPath, [...prof, ...main, '--run', label, threads, repo, headFrom], { maxBuffer: 1 << 24, env: { ...process.env, NETLOOM_PLAN_REUSE: reuse ? 'on' : 'off' } }).toString();
    const r = JSON.parse(out.trim().split('\n').pop()!) as RunResult;
    rss = Math.max(rss, r.rssMiB);
    return r;
  };
  const note = (r: { cpuS: number; phases: Record<string, number> }) => `CPU ${r.cpuS.toFixed(1)} s; ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}; load average ${loadavg()[0].toFixed(1)}`;
  // The head's entry goes: a pull request's next push is a new head, its base planned before.
  const headTree = execFileSync('git', ['rev-parse', 'HEAD:fab'], { cwd: repo }).toString().trim();
  // Its changed file (tenants.yaml) was never parsed before either.
  const headOnly = createHash('sha256').update(execFileSync('git', ['show', 'HEAD:fab/tenants.yaml'], { cwd: repo })).digest('hex');
  const parsed = path.join(path.dirname(modelCacheDir()), 'plan-files');
  const forgetHead = () => {
    for (const e of readdirSync(modelCacheDir())) if (e.startsWith(headTree)) rmSync(path.join(modelCacheDir(), e), { recursive: true, force: true });
    for (const e of readdirSync(parsed)) if (e.endsWith(`-${headOnly}.json`)) rmSync(path.join(parsed, e));
  };
  // Each way twice, with the head's analysis on a worker thread and on one thread (the
  // reference), back to back: the machine's two CPUs are shared.
  const cold = run('cold', 'worker');
  process.stdout.write(cold.summary);
  rmSync(path.dirname(modelCacheDir()), { recursive: true, force: true });
  const cold1 = run('cold', 'one thread');
  rmSync(path.dirname(modelCacheDir()), { recursive: true, force: true });
  const coldTsx = run('cold', 'one thread', 'from base', true, 'tsx');
  forgetHead();
  const warm1 = run('warm', 'one thread');
  forgetHead();
  const warm = run('warm', 'worker');
  forgetHead();
  const warmFull = run('warm', 'one thread', 'full');
  forgetHead();
  const warmNoReuse = run('warm', 'one thread', 'from base', false);
  forgetHead();
  const resident = run('resident', 'one thread');
  // One thread is what the CLI does by default (README: the worker was only measured slower here).
  report({ name: 'plan, two revisions of the 5,000-device shape differing by one tenant (cold, one thread)', value: cold1.ms / 1000, unit: 's', target: '<= 2 s', note: note(cold1) });
  report({ name: 'the same through tsx (the sources loaded one by one, each named closure renamed as it is made)', value: coldTsx.ms / 1000, unit: 's', reference: { name: 'compiled into one module, as the CLI runs', value: cold1.ms / 1000 }, note: note(coldTsx) });
  if (!bundle) process.stdout.write('  (esbuild could not compile the bench: every plan above ran through tsx)\n');
  report({ name: 'the same with the head on a worker thread', value: cold.ms / 1000, unit: 's', reference: { name: 'on one thread', value: cold1.ms / 1000 }, note: note(cold) });
  report({ name: 'the cold plan in CPU time (both threads)', value: cold.cpuS, unit: 's', reference: { name: 'on one thread', value: cold1.cpuS } });
  report({ name: 'plan, the same, base model and its memo cached by its git tree: served by netloom serve (GET /plans, the models it planned kept in memory)', value: resident.ms / 1000, unit: 's', target: '<= 0.5 s', reference: { name: 'the CLI reading the base from the disk cache', value: warm1.ms / 1000 }, note: `${resident.reused.join('; ')}; ${note(resident)}` });
  report({ name: 'plan, the same, the CLI with the base model and its memo from the disk cache (one thread)', value: warm1.ms / 1000, unit: 's', reference: { name: 'the cold plan of this run', value: cold1.ms / 1000 }, note: note(warm1) });
  report({ name: 'the same with the head on a worker thread', value: warm.ms / 1000, unit: 's', reference: { name: 'on one thread', value: warm1.ms / 1000 }, note: note(warm) });
  report({ name: 'the cached plan in CPU time (both threads)', value: warm.cpuS, unit: 's', reference: { name: 'on one thread', value: warm1.cpuS } });
  report({ name: 'the cached plan (one thread) in CPU time, the head built from the base', value: warm1.cpuS, unit: 's', reference: { name: 'the head resolved in full', value: warmFull.cpuS }, note: `the latter: ${note(warmFull)}` });
  report({ name: 'the cached plan (one thread) in CPU time, taking what the base proves unchanged', value: warm1.cpuS, unit: 's', reference: { name: 'NETLOOM_PLAN_REUSE=off', value: warmNoReuse.cpuS }, note: `the latter: ${note(warmNoReuse)}` });
  process.stdout.write(`  taken from the base, cold: ${cold1.reused.join('; ') || 'nothing'}\n  taken from the base, cached: ${warm1.reused.join('; ') || 'nothing'}\n`);
  const differ = Object.entries({ 'served (resident)': resident, 'cold, one thread': cold1, 'cold, through tsx': coldTsx, 'cached, one thread': warm1, 'cached, worker': warm, 'cached, head resolved in full': warmFull, 'cached, nothing reused': warmNoReuse })
    .filter(([, r]) => r.json !== cold.json)
    .map(([k]) => k);
  const same = !differ.length;
  process.stdout.write(`  cold, cached, one-thread, worker, full-head and served plans identical: ${same ? 'yes' : `NO (differing from the cold plan with the worker: ${differ.join(', ')})`}\n`);
  if (!same) process.exitCode = 1;
  report({ name: 'peak memory (RSS) of the plan processes', value: Math.round(rss), unit: 'MiB', target: '<= 2048 MiB' });
} finally {
  rmSync(repo, { recursive: true, force: true });
}
