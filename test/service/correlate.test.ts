/**
 * Incident correlation on the dc1 model, over findings recorded from a real dc1 lab
 * (`verify --live` with probes; fixtures/): one spine link down is one link incident; bgpd
 * stopped on a leaf is one device incident, not one per session or route. The same for an OSPF
 * underlay, over findings recorded from a lab of a generated two-pod fabric (fixtures/gx-ospf),
 * and for a numbered eBGP underlay with EVPN between loopbacks (fixtures/gn-ebgp); a spine
 * whose every link went down is one device incident (fixtures/gu-ebgp, three tiers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { Correlator } from '../../src/service/correlate.ts';
import { findingKey } from '../../src/service/finding-key.ts';
import type { Finding } from '../../src/verify/findings.ts';
import { buildFabricGraph, countPaths } from '../../src/verify/graph.ts';

const fg = buildFabricGraph(loadModelSync('intents/dc1'));
const fixture = (name: string) => new Map((JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8')) as Finding[]).map((f) => [findingKey(f), f]));

/** The recorded findings of a generated fabric's lab (fixtures/DIR and fixtures/NAME.json), and their explanation: exactly `element`, explaining every one. */
function oneIncident(dir: string, name: string, element: string): Map<string, Finding> {
  const findings = fixture(name);
  const x = new Correlator(buildFabricGraph(loadModelSync(`test/service/fixtures/${dir}`))).explain(findings);
  expect(x.map((e) => e.element)).toEqual([element]);
  expect(x[0].findings).toHaveLength(findings.size);
  return findings;
}

