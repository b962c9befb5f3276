/**
 * Prediction = reality for dc1 with RED reusing BLUE's subnet, in the namespace lab with FRR:
 * no "leak" on a healthy fabric, and a real leak (a route target of BLUE imported into RED on
 * one leaf) is caught, naming the route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, type LabState } from '../../src/lab/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { compareLive, type ObservedState } from '../../src/verify/live/compare.ts';
import { factAgreement, formatAgreement, FACT_TYPES } from '../../src/verify/live/agreement.ts';
import { allAgree, settled, skip, up } from './sim-lab-helpers.ts';

describe.skipIf(!!skip)('the same subnet in two VRFs in the lab', () => {
  const LAB = 'h10aov';
  let state: LabState;
  let model: FabricModel;
  beforeAll(async () => ({ state, model } = await up('dc1-overlap', 32, LAB)), 180_000);
  afterAll(async () => { await labDown(LAB).catch(() => {}); }, 120_000);

  it('is no leak: every VRF table matches the simulation route by route', async () => {
    const o = await settled(model, LAB, allAgree(model));
    const a = factAgreement(model, o);
    process.stdout.write(`dc1-overlap agreement: ${formatAgreement(a)}\n`);
    for (const t of FACT_TYPES) expect(a[t].disagreements, t).toEqual([]);
    const vrf = compareLive(model, o).find((r) => r.check.id === 'live-vrf-routes')!;
    expect(vrf.findings).toEqual([]);
    // Both VRFs of leaf1 hold 10.10.10.0/24, each its own.
    const leaf1 = o.devices.find((d) => d.device === 'leaf1')!;
    expect(leaf1.routes!.BLUE.some((r) => r.prefix === '10.10.10.0/24')).toBe(true);
    expect(leaf1.routes!.RED.some((r) => r.prefix === '10.10.10.0/24')).toBe(true);
    // h4 (RED, 10.10.10.14) answers h5 (RED) but not h1 (BLUE, same subnet).
    expect(o.probes.find((p) => p.src === 'h5' && p.dst === 'h4')?.answered).toBe(true);
    expect(o.probes.find((p) => p.src === 'h1' && p.dst === 'h4')?.answered).toBe(false);
  }, 120_000);

  it('a real leak is caught: BLUE\'s route target imported into RED on leaf4', async () => {
    const r = await labExec(state, 'leaf4', ['vtysh', '-c', 'configure terminal', '-c', 'router bgp 65104 vrf RED', '-c', 'address-family l2vpn evpn', '-c', 'route-target import 65000:50001']);
    expect(r.code, r.stderr).toBe(0);
    const leaked = (o: ObservedState) => !!o.devices.find((d) => d.device === 'leaf4')?.routes?.RED?.some((x) => x.prefix === '10.10.20.0/24');
    const o = await settled(model, LAB, leaked);
    expect(leaked(o)).toBe(true);
    const msgs = compareLive(model, o).find((x) => x.check.id === 'live-vrf-routes')!.findings.map((f) => f.message);
    expect(msgs).toContain('leaf4: VRF RED holds 10.10.20.0/24 of VRF BLUE (bgp): tenants leak');
    const a = factAgreement(model, o);
    expect(a.rib.disagreements).toContain('leaf4: VRF RED holds 10.10.20.0/24 of VRF BLUE (bgp): tenants leak');
  }, 120_000);
});
