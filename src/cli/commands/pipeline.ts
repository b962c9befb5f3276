import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext } from '../command.ts';
import { boolOpt, numberOpt, stringOpt } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync, type FabricModel } from '../../model/index.ts';
import { summarize } from '../../model/summary.ts';
import { renderModel } from '../../render/index.ts';
import { writeOutput } from '../../render/write.ts';
import { labDown, labUp, waitConverged } from '../../lab/index.ts';
import { topologyFromModel } from '../../lab/topology-from-model.ts';
import { readLabModel, saveLabModel } from '../../lab/expected-from-model.ts';
import { CheckFailed, UsageError } from '../../util/errors.ts';
import { topologyOf, verifyStatic } from '../../verify/static.ts';
import type { VerifyReport } from '../../verify/findings.ts';
import { verifyLive } from '../../verify/live/run.ts';
import { runRollout, summaryTable } from '../../push/rollout.ts';
import { inventoryFromLab } from '../../push/inventory.ts';
import { labExpected, pushPostChecks, pushWaveChecks } from '../../domains/index.ts';
import { lineReporter } from '../../push/progress.ts';
import { formatText } from '../../verify/report/format.ts';
import { intentDirArg } from '../intent-dir.ts';

function labPossible(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the lab needs network namespaces)';
  if (!existsSync('/usr/lib/frr/zebra')) return 'FRR is not installed (bash lab/install-deps.sh)';
  return undefined;
}

async function labStage(ctx: CommandContext, dir: string, model: FabricModel, timeoutS: number, staysUp: boolean): Promise<void> {
  const frrOnly = model.devices.every((d) => d.platform === 'frr');
  const why = frrOnly ? labPossible() : `fabric ${model.name} has non-FRR platforms (${[...new Set(model.devices.map((d) => d.platform))].join(', ')}): the namespace lab runs FRR only`;
  ctx.out(`== lab ${model.name}`);
  if (why) {
    ctx.out(`  skipped: ${why}`);
    return;
  }
  const { topology, baseDir, running } = await topologyFromModel(dir);
  const t0 = Date.now();
  const state = await labUp(topology, { baseDir, log: (l) => ctx.out(`  ${l}`) });
  const up = Date.now() - t0;
  // A lab that was already running converges to what it runs (the model it last applied), on the
  // nodes that model has, until the apply below pushes the change: nodes cabled in since peer
  // with the others only then.
  const runs = (running ? readLabModel(state.name) : undefined) ?? model;
  const only = running ? new Set([...runs.devices, ...runs.endpoints, ...(runs.serviceNodes ?? [])].map((n) => n.name)) : undefined;
  const r = await waitConverged(state, { timeoutMs: timeoutS * 1000, expected: labExpected(runs), only });
  if (!r.converged) throw new CheckFailed(`lab ${model.name} did not converge in ${timeoutS} s:\n  ${r.pending.join('\n  ')}`);
  ctx.out(`  up in ${(up / 1000).toFixed(1)} s, converged ${(r.elapsedMs / 1000).toFixed(1)} s later: ${runs.bgpSessions.length} BGP sessions and ${runs.ospfAdjacencies.length} OSPF adjacencies as ${running ? 'the configuration it runs' : 'the model'} expects`);
  ctx.out(`== apply --target lab:${state.name}`);
  const rollout = await runRollout({
    model,
    inventory: inventoryFromLab(state),
    canary: 1,
    waveSize: 5,
    confirmTimeoutS: 60,
    postChecks: pushPostChecks(model, { live: true }),
    waveChecks: pushWaveChecks(model, { lab: state }),
    reporter: lineReporter(() => {}),
  });
  for (const l of summaryTable(rollout.results)) ctx.out(`  ${l}`);
  if (!rollout.ok) throw new CheckFailed(`apply to lab ${state.name} failed (journal ${rollout.journalDir ?? '-'}); 'netloom apply --recover' restores interrupted devices`);
  saveLabModel(state.name, model);
  const again = await runRollout({ model, inventory: inventoryFromLab(state), dryRun: true, reporter: lineReporter(() => {}) });
  const left = again.results.filter((r) => r.action !== 'unchanged');
  if (left.length) throw new CheckFailed(`a second apply would still change: ${left.map((r) => `${r.device} (${r.reason})`).join(', ')}`);
  ctx.out(`  ${rollout.changed} device(s) changed; planned again: nothing to change`);

  ctx.out(`== verify --live --target lab:${state.name}`);
  // Hosts announce themselves once they speak: the probes make them; state settles in seconds.
  const tLive = Date.now();
  let live = await verifyLive(model, `lab:${state.name}`, { probes: true });
  for (let i = 0; i < 20 && live.results.some((r) => !r.passed); i++) {
    await new Promise((r) => setTimeout(r, 1500));
    live = await verifyLive(model, `lab:${state.name}`, { probes: true });
  }
  const report: VerifyReport = { fabric: model.name, revision: model.revision, mode: 'live', target: live.target, results: live.results, topology: topologyOf(model), ms: Date.now() - tLive };
  for (const l of formatText(report).trimEnd().split('\n')) ctx.out(`  ${l}`);
  if (live.results.some((r) => !r.passed)) throw new CheckFailed(`live verification of lab ${state.name} failed`);
  if (staysUp) ctx.out(`  ${closingHint(model, state.name, state.ssh.config)}`);
}

