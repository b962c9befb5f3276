import { describe, expect, it } from 'vitest';
import { compareLive, LiveComparison } from '../../src/verify/live/compare.ts';
import { model, recordedObservations } from './helpers.ts';

const failing = (results: ReturnType<typeof compareLive>, id: string) => results.find((r) => r.check.id === id)!.findings.filter((f) => f.severity === 'error');

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
  it('probes follow the reachability matrix', () => {
    const r = compareLive(model('dc1'), {
      devices: [],
      probes: [
        { src: 'h1', dst: 'h2', address: '10.10.10.12', answered: true },
        { src: 'h1', dst: 'h3', address: '10.10.20.13', answered: false },
        { src: 'h1', dst: 'h4', address: '10.20.30.14', answered: true },
        { src: 'h5', dst: 'h1', address: '10.10.10.11', answered: false },
      ],
    });
    expect(failing(r, 'live-probes').map((f) => f.message)).toEqual([
      'h1 -> h3 (10.10.20.13): expected routed, no answer',
      'h1 -> h4 (10.20.30.14): expected isolated, but it answered',
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
    // 7 device-local keys + spine2's 4 sessions.
    expect(c.recomputed).toBe(11);
    const full = compareLive(m, { devices: obs.map((o) => (o.device === 'spine2' ? changed : o)), probes: [] });
    expect(c.allFindings()).toEqual(expect.arrayContaining(full.flatMap((r) => r.findings)));
    expect(c.allFindings()).toHaveLength(full.flatMap((r) => r.findings).length);
    expect(failing(full, 'live-bgp-sessions').map((f) => f.message)).toEqual(['session leaf1:eth2--spine2:eth1 not established: spine2: ipv4-unicast is Active; spine2: l2vpn-evpn is Active']);
  });
});
