/**
 * The firewall's probe plan on intents/fw2 (what the live check predicts, before any lab), and
 * the pure comparison: mismatches named with the deciding rule's file:line, ruleset differences
 * located at their policy rule, a target that is not a lab "not applicable".
 */
import { describe, expect, it } from 'vitest';
import { compareFirewall, ruleOfDifference, type FirewallObserved } from '../../../src/domains/firewall/live.ts';
import { addressIn, firewallProbePlan, type FirewallProbe } from '../../../src/domains/firewall/live-plan.ts';
import type { FirewallModel } from '../../../src/domains/firewall/model.ts';
import { loadModelSync } from '../../../src/model/index.ts';
import type { ServiceProbeResult } from '../../../src/verify/live/service-probes.ts';

const model = loadModelSync('intents/fw2');
const plan = firewallProbePlan(model);
const find = (src: string, dst: string, service: string, family = 4) => plan.probes.find((p) => p.src === src && p.dst === dst && p.service === service && p.family === family)!;
const line = (p: FirewallProbe) => `${p.src} -> ${p.dst} ${p.service} ${p.forwarding}: ${p.expect} (${p.why})`;

describe('firewall probe plan (intents/fw2)', () => {
  it('covers every pair the fabric forwards, both families, three services, and the port forward from the web tier', () => {
    // 5 endpoints, 20 ordered pairs, all forwarded in both families; tcp/22, 5432, 8080; 2 DNAT probes (web1, web2).
    expect(plan.probes.length).toBe(20 * 2 * 3 + 2);
    const count = (o: string) => plan.probes.filter((p) => p.expect === o).length;
    expect({ connected: count('connected'), refused: count('refused'), timeout: count('timeout') }).toEqual({ connected: 38, refused: 4, timeout: 80 });
    expect(Object.fromEntries([...plan.listeners].map(([n, l]) => [n, l.tcp.sort((a, b) => a - b)]))).toEqual({
      web1: [22, 5432, 8080], web2: [22, 5432, 8080], app1: [22, 5432, 8080], app2: [22, 5432, 8080], db1: [22, 5432, 8080],
    });
  });

  it('predicts each verdict with its rule and line', () => {
    expect(line(find('web1', 'app2', 'tcp/8080'))).toBe('web1 -> app2 tcp/8080 routed: connected (accept by rule web-to-app (firewall.yaml:28) of policy tiers)');
    expect(line(find('app1', 'db1', 'tcp/5432', 6))).toBe('app1 -> db1 tcp/5432 routed: connected (accept by rule app-to-db (firewall.yaml:36) of policy tiers)');
    expect(line(find('web2', 'db1', 'tcp/5432'))).toBe('web2 -> db1 tcp/5432 routed: refused (reject by rule db-deny (firewall.yaml:43) of policy tiers)');
    expect(line(find('db1', 'web1', 'tcp/22'))).toBe('db1 -> web1 tcp/22 routed: timeout (drop by rule ssh-drop (firewall.yaml:50) of policy tiers)');
    expect(line(find('app1', 'web1', 'tcp/8080'))).toBe('app1 -> web1 tcp/8080 routed: timeout (drop by the default action (firewall.yaml:22) of policy tiers)');
    // Bridged within a network: a stateful policy has no bridge table, nothing filters it.
    expect(line(find('web1', 'web2', 'tcp/22'))).toBe('web1 -> web2 tcp/22 bridged: connected (no policy on the path)');
  });

  it('probes the port forward at the service address, expecting the translated port at the listener', () => {
    const nat = plan.probes.filter((p) => p.nat);
    expect(nat.map((p) => [p.src, p.dst, p.address, p.port, p.expect, p.reply])).toEqual([
      ['web1', 'app1', '10.10.99.80', 80, 'connected', { endpoint: 'app1', port: 8080, dst: '10.10.20.21' }],
      ['web2', 'app1', '10.10.99.80', 80, 'connected', { endpoint: 'app1', port: 8080, dst: '10.10.20.21' }],
    ]);
    expect(nat[0].why).toBe('dnat app-forward (firewall.yaml:58) to 10.10.20.21:8080, then accept by rule web-to-app (firewall.yaml:28) of policy tiers');
  });

  it('address matches: include, except, negation', () => {
    const m = { include: ['10.0.0.0/8', 'fd00::/8'], exclude: ['10.1.0.0/16'], negate: false, refs: [] };
    expect([addressIn(m, '10.2.3.4'), addressIn(m, '10.1.3.4'), addressIn(m, '192.0.2.1'), addressIn(m, 'fd00::1')]).toEqual([true, false, false, true]);
    expect(addressIn({ ...m, negate: true }, '10.1.3.4')).toBe(true);
    expect(addressIn({ include: [], exclude: [], negate: false, refs: [] }, '2001:db8::1')).toBe(true);
  });
});

