// A routing table's simulation restored from its bytes (src/verify/sim/table-store.ts) answers
// every question the simulated one does: each device's default and VRF tables, which sessions
// come up, why a VTEP misses another's routes. The digest it is kept under changes with any
// input of the table (a session gone, an origin more) and with nothing else.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { ControlPlane } from '../../src/verify/sim/control-plane.ts';
import { TableSim } from '../../src/verify/sim/propagate.ts';
import { bgpAdjacency } from '../../src/verify/sim/adjacency.ts';
import { decodeTable, encodeTable, tableDigest, type TableCache } from '../../src/verify/sim/table-store.ts';
import { repoRoot } from '../support/intent-copy.ts';
import { generatedModel as generated } from './helpers.ts';

/** Every table simulated, written to bytes and read back: what a plan's next run restores. */
const roundTrip: TableCache = {
  table(adj, origins, evpn) {
    const sim = new TableSim(adj, origins, evpn);
    expect(sim.runs).toBeGreaterThanOrEqual(sim.reps.length); // every class computed
    const state = decodeTable(encodeTable(sim.state()), adj.n);
    expect(state).toBeDefined();
    expect(state!.repRuns.every((r) => r !== undefined)).toBe(true);
    return new TableSim(adj, origins, evpn, state);
  },
};

/**
 * A table asked about one origin only, written then (a plan's entry holds the classes it
 * asked for) and read back: the restored table computes the rest when asked.
 */
const partialTrip: TableCache = {
  table(adj, origins, evpn) {
    const sim = new TableSim(adj, origins, evpn);
    expect(sim.computedRuns).toBe(0);
    const last = origins[origins.length - 1];
    if (last !== undefined) sim.route(last, origins[0]);
    const state = decodeTable(encodeTable(sim.state()), adj.n);
    expect(state!.repRuns.filter((r) => r !== undefined)).toHaveLength(last === undefined ? 0 : 1);
    return new TableSim(adj, origins, evpn, state);
  },
};

/** What the simulation answers, device by device. */
function answers(cp: ControlPlane): unknown {
  const devs = cp.model.devices;
  const vteps = devs.map((_, i) => i).filter((i) => devs[i].vtep);
  return {
    sessionUp: [...cp.sessionUp],
    ribs: devs.map((d) => [cp.rib(d.name), ...d.vrfs.map((v) => cp.rib(d.name, v.name))]),
    evpn: vteps.flatMap((o) => vteps.map((v) => cp.evpnProblem(o, v) ?? '')),
    clean: [...cp.clean()],
    flood: devs.map((d, i) => d.vlans.map((v) => cp.floodList(i, v.l2vni))),
  };
}

const models: [string, () => FabricModel][] = [
  ['dc1 (eBGP underlay, loopback EVPN sessions)', () => loadModelSync(path.join(repoRoot, 'intents/dc1'))],
  ['mdc (sites)', () => loadModelSync(path.join(repoRoot, 'intents/mdc'))],
  ['a generated OSPF underlay with iBGP EVPN', () => generated(generateFabricIntent({ name: 'ts-ospf', pods: 1, spinesPerPod: 2, leavesPerPod: 4, tenants: 2, vrfsPerTenant: 1, networksPerVrf: 2, endpointsPerLeaf: 1, underlay: 'ospf', leafPlatform: 'eos' }))],
  ['a generated two-pod fabric', () => generated(generateFabricIntent({ name: 'ts-2pod', superSpines: 2, pods: 2, spinesPerPod: 2, leavesPerPod: 4, tenants: 2, vrfsPerTenant: 2, networksPerVrf: 2, endpointsPerLeaf: 1 }))],
];

describe('a simulated table restored from its bytes', () => {
  for (const [name, load] of models) {
    it(`answers as simulated: ${name}`, () => {
      const m = load();
      const simulated = new ControlPlane(m);
      const restored = new ControlPlane(m, undefined, {}, roundTrip);
      expect(restored.underlay.runs).toBe(simulated.underlay.runs);
      expect(answers(restored)).toEqual(answers(simulated));
    });

    it(`answers as simulated when restored from the classes one question computed: ${name}`, () => {
      const m = load();
      const restored = new ControlPlane(m, undefined, {}, partialTrip);
      const simulated = new ControlPlane(m);
      expect(answers(restored)).toEqual(answers(simulated));
      expect(restored.underlay.runs).toBe(simulated.underlay.runs);
    });
  }

  it('torn or foreign bytes are no table', () => {
    const m = loadModelSync(path.join(repoRoot, 'intents/dc1'));
    const cp = new ControlPlane(m);
    const bytes = encodeTable(cp.underlay.state());
    expect(decodeTable(bytes.subarray(0, bytes.length - 9), cp.underlay.adj.n)).toBeUndefined();
    expect(decodeTable(Buffer.from('not a table'), cp.underlay.adj.n)).toBeUndefined();
    // Another fabric's size.
    expect(decodeTable(bytes, cp.underlay.adj.n + 1)).toBeUndefined();
  });
});

describe('the digest a table is kept under', () => {
  const m = loadModelSync(path.join(repoRoot, 'intents/dc1'));
  const index = new Map(m.devices.map((d, i) => [d.name, i]));
  const adj = (model: FabricModel) => bgpAdjacency(model, 'l2vpn-evpn', index, () => true);
  const origins = m.devices.map((_, i) => i).filter((i) => m.devices[i].vtep);

  it('is the same for an equal adjacency and origins (a copy of the model)', () => {
    const copy = JSON.parse(JSON.stringify(m)) as FabricModel;
    expect(tableDigest(adj(copy), origins, true)).toBe(tableDigest(adj(m), origins, true));
  });

  it('changes with a session gone, an origin more, an ASN or the table kind', () => {
    const base = tableDigest(adj(m), origins, true);
    const fewer = { ...m, bgpSessions: m.bgpSessions.slice(1) };
    expect(tableDigest(adj(fewer), origins, true)).not.toBe(base);
    expect(tableDigest(adj(m), [...origins, 0], true)).not.toBe(base);
    const asn = { ...m, devices: m.devices.map((d, i) => (i === 0 ? { ...d, asn: d.asn + 1 } : d)) };
    expect(tableDigest(adj(asn), origins, true)).not.toBe(base);
    expect(tableDigest(adj(m), origins, false)).not.toBe(base);
  });
});
