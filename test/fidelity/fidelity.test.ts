// Randomized differential testing in the lab: every committed regression (a seed that once
// disagreed, with its minimised intent) and then as many fresh random fabrics as fit in the
// time budget; every prediction of static verification must match what the lab does.
// Seeds differ on every run (derived from the time) unless FIDELITY_SEEDS="1 2 3" pins them;
// they are printed so any run can be repeated with `npm run fidelity -- --seed S`.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomIntent } from '../../src/intent/random.ts';
import { agreementTable } from '../../src/verify/fidelity/facts.ts';
import { loadRegressions, runCampaign, type Subject } from '../../src/verify/fidelity/run.ts';
import { seedsFrom } from '../../src/verify/fidelity/seeds.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BUDGET_MS = Number(process.env.FIDELITY_BUDGET_MINUTES ?? 10) * 60_000;
// Fresh seeds stop at 70% of the budget; the rest shrinks what failed.
const SEED_SHARE = 0.7;

describe('fidelity: static prediction = lab reality', () => {
  it('agrees on every committed regression and on random fabrics', { timeout: BUDGET_MS + 5 * 60_000 }, async () => {
    const t0 = Date.now();
    const pinned = process.env.FIDELITY_SEEDS?.split(/[\s,]+/).filter(Boolean).map(Number);
    const seeds = pinned ?? seedsFrom(Date.now(), 1000);
    const regressions = loadRegressions(path.join(root, 'test/fidelity/regressions'));
    console.log(`fidelity: regressions ${regressions.map((r) => r.seed).join(' ') || '-'}; seeds from ${pinned ? 'FIDELITY_SEEDS' : 'the time'}: ${seeds.slice(0, 20).join(' ')}${seeds.length > 20 ? ' ...' : ''}`);
    const subjects: Subject[] = [
      ...regressions.map((r) => ({ seed: r.seed, kind: 'regression' as const, intent: r.intent })),
      ...seeds.map((seed) => ({ seed, kind: 'seed' as const, intent: randomIntent(seed) })),
    ];
    const { results, merged } = await runCampaign(subjects, {
      outDir: path.join(root, 'out', 'fidelity-ci'),
      labPrefix: process.env.FIDELITY_LAB_PREFIX ?? 'fid',
      mgmtBase: process.env.NETLOOM_FIDELITY_MGMT_BASE,
      budgetMs: BUDGET_MS * SEED_SHARE,
      minimise: true,
      minimiseUntil: t0 + BUDGET_MS,
      log: (l) => console.log(l),
    });
    const ran = results.filter((r) => r.kind === 'seed').map((r) => r.seed);
    console.log(`fidelity: ran ${results.length} (regressions ${results.length - ran.length}, seeds ${ran.join(' ')}) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n${agreementTable(merged).join('\n')}`);
    // Regressions run first; at least one fresh seed must fit too.
    expect(ran.length).toBeGreaterThan(0);
    const failed = results.filter((r) => !r.ok).map((r) => `${r.kind} ${r.seed}: ${r.failing.join(', ')}${r.error ? ` (${r.error})` : ''}\n    intent ${r.minimised?.dir ?? r.dir}\n    ${r.tallies.filter((t) => t.disagreements).flatMap((t) => t.examples.slice(0, 2)).join('\n    ')}`);
    expect(failed, `disagreements (record a new seed with: npm run fidelity -- --seed S --record test/fidelity/regressions)`).toEqual([]);
  });
});
