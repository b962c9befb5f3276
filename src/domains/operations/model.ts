/** model.domains.operations: the service's policy for this fabric, durations in milliseconds. */
import type { Role } from '../../model/types.ts';
import type { SourceLocation } from '../../util/errors.ts';
import type { DriftAction, ForwardingAction } from './intent.ts';

export interface OperationsModel {
  recovery: { drift: DriftAction; forwarding: ForwardingAction; maxPerHour: number; maxResyncsPerHour: number; minIntervalMs: number; source: SourceLocation };
  polling: { defaultMs: number; roles: Partial<Record<Role, number>>; source: SourceLocation };
}
