/**
 * Load-balancer nodes attached to the fabric (model.serviceNodes from intents/slb1): the leaf
 * ports and VLANs they take, the leaf's eBGP in each VRF with its prefix filters, the node's own
 * FRR and scripts, the simulated routes to the VIPs (ECMP over the nodes' leaves), `trace` to a
 * VIP, and the errors of attachments the fabric cannot carry, each at its intent line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadModelSync } from '../../../src/model/index.ts';
import { renderModel } from '../../../src/render/index.ts';
import { ControlPlane } from '../../../src/verify/sim/control-plane.ts';
import { buildFabricGraph } from '../../../src/verify/graph.ts';
import { makeContext } from '../../../src/verify/checks/index.ts';
import { formatVipTrace, traceVip, vipTraceAsIntended } from '../../../src/verify/trace.ts';
import { IntentError, formatDiagnostic } from '../../../src/util/errors.ts';
import { cleanupCopies, nginxCapable, repoRoot, slb1Copy } from './fixtures.ts';
import type { SlbModel } from '../../../src/domains/slb/model.ts';

afterAll(cleanupCopies);
const dir = path.join(repoRoot, 'intents/slb1');
const model = loadModelSync(dir);
const files = renderModel(model, { artifactSets: [] }).artifacts;
const file = (p: string) => files.find((a) => a.path === p)!.content;

const errors = (d: string): string[] => {
  try {
    loadModelSync(d);
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  return [];
};

describe('service nodes in the model', () => {
  it('each leg takes an access port of its leaf in its network VLAN, and a host route there', () => {
    expect(model.serviceNodes!.map((n) => `${n.name}@${n.leaf} as ${n.asn}: ${n.legs.map((l) => `${l.port}=${l.iface} VLAN ${l.vlan} ${l.vrf} ${l.ipv4} gw ${l.gateway4}${l.ipv6 ? ` ${l.ipv6} gw ${l.gateway6}` : ''} routes ${l.routes4.join(',') || '-'}`).join(' | ')}; announces ${n.advertise.map((a) => `${a.vrf}:${a.prefix}`).join(' ')}`)).toEqual([
      'lb1@leaf1 as 65300: eth20=eth1 VLAN 10 BLUE 10.10.10.51/24 gw 10.10.10.1 fd00:10:10::51/64 gw fd00:10:10::1 routes 10.10.20.0/24 | eth21=eth2 VLAN 30 RED 10.20.30.51/24 gw 10.20.30.1 routes -; announces BLUE:10.10.99.10/32 RED:10.20.30.100/32 RED:10.20.30.101/32 BLUE:fd00:10:99::10/128',
      'lb2@leaf2 as 65300: eth20=eth1 VLAN 10 BLUE 10.10.10.52/24 gw 10.10.10.1 fd00:10:10::52/64 gw fd00:10:10::1 routes 10.10.20.0/24; announces BLUE:10.10.99.10/32 BLUE:fd00:10:99::10/128',
    ]);
    const leaf1 = model.devices.find((d) => d.name === 'leaf1')!;
    expect(leaf1.interfaces.filter((i) => i.name === 'eth20' || i.name === 'eth21').map((i) => `${i.name} VLAN ${i.accessVlan} ${i.description}`)).toEqual(['eth20 VLAN 10 load-balancer lb1 (VRF BLUE)', 'eth21 VLAN 30 load-balancer lb1 (VRF RED)']);
    expect(leaf1.vlans.find((v) => v.vlan === 10)!.hosts.map((h) => h.endpoint)).toContain('lb1');
  });

  it("the leaf peers in each VRF from its gateway and accepts only the node's VIPs; the node announces each VRF's VIPs only to that VRF", () => {
    const leaf = file('leaf1/frr.conf');
    expect(leaf).toContain('router bgp 65101 vrf BLUE\n bgp router-id 10.0.0.1\n neighbor 10.10.10.51 remote-as 65300\n neighbor 10.10.10.51 description lb1\n');
    expect(leaf).toContain(' neighbor 10.10.10.51 disable-connected-check\n');
    expect(leaf).toContain('  neighbor 10.10.10.51 route-map NL-SN-LB1-BLUE-4 in\n  neighbor 10.10.10.51 prefix-list NL-SN-NONE-4 out\n  no neighbor fd00:10:10::51 activate\n');
    // Inbound through a route-map: bgpd re-filters what the node sent when the list changes.
    expect(leaf).toContain('route-map NL-SN-LB1-RED-4 permit 10\n match ip address prefix-list NL-SN-LB1-RED-4\nexit\n');
    expect(leaf).toContain('ip prefix-list NL-SN-LB1-RED-4 seq 5 permit 10.20.30.100/32\nip prefix-list NL-SN-LB1-RED-4 seq 10 permit 10.20.30.101/32\n');
    expect(leaf).toContain('route-map NL-SN-LB1-BLUE-6 permit 10\n match ipv6 address prefix-list NL-SN-LB1-BLUE-6\n set ipv6 next-hop prefer-global\n');
    expect(file('leaf3/frr.conf')).not.toContain('NL-SN');
    const node = file('lb1/frr.conf');
    expect(node).toContain('router bgp 65300\n bgp router-id 10.10.10.51\n no bgp default ipv4-unicast\n neighbor 10.10.10.1 remote-as 65101\n');
    expect(node).toContain('  neighbor 10.20.30.1 prefix-list NL-VIP-RED-4 out\n');
    expect(node).toContain('ip prefix-list NL-VIP-BLUE-4 seq 5 permit 10.10.99.10/32\nipv6 prefix-list NL-VIP-BLUE-6 seq 5 permit fd00:10:99::10/128\nip prefix-list NL-VIP-RED-4 seq 5 permit 10.20.30.100/32\n');
    expect(file('lb1/node.sh')).toContain('ip route replace 10.10.20.0/24 via 10.10.10.1 dev "$IF"');
    expect(file('lb1/announce.sh')).toContain('healthy() { kill -0 "$(cat /run/netloom/slb/lb1/haproxy.pid)"; }');
  });

  it('every real tool accepts the files: sh -n on the scripts', () => {
    for (const p of ['lb1/node.sh', 'lb1/announce.sh', 'leaf1/network.sh']) {
      const r = spawnSync('sh', ['-n'], { input: file(p), encoding: 'utf8' });
      expect(r.status, `${p}: ${r.stderr}`).toBe(0);
    }
  });

  it('the simulation routes each VIP to the nodes announcing it: ECMP over their leaves, locally via the node', () => {
    const cp = new ControlPlane(model);
    const route = (leaf: string, vrf: string, prefix: string) => {
      const r = cp.rib(leaf, vrf).find((x) => x.prefix === prefix);
      return r && `${r.protocol} via ${r.nextHops.map((h) => `${h.address}(${h.device})`).join(' ')}`;
    };
    expect(route('leaf3', 'BLUE', '10.10.99.10/32')).toBe('bgp via 10.0.1.1(leaf1) 10.0.1.2(leaf2)');
    expect(route('leaf1', 'BLUE', '10.10.99.10/32')).toBe('bgp via 10.10.10.51(lb1)');
    expect(route('leaf1', 'BLUE', 'fd00:10:99::10/128')).toBe('bgp via fd00:10:10::51(lb1)');
    expect(route('leaf4', 'RED', '10.20.30.100/32')).toBe('bgp via 10.0.1.1(leaf1)');
    expect(route('leaf3', 'RED', '10.20.30.100/32')).toBeUndefined();
  });

  it('trace to a VIP: the route, the path to each node used, and the pools behind it', () => {
    const ctx = makeContext(buildFabricGraph(model));
    const t = traceVip(ctx, 'h3', '10.10.99.10')!;
    expect(t.nodes.map((n) => `${n.node} ${n.used}`)).toEqual(['lb1 true', 'lb2 true']);
    expect(t.legs.map((l) => `${l.src}->${l.dst} ${l.result.actual}`)).toEqual(['h3->lb1 routed', 'h3->lb2 routed']);
    expect(formatVipTrace(t)[0]).toBe('h3 -> 10.10.99.10 (VRF BLUE, announced by lb1 on leaf1, lb2 on leaf2): 2 nodes reached, route 10.10.99.10/32 bgp via 10.0.1.1 (leaf1), 10.0.1.2 (leaf2)');
    const red = traceVip(ctx, 'h4', '10.10.99.10')!;
    expect(red.route).toBeUndefined();
    expect(vipTraceAsIntended(red)).toBe(true);
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'trace', 'h3', '10.10.99.10', dir], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("   default -> pool shop-web (roundrobin, cookie persistence): h1:8080 (weight 3, bridged), h2:8080 (weight 1, bridged); serving: h1, h2\n");
  });

  it('attachments the fabric cannot carry are errors at their intent line', () => {
    const d = slb1Copy((slb) => {
      slb.nodes.lb2.attach = ['leaf3']; // does not carry VLAN 10
    });
    const errs = errors(d);
    expect(errs).toEqual([expect.stringMatching(/slb\.yaml:\d+:\d+: load-balancer node 'lb2': leaf leaf3 does not carry network 'web' \(it is on leaf1, leaf2; list leaf3 in the network's leaves\)$/)]);
    const e2 = errors(slb1Copy((slb) => {
      slb.asn = 65101;
    }));
    expect(e2.map((e) => e.replace(/^.*slb\.yaml:\d+:\d+: /, ''))).toEqual(["load-balancer node 'lb1': ASN 65101 is a fabric device's ASN; service nodes need an ASN of their own (eBGP to their leaf)", "load-balancer node 'lb2': ASN 65101 is a fabric device's ASN; service nodes need an ASN of their own (eBGP to their leaf)"]);
    const e3 = errors(slb1Copy((slb) => {
      slb.nodes.lb1.vrfs.BLUE.port = 'eth10';
      slb.nodes.lb1.vrfs.RED.port = 'ge-0/0/1';
    }));
    expect(e3.map((e) => e.replace(/^.*slb\.yaml:\d+:\d+: /, ''))).toEqual([
      "load-balancer node 'lb1': leaf1:eth10 is already used (endpoint h1)",
      "load-balancer node 'lb1': leaf1: 'ge-0/0/1' is not a port of platform frr (ports are eth1 to eth4096)",
    ]);
    expect(errors(slb1Copy((slb) => {
      delete slb.nodes.lb1.vrfs.RED.port;
    })).map((e) => e.replace(/^.*slb\.yaml:\d+:\d+: /, ''))).toEqual(["load-balancer node 'lb1': some VRF legs have a port and some not; an attached node has a leaf port per VRF"]);
  });

  it('an attached node runs one of its targets: nginx from its prefix in the run directory; what it cannot run is an error at its line', () => {
    const d = slb1Copy((slb) => {
      nginxCapable(slb);
      slb.nodes.lb1.targets = ['haproxy', 'nginx'];
      slb.nodes.lb1.runs = 'nginx';
      for (const m of slb.pools['orders-db'].members) m.backup = false;
    });
    const m = loadModelSync(d);
    expect((m.domains.slb as SlbModel).nodes.map((n) => `${n.name} ${n.runs}`)).toEqual(['lb1 nginx', 'lb2 haproxy']);
    const sn = m.serviceNodes!.find((n) => n.name === 'lb1')!;
    expect(sn.run).toEqual({
      start: 'mkdir -p /run/netloom/slb/lb1; if ! { [ -f /run/netloom/slb/lb1/nginx.pid ] && kill -0 "$(cat /run/netloom/slb/lb1/nginx.pid)" 2>/dev/null; }; then nginx -p /run/netloom/slb/lb1 -e /run/netloom/slb/lb1/error.log -c /etc/netloom/nginx.conf; fi',
      check: 'kill -0 "$(cat /run/netloom/slb/lb1/nginx.pid)"',
      runDir: '/run/netloom/slb/lb1',
      files: { 'nginx.conf': '/etc/netloom/nginx.conf' },
      reload: { 'nginx.conf': { kind: 'command', check: 'nginx -t -q -p /run/netloom/slb/lb1 -e /run/netloom/slb/lb1/error.log -c "$CANDIDATE"', apply: 'nginx -p /run/netloom/slb/lb1 -e /run/netloom/slb/lb1/error.log -c /etc/netloom/nginx.conf -s reload' } },
    });
    const out = renderModel(m, { artifactSets: [] }).artifacts;
    expect(out.find((a) => a.path === 'lb1/announce.sh')!.content).toContain('healthy() { kill -0 "$(cat /run/netloom/slb/lb1/nginx.pid)"; }');
    const ngx = out.find((a) => a.path === 'lb1/nginx.conf')!.content;
    expect(ngx).toContain('pid nginx.pid;\nerror_log error.log notice;');
    expect(ngx).toContain('    upstream shop-web {\n        zone shop-web 64k;\n');
    const wrong = errors(slb1Copy((slb) => {
      slb.nodes.lb1.runs = 'nginx';
      slb.nodes.lb2.targets = ['f5-as3'];
    }));
    expect(wrong).toEqual([
      expect.stringMatching(/slb\.yaml:29:13: load-balancer node 'lb1' runs nginx, which is not one of its targets \(haproxy, f5-as3\); add it to targets$/),
      expect.stringMatching(/slb\.yaml:34:9: load-balancer node 'lb2' is attached to the fabric but none of its targets \(f5-as3\) runs on the node; add haproxy or nginx$/),
    ]);
  });
});
