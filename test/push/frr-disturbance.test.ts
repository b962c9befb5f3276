/**
 * What a change disturbs, predicted from the configurations (apply --dry-run, the plan, and
 * the zero-downtime proof's "touched" flows): on dc3's rendered configs with real edits.
 */
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { contextLines, describeDisturbance, frrDisturbance } from '../../src/push/frr-disturbance.ts';
import { evpnResyncCommands } from '../../src/domains/fabric/evpn-resync.ts';
import { runsOspfOn } from '../../src/push/postcheck.ts';
import { heldDown } from '../../src/push/rollout.ts';
import { disturbedFlows, endpointFlows, flowName } from '../../src/verify/flows.ts';

const dc3 = loadModelSync('intents/dc3');
const files = (device: string) => Object.fromEntries(renderModel(dc3, { devices: [device] }).artifacts.map((a) => [a.artifact, a.content]));
const leaf1 = files('leaf1');

describe('FRR change disturbance', () => {
  it('reads lines with their context, as frr-reload.py does', () => {
    const lines = contextLines(leaf1['frr.conf']);
    expect(lines).toContain('router bgp 65300 > address-family l2vpn evpn > vni 10010 > rd 10.3.0.1:10');
    expect(lines).toContain('router bgp 65300 vrf BLUE > address-family l2vpn evpn > route-target import 65300:50001');
    expect(lines).toContain('interface eth1 > ip ospf network point-to-point');
    expect(lines.some((l) => /exit/.test(l))).toBe(false);
  });

  it('an unchanged config disturbs nothing; netns lines and the FRR version are not changes', () => {
    const running = leaf1['frr.conf'].replace('frr version 8.4', 'frr version 8.4.4').replace('vrf BLUE\n', 'vrf BLUE\n netns /run/netns/BLUE\n');
    const d = frrDisturbance(running, leaf1['frr.conf'], leaf1['network.sh'], leaf1['network.sh']);
    expect(d).toEqual({ sessions: [], vnis: [], vlans: [], vrfs: [], interfaces: [] });
    expect(describeDisturbance(d)).toBe('nothing that carries traffic');
  });

  it('names the sessions a neighbour change resets, and only those', () => {
    const changed = leaf1['frr.conf'].replace(' neighbor 10.3.0.101 update-source lo\n', ' neighbor 10.3.0.101 update-source eth1\n').replace(' neighbor 10.3.0.102 description spine2\n', ' neighbor 10.3.0.102 description rr2\n');
    expect(frrDisturbance(leaf1['frr.conf'], changed).sessions).toEqual(['10.3.0.101 (update-source)']);
    expect(frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'].replace('bgp router-id 10.3.0.1\n', 'bgp router-id 10.3.0.9\n')).all).toBe('BGP router-id 10.3.0.1 -> 10.3.0.9');
  });

  it('a new AS replaces the BGP instance: said as the AS change, whatever else its lines change', () => {
    const renumbered = leaf1['frr.conf'].replaceAll(/^router bgp 65300\b/gm, 'router bgp 65399');
    const d = frrDisturbance(leaf1['frr.conf'], renumbered);
    expect(d.all).toBe('BGP AS 65300 -> 65399: the instance is replaced');
    expect(describeDisturbance(d)).toBe('everything on the device (BGP AS 65300 -> 65399: the instance is replaced)');
    // With a new router id as well: still the AS, the bigger change.
    expect(frrDisturbance(leaf1['frr.conf'], renumbered.replace('bgp router-id 10.3.0.1\n', 'bgp router-id 10.3.0.9\n')).all).toBe('BGP AS 65300 -> 65399: the instance is replaced');
    // BGP added to a device that ran none, and removed.
    const noBgp = leaf1['frr.conf'].split(/^router bgp/m)[0];
    expect(frrDisturbance(noBgp, leaf1['frr.conf']).all).toBe('BGP instance 65300 added');
    expect(frrDisturbance(leaf1['frr.conf'], noBgp).all).toBe('BGP instance 65300 removed');
  });

  it('a new VLAN touches its VLAN and VNI, not the VRF it routes in; a new VRF touches the VRF', () => {
    const vlan40 = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'].replace('  vni 10030\n', '  vni 10040\n   rd 10.3.0.1:40\n  exit-vni\n  vni 10030\n'), leaf1['network.sh'], leaf1['network.sh'].replace('ensure_link br30 type bridge\n', 'ensure_link br40 type bridge\nif [ "$VRF_MODE" = netns ]; then\n  N=BLUE\n  ensure_addrs gw40 10.30.40.1/24\n  N=\nfi\nensure_link br30 type bridge\n'));
    // Nothing of a new VLAN runs yet: added, not disturbed.
    expect(vlan40).toMatchObject({ vnis: [], vlans: [], vrfs: [], sessions: [], added: { vnis: [10040], vlans: [40], vrfs: [] } });
    expect(describeDisturbance(vlan40)).toBe('nothing that carries traffic (adds VNIs 10040; VLANs 40)');
    // A VNI that runs and changes is disturbed.
    const rd = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'].replace(/(  vni 10030\n   rd )\S+/, '$110.3.0.1:99'));
    expect(rd).toMatchObject({ vnis: [10030], vlans: [], vrfs: [] });
    expect(rd.added).toBeUndefined();
    expect(describeDisturbance(rd)).toBe('VNIs 10030');
    const vrf = frrDisturbance(leaf1['frr.conf'], `${leaf1['frr.conf']}router bgp 65300 vrf YELLOW\n bgp router-id 10.3.0.1\nexit\n`);
    expect([vrf.vrfs, vrf.added?.vrfs]).toEqual([[], ['YELLOW']]);
    // network.sh creating a VRF names the VRF (not the `table` keyword of `type vrf table N`).
    const blue = leaf1['network.sh'].split('\n').find((l) => /^\s*ensure_link BLUE type vrf table \d+$/.test(l));
    expect(blue).toBeDefined();
    const vrfSh = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'], leaf1['network.sh'], leaf1['network.sh'].replace(blue!, `${blue}\n${blue!.replace(/BLUE/, 'GREEN').replace(/table \d+/, 'table 1099')}`));
    expect([vrfSh.vrfs, vrfSh.added?.vrfs]).toEqual([[], ['GREEN']]);
    expect(describeDisturbance(vrfSh)).toBe('nothing that carries traffic (adds VRFs GREEN)');
  });

  it("a new MTU on an OSPF interface: its adjacency resets and stays down until the peer's MTU is the same (network.sh sets it); on a port without OSPF, not", () => {
    const net = leaf1['network.sh'];
    expect(net).toMatch(/^set_mtu eth1 9216$/m);
    const mtu = (n: string) => net.replace(/^set_mtu (eth[12]) 9216$/gm, `set_mtu $1 ${n}`);
    const d = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'], net, mtu('9100'));
    expect([d.interfaces, d.ospfMtu]).toEqual([['eth1', 'eth2'], [{ from: 9216, to: 9100, interfaces: ['eth1', 'eth2'] }]]);
    // Every adjacency of the leaf at once: its sessions between loopbacks reset too (measured on dc3).
    expect(describeDisturbance(d)).toBe(
      "BGP 10.3.0.101 (reset: underlay: every OSPF adjacency resets), 10.3.0.102 (reset: underlay: every OSPF adjacency resets); underlay on eth1, eth2 (MTU 9216 -> 9100: OSPF adjacencies reset, down until each peer's MTU is the same)",
    );
    // One uplink: the other carries the loopback sessions.
    const one = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'], net, net.replace(/^set_mtu eth1 9216$/m, 'set_mtu eth1 9100'));
    expect([one.interfaces, one.sessions]).toEqual([['eth1'], []]);
    // The same change where OSPF does not run on the ports (a BGP underlay): nothing reset.
    const noOspf = leaf1['frr.conf'].replace(/^ ip ospf .*\n/gm, '');
    expect(frrDisturbance(noOspf, noOspf, net, mtu('9100'))).toEqual({ sessions: [], vnis: [], vlans: [], vrfs: [], interfaces: [] });
  });

  it("a fabric port's new address disturbs its underlay; a port the running state never names (a new uplink) is added, not disturbed", () => {
    const net = leaf1['network.sh'];
    const moved = net.replace('ensure_addrs eth1 10.3.128.1/31', 'ensure_addrs eth1 10.3.128.9/31');
    expect(moved).not.toBe(net);
    const d = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'], net, moved);
    expect([d.interfaces, d.added]).toEqual([['eth1'], undefined]);
    // eth3: a new uplink (its frr.conf block and its network.sh lines); the running config's
    // descriptions naming a peer's eth3 do not make it a port in use.
    const conf = `${leaf1['frr.conf']}interface eth3\n description to spine3 eth1\n ip ospf area 0.0.0.0\n ip ospf network point-to-point\nexit\n`;
    const running = leaf1['frr.conf'].replace(' description to spine1 eth1', ' description to spine1 eth3');
    const grown = `${net}\nexists eth3 || fail "fabric port eth3 (to spine3 eth1) does not exist"\nset_mtu eth3 9216\nset_up eth3\nensure_addrs eth3 10.3.128.5/31\n`;
    const added = frrDisturbance(running, conf, net, grown);
    expect([added.interfaces, added.added]).toEqual([[], { vnis: [], vlans: [], vrfs: [], interfaces: ['eth3'] }]);
    expect(describeDisturbance(added)).toBe('nothing that carries traffic (adds underlay on eth3)');
  });

  it('the waves apply would refuse: an MTU change of an OSPF link whose two ends are in different waves, each link once; one wave: none', () => {
    const d = frrDisturbance(leaf1['frr.conf'], leaf1['frr.conf'], leaf1['network.sh'], leaf1['network.sh'].replace(/^set_mtu (eth[12]) 9216$/gm, 'set_mtu $1 9100'));
    const spine = { sessions: [], vnis: [], vlans: [], vrfs: [], interfaces: ['eth1'], ospfMtu: [{ from: 9216, to: 9100, interfaces: ['eth1'] }] };
    expect(heldDown(dc3, [[{ device: 'leaf1', disturbs: d }], [{ device: 'spine1', disturbs: spine }]])).toEqual([
      'leaf1 eth1: MTU 9216 -> 9100 in wave 1 resets its OSPF adjacency with spine1 eth1, down until spine1 has the same MTU (wave 2)',
      'leaf1 eth2: MTU 9216 -> 9100 in wave 1 resets its OSPF adjacency with spine2 eth1, down until spine2 has the same MTU (it does not change)',
    ]);
    expect(heldDown(dc3, [[{ device: 'spine1', disturbs: spine }, { device: 'leaf1', disturbs: { ...d, interfaces: ['eth1'], ospfMtu: [{ from: 9216, to: 9100, interfaces: ['eth1'] }] } }]])).toEqual([]);
  });

  it("the waves apply would refuse: a new AS whose sessions the peers pushed later do not accept (an iBGP fabric's AS); eBGP's remote-as external accepts it", () => {
    const conf = (device: string) => files(device)['frr.conf'];
    const running = new Map(['leaf1', 'spine1', 'spine2'].map((d) => [d, conf(d)]));
    const desired = new Map([...running].map(([d, c]) => [d, c.replaceAll(' 65300', ' 65301')]));
    const d = frrDisturbance(running.get('leaf1')!, desired.get('leaf1')!);
    expect(d.asChange).toEqual({ from: 65300, to: 65301 });
    const frr = (device: string) => (running.has(device) ? { running: running.get(device), desired: desired.get(device) } : undefined);
    const spine = (n: string) => ({ device: n, disturbs: frrDisturbance(running.get(n)!, desired.get(n)!) });
    expect(heldDown(dc3, [[{ device: 'leaf1', disturbs: d }], [spine('spine1'), spine('spine2')]], frr)).toEqual(
      ['spine1', 'spine2'].map((x, i) => `leaf1 10.3.0.10${i + 1}: BGP AS 65300 -> 65301 in wave 1: its session with ${x} (AS 65300, remote-as 65300 for it) stays down until ${x} changes (wave 2)`),
    );
    expect(heldDown(dc3, [[{ device: 'leaf1', disturbs: d }, spine('spine1'), spine('spine2')]], frr)).toEqual([]);
    // dc1: eBGP unnumbered, the spines' remote-as external accepts a leaf's new AS.
    const dc1 = loadModelSync('intents/dc1');
    const c1 = (device: string) => renderModel(dc1, { devices: [device] }).artifacts.find((a) => a.artifact === 'frr.conf')!.content;
    const [leaf, spines] = [c1('leaf1'), ['spine1', 'spine2'].map((x) => [x, c1(x)] as const)];
    const moved = leaf.replace('router bgp 65101', 'router bgp 65111');
    const e = frrDisturbance(leaf, moved);
    expect(e.asChange).toEqual({ from: 65101, to: 65111 });
    const frr1 = (device: string) => (device === 'leaf1' ? { running: leaf, desired: moved } : { running: new Map(spines).get(device) });
    expect(heldDown(dc1, [[{ device: 'leaf1', disturbs: e }]], frr1)).toEqual([]);
  });

  it('the OSPF post-check keeps an adjacency with a peer pushed later when that peer already runs OSPF on its end', () => {
    const spine1 = files('spine1')['frr.conf'];
    expect(runsOspfOn(spine1, 'eth1')).toBe(true);
    expect(runsOspfOn(spine1.replace(/^ ip ospf area .*\n/gm, ''), 'eth1')).toBe(false);
    expect(runsOspfOn(spine1, 'eth9')).toBe(false);
  });

  it('maps a device change to the flows through it: VLAN ends, VRF ends of routed and isolated flows', () => {
    const flows = endpointFlows(dc3);
    expect(flows).toHaveLength(56);
    const h1h3 = flows.find((f) => f.src === 'h1' && f.dst === 'h3')!;
    expect(flowName(h1h3)).toBe('h1 -> h3 (routed, VRF BLUE, via leaf1 spine1 spine2 leaf3)');
    expect(flows.filter((f) => f.predicted === 'bridged')).toHaveLength(8);
    expect(flows.filter((f) => f.predicted === 'routed')).toHaveLength(6);
    expect(flows.filter((f) => f.predicted === 'isolated')).toHaveLength(42);
    const vlan10 = disturbedFlows(dc3, flows, new Map([['leaf1', { sessions: [], vnis: [10010], vlans: [10], vrfs: [], interfaces: [] }]]));
    // h1 (leaf1, VLAN 10): all its flows both ways; h5 on leaf1 is VLAN 30, untouched.
    expect(vlan10.every((x) => x.flow.src === 'h1' || x.flow.dst === 'h1')).toBe(true);
    expect(vlan10).toHaveLength(14);
    const spine = disturbedFlows(dc3, flows, new Map([['spine1', { sessions: ['10.3.0.1 (remote-as)'], vnis: [], vlans: [], vrfs: [], interfaces: [] }]]));
    expect(spine.every((x) => x.flow.devices.includes('spine1'))).toBe(true);
    expect(spine.some((x) => x.flow.predicted === 'isolated')).toBe(false);
  });
});

describe('FRR reloads that change nothing send nothing', () => {
  it('renders what FRR 8.4 shows: no default hello interval, passive on the interface, no automatic L2 VNI route targets', () => {
    const c = leaf1['frr.conf'];
    expect(c).not.toMatch(/hello-interval 10\b|passive-interface|ebgp-requires-policy/);
    expect(c).toMatch(/interface lo\n description router id\n ip ospf area 0\.0\.0\.0\n ip ospf passive\n/);
    expect(c).toMatch(/  vni 10010\n   rd 10\.3\.0\.1:10\n  exit-vni\n/);
    // L3 VNI route targets FRR shows as configured: kept.
    expect(c).toContain('  route-target import 65300:50001\n');
  });

  it('the EVPN repair re-selects (a net-zero toggle) and re-announces each EVPN VRF instance', () => {
    const per = (vrf: string, toggle: string[]) => [`router bgp 65300 vrf ${vrf}`, ...toggle, 'no bgp bestpath bandwidth', 'exit'];
    const toggle = ['bgp bestpath med missing-as-worst', 'no bgp bestpath med missing-as-worst'];
    expect(evpnResyncCommands(leaf1['frr.conf'])).toEqual(['configure terminal', ...per('BLUE', toggle), ...per('RED', toggle)]);
    expect(evpnResyncCommands(files('spine1')['frr.conf'])).toEqual([]);
    // A knob the operator set stays set: the toggle runs the other way round.
    const withMed = leaf1['frr.conf'].replace('router bgp 65300 vrf BLUE\n', 'router bgp 65300 vrf BLUE\n bgp bestpath med confed missing-as-worst\n');
    expect(evpnResyncCommands(withMed).slice(1, 5)).toEqual(['router bgp 65300 vrf BLUE', 'no bgp bestpath med confed missing-as-worst', 'bgp bestpath med confed missing-as-worst', 'no bgp bestpath bandwidth']);
  });
});
