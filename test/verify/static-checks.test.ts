import { describe, expect, it } from 'vitest';
import { allStaticChecks } from '../../src/domains/index.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import path from 'node:path';
import { brokenIntent, failures, model } from './helpers.ts';

describe('static checks on the examples', () => {
  it.each(['dc1', 'dc2'] as const)('%s passes every check', (dc) => {
    const r = verifyStatic(model(dc));
    // Every registered domain's checks (the firewall's too: they pass on a fabric without policy).
    expect(r.results.map((x) => x.check.id)).toEqual(allStaticChecks().map((c) => c.id));
    expect(r.results.flatMap((x) => x.findings)).toEqual([]);
  });
  it('dc1 reachability matrix counts pairs by kind', () => {
    const r = verifyStatic(model('dc1'), { only: ['endpoint-reachability'] });
    expect(r.results[0].examined).toBe('10 endpoint pairs: 2 bridged, 2 routed, 6 isolated, 0 wrong');
  });
});

// Faults an intent can express start from a broken intent (the locations then point into it).
describe('broken intents give the exact finding', () => {
  it('a VRF whose route target is another VRF\'s: a route leak both ways, isolation broken', () => {
    const { model: m, dir } = brokenIntent('dc1', { 'tenants.yaml': (t) => t.replace('      - name: RED\n        id: 2\n', '      - name: RED\n        id: 2\n        route_target: 65000:50001\n') });
    const f = failures(m);
    expect(f.filter((x) => x.check === 'route-targets').map((x) => x.message)).toEqual([
      'route leak: VRF BLUE imports route target 65000:50001 exported by VRF RED (on leaf1, leaf2, leaf3)',
      'route leak: VRF RED imports route target 65000:50001 exported by VRF BLUE (on leaf1, leaf4)',
    ]);
    expect(f.find((x) => x.check === 'route-targets')!.location).toEqual({ file: path.join(dir, 'tenants.yaml'), line: 8, col: 9 });
    const leaks = f.filter((x) => x.check === 'endpoint-reachability');
    expect(leaks.map((x) => x.evidence.examples).flat().sort()).toEqual(['h1-h4', 'h2-h4', 'h2-h5', 'h3-h4', 'h3-h5']);
    expect(leaks[0].message).toBe('h1 -> h4: expected isolated, got routed: route leak: leaf1 VRF BLUE imports 65000:50001 exported by VRF RED');
  });
  it('a leaf with one uplink: reduced ECMP, a bridge and an articulation point', () => {
    const { model: m, dir } = brokenIntent('dc1', { 'nodes.yaml': (t) => t.replace('leaf1: { group: leaves, id: 1 }', 'leaf1: { group: leaves, id: 1, uplinks: [spine2] }') });
    const f = failures(m);
    const ecmp = f.filter((x) => x.check === 'underlay-ecmp');
    expect(ecmp).toHaveLength(1);
    expect(ecmp[0].message).toBe('leaf1 <-> leaf2, leaf3, leaf4: 1 equal-cost underlay path, the design promises 2 (3 VTEP pairs); no underlay link to spine1');
    expect(ecmp[0].evidence).toMatchObject({ ecmp: 1, promised: 2, pairs: 3, missingUplinks: ['spine1'] });
    expect(ecmp[0].location).toEqual({ file: path.join(dir, 'nodes.yaml'), line: 15, col: 3 });
    const spof = f.filter((x) => x.check === 'single-points-of-failure').map((x) => x.message);
    expect(spof).toEqual([
      'spine2 is an articulation point: losing it cuts 1 VTEP off the rest of the underlay',
      'link leaf1:eth1--spine2:eth1 is a bridge: it is the only underlay path between its two sides',
      '3 VTEP pairs have a min-cut of 1 link (e.g. leaf1-leaf2)',
    ]);
  });
  it('an extra link with a lowered MTU leaves no VXLAN headroom', () => {
    const { model: m, dir } = brokenIntent('dc2', {
      'nodes.yaml': (t) => `${t}\nlinks:\n  - endpoints: [leaf1:Ethernet1/49, leaf4:Ethernet49]\n    prefix: 10.0.3.0/31\n    mtu: 9000\n`,
    });
    const f = failures(m, 'vxlan-mtu');
    expect(f).toHaveLength(1);
    expect(f[0].message).toBe('link leaf1:Ethernet1/49--leaf4:Ethernet49: MTU 9000 leaves no VXLAN headroom for tenant MTU 9000 (frontend), needs 9050');
    expect(f[0].location).toEqual({ file: path.join(dir, 'nodes.yaml'), line: 21, col: 5 });
  });
});

