/**
 * The policy `netloom serve` runs with: the intent's `operations:` section (versioned and
 * planned with the fabric) under the command line. Each key the command line gives wins over
 * the intent's, key by key, so an operator can hold recovery back (`--drift off`) during
 * maintenance without editing the intent; a key neither gives has the built-in default
 * (drift off). Every value says where it came from, for the audit log and GET /status.
 */
import type { OperationsModel } from '../domains/operations/model.ts';
import type { DriftAction, ForwardingAction } from '../domains/operations/intent.ts';
import type { FabricModel, Role } from '../model/types.ts';
import { formatLocation } from '../util/errors.ts';

export interface RecoveryPolicy {
  drift: DriftAction;
  /** What to do about a leaf whose kernel forwarding state diverges from the model. */
  forwarding: ForwardingAction;
  /** Least time between two re-applies of one device. */
  minIntervalMs: number;
  /** Re-applies in any rolling hour, across the fabric. */
  maxPerHour: number;
  /** Forwarding resyncs in any rolling hour, across the fabric (intent only). */
  maxResyncsPerHour: number;
  /** Where each key came from: "intent fabric.yaml:40:5", "--drift", "default". */
  source: Record<'drift' | 'forwarding' | 'minIntervalMs' | 'maxPerHour' | 'maxResyncsPerHour', string>;
}

export interface PollingPolicy {
  defaultMs: number;
  /** Poll period per device role; a role absent here polls every defaultMs. */
  roles: Partial<Record<Role, number>>;
  source: string;
}

export interface ServicePolicy {
  recovery: RecoveryPolicy;
  polling: PollingPolicy;
}

export const DEFAULT_RECOVERY: RecoveryPolicy = { drift: 'off', forwarding: 'off', minIntervalMs: 10 * 60_000, maxPerHour: 6, maxResyncsPerHour: 30, source: { drift: 'default', forwarding: 'default', minIntervalMs: 'default', maxPerHour: 'default', maxResyncsPerHour: 'default' } };
export const DEFAULT_POLLING: PollingPolicy = { defaultMs: 10_000, roles: {}, source: 'default' };

/** What the command line gave (undefined: not given). */
export interface PolicyOverrides {
  drift?: DriftAction;
  forwarding?: ForwardingAction;
  minIntervalMs?: number;
  maxPerHour?: number;
  periodMs?: number;
  roles?: Partial<Record<Role, number>>;
}

export function servicePolicy(model: FabricModel, cli: PolicyOverrides = {}): ServicePolicy {
  const ops = model.domains.operations as OperationsModel | undefined;
  const fromIntent = (loc: OperationsModel['recovery']['source']) => `intent ${formatLocation(loc)}`;
  const pick = <T>(flag: string, given: T | undefined, intent: T | undefined, dflt: T, where?: string): [T, string] =>
    given !== undefined ? [given, flag] : intent !== undefined ? [intent, where!] : [dflt, 'default'];
  const rWhere = ops ? fromIntent(ops.recovery.source) : undefined;
  const [drift, sDrift] = pick('--drift', cli.drift, ops?.recovery.drift, DEFAULT_RECOVERY.drift, rWhere);
  const [forwarding, sForwarding] = pick('--forwarding', cli.forwarding, ops?.recovery.forwarding, DEFAULT_RECOVERY.forwarding, rWhere);
  const [minIntervalMs, sInterval] = pick('--recovery-interval', cli.minIntervalMs, ops?.recovery.minIntervalMs, DEFAULT_RECOVERY.minIntervalMs, rWhere);
  const [maxPerHour, sMax] = pick('--max-recoveries-per-hour', cli.maxPerHour, ops?.recovery.maxPerHour, DEFAULT_RECOVERY.maxPerHour, rWhere);
  const [maxResyncsPerHour, sResyncs] = pick('-', undefined, ops?.recovery.maxResyncsPerHour, DEFAULT_RECOVERY.maxResyncsPerHour, rWhere);
  const [defaultMs] = pick('--period', cli.periodMs, ops?.polling.defaultMs, DEFAULT_POLLING.defaultMs);
  const roles = { ...(ops?.polling.roles ?? {}), ...(cli.roles ?? {}) };
  const given = [cli.periodMs !== undefined && '--period', cli.roles && Object.keys(cli.roles).length && '--poll'].filter(Boolean);
  const pSource = [ops ? fromIntent(ops.polling.source) : '', given.length ? `overridden by ${given.join(', ')}` : ''].filter(Boolean).join(', ') || 'default';
  return {
    recovery: { drift, forwarding, minIntervalMs, maxPerHour, maxResyncsPerHour, source: { drift: sDrift, forwarding: sForwarding, minIntervalMs: sInterval, maxPerHour: sMax, maxResyncsPerHour: sResyncs } },
    polling: { defaultMs, roles, source: pSource },
  };
}

/** The shortest period any device polls at: the poller's tick. */
export function tickMs(p: PollingPolicy, model: FabricModel): number {
  return Math.min(...model.devices.map((d) => periodOf(p, d.role)), p.defaultMs);
}

export const periodOf = (p: PollingPolicy, role: Role): number => p.roles[role] ?? p.defaultMs;

export function describeRecovery(r: RecoveryPolicy): string {
  const forwarding = `forwarding: ${r.forwarding} (${r.source.forwarding})`;
  if (r.drift === 'off' && r.forwarding === 'off') return `drift: off (${r.source.drift}), ${forwarding}`;
  return `drift: ${r.drift} (${r.source.drift}), ${forwarding}, at most ${r.maxPerHour} re-applies an hour (${r.source.maxPerHour}) and ${r.maxResyncsPerHour} resyncs an hour (${r.source.maxResyncsPerHour}), a device at most every ${r.minIntervalMs / 1000} s (${r.source.minIntervalMs})`;
}

/** Whether the policy acts on anything (a Recovery runs). */
export const recoveryActive = (r: RecoveryPolicy): boolean => r.drift !== 'off' || r.forwarding !== 'off';

export function describePolling(p: PollingPolicy): string {
  const roles = Object.entries(p.roles).map(([r, ms]) => `${r} ${ms / 1000} s`);
  return `polling every ${p.defaultMs / 1000} s${roles.length ? ` (${roles.join(', ')})` : ''} (${p.source})`;
}
