/**
 * Randomized differential testing of static prediction against the lab: per seed, a random
 * valid intent (src/intent/random.ts) is written to a directory, run in the lab and every
 * prediction compared with reality (observe.ts). A disagreement is shrunk to a minimal intent
 * that still disagrees on the same fact types, written where `netloom pipeline` can run it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultMgmtFor, intentFiles, randomIntent, type RandomIntent } from '../../intent/random.ts';
import { writeGeneratedIntent } from '../../intent/generate.ts';
import { loadModelSync } from '../../model/index.ts';
import { IntentError } from '../../util/errors.ts';
import { failingTypes, mergeTallies, type FactTally } from './facts.ts';
import { minimise } from './minimise.ts';
import { observeIntent, type Observation } from './observe.ts';

export interface Subject {
  seed: number;
  /** 'seed' for a freshly generated intent, 'regression' for a committed fixture. */
  kind: 'seed' | 'regression';
  intent: RandomIntent;
}

export interface SubjectResult {
  seed: number;
  kind: Subject['kind'];
  ok: boolean;
  tallies: FactTally[];
  failing: string[];
  staticFailures: string[];
  converged: boolean;
  error?: string;
  /** Wall time of the run itself, and with shrinking. */
  observeMs: number;
  ms: number;
  dir: string;
  minimised?: { dir: string; removed: string[]; tries: number; complete: boolean; intent: RandomIntent; failing: string[]; tallies: FactTally[] };
}

export interface FidelityOptions {
  outDir: string;
  labPrefix: string;
  /** First two octets of every run's management subnet (default 172.24): BASE.(seed mod 250 + 1).0/24. */
  mgmtBase?: string;
  /** Shrink failures (each try is a lab run). */
  minimise?: boolean;
  /** Time for shrinking each failure, and a time (ms since epoch) all shrinking ends by. */
  minimiseMs?: number;
  minimiseUntil?: number;
  convergeTimeoutS?: number;
  settleS?: number;
  log?: (line: string) => void;
}

/** A fact type for a run that never got to compare anything. */
const LAB_ERROR = 'lab-run';

export function writeIntentDir(dir: string, intent: RandomIntent, comment: string): void {
  rmSync(dir, { recursive: true, force: true });
  writeGeneratedIntent(dir, intentFiles(intent, comment));
}

