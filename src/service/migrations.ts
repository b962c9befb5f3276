/**
 * The embedded store's schema, one migration per entry, applied in order inside a transaction
 * each; SQLite's user_version counts the ones applied. Never edit a released entry: append.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,
     device TEXT, check_id TEXT, subject TEXT NOT NULL, message TEXT NOT NULL,
     evidence TEXT NOT NULL, location TEXT, incident TEXT);
   CREATE INDEX events_time ON events(time);
   CREATE INDEX events_device ON events(device);
   CREATE TABLE snapshots (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, state TEXT NOT NULL);
   CREATE TABLE verifications (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, ms REAL NOT NULL, failing INTEGER NOT NULL, checks TEXT NOT NULL);
   CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL);`,
  `CREATE TABLE incidents (
     id TEXT PRIMARY KEY, status TEXT NOT NULL, element TEXT NOT NULL, summary TEXT NOT NULL,
     severity TEXT NOT NULL, opened TEXT NOT NULL, resolved TEXT, findings TEXT NOT NULL,
     devices TEXT NOT NULL, acknowledged TEXT);
   CREATE INDEX incidents_status ON incidents(status);`,
  // The finding behind a finding event and whether it is announced present after it, so a
  // restarted service knows what it had announced (no repeated raise, incidents rebuilt).
  `ALTER TABLE events ADD COLUMN finding TEXT;
   ALTER TABLE events ADD COLUMN present INTEGER;
   CREATE INDEX events_subject ON events(subject);`,
  // Packet captures attached to an incident (JSON), written when the capture is analysed.
  `ALTER TABLE incidents ADD COLUMN captures TEXT;`,
];
