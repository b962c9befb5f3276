/**
 * A device session that stops answering must not hold a rollout hostage: a step that fails
 * because the session timed out or went away is abandoned, and retried on a fresh session
 * after a bounded, growing pause. Only those failures are retried; an answer the device gave
 * (an rpc-error, a failed command, a refused key) is final.
 */
import { DeviceError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  tries: number;
  /** Pause before the second attempt; doubled for each further one, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 3, baseDelayMs: 250, maxDelayMs: 2000 };

/** One abandoned attempt, as the journal records it. */
export interface RetryEvent {
  step: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  tries: number;
  error: string;
  delayMs: number;
}

export type RetryListener = (e: RetryEvent) => void;

/** The session is the problem (no answer in time, connection gone), not the device's answer. */
export function isSessionFailure(e: unknown): boolean {
  return e instanceof DeviceError && (e.kind === 'timeout' || e.kind === 'unreachable');
}

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `attempt` until it succeeds, fails for a reason other than the session, or the policy's
 * tries are used up. Before each retry, `fresh` drops the old session and opens a new one
 * (its own session failures count as a failed attempt).
 */
export async function withSessionRetry<T>(
  step: string,
  policy: RetryPolicy,
  hooks: { fresh: () => Promise<void>; onRetry?: RetryListener; wrap: (e: unknown) => unknown },
  attempt: () => Promise<T>,
): Promise<T> {
  let needFresh = false;
  for (let n = 1; ; n++) {
    try {
      if (needFresh) await hooks.fresh();
      return await attempt();
    } catch (raw) {
      const e = hooks.wrap(raw);
      if (!isSessionFailure(e) || n >= policy.tries) throw e;
      const delayMs = retryDelay(policy, n);
      hooks.onRetry?.({ step, attempt: n, tries: policy.tries, error: (e as Error).message, delayMs });
      needFresh = true;
      await sleep(delayMs);
    }
  }
}
