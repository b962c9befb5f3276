/**
 * The firewall's predictions checked against the running lab (prediction = reality): intents/fw2
 * (one tenant VRF, web/app/db networks routed on three leaves, a stateful policy distributed at
 * the networks) up under its own name and management subnet, `netloom apply` pushing each
 * leaf's nftables.conf into its VRF namespace, then `verify --live`:
 *  - live-firewall-probes passes with real connections covering accept (connected), reject
 *    (refused), drop and the default drop (timeout) and the port forward (arrived at 8080);
 *  - live-firewall-ruleset passes: the deployed tables mean what was rendered;
 *  - the accept rule deleted by hand in leaf1's VRF namespace makes both fail, naming the rule
 *    and its line, and only for the flows that cross leaf1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FirewallObserved } from '../../src/domains/firewall/live.ts';
import { labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`firewall-live: skipped, needs ${missing}`);

const LAB = 'hfefwl';

describe.skipIf(!!missing && !inCI)('firewall predictions = reality in the lab (intents/fw2)', () => {
  const copy = intentCopy('intents/fw2', 2, '172.28');
  const model = loadModelSync(copy.dir);
  const live = async () => {
    const r = await verifyLive(model, `lab:${LAB}`);
    const by = Object.fromEntries(r.results.map((x) => [x.check.id, x]));
    return { by, fw: r.observed.firewall as FirewallObserved };
  };

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    expect((await waitConverged(LAB, { timeoutMs: 60_000 })).pending).toEqual([]);
    const apply = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'apply', copy.dir, '--target', `lab:${LAB}`], { encoding: 'utf8', timeout: 60_000 });
    expect(apply.stderr + apply.stdout).toMatch(/leaf1 +ssh +applied +nftables\.conf@SHOP/);
    expect(apply.status).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await labDown(LAB).catch(() => false);
    copy.cleanup();
  }, 60_000);

  it('verify --live passes: every verdict proven with real connections, the deployed rulesets as rendered', async () => {
    const { by, fw } = await live();
    const failed = Object.values(by).filter((x) => !x.passed).map((x) => `${x.check.id}: ${x.findings.map((f) => f.message).join('; ')}`);
    expect(failed).toEqual([]);
    expect(by['live-firewall-probes'].examined).toBe('122 probes (38 connected, 80 timeout, 4 refused)');
    expect(by['live-firewall-ruleset'].examined).toBe('3 devices, 6 namespaces');
    const seen = (src: string, dst: string, service: string) => fw.probes.find((p) => p.probe.src === src && p.probe.dst === dst && p.probe.service === service && p.probe.family === 4)!;
    // Accept, reject, drop by a rule, drop by default: predicted and observed.
    expect([seen('web1', 'app2', 'tcp/8080'), seen('app2', 'db1', 'tcp/5432'), seen('web2', 'db1', 'tcp/5432'), seen('db1', 'app1', 'tcp/22'), seen('app1', 'web1', 'tcp/8080')].map((p) => [p.probe.action, p.probe.verdicts[0]?.rule, p.result.outcome])).toEqual([
      ['accept', 'web-to-app', 'connected'],
      ['accept', 'app-to-db', 'connected'],
      ['reject', 'db-deny', 'refused'],
      ['drop', 'ssh-drop', 'timeout'],
      ['drop', '(default)', 'timeout'],
    ]);
    // The port forward: probed at the service address, arrived translated at app1.
    const nat = fw.probes.filter((p) => p.probe.nat);
    expect(nat.map((p) => [p.probe.src, p.probe.address, p.probe.port, p.result.outcome, p.result.reply?.endpoint, p.result.reply?.port, p.result.reply?.dst])).toEqual([
      ['web1', '10.10.99.80', 80, 'connected', 'app1', 8080, '10.10.20.21'],
      ['web2', '10.10.99.80', 80, 'connected', 'app1', 8080, '10.10.20.21'],
    ]);
  }, 60_000);

  it('the accept rule deleted by hand on leaf1: both checks fail naming the rule and its line, only for flows crossing leaf1', async () => {
    const list = await labExec(LAB, 'leaf1', ['ip', 'netns', 'exec', 'SHOP', 'nft', '-a', 'list', 'chain', 'inet', 'netloom', 'pol_tiers']);
    const handle = /ip saddr 10\.10\.10\.0\/24 ip daddr 10\.10\.20\.0\/24 tcp dport 8080 .*# handle (\d+)/.exec(list.stdout)?.[1];
    expect(handle).toBeDefined();
    const del = await labExec(LAB, 'leaf1', ['ip', 'netns', 'exec', 'SHOP', 'nft', 'delete', 'rule', 'inet', 'netloom', 'pol_tiers', 'handle', handle!]);
    expect(del.code).toBe(0);

    const { by } = await live();
    const probes = by['live-firewall-probes'];
    expect(probes.passed).toBe(false);
    // web1 sits on leaf1: its IPv4 calls to the app tier (directly and through the port forward) die there; web2's pass leaf2.
    expect(probes.findings.map((f) => f.message)).toEqual([
      'web1 -> app1 tcp/8080 (routed): predicted connected: accept by rule web-to-app (firewall.yaml:28) of policy tiers; observed timeout',
      'web1 -> app2 tcp/8080 (routed): predicted connected: accept by rule web-to-app (firewall.yaml:28) of policy tiers; observed timeout',
      'web1 -> app1 tcp/80 -> tcp/8080 at 10.10.99.80 (routed): predicted connected: dnat app-forward (firewall.yaml:58) to 10.10.20.21:8080, then accept by rule web-to-app (firewall.yaml:28) of policy tiers; observed timeout',
    ]);
    expect(probes.findings.every((f) => f.location?.file.endsWith('firewall.yaml') && f.location.line === 28)).toBe(true);

    const ruleset = by['live-firewall-ruleset'];
    expect(ruleset.passed).toBe(false);
    expect(ruleset.findings.every((f) => f.message.startsWith('leaf1 (SHOP): chain inet netloom pol_tiers: '))).toBe(true);
    expect(ruleset.findings.filter((f) => f.evidence.rule === 'web-to-app').map((f) => f.message)).toContainEqual(
      'leaf1 (SHOP): chain inet netloom pol_tiers: rule web-to-app: the web tier calls the app API (owner team-web)#2 missing (ip6 saddr == fd00:10:10::/64 ip6 daddr == fd00:10:20::/64 tcp dport == 8080 counter accept) [rule web-to-app, firewall.yaml:28]',
    );
    // Every other check still holds: the fault is the firewall's alone.
    expect(Object.values(by).filter((x) => !x.passed).map((x) => x.check.id).sort()).toEqual(['live-firewall-probes', 'live-firewall-ruleset']);
  }, 60_000);
});
