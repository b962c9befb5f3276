/**
 * A test run killed before its cleanup leaves labs behind; the next run must not fail on
 * "already up with a different topology". Labs record the process holding them
 * (NETLOOM_LAB_HOLDER_PID); `reclaimOrphanedLabs` takes down exactly those whose holder is gone,
 * and never a lab with a live holder or a user's lab without one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labUp, listLabs, readLabState, reclaimOrphanedLabs } from '../../src/lab/index.ts';
import { labSkipReason, namespaces } from './helpers.ts';

const skip = labSkipReason();
// Outside CI a machine without root, FRR or sshd skips with the reason; in CI it never does.
if (skip) console.warn(`skipping orphaned-lab tests: ${skip}`);
const examples = fileURLToPath(new URL('../../lab/examples/', import.meta.url));
const stateRoot = mkdtempSync(path.join(tmpdir(), 'nl-orphan-'));
process.env.NETLOOM_STATE_DIR = stateRoot;
const suffix = process.pid.toString(36).slice(-4);
const GONE = `og${suffix}`;
const LIVE = `ol${suffix}`;
const NONE = `on${suffix}`;

async function upHeldBy(name: string, holder: string | undefined) {
  const saved = process.env.NETLOOM_LAB_HOLDER_PID;
  if (holder === undefined) delete process.env.NETLOOM_LAB_HOLDER_PID;
  else process.env.NETLOOM_LAB_HOLDER_PID = holder;
  try {
    return await labUp(path.join(examples, 'bgp-unnumbered.clab.yml'), { name, runtime: 'netns' });
  } finally {
    if (saved === undefined) delete process.env.NETLOOM_LAB_HOLDER_PID;
    else process.env.NETLOOM_LAB_HOLDER_PID = saved;
  }
}

describe.skipIf(!!skip)('labs left by a killed test run', () => {
  afterAll(async () => {
    for (const n of [GONE, LIVE, NONE]) await labDown(n).catch(() => false);
    rmSync(stateRoot, { recursive: true, force: true });
  }, 120_000);

  it('are reclaimed when their holder is gone; labs of a live holder and labs without one stay', async () => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    const gone = await upHeldBy(GONE, String(child.pid));
    expect(gone.heldBy?.pid).toBe(child.pid);
    expect(gone.heldBy?.startTicks).toMatch(/^\d+$/);
    await upHeldBy(LIVE, String(process.pid));
    const none = await upHeldBy(NONE, undefined);
    expect(none.heldBy).toBeUndefined();

    // The holder alive: nothing is an orphan.
    expect(await reclaimOrphanedLabs()).toEqual([]);

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await reclaimOrphanedLabs()).toEqual([GONE]);
    expect(readLabState(GONE)).toBeUndefined();
    expect(namespaces().filter((n) => n.startsWith(`nl-${GONE}-`))).toEqual([]);
    expect(listLabs().sort()).toEqual([LIVE, NONE].sort());
    for (const n of [LIVE, NONE]) expect(namespaces().filter((ns) => ns.startsWith(`nl-${n}-`))).toHaveLength(2);
  }, 180_000);
});
