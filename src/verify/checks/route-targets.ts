/**
 * Route targets per VNI: every instance of a VNI imports a route target that every other
 * instance exports (in a multi-site model: every other instance of its site, and of every site
 * when the DCI joins the VNI) (else MACs/routes of that leaf are never installed), and no instance
 * imports a route target exported by another VRF's VNIs (a leak breaks tenant isolation).
 */
import type { Finding } from '../findings.ts';
import type { FabricGraph, VniMember } from '../graph.ts';
import type { StaticCheck } from './types.ts';

export interface RtAnalysis {
  /** Members (device) per VNI that miss an import of some other member's export. */
  missingImport: Map<number, Map<string, { from: string; exports: string[] }[]>>;
  /** RT -> VRFs whose VNIs export it. */
  exportersByRt: Map<string, Set<string>>;
  /** "vrfA|vrfB": some instance of vrfA imports an RT exported by vrfB. */
  leaks: Map<string, { device: string; vni: number; rt: string }[]>;
}

export function analyzeRouteTargets(fg: FabricGraph): RtAnalysis {
  const missingImport: RtAnalysis['missingImport'] = new Map();
  const exportersByRt = new Map<string, Set<string>>();
  for (const members of fg.vnis.values()) {
    for (const x of members) {
      for (const rt of x.export) {
        const s = exportersByRt.get(rt) ?? new Set();
        exportersByRt.set(rt, s);
        s.add(x.vrf);
      }
    }
  }
  // Across sites only VNIs the DCI joins are expected to import each other (per-site route targets).
  const m = fg.model;
  const joined = new Set<number>([
    ...m.vrfs.filter((v) => m.dci?.vrfs.some((d) => d.name === v.name)).map((v) => v.l3vni),
    ...m.networks.filter((n) => m.dci?.stretch.some((d) => d.name === n.name)).map((n) => n.l2vni),
  ]);
  const siteOf = (d: string) => fg.device(d)?.site;
  for (const [vni, members] of fg.vnis) {
    // Group exporters by their export set so the pairwise test is members x distinct sets.
    const bySig = new Map<string, VniMember[]>();
    for (const x of members) {
      const sig = [...x.export].sort().join(',');
      const l = bySig.get(sig) ?? [];
      bySig.set(sig, l);
      l.push(x);
    }
    for (const x of members) {
      const imp = new Set(x.import);
      for (const [sig, exporters] of bySig) {
        const exps = sig ? sig.split(',') : [];
        if (exps.some((rt) => imp.has(rt))) continue;
        const others = exporters.filter((e) => e.device !== x.device && (joined.has(vni) || siteOf(e.device) === siteOf(x.device)));
        if (!others.length) continue;
        const byDev = missingImport.get(vni) ?? new Map();
        missingImport.set(vni, byDev);
        const l = byDev.get(x.device) ?? [];
        byDev.set(x.device, l);
        for (const o of others) l.push({ from: o.device, exports: exps });
      }
    }
  }
  const leaks: RtAnalysis['leaks'] = new Map();
  for (const [vni, members] of fg.vnis) {
    for (const x of members) {
      for (const rt of x.import) {
        for (const vrf of exportersByRt.get(rt) ?? []) {
          if (vrf === x.vrf) continue;
          const key = `${x.vrf}|${vrf}`;
          const l = leaks.get(key) ?? [];
          leaks.set(key, l);
          l.push({ device: x.device, vni, rt });
        }
      }
    }
  }
  return { missingImport, exportersByRt, leaks };
}

export const routeTargets: StaticCheck = {
  id: 'route-targets',
  title: 'Route-target import/export consistent per VNI',
  kind: 'static',
  layer: 'overlay',
  severity: 'error',
  description: 'each VNI instance imports what the other instances export; no import of another VRF\'s route targets',
  run(ctx) {
    const { fg } = ctx;
    const rt = ctx.memo('rt', () => analyzeRouteTargets(fg));
    const findings: Finding[] = [];
    const srcOf = (vni: number, device: string) => fg.vnis.get(vni)?.find((x) => x.device === device);
    for (const [vni, byDev] of rt.missingImport) {
      for (const [device, missing] of byDev) {
        const me = srcOf(vni, device)!;
        findings.push({
          check: 'route-targets',
          severity: 'error',
          message: `VNI ${vni}: ${device} imports none of the route targets ${[...new Set(missing.flatMap((x) => x.exports))].join(', ') || '(none)'} exported by ${missing.map((x) => x.from).join(', ')}`,
          evidence: { vni, device, imports: me.import, exports: me.export, peers: missing },
          location: me.source,
          elements: { devices: [device, ...missing.map((x) => x.from)] },
        });
      }
    }
    for (const [key, list] of rt.leaks) {
      const [into, from] = key.split('|');
      const first = list[0];
      findings.push({
        check: 'route-targets',
        severity: 'error',
        message: `route leak: VRF ${into} imports route target ${first.rt} exported by VRF ${from} (on ${[...new Set(list.map((x) => x.device))].join(', ')})`,
        evidence: { importingVrf: into, exportingVrf: from, instances: list },
        location: srcOf(first.vni, first.device)?.source,
        elements: { devices: [...new Set(list.map((x) => x.device))] },
      });
    }
    return { findings, examined: `${fg.vnis.size} VNIs, ${rt.exportersByRt.size} route targets` };
  },
};
