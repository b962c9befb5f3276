/**
 * The rollout journal: one JSON object per line in `$NETLOOM_STATE_DIR/rollouts/<id>/journal.jsonl`,
 * each append fsync'ed before the step it announces is taken, so after a crash the journal
 * says which devices may have been changed and holds their snapshots (the rollback material).
 * Other files of a rollout (the inventory it used) are written atomically (tmp + fsync + rename).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EnvironmentError } from '../util/errors.ts';

/** netloom's state on this host: rollout journals, the apply lock. */
export function stateDir(): string {
  return process.env.NETLOOM_STATE_DIR ?? '/var/lib/netloom';
}

export function rolloutsRoot(): string {
  return path.join(stateDir(), 'rollouts');
}

export type JournalEntry =
  | { t: 'start'; id: string; fabric: string; intentDir: string; target: string; devices: string[]; confirmTimeoutS: number; pid: number }
  | { t: 'snapshot'; device: string; transport: string; snapshot: Record<string, unknown> }
  | { t: 'plan'; device: string; changed: boolean; summary: string }
  | { t: 'wave'; wave: number; devices: string[] }
  | { t: 'commit-start'; device: string; wave: number }
  | { t: 'committed'; device: string; wave: number }
  | { t: 'postcheck'; device: string; ok: boolean; problems: string[] }
  | { t: 'wave-check'; wave: number; ok: boolean; problems: string[] }
  | { t: 'confirmed'; device: string }
  | { t: 'rollback-start'; device: string }
  | { t: 'rolled-back'; device: string }
  | { t: 'rollback-failed'; device: string; error: string }
  | { t: 'device-failed'; device: string; kind: string; error: string }
  /** A step abandoned on a session that stopped answering, retried on a fresh one after delayMs. */
  | { t: 'retry'; device: string; step: string; attempt: number; tries: number; error: string; delayMs: number }
  /** Recovery of a rollout whose process died (`apply --recover`, `netloom serve` at start): who took it over. */
  | { t: 'recover-start'; by: string; pid: number }
  | { t: 'end'; status: 'ok' | 'rolled-back' | 'failed' | 'nothing-to-do' | 'recovered' };

export type Stamped = JournalEntry & { at: string };

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function atomicWrite(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export class Journal {
  private fd: number;
  readonly file: string;

  private constructor(
    readonly id: string,
    readonly dir: string,
  ) {
    this.file = path.join(dir, 'journal.jsonl');
    const isNew = !existsSync(this.file);
    this.fd = openSync(this.file, 'a', 0o600);
    if (isNew) fsyncDir(dir);
  }

  static create(): Journal {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const id = `${stamp}-${randomBytes(3).toString('hex')}`;
    const dir = path.join(rolloutsRoot(), id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fsyncDir(path.dirname(dir));
    return new Journal(id, dir);
  }

  static open(id: string): Journal {
    const dir = path.join(rolloutsRoot(), id);
    if (!existsSync(path.join(dir, 'journal.jsonl'))) throw new EnvironmentError(`no rollout journal ${dir}/journal.jsonl`);
    return new Journal(id, dir);
  }

  append(e: JournalEntry): void {
    writeSync(this.fd, JSON.stringify({ ...e, at: new Date().toISOString() }) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
  }
}

/** Entries of a journal; a torn last line (crash mid-write) is ignored. */
export function readJournal(file: string): Stamped[] {
  const out: Stamped[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Stamped);
    } catch {
      break;
    }
  }
  return out;
}

/** Rollouts whose journal has no `end` entry, or a device whose rollback failed, oldest first. */
export function unfinishedRollouts(): string[] {
  const root = rolloutsRoot();
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .filter((id) => {
      const f = path.join(root, id, 'journal.jsonl');
      if (!existsSync(f)) return false;
      const entries = readJournal(f);
      const last = new Map<string, string>();
      for (const e of entries) if (e.t === 'commit-start' || e.t === 'rolled-back' || e.t === 'rollback-failed') last.set(e.device, e.t);
      const recovered = entries.some((e) => e.t === 'end' && e.status === 'recovered');
      return !entries.some((e) => e.t === 'end') || (!recovered && [...last.values()].includes('rollback-failed'));
    });
}
