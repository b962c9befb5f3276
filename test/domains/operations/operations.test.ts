/**
 * The `operations:` intent section: the service's recovery policy and poll periods, resolved
 * into model.domains.operations with its intent lines; bad values at their file:line:col; the
 * command line over the intent, key by key (src/service/policy.ts).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OperationsModel } from '../../../src/domains/operations/model.ts';
import { loadModelSync } from '../../../src/model/index.ts';
import { describeRecovery, periodOf, servicePolicy, tickMs } from '../../../src/service/policy.ts';
import { IntentError } from '../../../src/util/errors.ts';
import { repoRoot } from '../../support/intent-copy.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dc1(operations?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-operations-'));
  dirs.push(dir);
  cpSync(path.join(repoRoot, 'intents/dc1'), dir, { recursive: true });
  if (operations !== undefined) writeFileSync(path.join(dir, 'operations.yaml'), operations);
  return dir;
}

function errors(dir: string): string[] {
  try {
    loadModelSync(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(IntentError);
    return (e as IntentError).diagnostics.map((d) => `${path.basename(d.loc.file)}:${d.loc.line}:${d.loc.col}: ${d.message}`);
  }
  throw new Error('the intent loaded');
}

const POLICY = `operations:
  recovery:
    drift: reapply
    max_per_hour: 4
    min_interval: 2m
  polling:
    default: 10s
    roles:
      spine: 30s
      leaf: 5s
`;

describe('operations: intent section', () => {
  it('resolves into model.domains.operations with its intent lines', () => {
    const m = loadModelSync(dc1(POLICY)).domains.operations as OperationsModel;
    expect(m.recovery).toMatchObject({ drift: 'reapply', maxPerHour: 4, minIntervalMs: 120_000 });
    expect(`${path.basename(m.recovery.source.file)}:${m.recovery.source.line}`).toBe('operations.yaml:3');
    expect(m.polling).toMatchObject({ defaultMs: 10_000, roles: { spine: 30_000, leaf: 5_000 } });
  });

  it('is absent from an intent without it, and the service then runs with drift off and 10 s', () => {
    const model = loadModelSync(dc1());
    expect(model.domains.operations).toBeUndefined();
    const p = servicePolicy(model);
    expect(p.recovery).toMatchObject({ drift: 'off', maxPerHour: 6, minIntervalMs: 600_000, source: { drift: 'default' } });
    expect(p.polling).toMatchObject({ defaultMs: 10_000, roles: {}, source: 'default' });
    expect(describeRecovery(p.recovery)).toBe('drift: off (default), forwarding: off (default)');
  });

  it('reports bad values at their line and column', () => {
    const dir = dc1(`operations:
  recovery:
    drift: fix
    max_per_hour: 0
    min_interval: 5s
  polling:
    roles:
      leef: 5s
      spine: 2h
`);
    expect(errors(dir)).toEqual([
      "operations.yaml:3:12: operations.recovery.drift: expected one of off, alert, reapply, got 'fix'",
      'operations.yaml:4:19: operations.recovery.max_per_hour: at least 1',
      "operations.yaml:8:7: operations.polling.roles.leef: unknown key 'leef'",
    ]);
    expect(errors(dc1('operations:\n  recovery:\n    min_interval: 5s\n  polling:\n    roles:\n      spine: 2h\n'))).toEqual([
      'operations.yaml:3:19: min_interval is at least 10s (a device re-applied in a loop is worse than drift), got 5s',
      'operations.yaml:6:14: a poll period is between 1s and 1h, got 2h',
    ]);
  });

  it('the command line wins over the intent key by key, and says so', () => {
    const model = loadModelSync(dc1(POLICY));
    const fromIntent = servicePolicy(model);
    expect(fromIntent.recovery.source.drift).toMatch(/^intent .*operations\.yaml:3:\d+$/);
    expect(tickMs(fromIntent.polling, model)).toBe(5_000);
    expect(periodOf(fromIntent.polling, 'spine')).toBe(30_000);
    const held = servicePolicy(model, { drift: 'off', roles: { spine: 60_000 } });
    expect(held.recovery).toMatchObject({ drift: 'off', maxPerHour: 4, minIntervalMs: 120_000, source: { drift: '--drift' } });
    expect(held.recovery.source.maxPerHour).toMatch(/^intent /);
    expect(held.polling.roles).toEqual({ spine: 60_000, leaf: 5_000 });
    expect(held.polling.source).toMatch(/^intent .*, overridden by --poll$/);
  });
});
