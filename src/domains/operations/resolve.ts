/** Resolves `operations:` into model.domains.operations (periods bounded to what a poller can keep). */
import type { FabricModel, Role } from '../../model/types.ts';
import type { DomainResolveContext } from '../types.ts';
import { durationMs } from '../slb/intent.ts';
import type { OperationsIntent } from './intent.ts';
import type { OperationsModel } from './model.ts';

const ROOT = 'operations';
const MIN_PERIOD_MS = 1000;
const MAX_PERIOD_MS = 3_600_000;

export function resolveOperations(ctx: DomainResolveContext, i: OperationsIntent, _model: FabricModel): OperationsModel {
  const period = (path: (string | number)[], s: string): number => {
    const ms = durationMs(s);
    if (ms < MIN_PERIOD_MS || ms > MAX_PERIOD_MS) ctx.error([ROOT, ...path], `a poll period is between 1s and 1h, got ${s}`);
    return ms;
  };
  const roles: Partial<Record<Role, number>> = {};
  for (const [role, s] of Object.entries(i.polling.roles) as [Role, string][]) roles[role] = period(['polling', 'roles', role], s);
  const minInterval = durationMs(i.recovery.min_interval);
  if (minInterval < 10_000) ctx.error([ROOT, 'recovery', 'min_interval'], `min_interval is at least 10s (a device re-applied in a loop is worse than drift), got ${i.recovery.min_interval}`);
  return {
    recovery: { drift: i.recovery.drift, forwarding: i.recovery.forwarding, maxPerHour: i.recovery.max_per_hour, maxResyncsPerHour: i.recovery.max_resyncs_per_hour, minIntervalMs: minInterval, source: ctx.at([ROOT, 'recovery']) },
    polling: { defaultMs: period(['polling', 'default'], i.polling.default), roles, source: ctx.at([ROOT, 'polling']) },
  };
}

export function operationsSummary(m: OperationsModel | undefined): string[] {
  if (!m) return [];
  const roles = Object.entries(m.polling.roles).map(([r, ms]) => `${r} ${ms / 1000}s`);
  return [`operations: drift ${m.recovery.drift}, forwarding ${m.recovery.forwarding} (at most ${m.recovery.maxPerHour}/h, a device every ${m.recovery.minIntervalMs / 1000}s), polling every ${m.polling.defaultMs / 1000}s${roles.length ? ` (${roles.join(', ')})` : ''}`];
}
