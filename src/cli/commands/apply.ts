import { createInterface } from 'node:readline/promises';
import type { Command } from '../command.ts';
import { boolOpt, numberOpt, stringOpt } from '../command.ts';
import { CheckFailed, UsageError } from '../../util/errors.ts';
import { loadModelSync, type FabricModel } from '../../model/index.ts';
import { describeDisturbance } from '../../push/frr-disturbance.ts';
import { disturbedFlows, endpointFlows, flowName } from '../../verify/flows.ts';
import { acquireApplyLock } from '../../push/apply-lock.ts';
import { artifactDigests, pushedArtifacts, driftReason, readApplyPlan, staleReasons, targetId } from '../../plan/apply-plan.ts';
import { targetOf } from '../push-target.ts';
import { saveLabModel } from '../../lab/expected-from-model.ts';
import { pushPostChecks, pushWaveChecks } from '../../domains/index.ts';
import { runRollout, summaryTable, type DeviceResult } from '../../push/rollout.ts';
import { recoverRollouts } from '../../push/recover.ts';
import { defaultReporter } from '../../push/progress.ts';
import { intentDirArg } from '../intent-dir.ts';

/** Flows past this many endpoints are not listed (the pairs grow with the square). */
const MAX_FLOW_ENDPOINTS = 200;

/** Why the waves are refused (RolloutResult.unsafe), and the way through. */
function unsafeLines(unsafe: string[], what: string): string[] {
  return [
    `the rollout ${what}: its waves would hold peerings (BGP sessions, OSPF adjacencies) down until a later wave`,
    ...unsafe.map((u) => `  - ${u}`),
    'both ends of each must change in one wave (--canary and --wave-size large enough): then each resets once as the wave is pushed, an outage of what apply --dry-run lists as disturbed',
  ];
}

