/**
 * IPv6 between VRFs through a dedicated firewall node, proven in the lab: fw3 dual-stack
 * (test/domains/firewall/fixtures/node-v6: every network with an IPv6 subnet, every endpoint
 * with an IPv6 address, the echo rule also accepting ICMPv6 echo requests) up under its own
 * name and management subnet:
 *  - fw1 gets an IPv6 address in each leg's network without one in the intent, peers with the
 *    leaf over IPv6 in each VRF and announces the other VRFs' IPv6 subnets the policy lets it
 *    reach; leaf1 holds them as EVPN type-5 routes with fw1's ASN in the path, as simulated;
 *  - the ping predictions through fw1 hold for IPv6 (echo accepted both ways), and
 *    `verify --live` passes with IPv6 connections across VRFs through fw1 beside the IPv4 ones:
 *    accept connects, the database port is refused, the default drop times out, and the IPv6
 *    port forward ([fd00:30:99::80]:80, on fw1's lo) arrives at h2 translated to
 *    [fd00:30:20::12]:8080, as the IPv4 one does;
 *  - with its ruleset gone fw1 withdraws its IPv6 routes too (the port-forward address with
 *    them) and IPv6 stops crossing.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FirewallObserved } from '../../src/domains/firewall/live.ts';
import { labExec } from '../../src/lab/index.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { makeContext } from '../../src/verify/checks/index.ts';
import { ReachabilityModel } from '../../src/verify/reachability.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { intentLab } from './helpers.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`firewall-node-v6: skipped, needs ${missing}`);

const LAB = 'hfwv6';

/** leaf1's IPv6 BGP routes of one VRF: prefix -> AS path of the best one. */
async function vrfRoutes6(vrf: string): Promise<Record<string, string>> {
  const r = await labExec(LAB, 'leaf1', ['vtysh', '-c', `show bgp vrf ${vrf} ipv6 unicast json`]);
  const routes = (JSON.parse(r.stdout).routes ?? {}) as Record<string, { bestpath?: boolean; path?: string; aspath?: { string: string } }[]>;
  return Object.fromEntries(Object.entries(routes).map(([p, paths]) => {
    const best = paths.find((x) => x.bestpath) ?? paths[0];
    return [p, best?.path ?? best?.aspath?.string ?? ''];
  }));
}

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return what();
}

