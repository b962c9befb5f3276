import { existsSync, rmSync } from 'node:fs';
import { EnvironmentError } from '../util/errors.ts';
import type { ClabTopology } from './clab-types.ts';
import { parseClabFile, validateClab, type ParsedClab } from './clab-parse.ts';
import { planLab } from './plan.ts';
import { defaultLabName, readLabState, runDir, type LabState } from './state.ts';
import { labDownNetns, labUpNetns } from './netns-driver.ts';
import { containerlabAvailable, containerlabDeploy, containerlabDestroy } from './containerlab-driver.ts';

export interface LabUpOptions {
  /** Lab name (default: the topology's `name`). */
  name?: string;
  /** Directory relative bind paths resolve against (default: the file's directory, else cwd). */
  baseDir?: string;
  /** 'auto' (default) uses containerlab when it and a Docker engine are present. */
  runtime?: 'auto' | 'netns' | 'containerlab';
  log?: (line: string) => void;
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
  if (runtime === 'containerlab' || (runtime === 'auto' && (await containerlabAvailable()))) {
    return containerlabDeploy(parsed, plan, opts.log);
  }
  return labUpNetns(plan, { log: opts.log });
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
