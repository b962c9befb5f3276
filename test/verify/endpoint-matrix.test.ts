// endpoint-reachability counts the pairs its per-endpoint flags clear per class of endpoints
// (src/verify/checks/endpoint-reachability.ts, pairsByClass) instead of pair by pair: the
// result (counts, findings, their first examples in pair order) must be the one every pair
// asked gives, on healthy fabrics and on broken ones (leaks, VNI mismatches, missing imports,
// a VTEP without EVPN, VLANs shared between VRFs on a leaf, a firewall routing between VRFs).
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { makeContext } from '../../src/verify/checks/types.ts';
import { endpointMatrix } from '../../src/verify/checks/endpoint-reachability.ts';
import { brokenIntent, model, regressionModel, root } from './helpers.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Every pair asked, and by class wherever it can (small fabrics too, where the check itself
 * would not bother), each on its own context: the same outcome. Returns how the check counts.
 */
function same(m: FabricModel): 'by class' | 'every pair' {
  const every = endpointMatrix(makeContext(buildFabricGraph(m)), false);
  expect(every.counted).toBe('every pair');
  const byClass = endpointMatrix(makeContext(buildFabricGraph(m)), 'always');
  expect(byClass.counted).toBe('by class');
  expect(byClass.outcome).toEqual(every.outcome);
  const check = endpointMatrix(makeContext(buildFabricGraph(m)), true);
  expect(check.outcome).toEqual(every.outcome);
  return check.counted;
}

function generated(opts: Parameters<typeof generateFabricIntent>[0]): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-matrix-'));
  try {
    writeGeneratedIntent(dir, generateFabricIntent(opts));
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Few networks, many endpoints in each: the check counts by class on its own.
const small = { name: 'mx', superSpines: 2, pods: 2, spinesPerPod: 2, leavesPerPod: 4, tenants: 2, vrfsPerTenant: 1, networksPerVrf: 2, endpointsPerLeaf: 6 };

describe('endpoint-reachability by class equals every pair asked', () => {
  it('healthy fabrics: the examples and a generated two-pod fabric, counted by class', () => {
    same(model('dc1'));
    same(model('dc2'));
    const g = generated(small);
    expect(same(g)).toBe('by class');
    const r = endpointMatrix(makeContext(buildFabricGraph(g)), true).outcome;
    expect(r.findings).toEqual([]);
    expect(r.examined).toMatch(/^\d+ endpoint pairs: [1-9]\d* bridged, [1-9]\d* routed, [1-9]\d* isolated, 0 wrong$/);
  });

  it('a route leak between two VRFs (findings with their first examples)', () => {
    const { model: m } = brokenIntent('dc1', { 'tenants.yaml': (t) => t.replace('      - name: RED\n        id: 2\n', '      - name: RED\n        id: 2\n        route_target: 65000:50001\n') });
    same(m);
    expect(endpointMatrix(makeContext(buildFabricGraph(m)), true).outcome.findings.length).toBeGreaterThan(0);
  });

  it('VNI mismatches, a missing import, a leaf without its L3 VNI', () => {
    const vni = model('dc1');
    vni.devices.find((d) => d.name === 'leaf2')!.vlans.find((x) => x.vlan === 10)!.l2vni = 10011;
    const rt = model('dc1');
    rt.devices.find((d) => d.name === 'leaf2')!.vlans.find((x) => x.vlan === 10)!.routeTargets.import = [];
    const l3 = model('dc1');
    l3.devices.find((d) => d.name === 'leaf3')!.vrfs[0].l3vni = 50009;
    for (const m of [vni, rt, l3]) {
      same(m);
      expect(endpointMatrix(makeContext(buildFabricGraph(m)), true).outcome.findings.length).toBeGreaterThan(0);
    }
  });

  it('a VTEP without EVPN sessions (its transport asked per leaf pair)', () => {
    const m = generated(small);
    const leaf = m.devices.find((d) => d.role === 'leaf')!.name;
    m.bgpSessions = m.bgpSessions.map((s) => (s.a.device === leaf || s.b.device === leaf ? { ...s, afiSafis: s.afiSafis.filter((a) => a !== 'l2vpn-evpn') } : s));
    same(m);
    expect(endpointMatrix(makeContext(buildFabricGraph(m)), true).outcome.findings.length).toBeGreaterThan(0);
  });

  it("a VLAN shared by two VRFs on a leaf (the isolated verdict reads the lower endpoint's VLAN)", () => {
    const m = generated(small);
    // On one leaf, a VLAN of one VRF takes the id of an endpoint's VLAN in another VRF.
    const ep = m.endpoints.find((e) => m.devices.find((d) => d.name === e.leaf)!.vlans.some((v) => v.vrf !== e.vrf))!;
    const leaf = m.devices.find((d) => d.name === ep.leaf)!;
    const other = leaf.vlans.find((v) => v.vrf !== ep.vrf)!;
    leaf.vlans.push({ ...other, vlan: ep.vlan });
    expect(same(m)).toBe('by class');
  });

  it('a firewall routing between VRFs (fw3), the sites example, and the fidelity regressions', () => {
    for (const ex of ['fw3', 'dc3']) same(loadModelSync(path.join(root, 'intents', ex)));
    for (const f of readdirSync(path.join(root, 'test/fidelity/regressions')).filter((x) => x.endsWith('.json'))) same(regressionModel(Number(f.replace('.json', ''))));
  });

  it('every VTEP unclean: classes do not pay, every pair is asked', () => {
    const m = generated(small);
    m.bgpSessions = m.bgpSessions.map((s) => ({ ...s, afiSafis: s.afiSafis.filter((a) => a !== 'l2vpn-evpn') }));
    expect(same(m)).toBe('every pair');
  });
});
