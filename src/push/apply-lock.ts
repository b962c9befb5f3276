/**
 * One apply at a time per state directory (`$NETLOOM_STATE_DIR/apply.lock`), above the
 * per-device locks the drivers take: two rollouts of overlapping inventories would otherwise
 * lock half the devices each and both abort. The lock file says who holds it (pid, host, user,
 * command, since) and is created complete or not at all: written to a private file first, then
 * hard-linked to its name (link fails when the name exists, atomically). A lock whose holder
 * process is gone on this host is taken over, with a note; one held from another host is never
 * second-guessed.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CheckFailed } from '../util/errors.ts';
import { stateDir } from './journal.ts';

export interface LockHolder {
  pid: number;
  host: string;
  user: string;
  command: string;
  since: string;
}

export const applyLockFile = (): string => path.join(stateDir(), 'apply.lock');

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string') return { user: '?', command: '?', ...h } as LockHolder;
  } catch {
    // unreadable or torn: handled as an unknown holder
  }
  return undefined;
}

/** The process exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const describeHolder = (h: LockHolder): string => `pid ${h.pid} on ${h.host}, user ${h.user}, since ${h.since}: ${h.command}`;

const sameHolder = (a: LockHolder | undefined, b: LockHolder) => !!a && a.pid === b.pid && a.host === b.host && a.since === b.since;

/**
 * Takes the apply lock for `command` or throws CheckFailed naming its holder. Returns the
 * release (also run when the process exits); `note` hears of a stale lock taken over.
 */
export function acquireApplyLock(command: string, note: (line: string) => void): () => void {
  const file = applyLockFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const me: LockHolder = { pid: process.pid, host: hostname(), user: userInfo().username, command, since: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(me) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readHolder(file);
      if (!holder) throw new CheckFailed(`another apply holds the lock ${file} (its holder cannot be read; remove the file if no apply runs)`);
      if (holder.host !== me.host || alive(holder.pid) || attempt > 2) throw new CheckFailed(`another apply is running: the lock ${file} is held by ${describeHolder(holder)}`);
      // Moved aside before it is removed: had another process taken it over meanwhile, its
      // fresh lock is put back instead of deleted.
      const aside = `${file}.stale.${process.pid}`;
      renameSync(file, aside);
      if (sameHolder(readHolder(aside), holder)) {
        unlinkSync(aside);
        note(`note: took over the apply lock of ${describeHolder(holder)} (that process is gone)`);
      } else {
        try {
          linkSync(aside, file);
        } catch {
          // someone else holds it now; the next attempt names them
        }
        unlinkSync(aside);
      }
    }
  } finally {
    unlinkSync(tmp);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (sameHolder(readHolder(file), me)) unlinkSync(file);
  };
  process.on('exit', release);
  return release;
}

/**
 * Runs `fn` holding the apply lock (the service's re-applies and the CLI's applies serialized
 * by the same file); when another apply holds it, `held` gets the reason and `fn` does not run.
 */
export async function withApplyLock<T>(command: string, fn: () => Promise<T>, held: (why: string) => void, note: (line: string) => void = () => undefined): Promise<T | undefined> {
  let release: () => void;
  try {
    release = acquireApplyLock(command, note);
  } catch (e) {
    if (e instanceof CheckFailed) {
      held(e.message);
      return undefined;
    }
    throw e;
  }
  try {
    return await fn();
  } finally {
    release();
  }
}
