/** Shared by the simulation lab tests (one lab per test file): fixture copies, lab up, settled collection. */
import { afterAll, expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labUp, waitConverged, type LabState } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { collectObserved, resolveTarget } from '../../src/verify/live/run.ts';
import type { ObservedState } from '../../src/verify/live/compare.ts';
import { factAgreement, FACT_TYPES } from '../../src/verify/live/agreement.ts';
import { labSkipReason } from '../lab/helpers.ts';
import { root } from './helpers.ts';

export const skip = labSkipReason();
if (skip) console.warn(`skipping simulation lab test: ${skip}`);
const stateRoot = mkdtempSync(path.join(tmpdir(), 'nl-h10a-sim-'));
process.env.NETLOOM_STATE_DIR = stateRoot;
afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

/** A fixture copy with its own management subnet (172.23.<third>.0/24) and lab name. */
function copy(fixture: string, third: number): string {
  const dir = path.join(stateRoot, fixture);
  cpSync(path.join(root, 'test/verify/fixtures', fixture), dir, { recursive: true });
  const f = path.join(dir, 'fabric.yaml');
  const text = readFileSync(f, 'utf8');
  expect(text).toContain('mgmt: 172.20.20.0/24');
  writeFileSync(f, text.replace('mgmt: 172.20.20.0/24', `mgmt: 172.23.${third}.0/24`));
  return dir;
}

export async function up(fixture: string, third: number, name: string): Promise<{ state: LabState; model: FabricModel }> {
  return upDir(copy(fixture, third), name);
}

/** An intent directory (already on its own management subnet) up in the lab, converged. */
export async function upDir(dir: string, name: string): Promise<{ state: LabState; model: FabricModel }> {
  const src = await topologyFromModel(dir, { name });
  const state = await labUp(src.topology, { name, baseDir: src.baseDir, runtime: 'netns', log: () => {} });
  const r = await waitConverged(state, { timeoutMs: 90_000, pollMs: 250, expected: expectedSessions(src.model) });
  expect(r.pending).toEqual([]);
  return { state, model: src.model };
}

/** Collect until EVPN has settled (routes arrive a few seconds after the sessions). */
export async function settled(model: FabricModel, lab: string, ok: (o: ObservedState) => boolean, ms = 30_000): Promise<ObservedState> {
  const until = Date.now() + ms;
  for (;;) {
    const o = await collectObserved(resolveTarget(`lab:${lab}`), model);
    if (ok(o) || Date.now() > until) return o;
    await new Promise((r) => setTimeout(r, 1500));
  }
}

export const allAgree = (model: FabricModel) => (o: ObservedState) => FACT_TYPES.every((t) => { const a = factAgreement(model, o)[t]; return a.agreed === a.total; });

