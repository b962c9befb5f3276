/**
 * Inter-VRF forwarding through a dedicated firewall node, proven in the lab: intents/fw3 (three
 * tenant VRFs WEB, APP, DB on leaf1/leaf2; the firewall node fw1 cabled to border leaf leaf3
 * with a leg in each VRF's transit network) up under its own name and management subnet:
 *  - the model routes between the VRFs only through fw1 (reachability, trace), and the leaves'
 *    real routes agree: each other VRF's subnets at leaf1 as EVPN type-5 routes originated by
 *    leaf3 with fw1's ASN in the path (live-vrf-routes passes too);
 *  - `verify --live` passes with real connections across VRFs through fw1: accept connects,
 *    the database port is refused (reject: TCP reset), the default drop times out, the port
 *    forward at 10.30.99.80:80 arrives translated at h2:8080; fw1's deployed ruleset means what
 *    was rendered and its counters move;
 *  - with its ruleset gone fw1 stops forwarding and withdraws every announcement (the leaves
 *    lose the routes between VRFs), and announces again once the ruleset is back;
 *  - an accept rule deleted by hand on fw1 fails both checks, naming the rule and its line;
 *  - `apply` pushes a changed policy to fw1 (after the devices): the database port now dropped
 *    times out, and the hand edit is gone (the table re-created in one transaction).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FirewallObserved } from '../../src/domains/firewall/live.ts';
import type { FirewallModel } from '../../src/domains/firewall/model.ts';
import { labExec } from '../../src/lab/index.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { makeContext } from '../../src/verify/checks/index.ts';
import { ReachabilityModel } from '../../src/verify/reachability.ts';
import { traceEndpoints } from '../../src/verify/trace.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';
import { intentLab } from './helpers.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`firewall-node: skipped, needs ${missing}`);

const LAB = 'fwnode';

/** leaf1's BGP routes of one VRF: prefix -> AS path of the best one. */
async function vrfRoutes(vrf: string): Promise<Record<string, string>> {
  const r = await labExec(LAB, 'leaf1', ['vtysh', '-c', `show bgp vrf ${vrf} ipv4 unicast json`]);
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

describe.skipIf(!!missing && !inCI)('inter-VRF forwarding through a firewall node, proven in the lab (intents/fw3)', () => {
  const copy = intentCopy('intents/fw3', 11, '172.26');
  const model = loadModelSync(copy.dir);
  const live = async () => {
    const r = await verifyLive(model, `lab:${LAB}`);
    const by = Object.fromEntries(r.results.map((x) => [x.check.id, x]));
    return { by, fw: r.observed.firewall as FirewallObserved };
  };
  const ping = async (src: string, address: string) => (await labExec(LAB, src, ['ping', '-c', '1', '-W', '1', address])).code === 0;

  intentLab(copy, LAB);

  it('the model routes between the VRFs through fw1 only, and the leaves hold its routes as EVPN type-5', async () => {
    expect(model.serviceNodes?.map((n) => [n.name, n.role, n.leaf, n.asn, n.legs.map((l) => `${l.iface} ${l.vrf} ${l.ipv4}`)])).toEqual([
      ['fw1', 'firewall', 'leaf3', 65400, ['eth1 WEB 10.30.110.6/29', 'eth2 APP 10.30.120.6/29', 'eth3 DB 10.30.130.6/29']],
    ]);
    // Announced into each VRF: the other VRFs' subnets the policy lets it reach, the port forward's address.
    expect(model.serviceNodes![0].advertise.map((a) => `${a.vrf} ${a.prefix}${a.via ? ` via ${a.via}` : ''}`)).toEqual([
      'APP 10.30.10.0/24 via WEB', 'DB 10.30.10.0/24 via WEB', 'DB 10.30.20.0/24 via APP', 'WEB 10.30.20.0/24 via APP',
      'APP 10.30.30.0/24 via DB', 'WEB 10.30.30.0/24 via DB', 'WEB 10.30.99.80/32',
    ]);
    const ctx = makeContext(buildFabricGraph(model));
    const rm = new ReachabilityModel(ctx);
    const ep = (n: string) => model.endpoints.find((e) => e.name === n)!;
    expect([['h1', 'h2'], ['h4', 'h3'], ['h2', 'h3'], ['h1', 'h4']].map(([a, b]) => { const r = rm.pairResult(ep(a), ep(b)); return [r.expected, r.actual, r.via]; })).toEqual([
      ['routed', 'routed', 'fw1'], ['routed', 'routed', 'fw1'], ['routed', 'routed', 'fw1'], ['bridged', 'bridged', undefined],
    ]);
    const t = traceEndpoints(ctx, 'h4', 'h3');
    expect(t.hops.filter((h) => h.kind === 'service-node').map((h) => h.text)).toEqual(['fw1 (firewall): in eth1 VRF WEB, routed out eth3 VRF DB (leaf3:eth10 -> leaf3:eth12)']);

    // Reality: leaf1 learns the other VRFs' subnets from leaf3 (EVPN), originated by fw1 (AS 65400).
    const web = await vrfRoutes('WEB');
    expect([web['10.30.20.0/24'], web['10.30.30.0/24'], web['10.30.99.80/32']]).toEqual(['65100 65103 65400', '65100 65103 65400', '65100 65103 65400']);
    // The simulation predicts the same paths.
    const sim = rm.cp.rib('leaf1', 'WEB');
    expect(['10.30.20.0/24', '10.30.30.0/24', '10.30.99.80/32'].map((p) => sim.find((r) => r.prefix === p)?.asPath?.join(' '))).toEqual([web['10.30.20.0/24'], web['10.30.30.0/24'], web['10.30.99.80/32']]);
    const db = await vrfRoutes('DB');
    expect([db['10.30.10.0/24'], db['10.30.20.0/24'], db['10.30.99.80/32']]).toEqual(['65100 65103 65400', '65100 65103 65400', undefined]);
  }, 60_000);

  it('verify --live passes: every verdict across VRFs proven with real connections through fw1', async () => {
    const { by, fw } = await live();
    const failed = Object.values(by).filter((x) => !x.passed).map((x) => `${x.check.id}: ${x.findings.map((f) => f.message).join('; ')}`);
    expect(failed).toEqual([]);
    expect(by['live-firewall-probes'].examined).toBe('38 probes (12 connected, 24 timeout, 2 refused)');
    expect(by['live-firewall-ruleset'].examined).toBe('1 devices, 1 namespaces');
    expect(by['live-probes'].examined).toBe('12 probes');
    const seen = (src: string, dst: string, service: string) => fw.probes.find((p) => p.probe.src === src && p.probe.dst === dst && p.probe.service === service)!;
    expect([seen('h1', 'h2', 'tcp/8080'), seen('h2', 'h3', 'tcp/5432'), seen('h4', 'h3', 'tcp/5432'), seen('h1', 'h2', 'tcp/22'), seen('h4', 'h2', 'tcp/22'), seen('h3', 'h1', 'tcp/8080')]
      .map((p) => [p.probe.forwarding, p.probe.via, p.probe.action, p.probe.verdicts[0]?.rule, p.result.outcome])).toEqual([
      ['routed', ['fw1'], 'accept', 'web-to-app', 'connected'],
      ['routed', ['fw1'], 'accept', 'app-to-db', 'connected'],
      ['routed', ['fw1'], 'reject', 'db-deny', 'refused'],
      ['routed', ['fw1'], 'accept', 'admin-ssh', 'connected'],
      ['routed', ['fw1'], 'drop', '(default)', 'timeout'],
      ['routed', ['fw1'], 'drop', '(default)', 'timeout'],
    ]);
    const nat = fw.probes.filter((p) => p.probe.nat);
    expect(nat.map((p) => [p.probe.src, p.probe.address, p.probe.port, p.result.outcome, p.result.reply?.endpoint, p.result.reply?.port, p.result.reply?.dst])).toEqual([
      ['h1', '10.30.99.80', 80, 'connected', 'h2', 8080, '10.30.20.12'],
      ['h4', '10.30.99.80', 80, 'connected', 'h2', 8080, '10.30.20.12'],
    ]);
    // The node's counters (read before the probes) moved with them.
    expect(fw.rulesets.find((r) => r.device === 'fw1')!.counters!.map((c) => c.rule).sort()).toEqual(['admin-ssh', 'app-to-db', 'db-deny', 'web-to-app']);
    const chain = (await labExec(LAB, 'fw1', ['nft', 'list', 'chain', 'inet', 'netloom', 'pol_tenants'])).stdout;
    const packets = (rule: string) => Number(new RegExp(`counter packets (\\d+) .*comment "${rule}`).exec(chain)?.[1] ?? -1);
    expect(['web-to-app', 'app-to-db', 'db-deny', 'admin-ssh'].map((r) => packets(r) > 0)).toEqual([true, true, true, true]);
  }, 60_000);

  it('without its ruleset fw1 forwards nothing and withdraws its routes; they come back with it', async () => {
    expect(await ping('h1', '10.30.20.12')).toBe(true);
    expect((await labExec(LAB, 'fw1', ['nft', 'delete', 'table', 'inet', 'netloom'])).code).toBe(0);
    expect(await until(async () => !(await vrfRoutes('WEB'))['10.30.20.0/24'], 10_000)).toBe(true);
    expect(Object.keys(await vrfRoutes('WEB')).filter((p) => !p.startsWith('10.30.10.') && !p.startsWith('10.30.110.'))).toEqual([]);
    expect(await ping('h1', '10.30.20.12')).toBe(false);
    // The node's start (its ruleset, then forwarding) brings it all back.
    expect((await labExec(LAB, 'fw1', ['sh', '-c', 'nft -f /etc/netloom/nftables.conf && sysctl -qw net.ipv4.ip_forward=1'])).code).toBe(0);
    expect(await until(async () => (await vrfRoutes('WEB'))['10.30.20.0/24'] === '65100 65103 65400', 15_000)).toBe(true);
    expect(await until(() => ping('h1', '10.30.20.12'), 10_000)).toBe(true);
  }, 60_000);

  it("an accept rule deleted by hand on fw1: both checks fail naming the rule and its line", async () => {
    const list = await labExec(LAB, 'fw1', ['nft', '-a', 'list', 'chain', 'inet', 'netloom', 'pol_tenants']);
    const handle = /tcp dport 5432 counter .*accept comment "app-to-db.*# handle (\d+)/.exec(list.stdout)?.[1];
    expect(handle).toBeDefined();
    expect((await labExec(LAB, 'fw1', ['nft', 'delete', 'rule', 'inet', 'netloom', 'pol_tenants', 'handle', handle!])).code).toBe(0);
    const { by } = await live();
    const probes = by['live-firewall-probes'];
    // app -> db 5432 now meets db-deny: refused instead of connected.
    expect(probes.findings.map((f) => f.message)).toEqual([
      'h2 -> h3 tcp/5432 (routed): predicted connected: accept by rule app-to-db (firewall.yaml:43) of policy tenants; observed refused [ECONNREFUSED]',
    ]);
    expect(probes.findings[0].location?.line).toBe(43);
    const ruleset = by['live-firewall-ruleset'];
    expect(ruleset.findings.map((f) => [f.evidence.rule, f.location?.line])).toEqual([['app-to-db', 43]]);
    expect(Object.values(by).filter((x) => !x.passed).map((x) => x.check.id).sort()).toEqual(['live-firewall-probes', 'live-firewall-ruleset']);
  }, 60_000);

  it('apply pushes a changed policy to fw1 (nft -c, then one nft -f): db-deny dropping now times out, the hand edit is gone', async () => {
    const f = path.join(copy.dir, 'firewall.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace(/(name: db-deny\n(?:.*\n)*?\s+action: )reject/, '$1drop'));
    const changed = loadModelSync(copy.dir);
    expect((changed.domains.firewall as FirewallModel).policies[0].rules.find((r) => r.name === 'db-deny')?.action).toBe('drop');
    const apply = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'apply', copy.dir, '--target', `lab:${LAB}`], { encoding: 'utf8', timeout: 150_000 });
    expect(apply.stdout + apply.stderr).toMatch(/fw1 +ssh +applied/);
    expect(apply.status).toBe(0);
    const r = await verifyLive(changed, `lab:${LAB}`);
    const by = Object.fromEntries(r.results.map((x) => [x.check.id, x]));
    expect(Object.values(by).filter((x) => !x.passed).map((x) => `${x.check.id}: ${x.findings.map((y) => y.message).join('; ')}`)).toEqual([]);
    const fw = r.observed.firewall as FirewallObserved;
    const p = fw.probes.find((x) => x.probe.src === 'h4' && x.probe.dst === 'h3' && x.probe.service === 'tcp/5432')!;
    expect([p.probe.action, p.probe.verdicts[0]?.rule, p.result.outcome]).toEqual(['drop', 'db-deny', 'timeout']);
    expect(by['live-firewall-probes'].examined).toBe('38 probes (12 connected, 26 timeout)');
  }, 180_000);
});
