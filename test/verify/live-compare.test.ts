import { describe, expect, it } from 'vitest';
import { compareLive, LiveBasis, LiveComparison } from '../../src/verify/live/compare.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { DOMAINS } from '../../src/domains/index.ts';
import { basisOf } from '../../src/domains/fabric/index.ts';
import { generatedModel, model, recordedObservations, regressionModel } from './helpers.ts';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import type { FabricModel } from '../../src/model/types.ts';
import type { DeviceObservation } from '../../src/verify/live/observed.ts';
import { probePlan } from '../../src/verify/live/probes.ts';
import { FORWARDING_CHECK } from '../../src/domains/fabric/forwarding-live.ts';
import { INTERFACES_CHECK } from '../../src/domains/fabric/interfaces-live.ts';


/** Every session of the model Established at both ends, with pfxRcd per (device, session) from `pfx`. */
function sessionsUp(m: FabricModel, pfx: (device: string, sessionId: string, afi: string) => number): DeviceObservation[] {
  const AFI: Record<string, string> = { 'ipv4-unicast': 'ipv4Unicast', 'ipv6-unicast': 'ipv6Unicast', 'l2vpn-evpn': 'l2VpnEvpn' };
  return m.devices.map((d) => ({
    device: d.name,
    errors: {},
    bgp: m.bgpSessions.flatMap((s) => (['a', 'b'] as const).flatMap((me) => {
      if (s[me].device !== d.name) return [];
      const other = me === 'a' ? s.b : s.a;
      return s.afiSafis.map((afi) => ({ vrf: 'default', afi: AFI[afi], peer: s[me].interface ?? other.address!, state: 'Established', pfxRcd: pfx(d.name, s.id, afi) }));
    })),
  }));
}

const failing = (results: ReturnType<typeof compareLive>, id: string) => results.find((r) => r.check.id === id)!.findings.filter((f) => f.severity === 'error');

describe('live comparison of an OSPF underlay (dc2)', () => {
  it('an adjacency missing at one end names both devices and the link it runs over', () => {
    const m = model('dc2');
    // border1 sees spine2 Full and nothing from spine1; no other device was asked about OSPF.
    const spine2 = m.ospfAdjacencies.find((a) => a.id === 'border1:Ethernet2--spine2:Ethernet21')!;
    const obs: DeviceObservation[] = [{ device: 'border1', errors: {}, ospf: [{ routerId: spine2.b.routerId!, state: 'Full/-', iface: 'Ethernet2', address: spine2.b.address!.split('/')[0] }] }];
    const f = failing(compareLive(m, { devices: obs, probes: [] }), 'live-ospf');
    expect(f.map((x) => x.message)).toEqual(['border1: OSPF adjacency border1:Ethernet1--spine1:Ethernet21 is absent']);
    expect(f[0].elements).toEqual({ devices: ['border1', 'spine1'], links: ['border1:Ethernet1--spine1:Ethernet21'] });
  });
});

describe('live comparison of a numbered eBGP underlay', () => {
  it('a session down names the link it runs over, found by its address', () => {
    const m = generatedModel(generateFabricIntent({ name: 'numbered', pods: 1, spinesPerPod: 2, leavesPerPod: 2, underlay: 'ebgp' }));
    const s = m.bgpSessions.find((x) => x.layer !== 'overlay' && x.a.device === 'p1-leaf1' && x.b.device === 'p1-spine2')!;
    expect(s.a.interface).toBeUndefined();
    const obs = sessionsUp(m, () => 1);
    for (const p of obs.find((o) => o.device === 'p1-spine2')!.bgp!) if (p.peer === s.a.address!.split('/')[0]) p.state = 'Idle';
    const f = failing(compareLive(m, { devices: obs, probes: [] }), 'live-bgp-sessions');
    expect(f.map((x) => x.evidence.session)).toEqual([s.id]);
    expect(f[0].elements).toEqual({ devices: ['p1-leaf1', 'p1-spine2'], links: ['p1-leaf1:eth2--p1-spine2:eth1'] });
  });
});

