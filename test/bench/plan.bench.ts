// `netloom plan` between two git revisions of the 5,000-device AVD shape that differ by one
// tenant (a VRF and a network on two leaves): both models, the semantic diff, the render of the
// affected devices, the behavioural diff and the static verification of both revisions.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { exportIntent, intentRepo, resolveRevision } from '../../src/plan/git-revision.ts';
import { buildPlan, type PlanSide } from '../../src/plan/plan.ts';
import { peakRssMiB, report, timed } from './harness.ts';

const repo = mkdtempSync(path.join(tmpdir(), 'netloom-bench-plan-'));
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=bench@netloom', '-c', 'user.name=bench', ...args], { cwd: repo });
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
  const ir = intentRepo(path.join(repo, 'fab'));
  const phases: Record<string, number> = {};
  const cleanups: (() => void)[] = [];
  const { ms, value: plan } = await timed(() => {
    const side = (rev: string): PlanSide => {
      const t0 = performance.now();
      const commit = resolveRevision(ir, rev, '--base');
      const ex = exportIntent(ir, commit);
      cleanups.push(ex.cleanup);
      const t1 = performance.now();
      const model = loadModelSync(ex.dir!);
      phases[`${rev}: git archive`] = t1 - t0;
      phases[`${rev}: model`] = performance.now() - t1;
      return { rev, commit, model, repoPath: (f) => path.relative(ex.root, path.resolve(f)) };
    };
    const base = side('HEAD~1');
    const head = side('HEAD');
    return buildPlan(ir.dir, base, head, { canary: 1, waveSize: 5, timings: phases });
  });
  for (const c of cleanups) c();
  const m = plan.blastRadius.devices;
  process.stdout.write(`  plan: ${plan.changes.length} objects changed, ${m.length} devices' configs change (${m.map((d) => d.device).join(', ')}), ${plan.behaviour.reachabilityScope}\n`);
  report({
    name: 'plan, two revisions of the 5,000-device shape differing by one tenant (cold, one run)',
    value: ms / 1000,
    unit: 's',
    target: '<= 2 s',
    note: `${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}; load average ${loadavg()[0].toFixed(1)}`,
  });
  report({ name: 'peak memory (RSS)', value: Math.round(peakRssMiB()), unit: 'MiB', target: '<= 2048 MiB' });
} finally {
  rmSync(repo, { recursive: true, force: true });
}
