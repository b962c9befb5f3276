/**
 * A load balancer's VIP in another VRF, reached through a dedicated firewall node, proven in the
 * lab (test/domains/firewall/fixtures/node-vip: a generated fabric, not an example; lab hfwvip):
 *  - fw1 announces the VIP of lb1 (VRF T2V1) into T1V1 and T3V1, whose clients the policy lets
 *    reach it, and their subnets into T2V1 for the replies; leaf1 holds the VIP with fw1's ASN in
 *    the path, as simulated;
 *  - the node's ruleset filters what it routes to the VIP (the VIP is in its T2V1 scope set), so
 *    verify --live passes with real connections to the VIP through fw1: http accepted and
 *    answered by a pool member, tcp/22 accepted and refused by lb1 (it does not serve it), the
 *    rest dropped;
 *  - with the VIP taken out of fw1's scope set by hand (what the node did before: traffic to the
 *    VIP forwarded unfiltered), the probes catch every dropped flow that now gets through.
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

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/haproxy') ? 'haproxy' : undefined;
if (missing && !inCI) console.log(`firewall-node-vip: skipped, needs ${missing}`);

const LAB = 'hfwvip';
const VIP = '10.99.2.10';

describe.skipIf(!!missing && !inCI)('a VIP of another VRF through a firewall node, proven in the lab', () => {
  const copy = intentCopy('test/domains/firewall/fixtures/node-vip', 225, '172.27');
  const model = loadModelSync(copy.dir);

  intentLab(copy, LAB, 90_000);

  it('fw1 announces the VIP into the VRFs the policy lets reach it; leaf1 holds it as simulated', async () => {
    const fw1 = model.serviceNodes!.find((n) => n.name === 'fw1')!;
    expect(fw1.advertise.filter((a) => a.prefix === `${VIP}/32`).map((a) => `${a.vrf} via ${a.via}`)).toEqual(['T1V1 via T2V1', 'T3V1 via T2V1']);
    expect(fw1.legs.find((l) => l.vrf === 'T2V1')!.routes4).toContain(`${VIP}/32`);
    const bestPath = async () => {
      const r = await labExec(LAB, 'p1-leaf1', ['vtysh', '-c', `show bgp vrf T1V1 ipv4 unicast ${VIP}/32 json`]);
      const paths = (JSON.parse(r.stdout || '{}').paths ?? []) as { aspath?: { string: string }; bestpath?: { overall?: boolean } }[];
      return paths.find((p) => p.bestpath?.overall)?.aspath?.string;
    };
    let real = await bestPath();
    for (const end = Date.now() + 30_000; !real && Date.now() < end; real = await bestPath()) await new Promise((res) => setTimeout(res, 500));
    const sim = new ReachabilityModel(makeContext(buildFabricGraph(model))).cp.rib('p1-leaf1', 'T1V1').find((r) => r.prefix === `${VIP}/32`);
    expect(sim?.asPath?.join(' ')).toBe(real);
    expect(real).toMatch(/ 65400$/);
  }, 60_000);

  it('verify --live passes: every verdict to the VIP proven with real connections through fw1', async () => {
    const r = await verifyLive(model, `lab:${LAB}`);
    expect(r.results.filter((x) => !x.passed).map((x) => `${x.check.id}: ${x.findings.map((f) => f.message).join('; ')}`)).toEqual([]);
    const fw = r.observed.firewall as FirewallObserved;
    const vip = fw.probes.filter((p) => p.probe.address === VIP).map((p) => `${p.probe.src} ${p.probe.service} ${p.probe.action} ${p.probe.verdicts[0]!.rule} ${p.result.outcome}`);
    expect(vip).toEqual([
      'h1-1 tcp/22 drop (default) timeout', 'h1-1 tcp/80 accept t1-vip connected', 'h1-1 tcp/443 drop (default) timeout',
      'h4 tcp/22 accept admin-ssh refused', 'h4 tcp/80 drop (default) timeout', 'h4 tcp/443 drop (default) timeout',
    ]);
    // The accepted http request is answered by a member of the pool behind the VIP.
    const answer = await labExec(LAB, 'h1-1', ['curl', '-s', '-m', '5', `http://${VIP}/`]);
    expect(['h2-1', 'h5']).toContain(answer.stdout.trim());
  }, 90_000);

  it('traffic to the VIP forwarded unfiltered (taken out of the node\'s scope set) is caught by the probes', async () => {
    await labExec(LAB, 'fw1', ['nft', 'delete', 'element', 'inet', 'netloom', 'between_T2V1_v4', `{ ${VIP}/32 }`]);
    const r = await verifyLive(model, `lab:${LAB}`);
    const findings = r.results.filter((x) => x.check.id === 'live-firewall-probes').flatMap((x) => x.findings).filter((f) => (f.evidence as { probe?: string }).probe?.includes(VIP)).map((f) => `${(f.evidence as { probe: string }).probe}: ${(f.evidence as { observed: string }).observed}`);
    expect(findings).toEqual([
      `h1-1 -> ${VIP} tcp/22: refused`, `h1-1 -> ${VIP} tcp/443: refused`, `h4 -> ${VIP} tcp/80: connected`, `h4 -> ${VIP} tcp/443: refused`,
    ]);
  }, 90_000);
});
