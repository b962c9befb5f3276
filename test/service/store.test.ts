/** The embedded SQLite store: migrations from scratch and from an older schema, queries, refusal of a newer schema. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/service/migrations.ts';
import { migrate, openSqliteStore } from '../../src/service/sqlite-store.ts';
import type { NewEvent } from '../../src/service/store.ts';

let dir: string | undefined;
const fresh = () => path.join((dir = mkdtempSync(path.join(tmpdir(), 'netloom-store-'))), 'netloom.db');
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const event = (over: Partial<NewEvent> = {}): NewEvent => ({ time: '2026-01-01T00:00:00.000Z', kind: 'bgp-session-down', severity: 'error', device: 'leaf1', check: 'live-bgp-sessions', subject: 'k1', message: 'session down', evidence: { session: 's1', n: 2 }, location: 'intent/fabric.yaml:3:5', ...over });

describe('sqlite store', () => {
  it('migrates a new database to the last schema version', () => {
    const s = openSqliteStore(fresh());
    expect(s.version).toBe(MIGRATIONS.length);
    s.close();
  });

  it('upgrades a database written by an older schema and keeps its rows', () => {
    const file = fresh();
    const old = new Database(file);
    migrate(old, MIGRATIONS.slice(0, 1));
    old.prepare("INSERT INTO events (time, kind, severity, subject, message, evidence) VALUES ('2025-12-31T00:00:00.000Z', 'probe-loss', 'error', 'p', 'old event', '{}')").run();
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    old.close();
    const s = openSqliteStore(file);
    expect(s.version).toBe(MIGRATIONS.length);
    expect(s.events().map((e) => e.message)).toEqual(['old event']);
    // The table the second migration adds works.
    s.putIncident({ id: 'inc-1', status: 'open', element: 'link:a:e1--b:e1', summary: 'x', severity: 'error', opened: '2026-01-01T00:00:00.000Z', findings: ['k1'], devices: ['a', 'b'] });
    expect(s.incidents({ status: 'open' }).map((i) => i.id)).toEqual(['inc-1']);
    s.close();
  });

  it('refuses a database of a newer netloom', () => {
    const file = fresh();
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openSqliteStore(file)).toThrow(`schema version ${MIGRATIONS.length + 1} is newer than this netloom knows (${MIGRATIONS.length})`);
  });

  it('stores events with their evidence and filters them', () => {
    const s = openSqliteStore(fresh());
    const a = s.addEvent(event());
    const b = s.addEvent(event({ kind: 'bgp-session-up', device: 'spine1', time: '2026-01-01T00:01:00.000Z' }));
    s.addEvent(event({ kind: 'probe-loss', device: undefined, location: undefined, time: '2026-01-01T00:02:00.000Z' }));
    expect(b.id).toBe(a.id + 1);
    expect(s.events()[0].kind).toBe('probe-loss');
    expect(s.events({ after: a.id }).map((e) => e.kind)).toEqual(['bgp-session-up', 'probe-loss']);
    expect(s.events({ device: 'spine1' }).map((e) => e.id)).toEqual([b.id]);
    expect(s.events({ kind: 'bgp-session-down' })[0]).toEqual({ ...event(), id: a.id });
    expect(s.events({ since: '2026-01-01T00:01:30.000Z' }).map((e) => e.kind)).toEqual(['probe-loss']);
    expect(s.events({ limit: 1 })).toHaveLength(1);
    s.close();
  });

  it('remembers which findings the last event of each subject left announced', () => {
    const s = openSqliteStore(fresh());
    const f = (message: string) => ({ check: 'live-bgp-sessions', severity: 'error' as const, message, evidence: { session: 's' }, elements: { links: ['a:e1--b:e1'] } });
    s.addEvent(event({ subject: 'a', finding: { value: f('a down'), present: true } }));
    s.addEvent(event({ subject: 'b', finding: { value: f('b down'), present: true } }));
    s.addEvent(event({ subject: 'a', kind: 'bgp-session-up', finding: { value: f('a down'), present: false } }));
    s.addEvent(event({ subject: 'b', kind: 'finding-changed', finding: { value: f('b down harder'), present: true } }));
    s.addEvent(event({ subject: 'inc-1', kind: 'incident-opened' }));
    expect([...s.announcedFindings()]).toEqual([['b', f('b down harder')]]);
    // The finding is the store's business: events read back do not carry it.
    expect(s.events().every((e) => !('finding' in e))).toBe(true);
    s.close();
  });

  it('updates an incident in place and keeps history, audit and snapshots', () => {
    const s = openSqliteStore(fresh());
    const i = { id: 'inc-2', status: 'open' as const, element: 'device:leaf2', summary: 'leaf2', severity: 'error' as const, opened: '2026-01-01T00:00:00.000Z', findings: ['a'], devices: ['leaf2'] };
    s.putIncident(i);
    s.putIncident({ ...i, status: 'resolved', resolved: '2026-01-01T00:05:00.000Z', findings: ['a', 'b'] });
    expect(s.incidents()).toEqual([{ ...i, status: 'resolved', resolved: '2026-01-01T00:05:00.000Z', findings: ['a', 'b'] }]);
    expect(s.incidents({ status: 'open' })).toEqual([]);
    expect(s.incidents({ device: 'leaf2' })).toHaveLength(1);
    s.addVerification({ time: 't1', ms: 12.5, failing: 3, checks: { 'live-bgp-sessions': 3 } });
    expect(s.verifications()).toEqual([{ time: 't1', ms: 12.5, failing: 3, checks: { 'live-bgp-sessions': 3 } }]);
    s.audit({ time: 't', actor: 'write token from 127.0.0.1', action: 'poll', target: 'lab x', outcome: 'ok' });
    expect(s.auditLog()).toEqual([{ time: 't', actor: 'write token from 127.0.0.1', action: 'poll', target: 'lab x', outcome: 'ok' }]);
    const id = s.addSnapshot('t', { devices: [{ device: 'leaf1' }] });
    expect(s.latestSnapshot()).toEqual({ id, time: 't', state: { devices: [{ device: 'leaf1' }] } });
    s.close();
  });
});
