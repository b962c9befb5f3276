/**
 * Single points of failure in the underlay: articulation points (a device whose loss cuts
 * VTEPs off), bridges (a link whose loss does) and VTEP pairs whose min-cut is one link.
 */
import type { Finding } from '../findings.ts';
import { analyzeCuts, type CutAnalysis } from '../underlay.ts';
import type { StaticCheck } from './types.ts';

export const singlePointsOfFailure: StaticCheck = {
  id: 'single-points-of-failure',
  reads: 'fabric',
  title: 'No single point of failure in the underlay',
  kind: 'static',
  layer: 'underlay',
  severity: 'error',
  description: 'no articulation point or bridge separates VTEPs; every VTEP pair has min-cut >= 2',
  run(ctx) {
    const { fg } = ctx;
    const c: CutAnalysis = ctx.memo('cuts', () => analyzeCuts(fg));
    const findings: Finding[] = [];
    for (const ap of c.articulation) {
      const d = fg.devices[ap.device];
      if (ap.vtepsCutOff === 0 && !d.vtep) continue;
      findings.push({
        check: 'single-points-of-failure',
        severity: 'error',
        message: `${d.name} is an articulation point: losing it cuts ${ap.vtepsCutOff} VTEP${ap.vtepsCutOff === 1 ? '' : 's'} off the rest of the underlay`,
        evidence: { device: d.name, role: d.role, vtepsCutOff: ap.vtepsCutOff },
        location: d.source,
        elements: { devices: [d.name] },
      });
    }
    for (const li of c.bridges) {
      const l = fg.model.links[li];
      const name = fg.linkName(l);
      findings.push({
        check: 'single-points-of-failure',
        severity: 'error',
        message: `link ${name} is a bridge: it is the only underlay path between its two sides`,
        evidence: { link: name },
        location: l.source,
        elements: { links: [name], devices: [l.a.device, l.b.device] },
      });
    }
    // VTEP pairs with min-cut 1: same connected component, different 2-edge-connected components.
    const byComp = new Map<number, Map<number, number[]>>();
    for (const v of fg.vteps) {
      const m = byComp.get(c.comp[v]) ?? new Map<number, number[]>();
      byComp.set(c.comp[v], m);
      const l = m.get(c.twoEdge[v]) ?? [];
      m.set(c.twoEdge[v], l);
      l.push(v);
    }
    let cutPairs = 0;
    const examples: string[] = [];
    for (const m of byComp.values()) {
      const groups = [...m.values()];
      let seen = 0;
      for (const g of groups) {
        cutPairs += seen * g.length;
        seen += g.length;
      }
      if (groups.length > 1 && examples.length < 5) {
        for (let i = 1; i < groups.length && examples.length < 5; i++) examples.push(`${fg.devices[groups[0][0]].name}-${fg.devices[groups[i][0]].name}`);
      }
    }
    if (cutPairs > 0) {
      findings.push({
        check: 'single-points-of-failure',
        severity: 'error',
        message: `${cutPairs} VTEP pair${cutPairs === 1 ? ' has' : 's have'} a min-cut of 1 link (e.g. ${examples.join(', ')})`,
        evidence: { pairs: cutPairs, examples, bridges: c.bridges.map((i) => fg.linkName(fg.model.links[i])) },
        elements: { links: c.bridges.map((i) => fg.linkName(fg.model.links[i])) },
      });
    }
    return { findings, examined: `${fg.underlay.n} devices, ${fg.underlay.targets.length / 2} underlay links` };
  },
};
