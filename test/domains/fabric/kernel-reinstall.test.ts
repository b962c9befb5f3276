/**
 * Writing back kernel entries zebra holds but the kernel lost (dc1's leaf1, zebra's tables as
 * FRR 8.4 printed them in the lab): only entries zebra holds as the model does, in the VRF's
 * namespace or the host's, with the flags zebra itself uses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { expectedForwarding, forwardingDiffs, parseForwarding, type ForwardingDiff } from '../../../src/domains/fabric/forwarding-state.ts';
import { parseZebraEvpn, reinstallCommands } from '../../../src/domains/fabric/kernel-reinstall.ts';

const fixture = (f: string) => readFileSync(new URL(`fixtures/${f}`, import.meta.url), 'utf8');
const model = loadModelSync('intents/dc1');
const leaf1 = model.devices.find((d) => d.name === 'leaf1')!;
const exp = expectedForwarding(model, 'leaf1');
const zebra = parseZebraEvpn(fixture('zebra-evpn-next-hops.json'), fixture('zebra-evpn-vni-detail.json'));

describe('kernel entries written back from zebra', () => {
  it("reads zebra's next hops per L3 VNI (IPv4 VTEPs and mapped IPv6) and each L2 VNI's remote VTEPs", () => {
    expect(Object.fromEntries(zebra.nextHops.get(50001)!)).toEqual({ '10.0.1.2': '02:4e:00:02:00:01', '10.0.1.3': '02:4e:00:03:00:01', '::ffff:a00:102': '02:4e:00:02:00:01' });
    expect(Object.fromEntries(zebra.nextHops.get(50002)!)).toEqual({ '10.0.1.4': '02:4e:00:04:00:02' });
    expect([...zebra.floods].map(([v, s]) => [v, [...s]])).toEqual([[10010, ['10.0.1.2']], [10030, ['10.0.1.4']]]);
    // One VNI: FRR prints an object, not an array.
    expect([...parseZebraEvpn('{}', JSON.stringify(JSON.parse(fixture('zebra-evpn-vni-detail.json'))[0])).floods.keys()]).toEqual([10010]);
  });

  it("writes the FDB entry, the neighbour and the flood entry of the kernel's actual differences as zebra does", () => {
    // leaf1's kernel without leaf3's router-MAC FDB entry and neighbour in BLUE, and leaf2 out of VNI 10010's flood list.
    const kernel = [
      '@@route BLUE netns', JSON.stringify([{ dst: '10.10.10.0/24', dev: 'gw10' }, { dst: '10.10.20.0/24', gateway: '10.0.1.3' }, { dst: '10.10.10.12', gateway: '10.0.1.2' }, { dst: '10.10.20.13', gateway: '10.0.1.3' }]),
      '@@neigh BLUE', JSON.stringify([{ dst: '10.0.1.2', lladdr: '02:4e:00:02:00:01', state: ['NOARP'] }]),
      '@@fdb BLUE', JSON.stringify([{ mac: '02:4e:00:02:00:01', ifname: 'vx50001', dst: '10.0.1.2' }]),
      '@@route RED netns', JSON.stringify([{ dst: '10.20.30.0/24', dev: 'gw30' }, { dst: '10.20.30.14', gateway: '10.0.1.4' }]),
      '@@neigh RED', JSON.stringify([{ dst: '10.0.1.4', lladdr: '02:4e:00:04:00:02', state: ['NOARP'] }]),
      '@@fdb RED', JSON.stringify([{ mac: '02:4e:00:04:00:02', ifname: 'vx50002', dst: '10.0.1.4' }]),
      '@@fdb -', JSON.stringify([{ mac: '00:00:00:00:00:00', ifname: 'vx10030', dst: '10.0.1.4' }]),
    ].join('\n');
    const diffs = forwardingDiffs(exp, parseForwarding(kernel));
    expect(diffs.map((d) => d.message)).toEqual([
      'VRF BLUE: no router-MAC neighbour entry for VTEP 10.0.1.3 (absent; expected 02:4e:00:03:00:01)',
      'VRF BLUE: no VXLAN FDB entry 02:4e:00:03:00:01 -> 10.0.1.3 on vx50001',
      'L2 VNI 10010: VTEP 10.0.1.2 missing from the flood list of vx10010',
    ]);
    const plan = reinstallCommands(leaf1, exp, diffs, zebra);
    expect(plan.commands).toEqual([
      'if [ -e /run/netns/BLUE ]; then ip -n BLUE neigh replace 10.0.1.3 lladdr 02:4e:00:03:00:01 dev l3br1 nud noarp extern_learn proto zebra; else ip neigh replace 10.0.1.3 lladdr 02:4e:00:03:00:01 dev l3br1 nud noarp extern_learn proto zebra; fi',
      'if [ -e /run/netns/BLUE ]; then bridge -n BLUE fdb replace 02:4e:00:03:00:01 dev vx50001 dst 10.0.1.3 self dynamic extern_learn; else bridge fdb replace 02:4e:00:03:00:01 dev vx50001 dst 10.0.1.3 self dynamic extern_learn; fi',
      'bridge fdb append 00:00:00:00:00:00 dev vx10010 dst 10.0.1.2 self permanent',
    ]);
    expect(plan.repaired).toEqual(diffs);
    expect(plan.left).toEqual([]);
  });

  it('leaves routes to zebra and entries zebra does not hold, or holds otherwise than the model, with why', () => {
    const d = (x: ForwardingDiff) => x;
    const diffs = [
      d({ vrf: 'BLUE', prefix: '10.10.20.0/24', message: 'route' }),
      d({ vrf: 'RED', address: '10.0.1.9', mac: '02:4e:00:09:00:02', message: 'fdb of a VTEP zebra does not hold' }),
      d({ vrf: 'BLUE', address: '10.0.1.2', mac: '02:4e:00:99:00:01', message: 'fdb with another MAC' }),
      d({ vni: 10030, address: '10.0.1.2', message: 'flood entry zebra does not list' }),
      d({ vrf: 'BLUE', address: '10.0.1.2; reboot', message: 'not an address' }),
    ];
    const plan = reinstallCommands(leaf1, exp, diffs, zebra);
    expect(plan.commands).toEqual([]);
    expect(plan.left.map((l) => l.why)).toEqual([
      'a route: zebra installs routes itself',
      'zebra holds no router MAC for VTEP 10.0.1.9 in L3 VNI 50002',
      'zebra holds router MAC 02:4e:00:02:00:01 for VTEP 10.0.1.2, the model 02:4e:00:99:00:01',
      'zebra does not list VTEP 10.0.1.2 for L2 VNI 10030',
      'not an entry of a remote VTEP',
    ]);
  });
});
