/**
 * The control-plane simulation on small fabrics whose real behaviour is known (dc1's tables
 * were read from FRR in the lab; see the README): eBGP loop prevention with and without
 * allowas-in, iBGP route reflection, ECMP, VRF import with overlapping subnets, and the twin
 * shortcut giving exactly what a run per origin gives.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { ControlPlane } from '../../src/verify/sim/control-plane.ts';
import { bgpAdjacency, ospfAdjacency } from '../../src/verify/sim/adjacency.ts';
import { FRESH_ASN, Propagator, TableSim, type Run } from '../../src/verify/sim/propagate.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { fixture, generatedModel, model, regressionModel, root, withoutAllowAs } from './helpers.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';

const prefixes = (cp: ControlPlane, dev: string, vrf?: string) => cp.rib(dev, vrf).map((r) => `${r.prefix} ${r.protocol} ${r.nextHops.map((h) => h.address ?? h.interface).join(',')}`);

describe('eBGP loop prevention', () => {
  it('dc1 (one ASN per leaf): leaf1 holds what FRR showed in the lab', () => {
    const cp = new ControlPlane(model('dc1'));
    expect(prefixes(cp, 'leaf1', 'BLUE')).toEqual([
      '10.10.10.0/24 connected VLAN 10',
      '10.10.10.11/32 kernel VLAN 10',
      '10.10.10.12/32 bgp 10.0.1.2',
      '10.10.20.0/24 bgp 10.0.1.3',
      '10.10.20.13/32 bgp 10.0.1.3',
      'fd00:10:10::/64 connected VLAN 10',
      'fd00:10:10::11/128 kernel VLAN 10',
      'fd00:10:10::12/128 bgp 10.0.1.2',
    ]);
    const def = cp.rib('leaf1');
    expect(def.find((r) => r.prefix === '10.0.1.2/32')).toMatchObject({ protocol: 'bgp', asPath: [65100, 65102], nextHops: [{ interface: 'eth1' }, { interface: 'eth2' }] });
    // Spines share AS 65100: spine2's loopback never reaches leaf1 through spine1.
    expect(def.find((r) => r.prefix === '10.0.0.102/32')?.nextHops).toEqual([{ interface: 'eth2', device: 'spine2' }]);
  });

  it('leaf pairs sharing an ASN drop each other\'s routes without allowas-in', () => {
    const cp = new ControlPlane(withoutAllowAs(fixture('dc1-pair')));
    const [l1, l2] = [cp.index.get('leaf1')!, cp.index.get('leaf2')!];
    expect(cp.underlayRoute(l2, l1)).toBeUndefined();
    expect(cp.floodList(l1, 10010)).toEqual([]);
    expect(cp.evpnProblem(l2, l1)).toBe('leaf1 has no EVPN route from leaf2: leaf1 drops it because AS_PATH 65100 65101 holds its own ASN 65101 (no allowas-in)');
    // The other pair is still reachable.
    expect(cp.floodList(l1, 10030)).toEqual(['10.0.1.4']);
    const r = verifyStatic(withoutAllowAs(fixture('dc1-pair')), { only: ['endpoint-reachability'] });
    const f = r.results[0].findings.map((x) => x.message);
    expect(f).toContain('h1 -> h2: expected bridged over VNI 10010, got broken: leaf1 has no EVPN route from leaf2: leaf1 drops it because AS_PATH 65100 65101 holds its own ASN 65101 (no allowas-in)');
  });

  it('a spine does not relay another spine\'s loopback (same ASN): a leaf with one uplink never learns it', () => {
    // Fidelity seed 55278174: leaf1's only uplink is spine1; spine2's loopback reaches spine1
    // only through border1 with spine2's ASN in the AS_PATH, and spine1 (same ASN) drops it.
    const m = regressionModel(55278174);
    const cp = new ControlPlane(m);
    const [leaf1, spine1, spine2] = ['leaf1', 'spine1', 'spine2'].map((d) => cp.index.get(d)!);
    expect(m.devices[spine1].asn).toBe(m.devices[spine2].asn);
    expect(cp.underlayRoute(spine2, spine1)).toBeUndefined();
    expect(cp.underlayRoute(spine2, leaf1)).toBeUndefined();
    expect(cp.rib('leaf1').map((r) => r.origin)).toEqual(['leaf1', 'border1', 'spine1']);
    expect(cp.underlay.explain(spine2, spine1)).toContainEqual({ neighbor: cp.index.get('border1')!, reason: 'as-loop', asPath: [m.devices[cp.index.get('border1')!].asn, m.devices[spine2].asn] });
  });

  it('with the allowas-in the model now carries, the pair exchanges routes', () => {
    const m = fixture('dc1-pair');
    expect(m.bgpSessions.filter((s) => s.a.device.startsWith('leaf')).every((s) => s.a.allowAsIn === 1)).toBe(true);
    expect(m.bgpSessions.every((s) => !s.b.allowAsIn)).toBe(true);
    const cp = new ControlPlane(m);
    const [l1, l2] = [cp.index.get('leaf1')!, cp.index.get('leaf2')!];
    expect(cp.underlayRoute(l2, l1)).toMatchObject({ asPath: [65100, 65101], ecmp: 2 });
    expect(cp.floodList(l1, 10010)).toEqual(['10.0.1.2']);
    expect(verifyStatic(m).results.every((x) => x.passed)).toBe(true);
  });
});

describe('iBGP route reflection (dc2: OSPF underlay, EOS spines reflecting)', () => {
  it('every leaf gets every other leaf\'s EVPN routes through the reflectors, with an unchanged next hop', () => {
    const m = model('dc2');
    const cp = new ControlPlane(m);
    const vteps = m.devices.map((d, i) => i).filter((i) => cp.evpn!.isOrigin(i));
    expect(vteps.length).toBeGreaterThan(3);
    for (const o of vteps) for (const v of vteps) if (o !== v) {
      const r = cp.evpnRoute(o, v);
      expect(r, `${m.devices[v].name} <- ${m.devices[o].name}`).toBeDefined();
      expect(r!.nextHop).toBe(o);
      expect(r!.asPath).toEqual([]);
    }
  });

  it('without reflection, clients learn nothing from each other', () => {
    const m = model('dc2');
    for (const s of m.bgpSessions) {
      delete s.a.routeReflectorClient;
      delete s.b.routeReflectorClient;
    }
    const cp = new ControlPlane(m);
    const vteps = m.devices.map((d, i) => i).filter((i) => cp.evpn!.isOrigin(i));
    const [a, b] = vteps;
    expect(cp.evpnRoute(a, b)).toBeUndefined();
    expect(cp.evpnProblem(a, b)).toMatch(/none of .* advertises it/);
  });

  it('a reflector prefers a client\'s own advertisement to a copy reflected by another reflector', () => {
    const m = model('dc2');
    const cp = new ControlPlane(m);
    const t = cp.evpn!;
    const rr = m.devices.findIndex((d) => d.routeReflector);
    const leaf = m.devices.findIndex((d, i) => t.isOrigin(i));
    // The reflector's own reflection, coming back from the other reflector, is refused.
    const reasons = t.explain(leaf, rr).map((x) => x.reason);
    expect(reasons).not.toContain('as-loop');
    expect(t.route(leaf, rr)).toMatchObject({ len: 0, ebgp: false, nextHop: leaf });
  });
});

describe('ECMP', () => {
  it('one next hop per spine to another leaf, one to a directly attached device', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-sim-'));
    try {
      writeGeneratedIntent(dir, generateFabricIntent({ name: 'g4', spinesPerPod: 4, leavesPerPod: 6, pods: 1 }));
      const m = loadModelSync(dir);
      const cp = new ControlPlane(m);
      const leaves = m.devices.map((d, i) => i).filter((i) => m.devices[i].role === 'leaf');
      const spine = m.devices.findIndex((d) => d.role === 'spine');
      expect(cp.underlayRoute(leaves[1], leaves[0])?.ecmp).toBe(4);
      expect(cp.underlayRoute(leaves[1], spine)?.ecmp).toBe(1);
      expect(cp.rib(m.devices[leaves[0]].name).find((r) => r.origin === m.devices[leaves[1]].name)?.nextHops).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('VRFs with overlapping subnets', () => {
  it('the same subnet in BLUE and RED stays in its own table with its own next hops', () => {
    const cp = new ControlPlane(fixture('dc1-overlap'));
    // leaf1 carries BLUE web and RED db, both 10.10.10.0/24; leaf4 has RED's h4, leaf2 BLUE's h2.
    expect(prefixes(cp, 'leaf1', 'RED')).toEqual(['10.10.10.0/24 connected VLAN 30', '10.10.10.14/32 bgp 10.0.1.4', '10.10.10.15/32 kernel VLAN 30']);
    expect(prefixes(cp, 'leaf1', 'BLUE').filter((p) => p.startsWith('10.10.10.'))).toEqual(['10.10.10.0/24 connected VLAN 10', '10.10.10.11/32 kernel VLAN 10', '10.10.10.12/32 bgp 10.0.1.2']);
    expect(prefixes(cp, 'leaf3', 'BLUE')).toContain('10.10.10.0/24 bgp 10.0.1.1,10.0.1.2');
  });
});

describe('twin classes', () => {
  const exact = (m: FabricModel, shortcut = true) => {
    const idx = new Map(m.devices.map((d, i) => [d.name, i]));
    for (const table of ['ipv4-unicast', 'l2vpn-evpn'] as const) {
      const adj = bgpAdjacency(m, table, idx, () => true);
      const origins = m.devices.map((_, i) => i).filter((i) => adj.offsets[i + 1] > adj.offsets[i]);
      const t = new TableSim(adj, origins, table === 'l2vpn-evpn');
      const p = new Propagator(adj, table === 'l2vpn-evpn');
      // Classes are computed as their origins are first asked about, here last to first.
      expect(t.computedRuns).toBe(0);
      for (const o of [...origins].reverse()) {
        const run = p.run(o, adj.asn[o]);
        for (let v = 0; v < m.devices.length; v++) {
          if (v === o) continue;
          const r = t.route(o, v);
          const want = run.len[v] < 0 ? undefined : { len: run.len[v], ecmp: run.multi[v], nextHop: run.nh[v] };
          expect(r && { len: r.len, ecmp: r.ecmp, nextHop: r.nextHop }, `${table} ${m.devices[o].name} -> ${m.devices[v].name}`).toEqual(want);
        }
      }
      if (shortcut) expect(t.runs).toBeLessThan(origins.length);
      expect(t.runs).toBe(new TableSim(adj, origins, table === 'l2vpn-evpn').runs);
    }
  };
  it('give what a run per origin gives: per leaf, leaf pairs with and without allowas-in, per pod', () => {
    exact(model('dc1'));
    exact(fixture('dc1-pair'));
    exact(withoutAllowAs(fixture('dc1-pair')));
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-sim-'));
    try {
      writeGeneratedIntent(dir, generateFabricIntent({ name: 'pods', spinesPerPod: 2, leavesPerPod: 4, pods: 2, superSpines: 2 }));
      exact(loadModelSync(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('give what a run per origin gives when a device sharing the representative\'s ASN relays (partial uplinks)', () => {
    exact(regressionModel(55278174), false);
  });

  it('are computed one at a time, when one of their origins is first asked about', () => {
    const m = generatedModel(generateFabricIntent({ name: 'lazy', superSpines: 2, pods: 2, spinesPerPod: 2, leavesPerPod: 4 }));
    const idx = new Map(m.devices.map((d, i) => [d.name, i]));
    const adj = bgpAdjacency(m, 'ipv4-unicast', idx, () => true);
    const origins = m.devices.map((_, i) => i).filter((i) => adj.offsets[i + 1] > adj.offsets[i]);
    const t = new TableSim(adj, origins, false);
    const [leaf1, leaf2, spine1] = ['p1-leaf1', 'p1-leaf2', 'p1-spine1'].map((n) => idx.get(n)!);
    expect(t.computedRuns).toBe(0);
    expect(t.route(leaf1, spine1)?.len).toBe(1);
    const one = t.computedRuns;
    expect(one).toBeGreaterThan(0);
    // leaf2 is leaf1's twin: its routes come from the run already made.
    expect(t.classOf[leaf2]).toBe(t.classOf[leaf1]);
    expect(t.route(leaf2, leaf1)?.len).toBe(2);
    expect(t.computedRuns).toBe(one);
    expect(t.nextHop(spine1, leaf1)).toBe(spine1);
    expect(t.computedRuns).toBeGreaterThan(one);
    // The second pod's leaves and spines, and the super-spines, were never asked about.
    const sofar = t.computedRuns;
    expect(t.runs).toBeGreaterThan(sofar);
  });
});

describe('sessions that carry nothing', () => {
  it('a border leaf whose VRF has no local network originates no EVPN route', () => {
    // Fidelity seed 55278174: border1 holds VRF T2V1 without networks; nobody has a VNI.
    const m = regressionModel(55278174);
    const cp = new ControlPlane(m);
    expect(cp.evpnOrigins()).toEqual([]);
    m.bgpSessions.forEach((s, i) => {
      if (!s.afiSafis.includes('l2vpn-evpn')) return;
      expect(cp.sessionUp[i], s.id).toBe(1);
      expect([cp.sessionCarries(i, 'a', 'l2vpn-evpn'), cp.sessionCarries(i, 'b', 'l2vpn-evpn')], s.id).toEqual([false, false]);
    });
  });

  it('one border leaf with an endpoint, one with only the VRF: only the latter receives', () => {
    // Fidelity seed 66980212 (leaves share an ASN per pod, allowas-in).
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-sim-'));
    try {
      writeGeneratedIntent(dir, intentFiles(randomIntent(66980212)));
      const m = loadModelSync(dir);
      const cp = new ControlPlane(m);
      expect(cp.evpnOrigins().map((i) => m.devices[i].name)).toEqual(['border1']);
      const carries = (dev: string) => {
        const i = m.bgpSessions.findIndex((s) => s.a.device === dev && s.afiSafis.includes('l2vpn-evpn'));
        return [cp.sessionCarries(i, 'a', 'l2vpn-evpn'), cp.sessionCarries(i, 'b', 'l2vpn-evpn')];
      };
      // [border receives, spine receives]
      expect(carries('border1')).toEqual([false, true]);
      expect(carries('border2')).toEqual([true, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a run re-evaluates only the neighbours an offer may change, and marks transit devices from their own rows', () => {
  /** Every neighbour of a device that changed re-evaluated, and transit marked from every row: what Propagator did before. */
  class EveryNeighbour extends Propagator {
    protected override mayChange(): boolean {
      return true;
    }
    protected override markTransit(run: Run): void {
      const a = this.adj;
      for (let v = 0; v < a.n; v++) {
        if (v === run.origin || run.len[v] < 0) continue;
        for (let k = a.offsets[v]; k < a.offsets[v + 1]; k++) {
          const u = a.nbr[k];
          if (run.len[u] < 0 || run.len[v] !== run.len[u] + (a.protocol === 'ospf' || a.ebgp[k] ? 1 : 0)) continue;
          if (a.protocol === 'bgp' && !a.ebgp[k] && !a.routeReflector[u] && !run.ebgp[u] && u !== run.origin) continue;
          run.transit[u] = 1;
        }
      }
    }
  }
  const same = (m: FabricModel, label: string) => {
    const idx = new Map(m.devices.map((d, i) => [d.name, i]));
    const adjs = [
      ...(['ipv4-unicast', 'l2vpn-evpn'] as const).map((t) => ({ adj: bgpAdjacency(m, t, idx, () => true), evpn: t === 'l2vpn-evpn' })),
      // A session down now and then: the withdrawn-path cases.
      { adj: bgpAdjacency(m, 'ipv4-unicast', idx, (_, i) => i % 5 !== 2), evpn: false },
      ...(m.ospfAdjacencies?.length ? [{ adj: ospfAdjacency(m, idx), evpn: false }] : []),
    ];
    let checked = 0;
    for (const { adj, evpn } of adjs) {
      const fast = new Propagator(adj, evpn);
      const slow = new EveryNeighbour(adj, evpn);
      for (let o = 0; o < adj.n; o++) {
        if (adj.offsets[o + 1] === adj.offsets[o]) continue;
        for (const asn of adj.protocol === 'bgp' ? [adj.asn[o], FRESH_ASN] : [adj.asn[o]]) {
          const a = fast.run(o, asn);
          const b = slow.run(o, asn);
          // Sequence ids depend on the order they were interned in: compared as sequences.
          const view = (p: Propagator, r: typeof a) => ({
            len: [...r.len], ebgp: [...r.ebgp], fromClient: [...r.fromClient], nh: [...r.nh], via: [...r.via], multi: [...r.multi], allowAs: [...r.allowAs], transit: [...r.transit],
            path: [...r.path].map((x) => p.paths.list(x).join(' ')),
            cluster: [...r.cluster].map((x) => p.clusters.list(x).join(' ')),
          });
          expect(view(fast, a), `${label} ${adj.protocol}${evpn ? ' evpn' : ''} from ${m.devices[o].name}`).toEqual(view(slow, b));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  };
  it('gives every run the same state on the examples, the regressions and random fabrics', () => {
    same(model('dc1'), 'dc1');
    same(model('dc2'), 'dc2');
    same(fixture('dc1-pair'), 'dc1-pair');
    same(withoutAllowAs(fixture('dc1-pair')), 'dc1-pair without allowas-in');
    same(regressionModel(55278174), 'seed 55278174');
    same(regressionModel(28120239), 'seed 28120239');
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-sim-'));
    try {
      writeGeneratedIntent(dir, generateFabricIntent({ name: 'pods', spinesPerPod: 2, leavesPerPod: 4, pods: 3, superSpines: 2 }));
      same(loadModelSync(dir), 'three pods');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (let s = 0; s < 40; s++) same(generatedModel(intentFiles(randomIntent(900 + s))), `random intent ${900 + s}`);
  });
});