describe('live comparison on state recorded from FRR 8.4 in the dc1 lab', () => {
  it('parses the recorded JSON: sessions up with prefixes, two next hops to every VTEP', () => {
    const obs = recordedObservations();
    expect(obs.find((o) => o.device === 'leaf1')!.bgp!.filter((p) => p.state === 'Established').map((p) => `${p.afi}/${p.peer}`)).toEqual(['ipv4Unicast/eth1', 'ipv4Unicast/eth2', 'l2VpnEvpn/eth1', 'l2VpnEvpn/eth2']);
    const r = compareLive(model('dc1'), { devices: obs, probes: [] });
    expect(failing(r, 'live-bgp-sessions')).toEqual([]);
    expect(failing(r, 'live-underlay-ecmp')).toEqual([]);
  });
  it('reports what that lab (a kernel without VRF devices) really got wrong', () => {
    const r = compareLive(model('dc1'), { devices: recordedObservations(), probes: [] });
    const msgs = failing(r, 'live-evpn-vnis').map((f) => f.message);
    expect(msgs).toContain('leaf1: VNI 10010 is L3, expected L2');
    expect(msgs).toContain('leaf1: L3 VNI 50001 is Down');
    expect(msgs).toContain('leaf1: VNI 10030 remote VTEPs lack 10.0.1.4 (leaf4); include unexpected 10.0.0.4 (10.0.0.4)');
  });
  it('a session down on one end names exactly that session', () => {
    const obs = recordedObservations();
    for (const p of obs.find((o) => o.device === 'spine1')!.bgp!) if (p.peer === 'eth3') p.state = 'Idle';
    const f = failing(compareLive(model('dc1'), { devices: obs, probes: [] }), 'live-bgp-sessions');
    expect(f).toHaveLength(1);
    expect(f[0].message).toBe('session leaf3:eth1--spine1:eth3 not established: spine1: ipv4-unicast is Idle; spine1: l2vpn-evpn is Idle');
    expect(f[0].elements?.links).toEqual(['leaf3:eth1--spine1:eth3']);
    expect(f[0].location).toEqual({ file: 'intents/dc1/nodes.yaml', line: 17, col: 31 });
  });
  it('bgpd stopped on a leaf: its sessions, with the reason', () => {
    const obs = recordedObservations();
    const leaf2 = obs.find((o) => o.device === 'leaf2')!;
    delete leaf2.bgp;
    leaf2.errors['show bgp vrf all summary json'] = 'bgpd is not running';
    const f = failing(compareLive(model('dc1'), { devices: obs, probes: [] }), 'live-bgp-sessions');
    expect(f.map((x) => x.message)).toEqual([
      'session leaf2:eth1--spine1:eth2 not established: leaf2: bgpd is not running',
      'session leaf2:eth2--spine2:eth2 not established: leaf2: bgpd is not running',
    ]);
  });
  it('a route with fewer next hops is reduced ECMP', () => {
    const obs = recordedObservations();
    obs.find((o) => o.device === 'leaf1')!.routes!.default.find((r) => r.prefix === '10.0.1.2/32')!.nexthops = 1;
    const f = failing(compareLive(model('dc1'), { devices: obs, probes: [] }), 'live-underlay-ecmp');
    expect(f.map((x) => x.message)).toEqual(["leaf1: reduced ECMP to leaf2's VTEP 10.0.1.2/32: 1 next hop, expected 2"]);
  });
  it('polls sharing one basis (the service\'s rounds) judge exactly as fresh comparisons do, and the fabric domain keeps its basis per graph', () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const basis = new LiveBasis(m, fg);
    const healthy = recordedObservations();
    const down = recordedObservations();
    for (const p of down.find((o) => o.device === 'spine2')!.bgp!) if (p.peer === 'eth1') p.state = 'Active';
    const probes = [{ src: 'h1', dst: 'h4', family: 4 as const, address: '10.20.30.14', answered: true }];
    const strip = (r: ReturnType<typeof compareLive>) => r.map((x) => ({ ...x, ms: 0 }));
    for (const obs of [healthy, down, healthy]) {
      const shared = compareLive(m, { devices: obs, probes }, fg, basis);
      expect(strip(shared)).toEqual(strip(compareLive(m, { devices: obs, probes }, fg)));
    }
    expect(failing(compareLive(m, { devices: down, probes: [] }, fg, basis), 'live-bgp-sessions').map((f) => f.message)).toEqual([expect.stringMatching(/^session leaf1:eth2--spine2:eth1 not established: spine2: ipv4-unicast is Active/)]);
    // Another model's basis is not used: the comparison derives its own.
    expect(new LiveComparison(model('dc1'), undefined, basis).basis).not.toBe(basis);
    const live = DOMAINS.fabric.verify.live!;
    // The fabric's comparison is FRR's tables' and, after them, the kernel's forwarding state
    // and interfaces (not part of these recorded observations).
    expect(strip(live.compare(m, { devices: down, probes }, fg))).toEqual([...strip(compareLive(m, { devices: down, probes }, fg)), { check: FORWARDING_CHECK, passed: true, findings: [], examined: 'not collected', ms: 0 }, { check: INTERFACES_CHECK, passed: true, findings: [], examined: 'not collected', ms: 0 }]);
    expect(basisOf(m, fg)).toBe(basisOf(m, fg));
    expect(basisOf(model('dc1'), fg)).not.toBe(basisOf(m, fg));
  });
  it('probes follow the reachability matrix', () => {
    const r = compareLive(model('dc1'), {
      devices: [],
      probes: [
        { src: 'h1', dst: 'h2', family: 4, address: '10.10.10.12', answered: true },
        { src: 'h1', dst: 'h3', family: 4, address: '10.10.20.13', answered: false },
        { src: 'h1', dst: 'h4', family: 4, address: '10.20.30.14', answered: true },
        { src: 'h5', dst: 'h1', family: 4, address: '10.10.10.11', answered: false },
      ],
    });
    expect(failing(r, 'live-probes').map((f) => f.message)).toEqual([
      'h1 -> h3 (10.10.20.13): expected routed, no answer',
      'h1 -> h4 (10.20.30.14): expected isolated, but it answered',
    ]);
  });
  it('a ping to an address two VRFs share is judged by who owns it in the source\'s VRF (fidelity seed 47481669)', () => {
    // h1 (T1V1 on border1) and h11 (T4V1 on leaf1) both are 10.103.3.54: each one's ping to
    // "the other" is answered by itself. That is no leak.
    const m = regressionModel(47481669);
    const plan = probePlan(m.endpoints);
    expect(plan.map((p) => `${p.src}>${p.dst} ${p.address}`)).toEqual(['h1>h11 10.103.3.54', 'h11>h1 10.103.3.54']);
    const answered = compareLive(m, { devices: [], probes: plan.map((p) => ({ ...p, answered: true })) });
    expect(failing(answered, 'live-probes')).toEqual([]);
    // Silence is wrong: the source's own address always answers.
    const silent = compareLive(m, { devices: [], probes: plan.map((p) => ({ ...p, answered: false })) });
    expect(failing(silent, 'live-probes').map((f) => f.message)).toEqual([
      'h1 -> h11 (10.103.3.54): expected an answer from itself, which owns 10.103.3.54 too, no answer',
      'h11 -> h1 (10.103.3.54): expected an answer from itself, which owns 10.103.3.54 too, no answer',
    ]);
  });
  it('a real leak is still caught: an answer from an address only another VRF has', () => {
    const m = model('dc1');
    // h4 is RED, h1 BLUE: nobody in BLUE owns h4's address.
    const r = compareLive(m, { devices: [], probes: [{ src: 'h1', dst: 'h4', family: 4, address: '10.20.30.14', answered: true }] });
    expect(failing(r, 'live-probes').map((f) => f.message)).toEqual(['h1 -> h4 (10.20.30.14): expected isolated, but it answered']);
  });
  it('IPv6 probes are part of the plan and judged per family', () => {
    const m = model('dc1');
    const plan = probePlan(m.endpoints);
    const v6 = plan.filter((p) => p.family === 6);
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every((p) => p.address.includes(':'))).toBe(true);
    const h1h2 = v6.find((p) => p.src === 'h1' && p.dst === 'h2')!;
    // Bridged in BLUE: an IPv6 ping that gets no answer is a finding naming the family.
    const r = compareLive(m, { devices: [], probes: [{ ...h1h2, answered: false }, ...plan.filter((p) => p.family === 4 && p.src === 'h1' && p.dst === 'h2').map((p) => ({ ...p, answered: true }))] });
    expect(failing(r, 'live-probes').map((f) => f.message)).toEqual([`h1 -> h2 (IPv6 ${h1h2.address}): expected bridged, no answer`]);
    expect(r.find((x) => x.check.id === 'live-probes')!.examined).toBe('2 probes');
  });
  it('a border leaf\'s EVPN sessions that carry nothing need no prefixes (fidelity seed 55278174)', () => {
    const m = regressionModel(55278174);
    // Every session Established; underlay sessions with prefixes, EVPN sessions without.
    const obs = sessionsUp(m, (_d, _s, afi) => (afi === 'l2vpn-evpn' ? 0 : 3));
    expect(failing(compareLive(m, { devices: obs, probes: [] }), 'live-bgp-sessions')).toEqual([]);
    // An underlay session that should carry routes and received none is still reported.
    const empty = sessionsUp(m, (d, s, afi) => (afi === 'l2vpn-evpn' || (d === 'leaf1' && s.startsWith('leaf1:')) ? 0 : 3));
    expect(failing(compareLive(m, { devices: empty, probes: [] }), 'live-bgp-sessions').map((f) => f.message)).toEqual([
      'session leaf1:eth1--spine1:eth19 not established: leaf1: ipv4-unicast Established but received no prefixes',
    ]);
  });
  it('re-checking one changed observation touches only its keys and equals a full comparison', () => {
    const m = model('dc1');
    const obs = recordedObservations();
    const c = new LiveComparison(m);
    for (const o of obs) c.update(o);
    const changed = structuredClone(obs.find((o) => o.device === 'spine2')!);
    for (const p of changed.bgp!) if (p.peer === 'eth1') p.state = 'Active';
    c.recomputed = 0;
    c.update(changed);
    // Only the parts that differ (a clone differs everywhere it has state): collection, the
    // default table's two keys (rib, underlay), and of spine2's 4 sessions the one whose
    // neighbour entries changed; a spine has no VNI, MAC or VRF part.
    expect(c.recomputed).toBe(4);
    const full = compareLive(m, { devices: obs.map((o) => (o.device === 'spine2' ? changed : o)), probes: [] });
    expect(c.allFindings()).toEqual(expect.arrayContaining(full.flatMap((r) => r.findings)));
    expect(c.allFindings()).toHaveLength(full.flatMap((r) => r.findings).length);
    expect(failing(full, 'live-bgp-sessions').map((f) => f.message)).toEqual(['session leaf1:eth2--spine2:eth1 not established: spine2: ipv4-unicast is Active; spine2: l2vpn-evpn is Active']);
  });
});
