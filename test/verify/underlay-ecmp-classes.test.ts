// underlay-ecmp asks one VTEP pair per pair of twin classes (classPairGroups) instead of every
// pair (pairGroups, 11 million at 4,770 leaves): the same groups, totals, examples and order,
// on healthy and damaged fabrics (uplinks cut from single leaves and from several, a spine
// removed, random intents), and the check's findings equal to the pairwise reference.
import { describe, expect, it } from 'vitest';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { analyzeEcmp, designPromise } from '../../src/verify/underlay.ts';
import { classPairGroups, pairGroups } from '../../src/verify/checks/underlay-ecmp.ts';
import { generatedModel, model } from './helpers.ts';

/** The model without the links matching `drop` (the faults: an uplink gone, a spine isolated). */
function without(m: FabricModel, drop: (l: FabricModel['links'][number]) => boolean): FabricModel {
  return { ...m, links: m.links.filter((l) => !drop(l)) };
}

function both(m: FabricModel) {
  const fg = buildFabricGraph(m);
  const e = analyzeEcmp(fg);
  const promise = designPromise(fg);
  return { byClass: classPairGroups(fg, e, promise), byPair: pairGroups(fg, e, promise) };
}

describe('underlay-ecmp by pairs of twin classes', () => {
  const twoPods = generatedModel(generateFabricIntent({ pods: 2, spinesPerPod: 3, leavesPerPod: 9, superSpines: 2, tenants: 2, endpointsPerLeaf: 1 }));
  const ends = (l: FabricModel['links'][number]) => [l.a.device, l.b.device];

  const cases: [string, FabricModel][] = [
    ['dc1', model('dc1')],
    ['dc2', model('dc2')],
    ['two pods, healthy', twoPods],
    ['two pods, one uplink cut', without(twoPods, (l) => ends(l).includes('p1-leaf3') && ends(l).includes('p1-spine2'))],
    ['two pods, uplinks cut on three leaves of two pods', without(twoPods, (l) => (ends(l).includes('p1-leaf3') && ends(l).includes('p1-spine2')) || (ends(l).includes('p1-leaf7') && ends(l).includes('p1-spine2')) || (ends(l).includes('p2-leaf1') && ends(l).includes('p2-spine1')))],
    ['two pods, a leaf cut off', without(twoPods, (l) => ends(l).includes('p2-leaf4'))],
    ['two pods, a spine isolated', without(twoPods, (l) => ends(l).includes('p1-spine1'))],
    ['two pods, a super-spine isolated', without(twoPods, (l) => ends(l).some((d) => d.startsWith('super-spine1') || d === 'ss1'))],
    ...Array.from({ length: 12 }, (_, i): [string, FabricModel] => [`random intent ${i}`, generatedModel(intentFiles(randomIntent(500 + i)))]),
  ];

  it.each(cases)('%s: the same groups, totals, examples and order as every pair', (_, m) => {
    const { byClass, byPair } = both(m);
    expect(byClass).toEqual(byPair);
  });

  it('finds the damage it must (the comparison is not of empty lists)', () => {
    const damaged = cases.filter(([name]) => name.startsWith('two pods,') && !name.endsWith('healthy'));
    for (const [name, m] of damaged) {
      const { byClass } = both(m);
      expect(byClass.groups.length, name).toBeGreaterThan(0);
    }
    const three = both(cases[4][1]).byClass;
    // Three damaged leaves: each against its pod's healthy leaves and the other pod, and against each other.
    expect(three.groups.length).toBeGreaterThanOrEqual(4);
    expect(three.groups.every((g) => g.pairs.length > 0 && g.pairs.length <= 5 && g.total >= g.pairs.length)).toBe(true);
    expect(three.pairs).toBe((18 * 17) / 2);
  });
});