describe.skipIf(!!missing && !inCI)('IPv6 between VRFs through a firewall node, proven in the lab (fw3 dual-stack)', () => {
  const copy = intentCopy('test/domains/firewall/fixtures/node-v6', 210, '172.27');
  const model = loadModelSync(copy.dir);
  const ping6 = async (src: string, address: string) => (await labExec(LAB, src, ['ping', '-6', '-c', '1', '-W', '1', address])).code === 0;

  intentLab(copy, LAB, 90_000);

  it('fw1 routes IPv6 between the VRFs: its legs, its announcements, the leaves\' type-5 routes as simulated', async () => {
    const fw1 = model.serviceNodes!.find((n) => n.name === 'fw1')!;
    expect(fw1.legs.map((l) => `${l.vrf} ${l.ipv6}`)).toEqual(['WEB fd00:30:110:0:ffff:ffff:ffff:fffe/64', 'APP fd00:30:120:0:ffff:ffff:ffff:fffe/64', 'DB fd00:30:130:0:ffff:ffff:ffff:fffe/64']);
    expect(fw1.advertise.filter((a) => a.prefix.includes(':')).map((a) => `${a.vrf} ${a.prefix} ${a.via ? `via ${a.via}` : '(port forward)'}`).sort()).toEqual([
      'APP fd00:30:10::/64 via WEB', 'APP fd00:30:30::/64 via DB', 'DB fd00:30:10::/64 via WEB', 'DB fd00:30:20::/64 via APP',
      'WEB fd00:30:20::/64 via APP', 'WEB fd00:30:30::/64 via DB', 'WEB fd00:30:99::80/128 (port forward)',
    ]);
    const web = await vrfRoutes6('WEB');
    const held = ['fd00:30:20::/64', 'fd00:30:30::/64', 'fd00:30:99::80/128'];
    expect(held.map((p) => web[p])).toEqual(['65100 65103 65400', '65100 65103 65400', '65100 65103 65400']);
    const rm = new ReachabilityModel(makeContext(buildFabricGraph(model)));
    const sim = rm.cp.rib('leaf1', 'WEB');
    expect(held.map((p) => sim.find((r) => r.prefix === p)?.asPath?.join(' '))).toEqual(held.map((p) => web[p]));
    // IPv6 echo crosses both ways (the echo rule, replies as established).
    expect(await until(() => ping6('h1', 'fd00:30:20::12'), 10_000)).toBe(true);
    expect(await ping6('h3', 'fd00:30:10::11')).toBe(true);
  }, 60_000);

  it('verify --live passes: every IPv6 verdict across VRFs proven with real connections through fw1', async () => {
    const r = await verifyLive(model, `lab:${LAB}`);
    const by = Object.fromEntries(r.results.map((x) => [x.check.id, x]));
    expect(Object.values(by).filter((x) => !x.passed).map((x) => `${x.check.id}: ${x.findings.map((f) => f.message).join('; ')}`)).toEqual([]);
    const fw = r.observed.firewall as FirewallObserved;
    const v6 = fw.probes.filter((p) => p.probe.family === 6 && !p.probe.nat);
    const v4 = fw.probes.filter((p) => p.probe.family === 4 && !p.probe.nat);
    // The same plan in both families, port forwards included.
    expect(v6.length).toBe(v4.length);
    const forwards = (family: 4 | 6) => fw.probes.filter((p) => p.probe.family === family && p.probe.nat)
      .map((p) => `${p.probe.src} ${p.probe.address} ${p.probe.service} ${p.probe.nat!.rule} ${p.result.outcome} at ${p.result.reply?.endpoint} ${p.result.reply?.dst} port ${p.result.reply?.port}`);
    expect(forwards(6)).toEqual([
      'h1 fd00:30:99::80 tcp/80 -> tcp/8080 app-forward6 connected at h2 fd00:30:20::12 port 8080',
      'h4 fd00:30:99::80 tcp/80 -> tcp/8080 app-forward6 connected at h2 fd00:30:20::12 port 8080',
    ]);
    expect(forwards(4)).toEqual([
      'h1 10.30.99.80 tcp/80 -> tcp/8080 app-forward connected at h2 10.30.20.12 port 8080',
      'h4 10.30.99.80 tcp/80 -> tcp/8080 app-forward connected at h2 10.30.20.12 port 8080',
    ]);
    expect(v6.filter((p) => p.probe.via?.includes('fw1')).length).toBeGreaterThan(0);
    const seen = (src: string, dst: string, service: string) => v6.find((p) => p.probe.src === src && p.probe.dst === dst && p.probe.service === service)!;
    expect([seen('h1', 'h2', 'tcp/8080'), seen('h2', 'h3', 'tcp/5432'), seen('h4', 'h3', 'tcp/5432'), seen('h4', 'h2', 'tcp/22')]
      .map((p) => [p.probe.address, p.probe.forwarding, p.probe.via, p.probe.action, p.probe.verdicts[0]?.rule, p.result.outcome])).toEqual([
      ['fd00:30:20::12', 'routed', ['fw1'], 'accept', 'web-to-app', 'connected'],
      ['fd00:30:30::13', 'routed', ['fw1'], 'accept', 'app-to-db', 'connected'],
      ['fd00:30:30::13', 'routed', ['fw1'], 'reject', 'db-deny', 'refused'],
      ['fd00:30:20::12', 'routed', ['fw1'], 'drop', '(default)', 'timeout'],
    ]);
    // Every IPv6 probe's outcome is the predicted one (the check passed), counted per outcome.
    const outcomes = (ps: typeof v6) => ps.reduce<Record<string, number>>((m, p) => ({ ...m, [p.result.outcome]: (m[p.result.outcome] ?? 0) + 1 }), {});
    expect(outcomes(v6)).toEqual(outcomes(v4));
    // The IPv6 pings the predictions answer.
    expect(by['live-probes'].passed).toBe(true);
  }, 120_000);

  it('without its ruleset fw1 withdraws its IPv6 routes and IPv6 stops crossing; both come back with it', async () => {
    expect((await labExec(LAB, 'fw1', ['nft', 'delete', 'table', 'inet', 'netloom'])).code).toBe(0);
    expect(await until(async () => {
      const web = await vrfRoutes6('WEB');
      return !web['fd00:30:20::/64'] && !web['fd00:30:99::80/128'];
    }, 10_000)).toBe(true);
    expect(await ping6('h1', 'fd00:30:20::12')).toBe(false);
    expect((await labExec(LAB, 'fw1', ['sh', '-c', 'nft -f /etc/netloom/nftables.conf && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'])).code).toBe(0);
    expect(await until(async () => (await vrfRoutes6('WEB'))['fd00:30:20::/64'] === '65100 65103 65400', 15_000)).toBe(true);
    expect(await until(() => ping6('h1', 'fd00:30:20::12'), 10_000)).toBe(true);
  }, 60_000);
});
