// The random intent generator: the same seed gives the same intent, every seed gives a valid
// one (as `netloom validate` sees it: schema and semantic checks on the written directory),
// and together the seeds cover the schema the fidelity runner promises to exercise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import { writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { seedsFrom } from '../../src/verify/fidelity/seeds.ts';

const SEEDS = 300;

function model(seed: number): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-random-'));
  try {
    writeGeneratedIntent(dir, intentFiles(randomIntent(seed)));
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('random intents', () => {
  it('are deterministic per seed and differ between seeds', () => {
    expect(JSON.stringify(randomIntent(42))).toBe(JSON.stringify(randomIntent(42)));
    expect(intentFiles(randomIntent(7))).toEqual(intentFiles(randomIntent(7)));
    expect(JSON.stringify(randomIntent(42))).not.toBe(JSON.stringify(randomIntent(43)));
    expect(seedsFrom(123, 5)).toEqual(seedsFrom(123, 5));
    expect(new Set(seedsFrom(123, 50)).size).toBe(50);
  });

  it(`validate and render on FRR for ${SEEDS} seeds, covering the schema`, { timeout: 240_000 }, () => {
    const seen = new Set<string>();
    const mark = (k: string, cond: boolean | undefined) => cond && seen.add(k);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const intent = randomIntent(seed);
      let m: FabricModel;
      try {
        m = model(seed);
      } catch (e) {
        throw new Error(`seed ${seed} is not a valid intent:\n${(e as Error).message}`);
      }
      expect(m.devices.every((d) => d.platform === 'frr')).toBe(true);
      expect(() => renderModel(m), `seed ${seed} renders`).not.toThrow();
      const leaves = m.devices.filter((d) => d.vtep);
      const spines = m.devices.filter((d) => d.role === 'spine');
      expect(spines.length).toBeGreaterThanOrEqual(1);
      expect(spines.length).toBeLessThanOrEqual(4);
      expect(leaves.length).toBeGreaterThanOrEqual(2);
      expect(leaves.length).toBeLessThanOrEqual(8);
      expect(m.tenants.length).toBeGreaterThanOrEqual(1);
      expect(m.tenants.length).toBeLessThanOrEqual(4);
      mark(`underlay ${m.fabric.underlay}/${m.fabric.overlay.transport}`, true);
      mark(`scheme ${(intent.fabric.asn as { leaf_scheme?: string }).leaf_scheme}`, m.fabric.overlay.transport === 'ebgp');
      mark('pinned asn', Object.values(intent.nodes).some((n) => n.asn !== undefined));
      mark('shared leaf asn', new Set(leaves.map((l) => l.asn)).size < leaves.length && m.fabric.overlay.transport === 'ebgp');
      mark('explicit route reflectors', !!(intent.fabric.overlay as { route_reflectors?: string[] }).route_reflectors);
      mark('leaf route reflector', leaves.some((l) => l.routeReflector));
      mark('super-spines', m.devices.some((d) => d.role === 'super-spine'));
      mark(`${spines.length} spines`, true);
      mark(`${leaves.length} leaves`, true);
      mark('border leaf', m.devices.some((d) => d.role === 'border-leaf'));
      mark(`${m.tenants.length} tenants`, true);
      mark('overlapping subnets across VRFs', m.networks.some((a) => m.networks.some((b) => a.vrf !== b.vrf && a.subnet === b.subnet)));
      mark('ipv6', m.endpoints.some((e) => e.ipv6));
      mark('pinned l2 vni', m.networks.some((n) => n.l2vni !== 10000 + n.vlan));
      mark('pinned l3 vni', intent.tenants.some((t) => t.vrfs.some((v) => (v as { l3vni?: number }).l3vni)));
      mark('pinned rt', m.networks.some((n) => n.routeTarget.startsWith('65501:')));
      mark('pinned rd', intent.tenants.some((t) => t.vrfs.some((v) => (v as { rd_index?: number }).rd_index || v.networks.some((n) => n.rd_index))));
      mark('leaf without tenants', leaves.some((l) => l.vrfs.length === 0));
      mark('endpoints on the same leaf', m.endpoints.some((a) => m.endpoints.some((b) => a !== b && a.leaf === b.leaf && a.network === b.network)));
      mark('endpoints on different leaves', m.endpoints.some((a) => m.endpoints.some((b) => a.leaf !== b.leaf && a.network === b.network)));
      mark('endpoints on a leaf pair', m.endpoints.some((a) => m.endpoints.some((b) => a.network === b.network && intent.nodes[a.leaf].pair === b.leaf)));
      mark('same address in two VRFs', m.endpoints.some((a) => m.endpoints.some((b) => a.vrf !== b.vrf && a.ipv4 === b.ipv4)));
    }
    const want = [
      'underlay ebgp-unnumbered/ebgp', 'underlay ebgp/ebgp', 'underlay ospf/ibgp',
      'scheme per-leaf', 'scheme per-leaf-pair', 'scheme per-pod', 'pinned asn', 'shared leaf asn',
      'explicit route reflectors', 'leaf route reflector', 'super-spines',
      '1 spines', '2 spines', '3 spines', '4 spines', '2 leaves', '8 leaves', 'border leaf',
      '1 tenants', '2 tenants', '3 tenants', '4 tenants', 'overlapping subnets across VRFs', 'ipv6',
      'pinned l2 vni', 'pinned l3 vni', 'pinned rt', 'pinned rd', 'leaf without tenants',
      'endpoints on the same leaf', 'endpoints on different leaves', 'endpoints on a leaf pair', 'same address in two VRFs',
    ];
    expect(want.filter((w) => !seen.has(w))).toEqual([]);
  });
});
