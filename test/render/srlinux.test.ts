/**
 * SR Linux flat CLI templates (templates/srlinux). No SR Linux parser runs here: golden
 * files, well-formed "set / <path> <value>" lines, nothing unrendered, and the EVPN facts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  cleanupIntentCopies, commands, compareGolden, dc1Copy, dc1Tweaks, fileOf, leftovers, renderDir, repoRoot, tokens,
} from './eos-nxos-junos-srlinux.fixtures.ts';

afterAll(cleanupIntentCopies);

const variants = {
  'dc1-srlinux': renderDir(dc1Copy({ platform: 'srlinux', underlay: 'ebgp-unnumbered', ...dc1Tweaks() })),
  'dc1-srlinux-ebgp': renderDir(dc1Copy({ platform: 'srlinux', underlay: 'ebgp', ...dc1Tweaks() })),
  'dc1-srlinux-ospf': renderDir(dc1Copy({ platform: 'srlinux', underlay: 'ospf', ...dc1Tweaks() })),
};
const dc2 = renderDir(path.join(repoRoot, 'intents/dc2'), ['leaf3']);
const lines = (f: string) => f.split('\n');

/** Top-level containers of the SR Linux configuration tree the templates write to. */
const ROOTS = new Set(['system', 'interface', 'network-instance', 'tunnel-interface', 'routing-policy']);

describe('srlinux: golden files', () => {
  for (const [name, r] of Object.entries(variants)) {
    it(`${name} matches test/render/golden/${name}`, () => {
      expect(r.files.length).toBe(6);
      expect(compareGolden(name, r.files)).toEqual([]);
    });
  }
  it('dc2 leaf3 matches test/render/golden/dc2', () => {
    expect(compareGolden('dc2', dc2.files)).toEqual([]);
  });
});

describe('srlinux: structure', () => {
  const all = [...Object.values(variants).flatMap((r) => r.files), ...dc2.files];
  it('every command is "set / <root> <path...>" with lower-case path keywords and balanced quotes/lists', () => {
    for (const f of all) {
      const cmds = commands(f.content);
      expect(cmds.length).toBeGreaterThan(20);
      for (const c of cmds) {
        const t = tokens(c);
        expect(typeof t === 'string' ? `${t}: ${c}` : '', f.path).toBe('');
        const tk = t as string[];
        expect(tk.slice(0, 2), c).toEqual(['set', '/']);
        expect(ROOTS.has(tk[2]), `${f.path}: unknown root in: ${c}`).toBe(true);
        expect(tk.length, c).toBeGreaterThanOrEqual(5);
        // Path keywords are lower-case; values (names, addresses, numbers) follow keywords.
        expect(/^[a-z][a-z0-9-]*$/.test(tk[3]) || /^[A-Za-z0-9]/.test(tk[3]), c).toBe(true);
      }
      expect(new Set(cmds).size, `${f.path}: duplicate commands`).toBe(cmds.length);
    }
  });
  it('every subinterface referenced by a network-instance is configured', () => {
    let referenced = 0;
    for (const f of all) {
      const ls = lines(f.content);
      for (const l of ls) {
        const m = /^set \/ network-instance \S+ interface (\S+)\.(\d+)$/.exec(l);
        if (!m) continue;
        referenced++;
        expect(ls.some((x) => x.startsWith(`set / interface ${m[1]} subinterface ${m[2]} `)), `${f.path}: ${l}`).toBe(true);
      }
    }
    expect(referenced).toBeGreaterThan(0);
  });
  it('has no unrendered mustache, undefined, null or [object Object]', () => {
    for (const f of all) expect(leftovers(f.content), f.path).toEqual([]);
  });
});

