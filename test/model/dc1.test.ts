// What the resolved dc1 model must contain: the facts later stages rely on.
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';

const m = loadModelSync('intents/dc1');
const dev = (n: string) => m.devices.find((d) => d.name === n)!;

describe('dc1 model', () => {
  it('derives addresses and ASNs from node ids', () => {
    expect(dev('leaf3')).toMatchObject({ asn: 65103, routerId: '10.0.0.3', loopback: '10.0.0.3/32', vtep: '10.0.1.3/32', mgmt: { interface: 'eth0', ipv4: '172.20.20.3/24' } });
    expect(dev('spine2')).toMatchObject({ asn: 65100, routerId: '10.0.0.102', vtep: undefined });
  });

  it('wires every leaf to every spine on derived ports', () => {
    const ifs = dev('spine1').interfaces.filter((i) => i.kind === 'fabric');
    expect(ifs.map((i) => `${i.name}->${i.peer!.device}:${i.peer!.interface}`)).toEqual(['eth1->leaf1:eth1', 'eth2->leaf2:eth1', 'eth3->leaf3:eth1', 'eth4->leaf4:eth1']);
    expect(ifs.every((i) => i.unnumbered && i.mtu === 9216)).toBe(true);
  });

  it('has one unnumbered eBGP session per link carrying IPv4 and EVPN', () => {
    const s = m.bgpSessions.find((x) => x.id === 'leaf2:eth2--spine2:eth2')!;
    expect(s).toMatchObject({ type: 'ebgp', layer: 'underlay+overlay', afiSafis: ['ipv4-unicast', 'l2vpn-evpn'], a: { device: 'leaf2', asn: 65102, interface: 'eth2' }, b: { device: 'spine2', asn: 65100, interface: 'eth2' } });
    expect(m.ospfAdjacencies).toEqual([]);
  });

  it('instantiates VLANs, VNIs and VRFs only where needed', () => {
    expect(dev('leaf1').vlans.map((v) => [v.vlan, v.l2vni, v.vrf, v.gateway4, v.ports])).toEqual([
      [10, 10010, 'BLUE', '10.10.10.1/24', ['eth10']],
      [30, 10030, 'RED', '10.20.30.1/24', ['eth11']],
    ]);
    expect(dev('leaf1').vlans[0]).toMatchObject({ gateway6: 'fd00:10:10::1/64', rd: '10.0.0.1:10', routeTargets: { import: ['65000:10010'], export: ['65000:10010'] }, anycastMac: '00:00:5e:00:01:01' });
    expect(dev('leaf3').vrfs.map((v) => [v.name, v.l3vni, v.l3vniVlan, v.rd])).toEqual([['BLUE', 50001, 3001, '10.0.0.3:10001']]);
    expect(dev('spine1').vlans).toEqual([]);
  });

  it('has endpoints with derived stable MACs and their gateways', () => {
    const h3 = m.endpoints.find((e) => e.name === 'h3')!;
    expect(h3).toMatchObject({ leaf: 'leaf3', port: 'eth10', vlan: 20, vrf: 'BLUE', l2vni: 10020, gateway4: '10.10.20.1' });
    expect(h3.mac).toMatch(/^02:4e(:[0-9a-f]{2}){4}$/);
    expect(new Set(m.endpoints.map((e) => e.mac)).size).toBe(m.endpoints.length);
  });

  it('keeps the intent location of every object', () => {
    expect(dev('leaf2').source).toEqual({ file: 'intents/dc1/nodes.yaml', line: 16, col: 3 });
    expect(m.endpoints.find((e) => e.name === 'h4')!.source).toMatchObject({ file: 'intents/dc1/endpoints.yaml', line: 9 });
    expect(m.networks.find((n) => n.name === 'app')!.source.file).toBe('intents/dc1/tenants.yaml');
  });
});