/** What to do with the lab that stays up, naming a device this fabric has. */
export function closingHint(model: FabricModel, lab: string, sshConfig: string): string {
  const node = model.devices[0]?.name ?? 'NODE';
  return `lab ${lab} stays up: ssh -F ${sshConfig} ${node} | netloom lab exec ${node} --name ${lab} -- CMD | netloom lab down --name ${lab}`;
}

/**
 * The main job on one fabric: every stage that exists, end to end. It grows with the
 * project; each stage prints a short section and stops the run on failure.
 */
export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'the main job on an intent: validate, render, verify --static, lab up, apply, verify --live (--down tears the lab down)',
  usage: `netloom pipeline [DIR] [--out OUT] [--no-lab] [--down] [--timeout S]   (default ${DEFAULT_INTENT_DIR}, OUT out/<fabric>)`,
  options: {
    out: { type: 'string', arg: 'OUT', help: 'render into OUT (default out/<fabric>)' },
    'no-lab': { type: 'boolean', help: 'stop after verify --static' },
    down: { type: 'boolean', help: 'remove the lab at the end' },
    timeout: { type: 'number', arg: 'SECONDS', min: 1, default: 90, help: 'how long the lab may take to converge' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const dir = intentDirArg(ctx.positionals[0], 'pipeline');

    ctx.out(`== validate ${dir}`);
    const model = loadModelSync(dir);
    for (const l of summarize(model)) ctx.out(`  ${l}`);

    const out = stringOpt(ctx, 'out') ?? path.join('out', model.name);
    ctx.out(`== render -> ${out}`);
    const t0 = performance.now();
    const r = renderModel(model);
    const { written, removed } = writeOutput(r, out);
    const bytes = r.artifacts.reduce((s, a) => s + a.bytes, 0);
    ctx.out(`  ${r.artifacts.length} files for ${model.devices.length} devices (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - t0).toFixed(0)} ms; ${written.length} written, ${removed.length} removed, manifest ${path.join(out, 'manifest.json')}`);

    ctx.out(`== verify --static`);
    const report = verifyStatic(model);
    for (const l of formatText(report).trimEnd().split('\n')) ctx.out(`  ${l}`);
    if (report.results.some((r) => !r.passed)) throw new CheckFailed(`static verification of ${model.name} failed`);

    if (!boolOpt(ctx, 'no-lab')) {
      try {
        await labStage(ctx, dir, model, numberOpt(ctx, 'timeout'), !boolOpt(ctx, 'down'));
      } finally {
        if (boolOpt(ctx, 'down')) {
          await labDown(model.name);
          ctx.out(`== lab ${model.name} down`);
        }
      }
    }
    ctx.out(`pipeline ${model.name}: ok`);
    return 0;
  },
};
