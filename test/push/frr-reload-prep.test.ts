// The FRR driver's preparation of a reload: what frr-reload.py alone gets wrong on FRR 8.4.
import { describe, expect, it } from 'vitest';
import { instanceRemovalPreamble, sameRunningConfig, withRuntimeVrfNetns } from '../../src/push/frr-driver.ts';

const running = `frr version 8.4
vrf BLUE
 vni 50001
 netns /run/netns/BLUE
exit-vrf
vrf RED
 vni 50002
 netns /run/netns/RED
exit-vrf
router bgp 65102
 neighbor eth1 interface remote-as external
exit
router bgp 65102 vrf BLUE
exit
router bgp 65102 vrf RED
exit
`;
const rendered = `vrf BLUE
 vni 50001
exit-vrf
vrf RED
 vni 50002
exit-vrf
router bgp 65102
exit
router bgp 65102 vrf BLUE
exit
router bgp 65102 vrf RED
exit
`;

describe('FRR reload preparation', () => {
  it('keeps the runtime netns binding of each VRF (zebra -n), which a plain reload deletes', () => {
    expect(withRuntimeVrfNetns(rendered, running)).toBe(rendered.replace('vrf BLUE\n', 'vrf BLUE\n netns /run/netns/BLUE\n').replace('vrf RED\n', 'vrf RED\n netns /run/netns/RED\n'));
    expect(withRuntimeVrfNetns(rendered, 'router bgp 65102\n')).toBe(rendered);
  });

  it('keeps the binding of a VRF that leaves the config, and binds a VRF zebra holds unbound', () => {
    const withoutRed = rendered.replace(/^vrf RED\n(?:[ !].*\n)*?exit-vrf\n/m, '');
    const out = withRuntimeVrfNetns(withoutRed, running);
    expect(out.startsWith('vrf RED\n netns /run/netns/RED\nexit-vrf\n')).toBe(true);
    expect(out).toContain('vrf BLUE\n netns /run/netns/BLUE\n');
    const blueUnbound = running.replace(' netns /run/netns/BLUE\n', '');
    expect(withRuntimeVrfNetns(rendered, blueUnbound)).toContain('vrf BLUE\n netns /run/netns/BLUE\n');
  });

  it('unhooks L3 VNIs and VRF instances before the default instance changes ASN', () => {
    expect(instanceRemovalPreamble(rendered.replace('router bgp 65102', 'router bgp 65100'), running)).toEqual([
      'configure terminal',
      'vrf BLUE',
      'no vni 50001',
      'exit-vrf',
      'vrf RED',
      'no vni 50002',
      'exit-vrf',
      'no router bgp 65102 vrf BLUE',
      'no router bgp 65102 vrf RED',
      'no router bgp 65102',
    ]);
    expect(instanceRemovalPreamble(rendered, running)).toEqual([]);
  });

  it('unhooks the L3 VNI of a VRF instance the new config removes, and only that one', () => {
    const withoutRed = rendered.replace(/^router bgp 65102 vrf RED\n(?:[ !].*\n)*?exit\n/m, '').replace(/^vrf RED\n(?:[ !].*\n)*?exit-vrf\n/m, '');
    expect(withoutRed).not.toContain('RED');
    expect(instanceRemovalPreamble(withoutRed, running)).toEqual(['configure terminal', 'vrf RED', 'no vni 50002', 'exit-vrf', 'no router bgp 65102 vrf RED']);
  });
});

describe('running configs that configure the same', () => {
  const base = 'router bgp 65101\n!\nip prefix-list A seq 5 permit 10.0.0.0/8\nip prefix-list B seq 5 deny any\nip prefix-list B seq 10 permit 10.1.0.0/16\n!\nline vty\n';
  it('prefix-lists re-created by a rollback print after the others: the same configuration', () => {
    const moved = 'router bgp 65101\n!\nip prefix-list B seq 5 deny any\nip prefix-list B seq 10 permit 10.1.0.0/16\nip prefix-list A seq 5 permit 10.0.0.0/8\n!\nline vty\n';
    expect(sameRunningConfig(base, moved)).toBe(true);
  });
  it('an entry changed, or two entries of one list swapped, is a different configuration', () => {
    expect(sameRunningConfig(base, base.replace('10.1.0.0/16', '10.2.0.0/16'))).toBe(false);
    expect(sameRunningConfig(base, base.replace('ip prefix-list B seq 5 deny any\nip prefix-list B seq 10 permit 10.1.0.0/16', 'ip prefix-list B seq 10 permit 10.1.0.0/16\nip prefix-list B seq 5 deny any'))).toBe(false);
  });
});
