/**
 * The service's recovery of interrupted rollouts at start, on journals without devices behind
 * them (the lab proof, kill -9 mid POST /rollouts, is test/api/serve-quiet-recover-lab.test.ts):
 * a rollout killed before it touched a device is closed as recovered; one whose apply process
 * still runs is left alone; while a live apply holds the lock nothing is recovered; every
 * outcome is an event and an audit entry.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireApplyLock } from '../../src/push/apply-lock.ts';
import { readJournal, unfinishedRollouts } from '../../src/push/journal.ts';
import { recoverInterruptedRollouts } from '../../src/service/rollout-recovery.ts';
import type { AuditEntry, NewEvent } from '../../src/service/store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-rollout-recovery-'));
const prev = process.env.NETLOOM_STATE_DIR;
afterAll(() => {
  if (prev === undefined) delete process.env.NETLOOM_STATE_DIR;
  else process.env.NETLOOM_STATE_DIR = prev;
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function journal(entries: Record<string, unknown>[]): { id: string; file: string } {
  const id = `20261204T0100${String(n++).padStart(2, '0')}Z-abcdef`;
  const d = path.join(process.env.NETLOOM_STATE_DIR!, 'rollouts', id);
  mkdirSync(d, { recursive: true });
  const file = path.join(d, 'journal.jsonl');
  writeFileSync(file, entries.map((e) => JSON.stringify({ ...e, at: '2026-12-04T01:00:00.000Z' })).join('\n') + '\n');
  return { id, file };
}

function hooks() {
  const events: NewEvent[] = [];
  const audit: AuditEntry[] = [];
  const lines: string[] = [];
  return { events, audit, lines, h: { emit: (e: NewEvent) => void events.push(e), audit: (e: AuditEntry) => void audit.push(e), report: (l: string) => void lines.push(l) } };
}

describe('recovery of interrupted rollouts at start', () => {
  beforeEach(() => {
    process.env.NETLOOM_STATE_DIR = mkdtempSync(path.join(dir, 'state-'));
  });

  it('nothing unfinished: nothing done, no event', async () => {
    journal([{ t: 'start', id: 'x', fabric: 'dc1', intentDir: '.', target: 'lab:x', devices: [], confirmTimeoutS: 60, pid: 1 }, { t: 'end', status: 'ok' }]);
    const k = hooks();
    expect(await recoverInterruptedRollouts(k.h, 'lab:x')).toEqual([]);
    expect(k.events).toEqual([]);
  });

  it('killed before its start entry: closed as recovered, no device touched, evented and audited', async () => {
    const { id, file } = journal([]);
    const k = hooks();
    const r = await recoverInterruptedRollouts(k.h, 'lab:x');
    expect(r).toEqual([{ id, results: [] }]);
    expect(readJournal(file).map((e) => e.t)).toEqual(['recover-start', 'end']);
    expect(readJournal(file)[0]).toMatchObject({ by: `netloom serve at start (pid ${process.pid})`, pid: process.pid });
    expect(unfinishedRollouts()).toEqual([]);
    expect(k.events.map((e) => [e.kind, e.subject])).toEqual([['rollout-recovery-started', id], ['rollout-recovered', id]]);
    expect(k.events[1].message).toBe(`rollout ${id} recovered: it had not changed a device`);
    expect(k.audit).toEqual([expect.objectContaining({ action: 'recover rollout', target: id, outcome: 'recovered: no device touched' })]);
  });

  it('a rollout on another target (another lab, an inventory) is not the service\'s to recover', async () => {
    const { id, file } = journal([{ t: 'start', id: 'x', fabric: 'dc1', intentDir: '.', target: 'lab:other', devices: ['leaf1'], confirmTimeoutS: 60, pid: 999_999_999 }]);
    const k = hooks();
    expect(await recoverInterruptedRollouts(k.h, 'lab:x')).toEqual([]);
    expect(k.events).toEqual([]);
    expect(readJournal(file).map((e) => e.t)).toEqual(['start']);
    expect(unfinishedRollouts()).toEqual([id]);
  });

  it('its apply process still runs: left alone, said so', async () => {
    const child = spawn('sleep', ['30']);
    try {
      const { id, file } = journal([{ t: 'start', id: 'x', fabric: 'dc1', intentDir: '.', target: 'lab:x', devices: ['leaf1'], confirmTimeoutS: 60, pid: child.pid }]);
      const k = hooks();
      const [r] = await recoverInterruptedRollouts(k.h, 'lab:x');
      expect(r.skipped).toBe(`its apply process (pid ${child.pid}) is still running`);
      expect(readJournal(file).map((e) => e.t)).toEqual(['start']);
      expect(k.events.map((e) => e.kind)).toEqual(['rollout-recovery-started', 'rollout-recovery-skipped']);
      expect(k.audit[0].outcome).toBe(`skipped: its apply process (pid ${child.pid}) is still running`);
      expect(unfinishedRollouts()).toEqual([id]);
    } finally {
      child.kill();
    }
  });

  it('a live apply holds the lock: nothing recovered, a skipped event naming the holder', async () => {
    const { id, file } = journal([]);
    const release = acquireApplyLock('netloom apply (held by the test)', () => undefined);
    try {
      // The lock's holder is this very process: alive, so never taken over.
      const k = hooks();
      expect(await recoverInterruptedRollouts(k.h, 'lab:x')).toEqual([]);
      expect(k.events.map((e) => [e.kind, e.subject])).toEqual([['rollout-recovery-skipped', id]]);
      expect(k.events[0].message).toMatch(/another apply is running: .*netloom apply \(held by the test\); netloom apply --recover finishes it$/);
      expect(k.audit[0].outcome).toMatch(/^skipped: another apply is running/);
      expect(readJournal(file)).toEqual([]);
    } finally {
      release();
    }
  });
});
