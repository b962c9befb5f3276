/**
 * Prediction = reality for dc1 with leaf pairs sharing an ASN (allowas-in rendered) in the
 * namespace lab with FRR: bridged pairs across the pair work, and every simulated fact
 * (sessions, RIBs, flood lists, ECMP, MACs, pings) agrees with what FRR shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, type LabState } from '../../src/lab/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { compareLive } from '../../src/verify/live/compare.ts';
import { factAgreement, formatAgreement, FACT_TYPES } from '../../src/verify/live/agreement.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { allAgree, settled, skip, up } from './sim-lab-helpers.ts';

describe.skipIf(!!skip)('leaf pairs sharing an ASN (allowas-in) in the lab', () => {
  const LAB = 'h10apr';
  let state: LabState;
  let model: FabricModel;
  beforeAll(async () => ({ state, model } = await up('dc1-pair', 31, LAB)), 180_000);
  afterAll(async () => { await labDown(LAB).catch(() => {}); }, 120_000);

  it('h1 and h2 (leaf1, leaf2: one ASN) are bridged, and every simulated fact agrees with FRR', async () => {
    expect(verifyStatic(model).results.every((r) => r.passed)).toBe(true);
    const o = await settled(model, LAB, allAgree(model));
    const a = factAgreement(model, o);
    process.stdout.write(`dc1-pair agreement: ${formatAgreement(a)}\n`);
    for (const t of FACT_TYPES) {
      expect(a[t].disagreements, t).toEqual([]);
      expect(a[t].total, t).toBeGreaterThan(0);
    }
    expect(o.probes.find((p) => p.src === 'h1' && p.dst === 'h2')?.answered).toBe(true);
    expect(compareLive(model, o).filter((r) => !r.passed).map((r) => r.findings.map((f) => f.message))).toEqual([]);
    // The leaf's underlay route to its partner carries the shared ASN: accepted by allowas-in.
    expect(o.devices.find((d) => d.device === 'leaf1')!.routes!.default.find((r) => r.prefix === '10.0.1.2/32')).toMatchObject({ protocol: 'bgp', nexthops: 2 });
    void state;
  }, 120_000);
});

