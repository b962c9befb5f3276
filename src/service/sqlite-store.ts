/** The embedded default store: one SQLite file (better-sqlite3) under the state directory. */
import Database from 'better-sqlite3';
import { EnvironmentError } from '../util/errors.ts';
import { MIGRATIONS } from './migrations.ts';
import type { Finding } from '../verify/findings.ts';
import type { AuditEntry, EventQuery, Incident, NewEvent, ServiceEvent, ServiceStore, VerificationRecord } from './store.ts';

type Row = Record<string, unknown>;

/** Opens (or creates) the database and brings its schema to the last migration. */
export function openSqliteStore(file: string, migrations: readonly string[] = MIGRATIONS): SqliteStore {
  const db = new Database(file);
  // WAL: readers (API) never wait for the poller's writes; a crash keeps committed events.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrate(db, migrations, file);
  return new SqliteStore(db);
}

export function migrate(db: Database.Database, migrations: readonly string[], file = 'database'): number {
  const at = db.pragma('user_version', { simple: true }) as number;
  if (at > migrations.length) throw new EnvironmentError(`${file}: schema version ${at} is newer than this netloom knows (${migrations.length}); use a newer netloom or another --state-dir`);
  for (let v = at; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return migrations.length;
}

const toEvent = (r: Row): ServiceEvent => ({
  id: r.id as number,
  time: r.time as string,
  kind: r.kind as string,
  severity: r.severity as ServiceEvent['severity'],
  ...(r.device ? { device: r.device as string } : {}),
  ...(r.check_id ? { check: r.check_id as string } : {}),
  subject: r.subject as string,
  message: r.message as string,
  evidence: JSON.parse(r.evidence as string) as Record<string, unknown>,
  ...(r.location ? { location: r.location as string } : {}),
  ...(r.incident ? { incident: r.incident as string } : {}),
});

const toIncident = (r: Row): Incident => ({
  id: r.id as string,
  status: r.status as Incident['status'],
  element: r.element as string,
  summary: r.summary as string,
  severity: r.severity as Incident['severity'],
  opened: r.opened as string,
  ...(r.resolved ? { resolved: r.resolved as string } : {}),
  findings: JSON.parse(r.findings as string) as string[],
  devices: JSON.parse(r.devices as string) as string[],
  ...(r.acknowledged ? { acknowledged: r.acknowledged as string } : {}),
  ...(r.captures ? { captures: JSON.parse(r.captures as string) as Incident['captures'] } : {}),
});

export class SqliteStore implements ServiceStore {
  private readonly db: Database.Database;
  private readonly insertEvent: Database.Statement;
  private readonly upsertIncident: Database.Statement;
  constructor(db: Database.Database) {
    this.db = db;
    this.insertEvent = db.prepare('INSERT INTO events (time, kind, severity, device, check_id, subject, message, evidence, location, incident, finding, present) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.upsertIncident = db.prepare(`INSERT INTO incidents (id, status, element, summary, severity, opened, resolved, findings, devices, acknowledged, captures) VALUES (@id, @status, @element, @summary, @severity, @opened, @resolved, @findings, @devices, @acknowledged, @captures)
      ON CONFLICT(id) DO UPDATE SET status = excluded.status, summary = excluded.summary, severity = excluded.severity, resolved = excluded.resolved, findings = excluded.findings, devices = excluded.devices, acknowledged = excluded.acknowledged, captures = excluded.captures`);
  }

  get version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  addEvent(e: NewEvent): ServiceEvent {
    const { finding, ...event } = e;
    const r = this.insertEvent.run(e.time, e.kind, e.severity, e.device ?? null, e.check ?? null, e.subject, e.message, JSON.stringify(e.evidence), e.location ?? null, e.incident ?? null, finding ? JSON.stringify(finding.value) : null, finding ? (finding.present ? 1 : 0) : null);
    return { id: Number(r.lastInsertRowid), ...event };
  }

  announcedFindings(): Map<string, Finding> {
    const rows = this.db.prepare('SELECT e.subject, e.finding FROM events e JOIN (SELECT subject, MAX(id) AS id FROM events WHERE finding IS NOT NULL GROUP BY subject) last ON e.id = last.id WHERE e.present = 1').all() as Row[];
    return new Map(rows.map((r) => [r.subject as string, JSON.parse(r.finding as string) as Finding]));
  }

  events(q: EventQuery = {}): ServiceEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.after !== undefined) where.push('id > ?'), args.push(q.after);
    if (q.since) where.push('time >= ?'), args.push(q.since);
    if (q.kind) where.push('kind = ?'), args.push(q.kind);
    if (q.device) where.push('device = ?'), args.push(q.device);
    // Newest first when paging back through history; oldest first when resuming a stream.
    const order = q.after !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 1000) as Row[]).map(toEvent);
  }

  putIncident(i: Incident): void {
    this.upsertIncident.run({ ...i, resolved: i.resolved ?? null, acknowledged: i.acknowledged ?? null, findings: JSON.stringify(i.findings), devices: JSON.stringify(i.devices), captures: i.captures ? JSON.stringify(i.captures) : null });
  }

  incidents(q: { status?: Incident['status']; device?: string } = {}): Incident[] {
    const rows = (q.status ? this.db.prepare('SELECT * FROM incidents WHERE status = ? ORDER BY opened DESC').all(q.status) : this.db.prepare('SELECT * FROM incidents ORDER BY opened DESC').all()) as Row[];
    const list = rows.map(toIncident);
    return q.device ? list.filter((i) => i.devices.includes(q.device!)) : list;
  }

  incident(id: string): Incident | undefined {
    const r = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
    return r && toIncident(r);
  }

  addVerification(r: VerificationRecord): void {
    this.db.prepare('INSERT INTO verifications (time, ms, failing, checks) VALUES (?, ?, ?, ?)').run(r.time, r.ms, r.failing, JSON.stringify(r.checks));
  }

  verifications(limit = 100): VerificationRecord[] {
    return (this.db.prepare('SELECT * FROM verifications ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map((r) => ({ time: r.time as string, ms: r.ms as number, failing: r.failing as number, checks: JSON.parse(r.checks as string) as Record<string, number> }));
  }

  addSnapshot(time: string, state: unknown): number {
    return Number(this.db.prepare('INSERT INTO snapshots (time, state) VALUES (?, ?)').run(time, JSON.stringify(state)).lastInsertRowid);
  }

  latestSnapshot(): { id: number; time: string; state: unknown } | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots ORDER BY id DESC LIMIT 1').get() as Row | undefined;
    return r && { id: r.id as number, time: r.time as string, state: JSON.parse(r.state as string) };
  }

  audit(e: AuditEntry): void {
    this.db.prepare('INSERT INTO audit (time, actor, action, target, outcome) VALUES (?, ?, ?, ?, ?)').run(e.time, e.actor, e.action, e.target, e.outcome);
  }

  auditLog(limit = 100): AuditEntry[] {
    return this.db.prepare('SELECT time, actor, action, target, outcome FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditEntry[];
  }

  close(): void {
    this.db.close();
  }
}