// States no intent can reach, built by editing the model (as a device whose configuration
// drifted from it would be): the model derives both ends of a session, adjacency or link from
// one fact, a VNI, route target, area or timer for every leaf at once, and every address from
// a unique node id.
describe('broken models give the exact finding', () => {
  it('one end of a BGP session with the wrong ASN', () => {
    const m = model('dc1');
    m.devices.find((d) => d.name === 'spine1')!.asn = 65999;
    const f = failures(m, 'bgp-session-compat');
    expect(f).toHaveLength(4);
    expect(f[0].message).toBe('session leaf1:eth1--spine1:eth1: leaf1 peers with spine1 as remote-as 65100, but spine1 runs AS 65999');
    expect(f[0].evidence).toMatchObject({ session: 'leaf1:eth1--spine1:eth1', 'leaf1.remoteAs': 65100, 'spine1.localAs': 65999 });
    expect(f[0].location).toEqual({ file: 'intents/dc1/nodes.yaml', line: 15, col: 31 });
    expect(f.map((x) => x.evidence.session)).toEqual(['leaf1:eth1--spine1:eth1', 'leaf2:eth1--spine1:eth2', 'leaf3:eth1--spine1:eth3', 'leaf4:eth1--spine1:eth4']);
  });
  it('unnumbered session on a miscabled interface pair', () => {
    const m = model('dc1');
    m.bgpSessions[0].b.interface = 'eth2';
    const f = failures(m, 'bgp-session-compat');
    expect(f.map((x) => x.message)).toContain('session leaf1:eth1--spine1:eth1: leaf1:eth1 is cabled to spine1:eth1, not to spine1:eth2');
  });
  it('a session without L2VPN EVPN', () => {
    const m = model('dc1');
    m.bgpSessions[2].afiSafis = ['ipv4-unicast'];
    const f = failures(m, 'bgp-session-compat');
    expect(f).toHaveLength(1);
    expect(f[0].message).toBe(`session ${m.bgpSessions[2].id} (underlay+overlay) lacks address family l2vpn-evpn`);
    expect(f[0].evidence.missing).toEqual(['l2vpn-evpn']);
  });
  it('OSPF: MTU, area and timers mismatches on dc2', () => {
    const m = model('dc2');
    const adj = m.ospfAdjacencies[0];
    m.devices.find((d) => d.name === adj.a.device)!.interfaces.find((i) => i.name === adj.a.interface)!.mtu = 1500;
    let f = failures(m, 'ospf-compat');
    expect(f.map((x) => x.message)).toContain(`adjacency ${adj.id}: MTU mismatch, ${adj.a.device}:${adj.a.interface} 1500 vs ${adj.b.device}:${adj.b.interface} 9214 (stuck in ExStart)`);
    expect(f.every((x) => x.evidence.adjacency === adj.id)).toBe(true);
    const m2 = model('dc2');
    m2.devices.find((d) => d.name === 'spine2')!.ospf!.area = '0.0.0.1';
    f = failures(m2, 'ospf-compat');
    expect(f.length).toBe(6);
    expect(f[0].message).toMatch(/area mismatch, .* in area 0\.0\.0\.0, spine2 in area 0\.0\.0\.1|area mismatch, spine2 in area 0\.0\.0\.1/);
    const m3 = model('dc2');
    m3.ospfAdjacencies[1].deadInterval = 5;
    expect(failures(m3, 'ospf-compat').map((x) => x.message)).toEqual([`adjacency ${m3.ospfAdjacencies[1].id}: dead interval 5 must exceed hello interval 10`]);
  });
  it('duplicate VTEP address', () => {
    const m = model('dc1');
    m.devices.find((d) => d.name === 'leaf2')!.vtep = '10.0.1.1/32';
    const f = failures(m, 'unique-addresses');
    expect(f).toHaveLength(1);
    expect(f[0].message).toBe('vtep 10.0.1.1 is used by leaf1, leaf2');
    expect(f[0].location?.file).toBe('intents/dc1/nodes.yaml');
  });
  it('a VNI changed on one leaf: VNI mismatch and the bridged pair it breaks', () => {
    const m = model('dc1');
    const v = m.devices.find((d) => d.name === 'leaf2')!.vlans.find((x) => x.vlan === 10)!;
    v.l2vni = 10011;
    const f = failures(m);
    const vni = f.filter((x) => x.check === 'vni-consistency');
    expect(vni).toHaveLength(1);
    expect(vni[0].message).toBe("VNI mismatch: leaf2 maps VLAN 10 (web) to VNI 10011, the network's VNI is 10010 (as on leaf1)");
    expect(vni[0].evidence).toMatchObject({ device: 'leaf2', expectedVni: 10010, actualVni: 10011 });
    expect(vni[0].location).toEqual(v.source);
    const reach = f.filter((x) => x.check === 'endpoint-reachability');
    expect(reach).toHaveLength(1);
    expect(reach[0].message).toBe('h1 -> h2: expected bridged over VNI 10010, got broken: VNI mismatch: leaf1 maps VLAN 10 to VNI 10010, leaf2 maps VLAN 10 to VNI 10011');
    expect(reach[0].elements?.devices).toEqual(['leaf2']);
  });
  it('a route target removed: import missing, bridging broken', () => {
    const m = model('dc1');
    const v = m.devices.find((d) => d.name === 'leaf2')!.vlans.find((x) => x.vlan === 10)!;
    v.routeTargets.import = [];
    const f = failures(m);
    expect(f.filter((x) => x.check === 'route-targets').map((x) => x.message)).toEqual(['VNI 10010: leaf2 imports none of the route targets 65000:10010 exported by leaf1']);
    expect(f.filter((x) => x.check === 'endpoint-reachability').map((x) => x.message)).toEqual([
      'h1 -> h2: expected bridged over VNI 10010, got broken: leaf2 does not import a route target leaf1 exports for VNI 10010 (65000:10010)',
    ]);
  });
  it('a model changed in place after a check ran is checked afresh (the fabric memo lives with its graph)', () => {
    const m = model('dc1');
    expect(failures(m, 'vxlan-mtu')).toEqual([]);
    m.devices.find((d) => d.name === 'spine2')!.interfaces.find((x) => x.name === 'eth3')!.mtu = 1500;
    expect(failures(m, 'vxlan-mtu').map((x) => x.message)).toContain('link leaf3:eth2--spine2:eth3: MTU mismatch, leaf3:eth2 9216 vs spine2:eth3 1500');
  });
  it('one end of a link with another MTU', () => {
    const m = model('dc1');
    m.devices.find((d) => d.name === 'spine2')!.interfaces.find((x) => x.name === 'eth3')!.mtu = 1500;
    const f = failures(m, 'vxlan-mtu');
    expect(f.map((x) => x.message)).toEqual([
      'link leaf3:eth2--spine2:eth3: MTU mismatch, leaf3:eth2 9216 vs spine2:eth3 1500',
      'link leaf3:eth2--spine2:eth3: MTU 1500 leaves no VXLAN headroom for tenant MTU 1500 (web), needs 1550',
    ]);
  });
  it('a leaf without its L3 VNI breaks routing but not bridging', () => {
    const m = model('dc1');
    m.devices.find((d) => d.name === 'leaf3')!.vrfs[0].l3vni = 50009;
    const f = failures(m);
    expect(f.find((x) => x.check === 'vni-consistency')!.message).toBe("VNI mismatch: leaf3 uses L3 VNI 50009 (VLAN 3001) for VRF BLUE, the VRF's L3 VNI is 50001 (VLAN 3001)");
    const r = f.filter((x) => x.check === 'endpoint-reachability');
    expect(r.map((x) => x.evidence.examples).flat().sort()).toEqual(['h1-h3', 'h2-h3']);
  });
});
