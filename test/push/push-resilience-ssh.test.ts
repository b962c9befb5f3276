/**
 * The FRR driver's SSH session stops answering (its sshd processes are SIGSTOPped, TCP stays
 * open): the command in flight fails when the keepalives go unanswered, and is run again on a
 * fresh connection, with the retry reported. A real FRR node of a one-node namespace lab.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../src/lab/index.ts';
import type { LabState } from '../../src/lab/state.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { makeDriver } from '../../src/push/rollout.ts';
import type { RetryEvent } from '../../src/push/retry.ts';
import type { FrrDriver } from '../../src/push/frr-driver.ts';
import { inCI } from '../support/ci.ts';

const canRun = process.getuid?.() === 0 && existsSync('/usr/lib/frr/zebra') && existsSync('/usr/sbin/sshd');
if (!canRun && !inCI) console.log('push-resilience-ssh tests skipped: need root, frr and openssh-server');
const LAB = 'h10b-sshres';

function children(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...children(k)]);
}

describe.skipIf(!canRun && !inCI)('push resilience over SSH (FRR node)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'netloom-h10b-sshres-'));
  let state: LabState;
  const stopped: number[] = [];

  beforeAll(async () => {
    state = await labUp(
      {
        name: LAB,
        mgmt: { 'ipv4-subnet': '172.25.41.0/24' },
        topology: { nodes: { r1: { kind: 'linux', image: 'quay.io/frrouting/frr:8.4.4' } } },
      },
      { baseDir: work, runtime: 'netns' },
    );
  }, 60_000);

  afterAll(async () => {
    for (const p of stopped) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await labDown(LAB).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('a command whose SSH session stops answering is run again on a fresh connection', async () => {
    const driver = makeDriver({ ...inventoryFromLab(state).devices[0], driver: 'frr-ssh' }) as FrrDriver;
    const retries: RetryEvent[] = [];
    driver.onRetry = (e) => retries.push(e);
    try {
      await driver.connect();
      expect(await driver.runningConfig()).toMatch(/^hostname r1$/m);
      // Freeze the sshd processes serving this connection (the listener keeps accepting).
      const listener = Number(readFileSync(path.join(state.stateDir, 'nodes', 'r1', 'sshd.pid'), 'utf8').trim());
      const pids = children(listener);
      expect(pids.length).toBeGreaterThan(0);
      for (const p of pids) process.kill(p, 'SIGSTOP');
      stopped.push(...pids);
      const snap = await driver.snapshot();
      expect(snap.running).toMatch(/^hostname r1$/m);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries[0]).toMatchObject({ attempt: 1, tries: 3 });
      expect(retries[0].error).toMatch(/SSH connection lost|did not finish/);
    } finally {
      await driver.close();
    }
  }, 90_000);
});