describe('firewall live comparison (pure)', () => {
  const result = (p: FirewallProbe, outcome: ServiceProbeResult['outcome'], reply?: ServiceProbeResult['reply']): ServiceProbeResult => {
    const { src, address, proto, port } = p;
    return { src, address, proto, port, outcome, ms: 1, ...(reply ? { reply } : {}) };
  };

  it('passes when every outcome is the predicted one; names pair, service, rule, line and observation otherwise', () => {
    const ok: FirewallObserved = { probes: plan.probes.map((p) => ({ probe: p, result: result(p, p.expect, p.reply ? { proto: 'tcp', peer: '10.10.10.11', peerPort: 40000, ...p.reply } as ServiceProbeResult['reply'] : undefined) })), rulesets: [{ device: 'leaf1', netns: 'SHOP', differences: [] }] };
    const [probes, ruleset] = compareFirewall(model, ok);
    expect([probes.passed, ruleset.passed, probes.examined, ruleset.examined]).toEqual([true, true, '122 probes (38 connected, 80 timeout, 4 refused)', '1 devices, 1 namespaces']);

    const deny = find('web2', 'db1', 'tcp/5432');
    const vip = plan.probes.find((p) => p.nat)!;
    const bad: FirewallObserved = {
      probes: [
        { probe: deny, result: result(deny, 'connected') },
        { probe: vip, result: result(vip, 'connected', { endpoint: 'app1', proto: 'tcp', port: 80, dst: '10.10.99.80', peer: '10.10.10.11', peerPort: 40000 }) },
      ],
      rulesets: [{ device: 'leaf1', netns: 'SHOP', differences: ["chain inet netloom pol_tiers: rule db-deny: nobody else reaches the database port missing (ip daddr == 10.10.30.0/24 tcp dport == 5432 counter reject)"] }],
    };
    const [p2, r2] = compareFirewall(model, bad);
    expect(p2.findings.map((f) => f.message)).toEqual([
      'web2 -> db1 tcp/5432 (routed): predicted refused: reject by rule db-deny (firewall.yaml:43) of policy tiers; observed connected',
      'web1 -> app1 tcp/80 -> tcp/8080 at 10.10.99.80 (routed): predicted connected: dnat app-forward (firewall.yaml:58) to 10.10.20.21:8080, then accept by rule web-to-app (firewall.yaml:28) of policy tiers; observed connected, but the listener saw app1 10.10.99.80 port 80',
    ]);
    expect(p2.findings[0].location).toMatchObject({ line: 43 });
    expect(r2.findings.map((f) => [f.message.endsWith('[rule db-deny, firewall.yaml:43]'), f.location?.line])).toEqual([[true, 43]]);
  });

  it('a target that is not a lab: both checks pass as not applicable', () => {
    const [p, r] = compareFirewall(model, { notApplicable: 'inventory x.yaml: firewall probes and ruleset reads run only against a lab', probes: [], rulesets: [] });
    expect([p.passed, r.passed]).toEqual([true, true]);
    expect(p.examined).toMatch(/^not applicable \(inventory x\.yaml/);
    expect(compareFirewall(model, { probesOff: true, probes: [], rulesets: [] })[0].examined).toBe('not run (--no-probes)');
  });

  it('finds the policy rule a difference names, even when one rule text starts another', () => {
    const pols = (model.domains.firewall as FirewallModel).policies;
    expect(ruleOfDifference(pols, 'chain inet netloom pol_tiers: rule echo#2 at position 9, rendered at 10')?.name).toBe('echo');
    expect(ruleOfDifference(pols, 'chain inet netloom forward: rule #3 missing')).toBeUndefined();
    expect(ruleOfDifference(pols, 'table inet netloom: missing')).toBeUndefined();
  });
});
