/**
 * Prediction = reality for dc2 with every node on FRR (OSPF underlay, numbered links, iBGP EVPN
 * through two spine route reflectors, two VRFs, border leaves) in the namespace lab: every
 * simulated fact (sessions, RIBs, flood lists, ECMP, MACs, pings) agrees with what FRR shows.
 * db2's tagged port becomes untagged: this kernel has no 802.1Q module (README "Limits").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown } from '../../src/lab/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { compareLive } from '../../src/verify/live/compare.ts';
import { factAgreement, formatAgreement, FACT_TYPES } from '../../src/verify/live/agreement.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { dc2AsFrr } from '../render/fixtures.ts';
import { allAgree, settled, skip, upDir } from './sim-lab-helpers.ts';

function dc2FrrCopy(): string {
  const dir = dc2AsFrr();
  const edit = (f: string, g: (s: string) => string) => writeFileSync(path.join(dir, f), g(readFileSync(path.join(dir, f), 'utf8')));
  edit('fabric.yaml', (s) => {
    expect(s).toContain('mgmt: 172.20.22.0/24');
    return s.replace('mgmt: 172.20.22.0/24', 'mgmt: 172.23.33.0/24').replace('mgmt_gateway: 172.20.22.254', 'mgmt_gateway: 172.23.33.254');
  });
  edit('endpoints.yaml', (s) => {
    expect(s).toContain(', tagged: true');
    return s.replace(', tagged: true', '');
  });
  return dir;
}

describe.skipIf(!!skip)('dc2 on FRR in the lab', () => {
  const LAB = 'h10adc2';
  let model: FabricModel;
  beforeAll(async () => ({ model } = await upDir(dc2FrrCopy(), LAB)), 180_000);
  afterAll(async () => { await labDown(LAB).catch(() => {}); }, 120_000);

  it('every simulated fact agrees with FRR, and verify --live finds nothing', async () => {
    expect(verifyStatic(model).results.every((r) => r.passed)).toBe(true);
    const o = await settled(model, LAB, allAgree(model));
    const a = factAgreement(model, o);
    process.stdout.write(`dc2-on-FRR agreement: ${formatAgreement(a)}\n`);
    for (const t of FACT_TYPES) {
      expect(a[t].disagreements, t).toEqual([]);
      expect(a[t].total, t).toBeGreaterThan(0);
    }
    expect(compareLive(model, o).filter((r) => !r.passed).map((r) => r.findings.map((f) => f.message))).toEqual([]);
  }, 120_000);
});