describe('incident correlation', () => {
  it('a spine link down: its session, the reduced ECMP and the rerouted loopbacks are one link incident', () => {
    const findings = fixture('dc1-spine-link-down');
    const checks = new Set([...findings.values()].map((f) => f.check));
    expect(checks).toEqual(new Set(['live-bgp-sessions', 'live-underlay-ecmp', 'live-fabric-rib', 'live-probes']));
    const x = new Correlator(fg).explain(findings);
    expect(x.map((e) => e.element)).toEqual(['link:leaf1:eth1--spine1:eth1']);
    expect(x[0].findings).toHaveLength(findings.size);
  });

  it('bgpd stopped on leaf2: one device incident explains its sessions, routes, VNIs, MACs and ECMP elsewhere', () => {
    const findings = fixture('dc1-leaf2-bgpd-stopped');
    const x = new Correlator(fg).explain(findings);
    const leaf2 = x.find((e) => e.element === 'device:leaf2')!;
    expect(leaf2).toBeDefined();
    const sessions = [...findings].filter(([, f]) => f.check === 'live-bgp-sessions').map(([k]) => k);
    expect(sessions).toHaveLength(2);
    for (const k of sessions) expect(leaf2.findings).toContain(k);
    // Whatever leaf2 does not explain is traffic that never touches it.
    for (const e of x.filter((y) => y !== leaf2)) for (const k of e.findings) expect(JSON.stringify(findings.get(k))).not.toMatch(/leaf2|10\.0\.1\.2\b/);
    expect(leaf2.findings.length).toBeGreaterThan(findings.size - 4);
  });

  it('the explanation is the smallest cover: each finding is explained once', () => {
    const findings = fixture('dc1-leaf2-bgpd-stopped');
    const all = new Correlator(fg).explain(findings).flatMap((e) => e.findings);
    expect(all.sort()).toEqual([...findings.keys()].sort());
  });

  it('path elements: every link and device on the equal-cost underlay paths between two leaves', () => {
    const p = new Correlator(fg).pathElements('leaf1', 'leaf3');
    expect(p.filter((e) => e.startsWith('device:')).sort()).toEqual(['device:leaf1', 'device:leaf3', 'device:spine1', 'device:spine2']);
    expect(p.filter((e) => e.startsWith('link:'))).toHaveLength(4);
  });

  it('path elements walked from one end to the other end\'s distances equal the paths found from both ends\' distances, whichever end is kept', () => {
    // The reference: a search from each end; a device on a shortest path when its distances add up.
    const reference = (g: ReturnType<typeof buildFabricGraph>, from: string, to: string): string[] => {
      const n = g.underlay.n;
      const [a, b] = [from, to].map((x) => {
        const d = new Int32Array(n);
        countPaths(g.underlay, g.deviceIndex.get(x)!, d, new Float64Array(n), new Int32Array(n));
        return d;
      });
      const total = a[g.deviceIndex.get(to)!];
      const out: string[] = [];
      if (total <= 0) return out;
      const { offsets, targets, link } = g.underlay;
      for (let u = 0; u < n; u++) {
        if (a[u] < 0 || b[u] < 0 || a[u] + b[u] !== total) continue;
        out.push(`device:${g.devices[u].name}`);
        for (let k = offsets[u]; k < offsets[u + 1]; k++) if (a[u] + 1 + b[targets[k]] === total) out.push(`link:${g.linkName(g.model.links[link[k]])}`);
      }
      return out;
    };
    const fabrics = [fg, buildFabricGraph(loadModelSync('test/service/fixtures/gx-ospf')), buildFabricGraph(loadModelSync('test/service/fixtures/gu-ebgp')), buildFabricGraph(loadModelSync('intents/dc2'))];
    let pairs = 0;
    for (const g of fabrics) {
      const names = g.devices.map((d) => d.name);
      // Pairs in an order that keeps one end, then the other, then neither (each way of walking).
      const c = new Correlator(g);
      for (const x of names) {
        for (const y of names) {
          expect(c.pathElements(x, y), `${x} -> ${y}`).toEqual(reference(g, x, y));
          pairs++;
        }
      }
      const fresh = new Correlator(g);
      for (const y of [...names].reverse()) for (const x of names) expect(fresh.pathElements(x, y), `${x} -> ${y}`).toEqual(reference(g, x, y));
    }
    expect(pairs).toBeGreaterThanOrEqual(300);
  });

  it('an OSPF underlay link down (two pods, super-spines): its adjacency at both ends, its interfaces, the rerouted loopbacks and the reduced ECMP are one link incident', () => {
    const findings = oneIncident('gx-ospf', 'gx-ospf-link-down', 'link:p1-leaf1:eth1--p1-spine1:eth1');
    expect(new Set([...findings.values()].map((f) => f.check))).toEqual(new Set(['live-ospf', 'live-fabric-interfaces', 'live-fabric-rib', 'live-underlay-ecmp']));
  });

  it('a numbered eBGP underlay link down: its session found by address, and the EVPN session between loopbacks that rode it, are one link incident', () => {
    const findings = oneIncident('gn-ebgp', 'gn-ebgp-link-down', 'link:p1-leaf2:eth2--p1-spine2:eth2');
    const sessions = [...findings.values()].filter((f) => f.check === 'live-bgp-sessions').map((f) => f.evidence.session).sort();
    expect(sessions).toEqual(['p1-leaf2--p1-spine2', 'p1-leaf2:eth2--p1-spine2:eth2']);
  });

  it('a spine gone (every link down): its sessions, its neighbours\' ports without carrier, the rerouted loopbacks, the probes are one device incident', () => {
    const findings = oneIncident('gu-ebgp', 'gu-spine-down', 'device:p1-spine1');
    const carrierLost = [...findings.values()].filter((f) => f.check === 'live-fabric-interfaces' && f.evidence.device !== 'p1-spine1');
    expect(carrierLost.map((f) => f.message).sort()).toEqual([
      'p1-leaf1: eth1 (to p1-spine1:eth1) is down: no carrier (oper DOWN)',
      'p1-leaf2: eth1 (to p1-spine1:eth2) is down: no carrier (oper DOWN)',
      'ss1: eth1 (to p1-spine1:eth3) is down: no carrier (oper DOWN)',
      'ss2: eth1 (to p1-spine1:eth4) is down: no carrier (oper DOWN)',
    ]);
  });

  it('no findings, no incidents', () => {
    expect(new Correlator(fg).explain(new Map())).toEqual([]);
  });
});
