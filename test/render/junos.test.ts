/**
 * Junos `set` command templates (templates/junos). No Junos parser runs here: golden files,
 * "every command is a set command", nothing unrendered, and the EVPN-VXLAN facts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { IntentError } from '../../src/util/errors.ts';
import {
  cleanupIntentCopies, commands, compareGolden, dc1Copy, dc1Tweaks, fileOf, leftovers, renderDir, repoRoot, tokens,
} from './eos-nxos-junos-srlinux.fixtures.ts';

afterAll(cleanupIntentCopies);

const variants = {
  'dc1-junos-ebgp': renderDir(dc1Copy({ platform: 'junos', underlay: 'ebgp', ...dc1Tweaks() })),
  'dc1-junos-ospf': renderDir(dc1Copy({ platform: 'junos', underlay: 'ospf', ...dc1Tweaks() })),
};
const dc2 = renderDir(path.join(repoRoot, 'intents/dc2'), ['leaf2']);
const lines = (f: string) => f.split('\n');

describe('junos: golden files', () => {
  for (const [name, r] of Object.entries(variants)) {
    it(`${name} matches test/render/golden/${name}`, () => {
      expect(r.files.length).toBe(6);
      expect(compareGolden(name, r.files)).toEqual([]);
    });
  }
  it('dc2 leaf2 matches test/render/golden/dc2', () => {
    expect(compareGolden('dc2', dc2.files)).toEqual([]);
  });
});

describe('junos: structure', () => {
  const all = [...Object.values(variants).flatMap((r) => r.files), ...dc2.files];
  it('every line is a "set" command or a "#" comment, with balanced quotes and no duplicates', () => {
    for (const f of all) {
      const cmds = commands(f.content);
      expect(cmds.length).toBeGreaterThan(20);
      for (const c of cmds) {
        expect(c, f.path).toMatch(/^set [a-z]/);
        const t = tokens(c);
        expect(typeof t === 'string' ? `${t}: ${c}` : '', f.path).toBe('');
      }
      expect(new Set(cmds).size, `${f.path}: duplicate set commands`).toBe(cmds.length);
    }
  });
  it('has no unrendered mustache, undefined, null or [object Object]', () => {
    for (const f of all) expect(leftovers(f.content), f.path).toEqual([]);
  });
});

describe('junos: EVPN-VXLAN', () => {
  const { model, files } = variants['dc1-junos-ebgp'];
  it('maps every VLAN of a leaf to its VNI with "set vlans ... vxlan vni" and its route target', () => {
    for (const d of model.devices.filter((x) => x.role === 'leaf')) {
      const f = lines(fileOf(files, d.name));
      for (const v of d.vlans) {
        expect(f).toContain(`set vlans ${v.name} vlan-id ${v.vlan}`);
        expect(f).toContain(`set vlans ${v.name} vxlan vni ${v.l2vni}`);
        expect(f).toContain(`set vlans ${v.name} l3-interface irb.${v.vlan}`);
        expect(f).toContain(`set protocols evpn vni-options vni ${v.l2vni} vrf-target target:${v.routeTargets.export[0]}`);
      }
      expect(f.filter((l) => / vxlan vni /.test(l)).length).toBe(d.vlans.length);
      expect(f).toContain('set switch-options vtep-source-interface lo0.0');
      expect(f).toContain('set protocols evpn encapsulation vxlan');
    }
  });
  it('VTEP source: the VTEP address is the primary address of lo0.0', () => {
    const f = lines(fileOf(files, 'leaf1'));
    expect(f).toContain('set interfaces lo0 unit 0 family inet address 10.0.0.1/32');
    expect(f).toContain('set interfaces lo0 unit 0 family inet address 10.0.1.1/32 primary');
  });
  it('anycast gateway: the same IRB address and MAC on every leaf, IPv6 too', () => {
    for (const leaf of ['leaf1', 'leaf2']) {
      const f = lines(fileOf(files, leaf));
      expect(f).toContain('set interfaces irb unit 10 family inet address 10.10.10.1/24');
      expect(f).toContain('set interfaces irb unit 10 family inet6 address fd00:10:10::1/64');
      expect(f).toContain('set interfaces irb unit 10 mac 00:00:5e:00:01:01');
    }
    expect(lines(fileOf(files, 'leaf1'))).toContain('set protocols evpn default-gateway no-gateway-community');
  });
  it('symmetric IRB: VRF instance with its IRBs, RD, RTs and the L3 VNI for type-2 and type-5 routes', () => {
    const f = lines(fileOf(files, 'leaf1'));
    for (const l of [
      'set routing-instances BLUE instance-type vrf',
      'set routing-instances BLUE interface irb.10',
      'set routing-instances BLUE route-distinguisher 10.0.0.1:10001',
      'set routing-instances BLUE vrf-target import target:65000:50001',
      'set routing-instances BLUE vrf-target export target:65000:50001',
      'set routing-instances BLUE protocols evpn irb-symmetric-routing vni 50001',
      'set routing-instances BLUE protocols evpn ip-prefix-routes vni 50001',
      'set routing-instances RED interface irb.30',
    ]) expect(f).toContain(l);
  });
  it('DHCP relay in the tenant instance for the IRB of the network', () => {
    const f = lines(fileOf(files, 'leaf1'));
    expect(f).toContain('set routing-instances BLUE forwarding-options dhcp-relay server-group web 10.10.255.10');
    expect(f).toContain('set routing-instances BLUE forwarding-options dhcp-relay group web interface irb.10');
    expect(fileOf(files, 'leaf3')).not.toContain('dhcp-relay');
  });
  it('access ports: ethernet-switching access or trunk, media MTU = IP MTU + Ethernet header', () => {
    const f = lines(fileOf(files, 'leaf1'));
    expect(f).toContain('set interfaces et-0/0/9 unit 0 family ethernet-switching interface-mode access');
    expect(f).toContain('set interfaces et-0/0/9 unit 0 family ethernet-switching vlan members 10');
    expect(f).toContain('set interfaces et-0/0/9 mtu 1514');
    expect(f).toContain('set interfaces et-0/0/10 unit 0 family ethernet-switching interface-mode trunk');
    expect(f).toContain('set interfaces et-0/0/10 mtu 1518');
    expect(f).toContain('set interfaces et-0/0/0 mtu 9230');
    expect(f).toContain('set interfaces et-0/0/0 unit 0 family inet mtu 9216');
  });
  it('eBGP: /31 underlay exporting the loopbacks, loopback EVPN sessions that keep the next hop', () => {
    const leaf = lines(fileOf(files, 'leaf1'));
    expect(leaf).toContain('set protocols bgp group UNDERLAY neighbor 10.0.128.0 peer-as 65100');
    expect(leaf).toContain('set policy-options policy-statement UNDERLAY-EXPORT term LOOPBACKS from route-filter 10.0.1.1/32 exact');
    expect(leaf).toContain('set protocols bgp group EVPN-OVERLAY multihop no-nexthop-change');
    expect(leaf).toContain('set protocols bgp group EVPN-OVERLAY neighbor 10.0.0.101 peer-as 65100');
    expect(leaf).not.toContain('set protocols bgp group EVPN-OVERLAY keep all');
    const spine = lines(fileOf(files, 'spine1'));
    expect(spine).toContain('set protocols bgp group EVPN-OVERLAY keep all');
    expect(spine).toContain('set routing-options autonomous-system 65100');
    expect(spine.some((l) => /vxlan|switch-options|irb/.test(l))).toBe(false);
  });
});

describe('junos: OSPF + iBGP route reflectors', () => {
  const { files } = variants['dc1-junos-ospf'];
  it('spines reflect to the leaves in a cluster group and mesh with each other', () => {
    const spine = lines(fileOf(files, 'spine2'));
    expect(spine).toContain('set protocols bgp group EVPN-RR-CLIENTS cluster 10.0.0.102');
    for (const l of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) expect(spine).toContain(`set protocols bgp group EVPN-RR-CLIENTS neighbor ${l} description "leaf${l.slice(-1)}"`);
    expect(spine).toContain('set protocols bgp group EVPN-OVERLAY neighbor 10.0.0.101 description "spine1"');
  });
  it('OSPF: point-to-point fabric units, passive loopback', () => {
    const leaf = lines(fileOf(files, 'leaf1'));
    expect(leaf).toContain('set protocols ospf area 0.0.0.0 interface et-0/0/0.0 interface-type p2p');
    expect(leaf).toContain('set protocols ospf area 0.0.0.0 interface lo0.0 passive');
  });
  it('management in the mgmt_junos instance with its default route', () => {
    const d2 = lines(fileOf(dc2.files, 'leaf2'));
    expect(d2).toContain('set system management-instance');
    expect(d2).toContain('set interfaces em0 unit 0 family inet address 172.20.22.2/24');
    expect(d2).toContain('set routing-instances mgmt_junos routing-options static route 0.0.0.0/0 next-hop 172.20.22.254');
  });
});

describe('junos: unsupported design', () => {
  it('eBGP unnumbered is an error naming every device, the feature and the intent line', () => {
    const dir = dc1Copy({ platform: 'junos', underlay: 'ebgp-unnumbered' });
    let err: unknown;
    try {
      renderDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntentError);
    const diags = (err as IntentError).diagnostics;
    expect(diags.length).toBe(6);
    for (const d of diags) {
      expect(d.message).toMatch(/^device (leaf[1-4]|spine[12]): platform junos does not support underlay 'ebgp-unnumbered'$/);
      expect(path.basename(d.loc.file)).toBe('fabric.yaml');
      expect(d.loc.line).toBeGreaterThan(0);
    }
  });
});
