// `netloom trace SRC DST --service S`: the fabric's path, then every firewall policy's verdict
// on it, summed up in one line with the deciding rule and its intent line (real CLI).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const trace = (...args: string[]) => spawnSync(process.execPath, [path.join(root, 'src/cli/bin.mjs'), 'trace', ...args], { cwd: root, encoding: 'utf8' });

describe('trace --service', () => {
  it('names the rule that denies a routed flow, and says when the firewall accepts one', () => {
    const denied = trace('web1', 'db1', 'intents/fw2', '--service', 'tcp/22');
    expect(denied.status).toBe(0);
    expect(denied.stdout).toContain('web1 -> db1 tcp/22: denied by rule ssh-drop at intents/fw2/firewall.yaml:50:11 (drop) of policy tiers on leaf1, leaf3\n');
    const accepted = trace('web1', 'app1', 'intents/fw2', '--service', 'tcp/8080');
    expect(accepted.stdout).toContain('web1 -> app1 tcp/8080: routed, accepted by the firewall\n');
    expect(accepted.stdout).toContain('accept by rule web-to-app at intents/fw2/firewall.yaml:28:11');
  });

  it('a flow the fabric does not forward is said so first; JSON carries the verdict; no policy is said too', () => {
    const iso = trace('h1', 'h4', 'intents/fw1', '--service', 'tcp/5432', '--json');
    const j = JSON.parse(iso.stdout) as { result: { actual: string }; firewall: { summary: string; verdict: string } };
    expect(j.result.actual).toBe('isolated');
    expect(j.firewall.verdict).toBe('denied');
    expect(j.firewall.summary).toBe('h1 -> h4 tcp/5432: not forwarded by the fabric (isolated); the firewall denies it as well');
    expect(trace('h1', 'h2', 'intents/dc1', '--service', 'tcp/80').stdout).toContain('h1 -> h2 tcp/80: bridged, no firewall policy in this intent');
    const bad = trace('web1', 'db1', 'intents/fw2', '--service', 'tcp/99999');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--service/);
  });

  it('without --service: one line with the services the policies on the path allow and the deciding rules; JSON the structured form', () => {
    const f = (l: string) => `intents/fw2/firewall.yaml:${l}`;
    const r = trace('app1', 'db1', 'intents/fw2');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('app1 -> db1: routed over VNI 50001, 2 equal-cost underlay paths; as intended');
    expect(lines.at(-1)).toBe(
      `firewall (policy tiers on leaf2, leaf3): allows tcp/5432 (rule app-to-db, ${f('36:11')}), icmp/8, icmpv6/128 (rule echo, ${f('54:11')}); ` +
      `drops tcp/22 (rule ssh-drop, ${f('50:11')}); drops the rest (default drop, ${f('22:7')})`,
    );
    const j = JSON.parse(trace('web1', 'db1', 'intents/fw2', '--json').stdout) as { firewall: { services: { allowed: string[]; policies: { policy: string; devices: string[]; denies: { rule: string; action: string; services: string[] }[] }[] } } };
    expect(j.firewall.services.allowed).toEqual(['icmp/8', 'icmpv6/128']);
    expect(j.firewall.services.policies.map((p) => [p.policy, p.devices])).toEqual([['tiers', ['leaf1', 'leaf3']]]);
    expect(j.firewall.services.policies[0]!.denies.map((d) => [d.rule, d.action, d.services])).toEqual([['db-deny', 'reject', ['tcp/5432']], ['ssh-drop', 'drop', ['tcp/22']], ['(default)', 'drop', []]]);
    // Bridged past a stateful policy, an isolated pair and an intent without a policy: no firewall line.
    for (const args of [['web1', 'web2', 'intents/fw2'], ['h1', 'h3', 'intents/fw1'], ['h1', 'h2', 'intents/dc1']]) expect(trace(...args).stdout).not.toContain('firewall');
  });

  it('through a firewall node: the headline names the node, not one VNI (each side has its own); DIR may come first', () => {
    const r = trace('intents/fw3', 'h1', 'h2');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('h1 -> h2: routed through fw1, 2 equal-cost underlay paths; as intended');
    expect(lines.filter((l) => /VXLAN encapsulation, L3 VNI/.test(l)).map((l) => /L3 VNI (\d+)/.exec(l)![1])).toEqual(['50001', '50002']);
    expect(trace('h1', 'h2', 'intents/fw3').stdout).toBe(r.stdout);
    expect(trace('intents/fw3', 'h1').status).toBe(2);
  });

  it("to a load balancer's VIP in another VRF: through the firewall node, with its verdict (static; proven in test/lab/firewall-node-vip.test.ts)", () => {
    const dir = 'test/domains/firewall/fixtures/node-vip';
    const denied = trace(dir, 'h1-1', '10.99.2.10', '--service', 'tcp/443');
    expect(denied.status).toBe(0);
    const lines = denied.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('h1-1 -> 10.99.2.10 (VRF T2V1, announced by lb1 on p1-leaf2, routed from VRF T1V1 through fw1): 1 node reached, route 10.99.2.10/32 bgp via 10.1.0.3 (p1-leaf3)');
    expect(lines).toContain('   6. fw1 (firewall): in eth1 VRF T1V1, routed out eth2 VRF T2V1 (p1-leaf3:eth10 -> p1-leaf3:eth11)');
    expect(lines).toContain(`h1-1 -> 10.99.2.10 tcp/443: denied by the default action (policy at ${dir}/firewall.yaml:18:7) (drop) of policy between on fw1`);
    expect(trace(dir, 'h1-1', '10.99.2.10', '--service', 'http').stdout).toContain('accept by rule t1-vip at ' + dir + '/firewall.yaml:30:11');
    // Its own VRF reaches it directly, no node between.
    expect(trace(dir, 'h2-1', '10.99.2.10').stdout.split('\n')[0]).toBe('h2-1 -> 10.99.2.10 (VRF T2V1, announced by lb1 on p1-leaf2): 1 node reached, route 10.99.2.10/32 bgp via 172.16.32.51 (lb1)');
  });
});
