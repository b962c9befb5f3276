/**
 * The data-plane post-check's prediction and comparison on dc3 (OSPF + iBGP, two route
 * reflectors, three VRFs): what leaf3 must forward with, and the findings for the state
 * FRR 8.4 left behind when it lost router MACs (kernel routes present, neighbours FAILED).
 */
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { expectedForwarding, forwardingCommand, forwardingProblems, parseForwarding } from '../../src/domains/fabric/forwarding-state.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRegressions, writeIntentDir } from '../../src/verify/fidelity/run.ts';
import { evpnVrfInstances } from '../../src/domains/fabric/evpn-resync.ts';

const model = loadModelSync('intents/dc3');

describe('forwarding-state post-check', () => {
  it('predicts leaf3 per VRF: connected, remote subnets and host routes with their VTEPs and router MACs, and L2 flood lists', () => {
    const e = expectedForwarding(model, 'leaf3');
    const blue = e.vrfs.find((v) => v.vrf === 'BLUE')!;
    expect(blue.connected).toEqual(['10.30.20.0/24']);
    expect(Object.fromEntries(blue.remote)).toEqual({ '10.30.10.0/24': ['10.3.1.1', '10.3.1.2'], '10.30.10.11/32': ['10.3.1.1'], '10.30.10.12/32': ['10.3.1.2'] });
    expect(Object.fromEntries(blue.rmacs)).toEqual({ '10.3.1.1': '02:4e:00:01:00:01', '10.3.1.2': '02:4e:00:02:00:01' });
    expect(Object.fromEntries(e.flood)).toEqual({ 10030: ['10.3.1.1', '10.3.1.4'] });
    // A leaf pushed in a later wave is left out.
    expect([...expectedForwarding(model, 'leaf3', new Set(['leaf2'])).vrfs.find((v) => v.vrf === 'BLUE')!.remote.keys()]).toEqual(['10.30.10.11/32']);
    expect(forwardingCommand(model.devices.find((d) => d.name === 'leaf3')!)).toContain("ip -n 'BLUE' -j -4 route show");
  });

  it('expects a remote subnet only via the VTEPs at the lowest IGP metric, as the simulation does (fidelity regression 34314227)', () => {
    // Two pods under super-spines, OSPF: leaf4 (pod 2) reaches leaf3 (pod 2) in 2 hops and leaf2
    // (pod 1) in 4, so FRR installs 10.103.3.0/24 via leaf3 only; every carrying leaf was wrong.
    const reg = loadRegressions('test/fidelity/regressions').find((r) => r.seed === 34314227)!;
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-fwd-'));
    writeIntentDir(dir, reg.intent, 'forwarding-check test');
    const m = loadModelSync(dir);
    const t1 = expectedForwarding(m, 'leaf4').vrfs.find((v) => v.vrf === 'T1V1')!;
    const vtep = (d: string) => m.devices.find((x) => x.name === d)!.vtep!.split('/')[0];
    expect(m.networks.find((n) => n.subnet === '10.103.3.0/24' && n.vrf === 'T1V1')!.leaves.sort()).toEqual(['leaf2', 'leaf3']);
    expect(t1.remote.get('10.103.3.0/24')).toEqual([vtep('leaf3')]);
  });

  const observed = (neighState: string) => `@@route BLUE netns
[{"dst":"10.30.10.0/24","protocol":"bgp","metric":20,"flags":[],"nexthops":[{"gateway":"10.3.1.1","dev":"l3br1","weight":1,"flags":["onlink"]},{"gateway":"10.3.1.2","dev":"l3br1","weight":1,"flags":["onlink"]}]},{"dst":"10.30.10.11","gateway":"10.3.1.1","dev":"l3br1","protocol":"bgp","flags":["onlink"]},{"dst":"10.30.10.12","gateway":"10.3.1.2","dev":"l3br1","protocol":"bgp","flags":["onlink"]},{"dst":"10.30.20.0/24","dev":"gw20","protocol":"kernel","scope":"link","prefsrc":"10.30.20.1","flags":[]}]
@@neigh BLUE
[{"dst":"10.3.1.2","dev":"l3br1",${neighState === 'ok' ? '"lladdr":"02:4e:00:02:00:01","state":["NOARP"]' : '"state":["FAILED"]'}},{"dst":"10.3.1.1","dev":"l3br1","lladdr":"02:4e:00:01:00:01","state":["NOARP"]}]
@@fdb BLUE
[{"mac":"02:4e:00:01:00:01","ifname":"vx50001","dst":"10.3.1.1","flags":["extern_learn"],"state":""}${neighState === 'ok' ? ',{"mac":"02:4e:00:02:00:01","ifname":"vx50001","dst":"10.3.1.2","flags":["extern_learn"],"state":""}' : ''}]
@@route RED netns
[{"dst":"10.40.30.0/24","dev":"gw30","protocol":"kernel","flags":[]}]
@@neigh RED
[]
@@fdb RED
[]
@@fdb -
[{"mac":"00:00:00:00:00:00","ifname":"vx10030","dst":"10.3.1.1","flags":["self","permanent"]},{"mac":"00:00:00:00:00:00","ifname":"vx10030","dst":"10.3.1.4","flags":["self","permanent"]}]
`;

  it('passes on a complete state and names the VTEP whose router MAC is lost', () => {
    const e = expectedForwarding(model, 'leaf3');
    // RED on leaf3 also expects host routes of h4/h5 on other leaves: give them.
    const ok = observed('ok').replace('[{"dst":"10.40.30.0/24","dev":"gw30","protocol":"kernel","flags":[]}]',
      '[{"dst":"10.40.30.0/24","dev":"gw30","protocol":"kernel","flags":[]},{"dst":"10.40.30.14","gateway":"10.3.1.4","dev":"l3br2"},{"dst":"10.40.30.15","gateway":"10.3.1.1","dev":"l3br2"}]')
      .replace('@@neigh RED\n[]', '@@neigh RED\n[{"dst":"10.3.1.4","lladdr":"02:4e:00:04:00:02","state":["NOARP"]},{"dst":"10.3.1.1","lladdr":"02:4e:00:01:00:02","state":["NOARP"]}]')
      .replace('@@fdb RED\n[]', '@@fdb RED\n[{"mac":"02:4e:00:04:00:02","ifname":"vx50002","dst":"10.3.1.4"},{"mac":"02:4e:00:01:00:02","ifname":"vx50002","dst":"10.3.1.1"}]');
    expect(forwardingProblems(e, parseForwarding(ok))).toEqual([]);
    const broken = forwardingProblems(e, parseForwarding(ok.replace('"lladdr":"02:4e:00:02:00:01","state":["NOARP"]', '"state":["FAILED"]').replace(',{"mac":"02:4e:00:02:00:01","ifname":"vx50001","dst":"10.3.1.2","flags":["extern_learn"],"state":""}', '')));
    expect(broken).toEqual([
      'VRF BLUE: no router-MAC neighbour entry for VTEP 10.3.1.2 (FAILED; expected 02:4e:00:02:00:01)',
      'VRF BLUE: no VXLAN FDB entry 02:4e:00:02:00:01 -> 10.3.1.2 on vx50001',
    ]);
    expect(forwardingProblems(e, parseForwarding(ok.replace(',{"mac":"00:00:00:00:00:00","ifname":"vx10030","dst":"10.3.1.4","flags":["self","permanent"]}', '')))).toEqual(['L2 VNI 10030: VTEP 10.3.1.4 missing from the flood list of vx10030']);
  });

  it('finds the EVPN VRF instances to re-announce', () => {
    expect(evpnVrfInstances('router bgp 65300\n address-family l2vpn evpn\n exit-address-family\nexit\n!\nrouter bgp 65300 vrf BLUE\n address-family ipv4 unicast\n exit-address-family\n !\n address-family l2vpn evpn\n  advertise ipv4 unicast\n exit-address-family\nexit\nrouter bgp 65300 vrf X\n address-family ipv4 unicast\n exit-address-family\nexit\n')).toEqual([{ asn: '65300', vrf: 'BLUE' }]);
  });
});
