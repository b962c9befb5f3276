/**
 * Rollouts a killed process left unfinished (the service's own drift re-apply or POST
 * /rollouts, or a `netloom apply`, killed with `kill -9` mid-rollout): at start, before the
 * first poll, the service finishes them as `netloom apply --recover` does (src/push/recover.ts:
 * every device the journal shows as committed gets its journalled snapshot back, device locks
 * released, `end: recovered` journalled), under the same apply lock. Before the first poll,
 * because a half-applied fabric would otherwise be judged, correlated and, with `drift:
 * reapply`, re-applied to the half it happened to be in. Each recovery is an event and an
 * audit entry; a rollout whose apply process still runs, or a lock held by a live apply, is
 * left alone and said so.
 * While the service runs, the same happens before each poll to a rollout of its target whose
 * apply process has died since (`orphanedRollouts`): a `netloom apply` killed beside a running
 * service is finished within one period, not at the service's next start.
 */
import { statSync } from 'node:fs';
import { withApplyLock } from '../push/apply-lock.ts';
import { readJournal, rolloutsRoot, unfinishedRollouts } from '../push/journal.ts';
import path from 'node:path';
import { lineReporter } from '../push/progress.ts';
import { alive, recoverRollout, type RecoverResult } from '../push/recover.ts';
import type { AuditEntry, NewEvent } from './store.ts';

export interface RolloutRecoveryHooks {
  emit(e: NewEvent): void;
  audit(e: AuditEntry): void;
  /** Progress lines (stderr of `netloom serve`). */
  report(line: string): void;
}

const AT_START = `netloom serve at start (pid ${process.pid})`;
const RUNNING = `netloom serve, running (pid ${process.pid})`;
/** A journal without its start entry this long after it was created was left by a dead process. */
const STARTLESS_MS = 60_000;

/**
 * Recovers every unfinished rollout of the state directory on the service's own target (a
 * journal's `origin`: `lab:NAME` or the inventory file's path); rollouts on other labs or
 * inventories are theirs to recover. What was done, per rollout.
 */
export async function recoverInterruptedRollouts(h: RolloutRecoveryHooks, origin: string, only?: string[]): Promise<RecoverResult[]> {
  const BY = only ? RUNNING : AT_START;
  // A journal without a start entry touched no device: closing it is safe whatever its target.
  const ids = only ?? unfinishedRollouts().filter((id) => {
    const o = rolloutOrigin(id);
    return o === undefined || o === origin;
  });
  if (!ids.length) return [];
  const now = () => new Date().toISOString();
  const out: RecoverResult[] = [];
  const done = await withApplyLock(
    `${BY}: recovering interrupted rollout(s) ${ids.join(', ')}`,
    async () => {
      for (const id of ids) {
        h.emit({ time: now(), kind: 'rollout-recovery-started', severity: 'warning', subject: id, message: `rollout ${id} was interrupted (no end in its journal): recovering it from the journal`, evidence: { rollout: id } });
        let r: RecoverResult;
        try {
          r = await recoverRollout(id, lineReporter(h.report), BY);
        } catch (e) {
          r = { id, results: [{ device: '-', transport: '-', action: 'failed', reason: `recovery failed: ${(e as Error).message}` }] };
        }
        out.push(r);
        record(h, r, BY);
      }
      return true;
    },
    (why) => {
      for (const id of ids) {
        h.audit({ time: now(), actor: BY, action: 'recover rollout', target: id, outcome: `skipped: ${why}` });
        h.emit({ time: now(), kind: 'rollout-recovery-skipped', severity: 'warning', subject: id, message: `rollout ${id} is unfinished but not recovered: ${why}; netloom apply --recover finishes it`, evidence: { rollout: id, reason: why } });
      }
    },
    h.report,
  );
  return done ? out : [];
}

/**
 * Unfinished rollouts of `origin` whose apply process is gone, while this service runs: never
 * its own (a POST /rollouts or a re-apply in progress has this pid), never one whose process
 * lives, and one without a start entry only once it is older than a starting apply could be.
 */
export function orphanedRollouts(origin: string, now = Date.now()): string[] {
  return unfinishedRollouts().filter((id) => {
    const file = path.join(rolloutsRoot(), id, 'journal.jsonl');
    const entries = readJournal(file);
    const start = entries.find((e) => e.t === 'start');
    if (!start || start.t !== 'start') return now - statSync(file).mtimeMs > STARTLESS_MS;
    if (start.target !== origin || start.pid === process.pid) return false;
    // A recovery that was itself killed is orphaned too; one still running is not.
    const rec = entries.filter((e) => e.t === 'recover-start').at(-1);
    if (rec && rec.t === 'recover-start' && rec.pid !== process.pid && alive(rec.pid)) return false;
    return !alive(start.pid);
  });
}

/** The hook the monitor runs before each poll: finishes orphaned rollouts of the target. */
export function recoverOrphansBeforePoll(h: RolloutRecoveryHooks, origin: string): () => Promise<void> {
  return async () => {
    const ids = orphanedRollouts(origin);
    if (ids.length) await recoverInterruptedRollouts(h, origin, ids);
  };
}

function record(h: RolloutRecoveryHooks, r: RecoverResult, BY: string): void {
  const time = new Date().toISOString();
  const results = r.results.map((x) => ({ device: x.device, action: x.action, reason: x.reason }));
  const outcome = r.skipped ?? (r.results.map((x) => `${x.device} ${x.action}`).join(', ') || 'no device touched');
  const failed = r.results.filter((x) => x.action === 'failed');
  const status = failed.length ? 'failed' : r.skipped ? 'skipped' : 'recovered';
  h.audit({ time, actor: BY, action: 'recover rollout', target: r.id, outcome: `${status}: ${outcome}` });
  h.report(`rollout ${r.id}: ${status === 'failed' ? 'recovery FAILED' : status}: ${outcome}`);
  const devices = r.results.filter((x) => x.action === 'rolled back').map((x) => x.device);
  if (r.skipped) h.emit({ time, kind: 'rollout-recovery-skipped', severity: 'warning', subject: r.id, message: `rollout ${r.id} not recovered: ${r.skipped}`, evidence: { rollout: r.id, reason: r.skipped } });
  else if (failed.length) h.emit({ time, kind: 'rollout-recovery-failed', severity: 'error', subject: r.id, device: failed[0].device, message: `rollout ${r.id}: recovery failed on ${failed.map((x) => x.device).join(', ')}; netloom apply --recover retries it`, evidence: { rollout: r.id, results } });
  else h.emit({ time, kind: 'rollout-recovered', severity: 'warning', subject: r.id, ...(devices[0] ? { device: devices[0] } : {}), message: `rollout ${r.id} recovered: ${devices.length ? `${devices.join(', ')} rolled back to the configuration before it` : 'it had not changed a device'}`, evidence: { rollout: r.id, rolledBack: devices, results } });
}

/** The target a rollout's journal says it ran on. */
function rolloutOrigin(id: string): string | undefined {
  const start = readJournal(path.join(rolloutsRoot(), id, 'journal.jsonl')).find((e) => e.t === 'start');
  return start && start.t === 'start' ? start.target : undefined;
}