/** Does the intent pass `netloom validate`? (Other errors are bugs and propagate.) */
export function isValidIntent(intent: RandomIntent): boolean {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-fidelity-'));
  try {
    writeGeneratedIntent(dir, intentFiles(intent));
    loadModelSync(dir);
    return true;
  } catch (e) {
    if (e instanceof IntentError) return false;
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withMgmt(intent: RandomIntent, seed: number, base?: string): RandomIntent {
  return { ...intent, pools: { ...intent.pools, mgmt: defaultMgmtFor(seed, base) } };
}

async function observe(dir: string, lab: string, opts: FidelityOptions): Promise<{ obs?: Observation; tallies: FactTally[]; error?: string }> {
  try {
    const obs = await observeIntent(dir, { lab, convergeTimeoutS: opts.convergeTimeoutS, settleS: opts.settleS, log: (l) => opts.log?.(`  ${l}`) });
    return { obs, tallies: obs.tallies };
  } catch (e) {
    // The first line names the failure; the next ones (e.g. what did not settle) say why.
    const error = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 4).join(' | ');
    return { error, tallies: [{ type: LAB_ERROR, facts: 1, disagreements: 1, examples: [error] }] };
  }
}

export async function runSubject(s: Subject, opts: FidelityOptions): Promise<SubjectResult> {
  const t0 = Date.now();
  const intent = withMgmt(s.intent, s.seed, opts.mgmtBase);
  const name = `${s.kind === 'seed' ? 'seed' : 'regression'}-${s.seed}`;
  const dir = path.join(opts.outDir, name);
  const lab = `${opts.labPrefix}-${s.kind === 'seed' ? 's' : 'r'}${s.seed}`;
  writeIntentDir(dir, intent, `netloom fidelity ${s.kind} ${s.seed}: npm run fidelity -- --seed ${s.seed}`);
  opts.log?.(`${s.kind} ${s.seed}: ${describe(intent)}`);
  const { obs, tallies, error } = await observe(dir, lab, opts);
  const failing = failingTypes(tallies);
  const result: SubjectResult = { seed: s.seed, kind: s.kind, ok: failing.length === 0, tallies, failing, staticFailures: obs?.staticFailures ?? [], converged: obs?.converged ?? false, ...(error ? { error } : {}), observeMs: Date.now() - t0, ms: 0, dir };
  for (const t of tallies.filter((x) => x.disagreements)) opts.log?.(`  DISAGREE ${t.type}: ${t.disagreements}/${t.facts}: ${t.examples.slice(0, 3).join(' | ')}`);
  const minimiseEnd = Math.min(Date.now() + (opts.minimiseMs ?? 10 * 60_000), opts.minimiseUntil ?? Infinity);
  // Committed regressions are minimised already.
  if (failing.length && opts.minimise && s.kind === 'seed' && minimiseEnd > Date.now()) {
    opts.log?.(`  minimising (fails on ${failing.join(', ')})`);
    let minimisedTallies = tallies;
    const m = await minimise(intent, {
      valid: isValidIntent,
      fails: async (candidate) => {
        const tryDir = mkdtempSync(path.join(tmpdir(), 'netloom-fidelity-min-'));
        try {
          writeIntentDir(tryDir, candidate, 'minimisation candidate');
          const r = await observe(tryDir, lab, { ...opts, log: undefined });
          // The same way: every fact type the original disagreed on still disagrees.
          const now = failingTypes(r.tallies);
          const same = failing.every((t) => now.includes(t));
          if (same) minimisedTallies = r.tallies;
          return same;
        } finally {
          rmSync(tryDir, { recursive: true, force: true });
        }
      },
      deadline: minimiseEnd,
      log: opts.log,
    });
    const minDir = path.join(opts.outDir, `${name}-min`);
    writeIntentDir(minDir, m.intent, `netloom fidelity ${s.kind} ${s.seed}, minimised${m.complete ? '' : ' (budget ran out)'}: disagrees on ${failing.join(', ')}\nrun: netloom pipeline ${minDir}`);
    result.minimised = { dir: minDir, removed: m.removed, tries: m.tries, complete: m.complete, intent: m.intent, failing, tallies: minimisedTallies };
    opts.log?.(`  minimised in ${m.tries} lab runs: ${minDir} (${describe(m.intent)})`);
  }
  result.ms = Date.now() - t0;
  opts.log?.(`  ${result.ok ? 'agree' : 'DISAGREE'} in ${(result.ms / 1000).toFixed(1)} s${result.staticFailures.length ? ` (static design findings: ${result.staticFailures.join(', ')})` : ''}`);
  return result;
}

export function describe(i: RandomIntent): string {
  const roles = new Map<string, number>();
  for (const n of Object.values(i.nodes)) {
    const role = String(n.role ?? (i.groups as Record<string, { role: string }>)[String(n.group)]?.role);
    roles.set(role, (roles.get(role) ?? 0) + 1);
  }
  const asn = i.fabric.asn as { leaf_scheme?: string } | undefined;
  const vrfs = i.tenants.reduce((n, t) => n + t.vrfs.length, 0);
  const nets = i.tenants.reduce((n, t) => n + t.vrfs.reduce((m, v) => m + v.networks.length, 0), 0);
  return `${i.fabric.underlay}/${(i.fabric.overlay as { transport: string }).transport}${asn?.leaf_scheme ? ` ${asn.leaf_scheme}` : ''}, ${[...roles].map(([r, n]) => `${n} ${r}`).join(', ')}, ${i.tenants.length} tenants, ${vrfs} VRFs, ${nets} networks, ${i.endpoints.length} endpoints`;
}

export interface Regression {
  seed: number;
  /** Fact types it disagreed on when recorded, and why (kept for the reader). */
  failing: string[];
  causes: string[];
  /** What made prediction and reality agree again, once fixed (for the reader). */
  fixed?: string[];
  intent: RandomIntent;
}

export function loadRegressions(dir: string): Regression[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Regression);
}

export function writeRegression(dir: string, r: SubjectResult): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.seed}.json`);
  const fixture: Regression = {
    seed: r.seed,
    failing: r.minimised?.failing ?? r.failing,
    causes: (r.minimised?.tallies ?? r.tallies).filter((t) => t.disagreements).flatMap((t) => t.examples.slice(0, 2).map((x) => `${t.type}: ${x}`)),
    intent: r.minimised?.intent ?? randomIntent(r.seed),
  };
  writeFileSync(file, JSON.stringify(fixture, null, 2) + '\n');
  return file;
}

export interface Campaign {
  results: SubjectResult[];
  merged: FactTally[];
}

/** Runs subjects in order until the list or the time budget ends. */
export async function runCampaign(subjects: Iterable<Subject>, opts: FidelityOptions & { budgetMs?: number }): Promise<Campaign> {
  const results: SubjectResult[] = [];
  const end = opts.budgetMs ? Date.now() + opts.budgetMs : Infinity;
  let slowest = 0;
  for (const s of subjects) {
    // Stop when another subject would likely overrun the budget.
    if (results.length && Date.now() + slowest > end) break;
    const r = await runSubject(s, opts);
    slowest = Math.max(slowest, r.observeMs);
    results.push(r);
  }
  return { results, merged: mergeTallies(results.map((r) => r.tallies)) };
}
