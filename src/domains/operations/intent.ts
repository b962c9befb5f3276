/**
 * The `operations:` intent section (zod): how `netloom serve` runs this fabric, versioned and
 * planned with the intent. `recovery` is the policy for configuration drift (off by default:
 * the service only reports), `polling` the poll period per device role. The command line of
 * `netloom serve` overrides each key it is given (README "The service").
 */
import { z } from 'zod';
import { roleNames } from '../fabric/roles.ts';
import { duration } from '../slb/intent.ts';

export const DRIFT_ACTIONS = ['off', 'alert', 'reapply'] as const;
export type DriftAction = (typeof DRIFT_ACTIONS)[number];
export const FORWARDING_ACTIONS = ['off', 'resync'] as const;
export type ForwardingAction = (typeof FORWARDING_ACTIONS)[number];

export const operationsIntent = z.strictObject({
  recovery: z
    .strictObject({
      drift: z.enum(DRIFT_ACTIONS).default('off').describe('off: drift is not looked for; alert: a config-drift event with the diff; reapply: the intended configuration re-applied through the rollout engine (post-checks, rollback)'),
      forwarding: z
        .enum(FORWARDING_ACTIONS)
        .default('off')
        .describe("off: a leaf's kernel forwarding state diverging from the model is reported only; resync: the leaf's EVPN VRF routes are re-announced to zebra (no configuration change), the state read again, and entries still missing that zebra holds as the model does written back as zebra writes them"),
      max_per_hour: z.number().int('a whole number').min(1, 'at least 1').max(60, 'at most 60').default(6).describe('re-applies in any hour, across the fabric; past it a recovery-skipped event'),
      max_resyncs_per_hour: z.number().int('a whole number').min(1, 'at least 1').max(600, 'at most 600').default(30).describe('forwarding resyncs in any hour, across the fabric (they change no configuration); past it a recovery-skipped event'),
      min_interval: duration.default('10m').describe('least time between two re-applies of one device'),
    })
    .default({ drift: 'off', forwarding: 'off', max_per_hour: 6, max_resyncs_per_hour: 30, min_interval: '10m' }),
  polling: z
    .strictObject({
      default: duration.default('10s').describe('poll period of a device whose role has none below'),
      roles: z.partialRecord(z.enum(roleNames), duration).default({}).describe('poll period per device role, e.g. {spine: 30s, leaf: 5s}'),
    })
    .default({ default: '10s', roles: {} }),
});

export type OperationsIntent = z.output<typeof operationsIntent>;