describe('srlinux: EVPN-VXLAN', () => {
  const { model, files } = variants['dc1-srlinux'];
  it('one mac-vrf per VLAN bound to its bridged vxlan-interface; one routed vxlan-interface per VRF', () => {
    for (const d of model.devices.filter((x) => x.role === 'leaf')) {
      const f = lines(fileOf(files, d.name));
      for (const v of d.vlans) {
        const ni = `set / network-instance vlan${v.vlan}`;
        expect(f).toContain(`${ni} type mac-vrf`);
        expect(f).toContain(`${ni} vxlan-interface vxlan1.${v.l2vni}`);
        expect(f).toContain(`${ni} protocols bgp-evpn bgp-instance 1 vxlan-interface vxlan1.${v.l2vni}`);
        expect(f).toContain(`${ni} protocols bgp-vpn bgp-instance 1 route-distinguisher rd ${v.rd}`);
        expect(f).toContain(`${ni} protocols bgp-vpn bgp-instance 1 route-target export-rt target:${v.routeTargets.export[0]}`);
        expect(f).toContain(`set / tunnel-interface vxlan1 vxlan-interface ${v.l2vni} type bridged`);
      }
      for (const v of d.vrfs) {
        expect(f).toContain(`set / network-instance ${v.name} type ip-vrf`);
        expect(f).toContain(`set / network-instance ${v.name} vxlan-interface vxlan1.${v.l3vni}`);
        expect(f).toContain(`set / tunnel-interface vxlan1 vxlan-interface ${v.l3vni} type routed`);
      }
      expect(f.filter((l) => / type mac-vrf$/.test(l)).length).toBe(d.vlans.length);
    }
    const leaf1 = lines(fileOf(files, 'leaf1'));
    expect(leaf1).toContain('set / network-instance vlan10 type mac-vrf');
    expect(leaf1).toContain('set / network-instance vlan10 vxlan-interface vxlan1.10010');
  });
  it('anycast gateway on irb0 in both the mac-vrf and the ip-vrf, with ARP/ND to EVPN', () => {
    const f = lines(fileOf(files, 'leaf1'));
    for (const l of [
      'set / interface irb0 subinterface 10 ipv4 address 10.10.10.1/24 anycast-gw true',
      'set / interface irb0 subinterface 10 ipv6 address fd00:10:10::1/64 anycast-gw true',
      'set / interface irb0 subinterface 10 anycast-gw anycast-gw-mac 00:00:5e:00:01:01',
      'set / interface irb0 subinterface 10 ipv4 arp evpn advertise dynamic',
      'set / interface irb0 subinterface 10 ipv4 dhcp-relay server [ 10.10.255.10 ]',
      'set / network-instance vlan10 interface irb0.10',
      'set / network-instance BLUE interface irb0.10',
      'set / network-instance RED interface irb0.30',
    ]) expect(f).toContain(l);
  });
  it('access ports: untagged subinterface 0, tagged subinterface per VLAN; MTU includes the Ethernet header', () => {
    const f = lines(fileOf(files, 'leaf1'));
    expect(f).toContain('set / network-instance vlan10 interface ethernet-1/10.0');
    expect(f).toContain('set / interface ethernet-1/10 mtu 1514');
    expect(f).toContain('set / interface ethernet-1/11 vlan-tagging true');
    expect(f).toContain('set / interface ethernet-1/11 subinterface 30 vlan encap single-tagged vlan-id 30');
    expect(f).toContain('set / network-instance vlan30 interface ethernet-1/11.30');
  });
  it('VTEP: the VTEP address is the primary system0 address VXLAN egress uses', () => {
    const f = lines(fileOf(files, 'leaf2'));
    expect(f).toContain('set / interface system0 subinterface 0 ipv4 address 10.0.1.2/32 primary');
    expect(f).toContain('set / tunnel-interface vxlan1 vxlan-interface 10010 egress source-ip use-system-ipv4-address');
  });
});

describe('srlinux: underlay and overlay designs', () => {
  it('eBGP unnumbered: dynamic neighbors per fabric subinterface with IPv6 next hops, EVPN on them', () => {
    const { model, files } = variants['dc1-srlinux'];
    for (const d of model.devices) {
      const f = lines(fileOf(files, d.name));
      for (const i of d.interfaces.filter((x) => x.kind === 'fabric')) {
        const peerAsn = model.devices.find((x) => x.name === i.peer!.device)!.asn;
        expect(f).toContain(`set / network-instance default protocols bgp dynamic-neighbors interface ${i.name}.0 allowed-peer-as [ ${peerAsn} ]`);
        expect(f).toContain(`set / interface ${i.name} subinterface 0 ipv6 router-advertisement router-role admin-state enable`);
      }
      expect(f).toContain('set / network-instance default protocols bgp group underlay afi-safi ipv4-unicast ipv4-unicast advertise-ipv6-next-hops true');
      expect(f).toContain('set / network-instance default protocols bgp group underlay afi-safi evpn admin-state enable');
    }
    expect(lines(fileOf(files, 'spine1'))).toContain('set / network-instance default protocols bgp afi-safi evpn evpn keep-all-routes true');
    expect(fileOf(files, 'leaf1')).not.toContain('keep-all-routes');
  });
  it('eBGP numbered: /31 neighbors in "underlay", loopback EVPN neighbors in "overlay" with multihop', () => {
    const f = lines(fileOf(variants['dc1-srlinux-ebgp'].files, 'leaf1'));
    expect(f).toContain('set / network-instance default protocols bgp neighbor 10.0.128.0 peer-group underlay');
    expect(f).toContain('set / network-instance default protocols bgp neighbor 10.0.0.101 peer-group overlay');
    expect(f).toContain('set / network-instance default protocols bgp group overlay multihop maximum-hops 3');
    expect(f).toContain('set / routing-policy prefix-set loopbacks prefix 10.0.1.1/32 mask-length-range exact');
  });
  it('OSPF + iBGP: point-to-point OSPF, spines reflect to a client group', () => {
    const { files } = variants['dc1-srlinux-ospf'];
    const spine = lines(fileOf(files, 'spine1'));
    expect(spine).toContain('set / network-instance default protocols bgp group overlay-rr-clients route-reflector client true');
    expect(spine).toContain('set / network-instance default protocols bgp neighbor 10.0.0.3 peer-group overlay-rr-clients');
    expect(spine).toContain('set / network-instance default protocols bgp neighbor 10.0.0.102 peer-group overlay');
    const leaf = lines(fileOf(files, 'leaf3'));
    expect(leaf).toContain('set / network-instance default protocols ospf instance main area 0.0.0.0 interface ethernet-1/1.0 interface-type point-to-point');
    expect(leaf).toContain('set / network-instance default protocols ospf instance main area 0.0.0.0 interface system0.0 passive true');
  });
  it('management: mgmt0 in network-instance mgmt with its default route (dc2)', () => {
    const f = lines(fileOf(dc2.files, 'leaf3'));
    expect(f).toContain('set / network-instance mgmt interface mgmt0.0');
    expect(f).toContain('set / network-instance mgmt static-routes route 0.0.0.0/0 next-hop-group static-0');
    expect(f).toContain('set / network-instance mgmt next-hop-groups group static-0 nexthop 1 ip-address 172.20.22.254');
  });
});
