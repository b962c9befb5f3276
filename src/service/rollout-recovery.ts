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
 */
import { withApplyLock } from '../push/apply-lock.ts';
import { readJournal, rolloutsRoot, unfinishedRollouts } from '../push/journal.ts';
import path from 'node:path';
import { lineReporter } from '../push/progress.ts';
import { recoverRollout, type RecoverResult } from '../push/recover.ts';
import type { AuditEntry, NewEvent } from './store.ts';

export interface RolloutRecoveryHooks {
  emit(e: NewEvent): void;
  audit(e: AuditEntry): void;
  /** Progress lines (stderr of `netloom serve`). */
  report(line: string): void;
}

const BY = `netloom serve at start (pid ${process.pid})`;

/**
 * Recovers every unfinished rollout of the state directory on the service's own target (a
 * journal's `origin`: `lab:NAME` or the inventory file's path); rollouts on other labs or
 * inventories are theirs to recover. What was done, per rollout.
 */
export async function recoverInterruptedRollouts(h: RolloutRecoveryHooks, origin: string): Promise<RecoverResult[]> {
  // A journal without a start entry touched no device: closing it is safe whatever its target.
  const ids = unfinishedRollouts().filter((id) => {
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
        record(h, r);
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

function record(h: RolloutRecoveryHooks, r: RecoverResult): void {
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
