import path from 'node:path';
import type { Command } from '../command.ts';
import { boolOpt, numberListOpt, numberOpt, stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { isMgmtBase, randomIntent } from '../../intent/random.ts';
import { labDown } from '../../lab/index.ts';
import { agreementTable } from '../../verify/fidelity/facts.ts';
import { labsUp } from '../../verify/fidelity/observe.ts';
import { loadRegressions, runCampaign, writeRegression, type Subject } from '../../verify/fidelity/run.ts';
import { seedsFrom } from '../../verify/fidelity/seeds.ts';

export const REGRESSIONS_DIR = 'test/fidelity/regressions';

/** Takes the labs of this run down on Ctrl-C or SIGTERM before exiting. */
function downOnSignal(out: (l: string) => void): () => void {
  const handler = (sig: NodeJS.Signals) => {
    out(`${sig}: taking down ${[...labsUp].join(', ') || 'no lab'}`);
    void Promise.allSettled([...labsUp].map((l) => labDown(l))).then(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

export const fidelityCommand: Command = {
  name: 'fidelity',
  summary: 'randomized differential testing: random valid fabrics in the lab, every static prediction compared with reality',
  usage:
    'netloom fidelity [--seeds N] [--seed S]... [--first S] [--regressions] [--budget-minutes M] [--out DIR] [--lab-prefix P] [--mgmt-base A.B] [--no-minimise] [--minimise-minutes M] [--record DIR]',
  options: {
    seeds: { type: 'number', integer: true, min: 0, help: 'how many random seeds to run (default 1, or 0 with --seed or --regressions)' },
    seed: { type: 'number', arg: 'S', integer: true, min: 0, multiple: true, help: 'run this seed (repeatable)' },
    first: { type: 'number', arg: 'S', integer: true, min: 0, help: 'derive the random seeds from S (default: the clock)' },
    regressions: { type: 'boolean', help: `run the recorded regressions in ${REGRESSIONS_DIR} too` },
    'budget-minutes': { type: 'number', arg: 'M', min: 0, help: 'start no new run after M minutes (default: no limit)' },
    out: { type: 'string', arg: 'DIR', default: path.join('out', 'fidelity'), help: 'intents, observations and minimised intents of the runs' },
    'lab-prefix': { type: 'string', arg: 'P', default: 'fid', help: 'prefix of the lab names (1-12 lowercase letters and digits)' },
    'mgmt-base': { type: 'string', arg: 'A.B', help: 'first two octets of the management subnets, A.B.(seed mod 250 + 1).0/24 (default: NETLOOM_FIDELITY_MGMT_BASE, else 172.24)' },
    'no-minimise': { type: 'boolean', help: 'do not minimise a failing intent' },
    'minimise-minutes': { type: 'number', arg: 'M', min: 0, default: 10, help: 'time for minimising one failing intent' },
    record: { type: 'string', arg: 'DIR', help: 'record failing seeds as regressions in DIR' },
  },
  async run(ctx) {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument ${ctx.positionals[0]}\nusage: ${this.usage}`);
    const explicit = numberListOpt(ctx, 'seed');
    const count = numberOpt(ctx, 'seeds', explicit.length || boolOpt(ctx, 'regressions') ? 0 : 1);
    const seeds = [...explicit, ...seedsFrom(numberOpt(ctx, 'first', Date.now()), count)];
    const labPrefix = stringOpt(ctx, 'lab-prefix')!;
    if (!/^[a-z][a-z0-9]{0,11}$/.test(labPrefix)) throw new UsageError('--lab-prefix must be 1-12 lowercase letters and digits, starting with a letter');
    // Concurrent campaigns on one host need disjoint management subnets.
    const mgmtBase = stringOpt(ctx, 'mgmt-base') ?? process.env.NETLOOM_FIDELITY_MGMT_BASE;
    if (mgmtBase !== undefined && !isMgmtBase(mgmtBase)) throw new UsageError(`--mgmt-base expects two octets such as 172.30, got '${mgmtBase}'`);
    const regressions = boolOpt(ctx, 'regressions') ? loadRegressions(REGRESSIONS_DIR) : [];
    const subjects: Subject[] = [
      ...regressions.map((r) => ({ seed: r.seed, kind: 'regression' as const, intent: r.intent })),
      ...seeds.map((seed) => ({ seed, kind: 'seed' as const, intent: randomIntent(seed) })),
    ];
    ctx.out(`seeds: ${seeds.join(' ') || '-'}${regressions.length ? `; regressions: ${regressions.map((r) => r.seed).join(' ')}` : ''}`);
    const budget = ctx.values['budget-minutes'] !== undefined ? numberOpt(ctx, 'budget-minutes') : undefined;
    const outDir = stringOpt(ctx, 'out')!;
    const stop = downOnSignal(ctx.out);
    let campaign;
    try {
      campaign = await runCampaign(subjects, {
        outDir,
        labPrefix,
        mgmtBase,
        minimise: !boolOpt(ctx, 'no-minimise'),
        minimiseMs: numberOpt(ctx, 'minimise-minutes') * 60_000,
        budgetMs: budget !== undefined ? budget * 60_000 : undefined,
        log: ctx.out,
      });
    } finally {
      stop();
    }
    const { results, merged } = campaign;
    ctx.out('');
    ctx.out(`== agreement over ${results.length} run(s): ${results.map((r) => `${r.kind === 'regression' ? 'r' : ''}${r.seed}`).join(' ')}`);
    for (const l of agreementTable(merged)) ctx.out(`  ${l}`);
    const failed = results.filter((r) => !r.ok);
    ctx.out(`${results.length - failed.length}/${results.length} agree`);
    for (const r of failed) {
      ctx.out(`FAIL ${r.kind} ${r.seed}: ${r.failing.join(', ')}${r.error ? ` (${r.error})` : ''}`);
      ctx.out(`  intent: ${r.dir}${r.minimised ? `; minimised: ${r.minimised.dir} (netloom pipeline ${r.minimised.dir})` : ''}`);
      const record = stringOpt(ctx, 'record');
      if (record && r.kind === 'seed') ctx.out(`  recorded as ${writeRegression(record, r)}`);
    }
    if (results.length < subjects.length) ctx.out(`time budget: ran ${results.length} of ${subjects.length}`);
    return failed.length ? 1 : 0;
  },
};
