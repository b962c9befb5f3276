/**
 * A device's tables derived for the whole table at once (ControlPlane.defaultRib reading each
 * origin once per twin class, VRF tables and flood lists asking only the origins exporting a
 * route target they import, each VTEP's ECMP count without building its route) equal, byte
 * for byte, what asking every origin one pair at a time gave (ReferenceControlPlane): every
 * device's default table, VRF tables (both VRF backends) and flood lists, and the live
 * comparison's whole expectation of it, on fabrics covering eBGP with per-leaf and shared
 * ASNs, allowas-in, the OSPF underlay with route reflection, super-spines, partial uplinks
 * (own runs beside the twin shortcut) and the AVD benchmark's shape.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent } from '../../src/intent/generate.ts';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { ControlPlane, type SimOptions } from '../../src/verify/sim/control-plane.ts';
import { LiveBasis } from '../../src/verify/live/compare.ts';
import { ReferenceControlPlane } from '../support/reference-control-plane.ts';
import { fixture, generatedModel as generated, regressionModel, root, withoutAllowAs } from './helpers.ts';

const example = (name: string) => loadModelSync(path.join(root, 'intents', name));

/** Every device's tables from both; returns what was compared (so a fabric that compares nothing fails). */
function same(m: FabricModel, options: SimOptions = {}): { routes: number; multipath: number } {
  const fg = buildFabricGraph(m);
  const fast = new ControlPlane(m, fg.deviceIndex, options);
  const ref = new ReferenceControlPlane(m, fg.deviceIndex, options);
  let routes = 0;
  let multipath = 0;
  m.devices.forEach((d, v) => {
    const def = fast.defaultRib(v);
    expect(JSON.stringify(def), `${d.name} default table`).toBe(JSON.stringify(ref.defaultRib(v)));
    routes += def.length;
    multipath += def.filter((r) => r.nextHops.length > 1).length;
    for (const f of d.vrfs) {
      const t = fast.vrfRib(v, f.name);
      expect(JSON.stringify(t), `${d.name} VRF ${f.name}`).toBe(JSON.stringify(ref.vrfRib(v, f.name)));
      routes += t.length;
    }
    for (const x of d.vlans) expect(fast.floodList(v, x.l2vni), `${d.name} flood list of ${x.l2vni}`).toEqual(ref.floodList(v, x.l2vni));
  });
  if (!options.vrfBackend) {
    // The live comparison's expectation of each device (its VNIs, MACs, tables, VTEP routes).
    const a = new LiveBasis(m, fg, { cp: fast });
    const b = new LiveBasis(m, fg, { cp: ref });
    for (const d of m.devices) expect(JSON.stringify(a.expectation(d.name)), `${d.name} expectation`).toBe(JSON.stringify(b.expectation(d.name)));
  }
  return { routes, multipath };
}

describe('device tables derived per table equal those asked per origin', () => {
  it('dc1, its leaf-pair variant with and without allowas-in, and mdc', () => {
    for (const m of [example('dc1'), fixture('dc1-pair'), withoutAllowAs(fixture('dc1-pair')), example('mdc')]) {
      const n = same(m);
      expect(n.routes).toBeGreaterThan(m.devices.length);
      expect(n.multipath).toBeGreaterThan(0);
      same(m, { vrfBackend: 'kernel' });
    }
  });

  it('the OSPF underlay with route reflection (dc2, and two generated pods under super-spines)', () => {
    const dc2 = example('dc2');
    expect(dc2.fabric.underlay).toBe('ospf');
    expect(same(dc2).multipath).toBeGreaterThan(0);
    const pods = generated(generateFabricIntent({ name: 'ospfpods', pods: 2, superSpines: 2, spinesPerPod: 2, leavesPerPod: 3, underlay: 'ospf' }));
    expect(pods.fabric.underlay).toBe('ospf');
    expect(same(pods).multipath).toBeGreaterThan(0);
  });

  it('two pods under super-spines, and the AVD benchmark shape at three pods', () => {
    const pods = generated(generateFabricIntent({ name: 'pods', spinesPerPod: 2, leavesPerPod: 4, pods: 2, superSpines: 2 }));
    expect(pods.devices.some((d) => d.role === 'super-spine')).toBe(true);
    expect(same(pods).multipath).toBeGreaterThan(0);
    const avd = generated(generateFabricIntent({ ...AVD_BENCHMARK_SHAPE, pods: 3, leavesPerPod: 16, name: 'avd3p' }));
    expect(avd.devices.length).toBe(3 * (12 + 16) + 12);
    const n = same(avd);
    // Every leaf reaches every other device's loopback (and each VTEP), over all 12 uplinks when in another pod.
    expect(n.multipath).toBeGreaterThan(avd.devices.length * 12);
  });

  it('partial uplinks (origins run on their own beside the twin shortcut) and random intents', () => {
    for (const m of [regressionModel(55278174), regressionModel(28120239), ...[66980212, 5601140, 47481669, 7, 11, 12345].map((s) => generated(intentFiles(randomIntent(s))))]) {
      expect(same(m).routes).toBeGreaterThan(0);
    }
  });
});
