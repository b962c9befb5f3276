import { existsSync, rmSync } from 'node:fs';
import { EnvironmentError } from '../util/errors.ts';
import type { ClabTopology } from './clab-types.ts';
import { parseClabFile, validateClab, type ParsedClab } from './clab-parse.ts';
import { planLab } from './plan.ts';
import { defaultLabName, listLabs, readLabState, runDir, type LabState } from './state.ts';
import { holderGone } from './holder.ts';
import { labDownNetns, labUpNetns } from './netns-driver.ts';
import { readLabModel } from './expected-from-model.ts';
import { settleLab } from './settle.ts';
import { containerlabAvailable, containerlabDeploy, containerlabDestroy } from './containerlab-driver.ts';

export interface LabUpOptions {
  /** Lab name (default: the topology's `name`). */
  name?: string;
  /** Directory relative bind paths resolve against (default: the file's directory, else cwd). */
  baseDir?: string;
  /** 'auto' (default) uses containerlab when it and a Docker engine are present. */
  runtime?: 'auto' | 'netns' | 'containerlab';
  log?: (line: string) => void;
  /**
   * A lab built from an intent: wait until the model's sessions are up and every leaf forwards
   * as the model says, repairing what FRR 8.4 loses (settle.ts). Default true; a lab that does
   * not settle within `settleTimeoutMs` (default 120 s) is taken down and the reasons thrown.
   */
  settle?: boolean;
  settleTimeoutMs?: number;
  /** Leave a lab that did not settle up, to inspect it (`lab up --keep-unsettled`). */
  keepUnsettled?: boolean;
}

/**
 * Brings a lab up from a `.clab.yml` path or a topology object (e.g. one generated from the
 * model). Everything it cannot run is rejected before anything is created.
 */
export async function labUp(topology: ClabTopology | string, opts: LabUpOptions = {}): Promise<LabState> {
  const parsed: ParsedClab =
    typeof topology === 'string'
      ? parseClabFile(topology)
      : { topology: validateClab(topology), baseDir: opts.baseDir ?? process.cwd() };
  if (opts.baseDir) parsed.baseDir = opts.baseDir;
  const plan = planLab(parsed, { name: opts.name });
  const runtime = opts.runtime ?? (process.env.NETLOOM_LAB_RUNTIME as LabUpOptions['runtime']) ?? 'auto';
  const { state, outcome } =
    runtime === 'containerlab' || (runtime === 'auto' && (await containerlabAvailable()))
      ? { state: await containerlabDeploy(parsed, plan, opts.log), outcome: 'created' as const }
      : await labUpNetns(plan, { log: opts.log });
  // A lab that was running already is never settled (nor taken down when it would not settle):
  // given new nodes or links, or the same cabling, it runs its devices' old configurations until
  // `apply` pushes the new ones, and `lab wait` waits for what it runs.
  if (outcome !== 'created') {
    if (outcome !== 'unchanged') opts.log?.('the running devices keep their configuration: netloom apply pushes the changes (staged, with post-checks)');
    return state;
  }
  const model = plan.generated && opts.settle !== false ? readLabModel(state.name) : undefined;
  if (!model) return state;
  // Loaded here, not at the top: the domain registry reaches the lab through the fabric domain.
  const { labExpected } = await import('../domains/index.ts');
  const t0 = Date.now();
  const r = await settleLab(state, model, { timeoutMs: opts.settleTimeoutMs, expected: labExpected(model), log: opts.log });
  if (!r.settled) {
    if (!opts.keepUnsettled) await labDown(state.name).catch(() => undefined);
    const fate = opts.keepUnsettled ? `kept for inspection; netloom lab down --name ${state.name}` : 'taken down';
    throw new EnvironmentError(`lab ${state.name} did not settle in ${(r.elapsedMs / 1000).toFixed(0)} s (${fate}):\n  ${r.pending.slice(0, 20).join('\n  ')}`);
  }
  opts.log?.(`converged and forwarding as the model says in ${((Date.now() - t0) / 1000).toFixed(1)} s${r.repairs.length ? ` (EVPN routes re-announced on ${[...new Set(r.repairs)].join(', ')})` : ''}`);
  return state;
}

/** Removes a lab and everything it made. A lab that is not up is not an error. */
export async function labDown(name?: string): Promise<boolean> {
  let n = name;
  if (!n) {
    try {
      n = defaultLabName();
    } catch (e) {
      if (e instanceof EnvironmentError && /no lab is up/.test(e.message)) return false;
      throw e;
    }
  }
  const state = readLabState(n);
  // The rendered configs of a lab built from an intent go with it, even when the lab never came up.
  rmSync(runDir(n), { recursive: true, force: true });
  if (!state) return false;
  if (state.runtime === 'containerlab') await containerlabDestroy(state);
  else await labDownNetns(state);
  return !existsSync(state.stateDir);
}

/**
 * Takes down every lab whose holding process is gone (a test run killed before its cleanup).
 * Returns the names reclaimed; labs without a holder and labs of live holders stay.
 */
export async function reclaimOrphanedLabs(): Promise<string[]> {
  const reclaimed: string[] = [];
  for (const name of listLabs()) {
    const held = readLabState(name)?.heldBy;
    if (!held || !holderGone(held)) continue;
    await labDown(name);
    reclaimed.push(name);
  }
  return reclaimed;
}
