/**
 * A remote route lost on its origin's side: leaf2's endpoint host route (redistributed as a
 * type-5 /32 with VRFs as namespaces) gone from its kernel, so leaf1 lacks it. Re-announcing
 * on leaf1 cannot bring it back; settling must trace where it stops (the origin's kernel) and
 * repair the origin, as a CI lab that never settled needed (fidelity seed 77371266).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getLabState } from '../../src/lab/index.ts';
import { readLabModel } from '../../src/lab/expected-from-model.ts';
import { labExec } from '../../src/lab/node-ops.ts';
import { leafForwardingProblems, settleLab, traceMissingRoute } from '../../src/lab/settle.ts';
import { intentLab, labSkipReason } from './helpers.ts';

const LAB = 'setorig';
const skip = labSkipReason();
if (skip) console.log(`settle-origin: skipped, ${skip}`);
const fixture = fileURLToPath(new URL('./fixtures/settle-origin', import.meta.url));

describe.skipIf(!!skip)('settling a lab whose remote route is lost at its origin', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-settle-origin-'));
  cpSync(fixture, dir, { recursive: true });
  intentLab({ dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }, LAB);

  it('traces the route to the origin, repairs the origin and settles', async () => {
    const state = getLabState(LAB);
    const model = readLabModel(LAB)!;
    const host = '10.101.1.237/32';
    const gone = await labExec(state, 'leaf2', ['sh', '-c', `ip -n T1 route del ${host} dev gw714 proto 99`]);
    expect(gone.code, gone.stderr).toBe(0);
    let problems: string[] = [];
    for (let i = 0; i < 50 && !problems.some((p) => p.includes(`${host} missing`)); i++) {
      problems = await leafForwardingProblems(state, model, 'leaf1');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(problems).toContain(`VRF T1: ${host} missing from the kernel FIB (expected via 10.0.0.12)`);

    const trace = await traceMissingRoute(state, { leaf: 'leaf1', vrf: 'T1', prefix: host, origins: ['leaf2'] });
    expect(trace).toBe(`leaf1 VRF T1 ${host} from leaf2: leaf2: kernel lacks it, zebra lacks it, bgp VRF 0 path(s), EVPN type-5 lacks it; leaf1: zebra lacks it, bgp VRF 0 path(s), EVPN type-5 lacks it`);

    const logs: string[] = [];
    const r = await settleLab(state, model, { timeoutMs: 60_000, log: (l) => logs.push(l) });
    console.log(`settle-origin: settled ${r.settled} in ${r.elapsedMs} ms, repairs ${r.repairs.join(', ')}`);
    expect(r.pending).toEqual([]);
    expect(r.settled).toBe(true);
    // leaf1 re-announced first, then the origin repaired.
    expect(r.repairs[0]).toBe('leaf1');
    expect(r.repairs).toContain('leaf2');
    expect(logs.some((l) => l.startsWith(`leaf2: originates ${host} (VRF T1) that leaf1 still lacks`))).toBe(true);
    expect(await leafForwardingProblems(state, model, 'leaf1')).toEqual([]);
    const after = await traceMissingRoute(state, { leaf: 'leaf1', vrf: 'T1', prefix: host, origins: ['leaf2'] });
    expect(after).toMatch(/leaf2: kernel has it, zebra kernel selected, bgp VRF 1 path\(s\), EVPN type-5 has it; leaf1: zebra bgp selected, bgp VRF \d path\(s\), EVPN type-5 has it$/);
  }, 120_000);
});