/** What the planned changes disturb: sessions per device, then the endpoint flows. */
export function disturbanceLines(model: FabricModel, results: DeviceResult[]): string[] {
  const changes = new Map(results.filter((r) => r.disturbs).map((r) => [r.device, r.disturbs!]));
  if (!changes.size) return [];
  const lines = ['disturbs:'];
  for (const [dev, d] of changes) lines.push(`  ${dev}: ${describeDisturbance(d)}`);
  const eps = model.endpoints.filter((e) => e.ipv4).length;
  if (eps > MAX_FLOW_ENDPOINTS) return [...lines, `  flows: not listed (${eps} endpoints)`];
  const flows = endpointFlows(model);
  const hit = disturbedFlows(model, flows, changes);
  lines.push(`  flows: ${hit.length} of ${flows.length} may be disturbed${hit.length ? ':' : ''}`);
  for (const h of hit) lines.push(`    ${flowName(h.flow)}: ${h.why}`);
  return lines;
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'push rendered configs to devices in waves with confirmed commits, post-checks and rollback',
  usage:
    'netloom apply [DIR] --target lab[:NAME]|INVENTORY.yaml [--plan PLAN.json] [--dry-run] [--canary N] [--wave-size N] [--confirm-timeout S] [--rpc-timeout S] [--yes]\n' +
    '       netloom apply --recover',
  options: {
    target: { type: 'string', short: 't', arg: 'lab[:NAME]|INVENTORY.yaml', help: 'where to push: a lab built by netloom, or an inventory file (with --plan: the plan\'s target by default)' },
    'dry-run': { type: 'boolean', short: 'n', help: 'plan and print diffs; push nothing' },
    canary: { type: 'number', integer: true, min: 1, default: 1, help: 'devices in the first wave' },
    'wave-size': { type: 'number', integer: true, min: 1, default: 5, help: 'devices per following wave' },
    'confirm-timeout': { type: 'number', arg: 'SECONDS', min: 5, default: 120, help: 'a device rolls back unless confirmed within this time' },
    'rpc-timeout': { type: 'number', arg: 'SECONDS', min: 1, default: 60, help: 'a step whose session does not answer within this time is retried on a fresh session' },
    yes: { type: 'boolean', short: 'y', help: 'do not ask before applying' },
    plan: { type: 'string', arg: 'PLAN.json', help: 'apply only what this saved plan (netloom plan --save) reviewed; refuse when the intent, the rendered files, the target or a device changed since' },
    recover: { type: 'boolean', help: 'restore devices of a rollout interrupted by a crash' },
  },
  notes: [
    'One apply at a time: a lock in $NETLOOM_STATE_DIR (default /var/lib/netloom) names its holder; --dry-run takes none.',
    'exit 0: applied (or nothing to change); 1: a device failed, the rollout was rolled back, the plan was refused, or another apply holds the lock; 2: usage error',
  ],
  async run(ctx) {
    const reporter = defaultReporter(ctx.out);
    const print = (results: DeviceResult[]) => {
      ctx.out('');
      for (const l of summaryTable(results)) ctx.out(l);
    };
    const command = ['netloom', ...process.argv.slice(2)].join(' ');
    const lock = () => acquireApplyLock(command, ctx.err);
    if (boolOpt(ctx, 'recover')) {
      lock();
      const rs = await recoverRollouts(reporter);
      if (rs.length === 0) {
        ctx.out('no interrupted rollout to recover');
        return 0;
      }
      let bad = false;
      for (const r of rs) {
        if (r.skipped) {
          ctx.out(`rollout ${r.id}: skipped: ${r.skipped}`);
          continue;
        }
        ctx.out(`rollout ${r.id}: recovered`);
        print(r.results);
        if (r.results.some((x) => x.action === 'failed')) bad = true;
      }
      if (bad) throw new CheckFailed('recovery failed on some devices (see the table)');
      return 0;
    }
    if (ctx.positionals.length > 1) throw new UsageError(`expected at most one intent directory, got ${ctx.positionals.length}`);
    const planFile = stringOpt(ctx, 'plan');
    // Read first: a foreign or malformed file is refused whatever else is wrong or running.
    const plan = planFile === undefined ? undefined : readApplyPlan(planFile);
    // A plan saved with --target applies there unless told otherwise (a different --target is refused as stale).
    const target = stringOpt(ctx, 'target') ?? plan?.target;
    if (!target) throw new UsageError(plan ? `--target lab[:NAME] or --target INVENTORY.yaml is required (${planFile} was saved without one)` : '--target lab[:NAME] or --target INVENTORY.yaml is required');
    if (plan?.target && stringOpt(ctx, 'target') === undefined) ctx.out(`target ${target} (from ${planFile})`);
    const canary = numberOpt(ctx, 'canary');
    const waveSize = numberOpt(ctx, 'wave-size');
    const confirmTimeoutS = numberOpt(ctx, 'confirm-timeout');
    const rpcTimeoutS = numberOpt(ctx, 'rpc-timeout');
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'apply'));
    const { inventory, lab } = targetOf(target, model.name);
    const dryRun = boolOpt(ctx, 'dry-run');
    if (!dryRun) lock();
    if (plan) {
      const artifacts = artifactDigests(pushedArtifacts(model));
      const stale = staleReasons(plan, { fabric: model.name, revision: model.revision, artifacts, target: targetId(target, model.name) });
      if (stale.length) throw new CheckFailed(`refusing to apply ${planFile}: it no longer describes this change (nothing pushed):\n${stale.map((r) => `  - ${r}`).join('\n')}\nplan again (netloom plan --save) and review the new plan`);
      ctx.out(`plan ${planFile}: intent revision ${plan.intent.revision}${plan.intent.commit ? ` (commit ${plan.intent.commit.slice(0, 12)})` : ''}, ${Object.keys(plan.artifacts).length} device(s) rendered as reviewed${plan.running ? '; drift check of the running state follows' : '; made without --target: no drift check'}`);
    }

    if (!dryRun && !boolOpt(ctx, 'yes') && process.stdin.isTTY && process.stdout.isTTY) {
      const plan = await runRollout({ model, inventory, dryRun: true, canary, waveSize, reporter });
      const n = plan.results.filter((r) => r.action === 'would change').length;
      if (!plan.ok || n === 0) {
        print(plan.results);
        if (!plan.ok) throw new CheckFailed('cannot apply: some devices failed (see the table)');
        ctx.out('nothing to change');
        return 0;
      }
      for (const r of plan.results) if (r.action === 'would change') ctx.out(`  ${r.device}: ${r.reason}`);
      for (const l of disturbanceLines(model, plan.results)) ctx.out(l);
      if (plan.unsafe) throw new CheckFailed(unsafeLines(plan.unsafe, 'refused (nothing pushed)').join('\n'));
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`apply changes to ${n} device(s) of ${model.name}? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        ctx.out('not applied');
        return 1;
      }
    }

    const res = await runRollout({
      model,
      inventory,
      dryRun,
      canary,
      waveSize,
      confirmTimeoutS,
      rpcTimeoutS,
      reporter,
      // Besides sessions and adjacencies, each leaf's EVPN/VRF state must match the model.
      postChecks: pushPostChecks(model, { live: true }),
      // In a lab, every endpoint flow through a wave's devices must answer as it did before.
      waveChecks: pushWaveChecks(model, { lab }),
      onJournal: (dir) => ctx.out(`journal: ${dir}/journal.jsonl`),
      ...(plan?.running ? { driftCheck: (device: string, snapshot: unknown) => driftReason(plan, device, snapshot) } : {}),
    });
    if (dryRun) {
      for (const r of res.results) if (r.diff) ctx.out(r.diff.trimEnd());
      for (const l of disturbanceLines(model, res.results)) ctx.out(l);
    }
    print(res.results);
    if (res.unsafe && dryRun) for (const l of unsafeLines(res.unsafe, 'would be refused')) ctx.out(l);
    if (res.unsafe && !dryRun) throw new CheckFailed(unsafeLines(res.unsafe, 'refused (nothing pushed)').join('\n'));
    if (res.refused) {
      throw new CheckFailed(`refusing to apply ${planFile}: the running state changed since the plan (drift check; nothing pushed):\n${res.refused.map((r) => `  - ${r}`).join('\n')}\nplan again (netloom plan --save --target ...) and review the new plan`);
    }
    if (!res.ok) {
      const rolled = res.results.filter((r) => r.action === 'rolled back').length;
      throw new CheckFailed(rolled ? `rollout failed and was rolled back on ${rolled} device(s)` : 'rollout failed (see the table)');
    }
    // The lab now runs this model: `lab wait` and a later `lab up` of it compare against it.
    if (lab && !dryRun) saveLabModel(lab.name, model);
    ctx.out(res.changed === 0 ? 'nothing to change' : dryRun ? `${res.changed} device(s) would change (dry run: nothing pushed)` : `${res.changed} device(s) applied`);
    return 0;
  },
};
