/**
 * Cisco NX-OS startup-config templates (templates/nxos). No NX-OS parser runs here: golden
 * files, 2-space block structure, nothing unrendered, and the VXLAN EVPN facts per block.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { IntentError } from '../../src/util/errors.ts';
import {
  block, cleanupIntentCopies, compareGolden, dc1Copy, dc1Tweaks, fileOf, indentProblems, leftovers, renderDir, repoRoot,
} from './eos-nxos-junos-srlinux.fixtures.ts';

afterAll(cleanupIntentCopies);

const variants = {
  'dc1-nxos-ebgp': renderDir(dc1Copy({ platform: 'nxos', underlay: 'ebgp', ...dc1Tweaks() })),
  'dc1-nxos-ospf': renderDir(dc1Copy({ platform: 'nxos', underlay: 'ospf', ...dc1Tweaks() })),
};
const dc2 = renderDir(path.join(repoRoot, 'intents/dc2'), ['leaf1']);

describe('nxos: golden files', () => {
  for (const [name, r] of Object.entries(variants)) {
    it(`${name} matches test/render/golden/${name}`, () => {
      expect(r.files.length).toBe(6);
      expect(compareGolden(name, r.files)).toEqual([]);
    });
  }
  it('dc2 leaf1 matches test/render/golden/dc2', () => {
    expect(compareGolden('dc2', dc2.files)).toEqual([]);
  });
});

describe('nxos: structure', () => {
  const all = [...Object.values(variants).flatMap((r) => r.files), ...dc2.files];
  it('has no unrendered mustache, undefined, null or [object Object]', () => {
    for (const f of all) expect(leftovers(f.content), f.path).toEqual([]);
  });
  it('indents blocks by 2 spaces, one level at a time', () => {
    for (const f of all) expect(indentProblems(f.content, 2), f.path).toEqual([]);
  });
  it('enables exactly the features it configures', () => {
    const leaf = fileOf(variants['dc1-nxos-ebgp'].files, 'leaf1');
    for (const feat of ['bgp', 'interface-vlan', 'vn-segment-vlan-based', 'nv overlay', 'fabric forwarding', 'dhcp']) expect(leaf).toMatch(new RegExp(`^feature ${feat}$`, 'm'));
    expect(leaf).toMatch(/^nv overlay evpn$/m);
    expect(leaf).not.toMatch(/^feature ospf$/m);
    const spine = fileOf(variants['dc1-nxos-ospf'].files, 'spine1');
    expect(spine).toMatch(/^feature ospf$/m);
    expect(spine).not.toMatch(/^feature (nv overlay|interface-vlan)$/m);
  });
});

describe('nxos: VXLAN EVPN', () => {
  const { model, files } = variants['dc1-nxos-ebgp'];
  it('nve1 has an ingress-replicated member per L2 VNI and "associate-vrf" per L3 VNI', () => {
    for (const d of model.devices.filter((x) => x.role === 'leaf')) {
      const nve = block(fileOf(files, d.name), 'interface nve1');
      expect(nve).toContain('  source-interface loopback1');
      expect(nve).toContain('  host-reachability protocol bgp');
      const members = nve.filter((l) => l.startsWith('  member vni'));
      expect(members.sort()).toEqual([...d.vlans.map((v) => `  member vni ${v.l2vni}`), ...d.vrfs.map((v) => `  member vni ${v.l3vni} associate-vrf`)].sort());
      expect(nve.filter((l) => l === '    ingress-replication protocol bgp').length).toBe(d.vlans.length);
    }
    expect(block(fileOf(files, 'leaf1'), 'interface nve1')).toContain('  member vni 50001 associate-vrf');
  });
  it('maps VLANs to VNIs, with a transit VLAN and routed SVI per L3 VNI', () => {
    const leaf1 = fileOf(files, 'leaf1');
    expect(block(leaf1, 'vlan 10')).toEqual(['vlan 10', '  name web', '  vn-segment 10010']);
    expect(block(leaf1, 'vlan 3001')).toEqual(['vlan 3001', '  name BLUE-L3VNI', '  vn-segment 50001']);
    expect(block(leaf1, 'interface Vlan3001')).toEqual(expect.arrayContaining(['  vrf member BLUE', '  ip forward', '  no shutdown']));
    expect(block(leaf1, 'vrf context BLUE')).toEqual(expect.arrayContaining(['  vni 50001', '  rd 10.0.0.1:10001', '    route-target import 65000:50001 evpn', '    route-target export 65000:50001 evpn']));
  });
  it('anycast gateway: one fabric MAC, every SVI in anycast-gateway mode, IPv6 and DHCP relay where set', () => {
    const leaf1 = fileOf(files, 'leaf1');
    expect(leaf1).toMatch(/^fabric forwarding anycast-gateway-mac 00:00:5e:00:01:01$/m);
    expect(block(leaf1, 'interface Vlan10')).toEqual(expect.arrayContaining([
      '  vrf member BLUE', '  ip address 10.10.10.1/24', '  ipv6 address fd00:10:10::1/64', '  fabric forwarding mode anycast-gateway', '  ip dhcp relay address 10.10.255.10', '  mtu 1500',
    ]));
    expect(block(leaf1, 'interface Vlan30')).toContain('  fabric forwarding mode anycast-gateway');
    expect(block(leaf1, 'interface Vlan30')).not.toContain('  ip dhcp relay address 10.10.255.10');
  });
  it('EVPN instance per L2 VNI with its RD and route targets', () => {
    expect(block(fileOf(files, 'leaf3'), 'evpn')).toEqual(['evpn', '  vni 10020 l2', '    rd 10.0.0.3:20', '    route-target import 65000:10020', '    route-target export 65000:10020']);
  });
  it('eBGP spines keep the VTEP next hop and every route target; leaves advertise their VRFs', () => {
    const spine = fileOf(files, 'spine1');
    expect(block(spine, '  address-family l2vpn evpn')).toContain('    retain route-target all');
    expect(block(spine, 'route-map RM-NH-UNCHANGED permit 10')).toContain('  set ip next-hop unchanged');
    for (const l of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) {
      const n = block(spine, `  neighbor ${l}`);
      expect(n).toEqual(expect.arrayContaining(['    update-source loopback0', '    ebgp-multihop 3', '      route-map RM-NH-UNCHANGED out', '      send-community extended']));
    }
    const leaf1 = fileOf(files, 'leaf1');
    expect(leaf1).not.toContain('RM-NH-UNCHANGED');
    expect(block(leaf1, '  vrf BLUE')).toEqual(['  vrf BLUE', '    address-family ipv4 unicast', '      advertise l2vpn evpn', '      redistribute direct route-map RM-CONNECTED', '    address-family ipv6 unicast', '      advertise l2vpn evpn', '      redistribute direct route-map RM-CONNECTED']);
    expect(block(leaf1, '  neighbor 10.0.128.0')).toEqual(['  neighbor 10.0.128.0', '    remote-as 65100', '    description spine1', '    address-family ipv4 unicast']);
  });
  it('access ports: untagged, tagged (trunk) and the layer-2 MTU NX-OS accepts', () => {
    const leaf1 = fileOf(files, 'leaf1');
    expect(block(leaf1, 'interface Ethernet1/10')).toEqual(expect.arrayContaining(['  switchport access vlan 10', '  mtu 1500']));
    expect(block(leaf1, 'interface Ethernet1/11')).toEqual(expect.arrayContaining(['  switchport mode trunk', '  switchport trunk allowed vlan 30']));
    // dc2: host MTU 9000 -> layer-2 port at the system jumbo MTU, exact MTU on the SVI.
    const d2 = fileOf(dc2.files, 'leaf1');
    expect(block(d2, 'interface Ethernet1/10')).toContain('  mtu 9216');
    expect(block(d2, 'interface Vlan110')).toContain('  mtu 9000');
  });
});

describe('nxos: OSPF + iBGP route reflectors', () => {
  const { files } = variants['dc1-nxos-ospf'];
  it('spines reflect EVPN to every leaf and peer with each other as non-clients', () => {
    const spine = fileOf(files, 'spine1');
    for (const l of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) expect(block(spine, `  neighbor ${l}`)).toContain('      route-reflector-client');
    expect(block(spine, '  neighbor 10.0.0.102')).not.toContain('      route-reflector-client');
    expect(spine).not.toContain('retain route-target all');
  });
  it('runs OSPF point-to-point on the /31s and on both loopbacks', () => {
    const leaf = fileOf(files, 'leaf2');
    expect(block(leaf, 'interface Ethernet1/1')).toEqual(expect.arrayContaining(['  ip ospf network point-to-point', '  ip router ospf UNDERLAY area 0.0.0.0']));
    expect(block(leaf, 'interface loopback1')).toContain('  ip router ospf UNDERLAY area 0.0.0.0');
    expect(block(leaf, 'router ospf UNDERLAY')).toContain('  router-id 10.0.0.2');
  });
  it('puts mgmt0 in VRF management', () => {
    expect(block(fileOf(files, 'leaf2'), 'interface mgmt0')).toEqual(['interface mgmt0', '  description management', '  vrf member management', '  ip address 172.20.20.2/24']);
  });
});

describe('nxos: unsupported design', () => {
  it('eBGP unnumbered is an error naming every device, the feature and the intent line', () => {
    const dir = dc1Copy({ platform: 'nxos', underlay: 'ebgp-unnumbered' });
    let err: unknown;
    try {
      renderDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntentError);
    const diags = (err as IntentError).diagnostics;
    expect(diags.map((d) => d.message.split(':')[0]).sort()).toEqual(['device leaf1', 'device leaf2', 'device leaf3', 'device leaf4', 'device spine1', 'device spine2']);
    for (const d of diags) {
      expect(d.message).toContain("platform nxos does not support underlay 'ebgp-unnumbered'");
      expect(path.basename(d.loc.file)).toBe('fabric.yaml');
      expect(d.loc.line).toBeGreaterThan(0);
    }
  });
});
