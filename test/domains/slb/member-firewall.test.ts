/**
 * A load balancer's members behind a firewall policy (intents/mdc with a policy between its web
 * and app networks: test/domains/slb/fixtures/mdc-tiers.yaml): the static check predicts the
 * health checks and traffic the policy drops, as the lab's rollout found them (a post-check
 * that rolled lb1 back: "app-dc1/h11: was up before the push, now stopped"); a rule for the
 * node clears it. In the lab, a member's own server holds its port: the firewall's probes use
 * it rather than start a listener that could not bind there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import { verifyStatic } from '../../../src/verify/static.ts';
import { labServedPorts } from '../../../src/domains/index.ts';
import { firewallProbePlan, withoutServedPorts } from '../../../src/domains/firewall/live-plan.ts';
import { repoRoot } from './fixtures.ts';
import { vipDenial } from '../../../src/domains/slb/policy-path.ts';
import type { SlbModel } from '../../../src/domains/slb/model.ts';
import { compareGslb, type GslbServerObservation } from '../../../src/domains/gslb/live.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function mdcWithPolicy(extraRule = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hslb-mdcfw-'));
  made.push(dir);
  cpSync(path.join(repoRoot, 'intents/mdc'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'firewall.yaml'), readFileSync(path.join(import.meta.dirname, 'fixtures/mdc-tiers.yaml'), 'utf8') + extraRule);
  return dir;
}

const memberCheck = (dir: string) => verifyStatic(loadModelSync(dir)).results.find((r) => r.check.id === 'slb-member-reachability')!;

describe('load-balancer members behind a firewall policy', () => {
  it('a member the policy keeps from its node is an error at the member, naming the deciding rule', () => {
    const r = memberCheck(mdcWithPolicy());
    expect(r.passed).toBe(false);
    expect(r.findings.map((f) => `${f.severity} ${path.basename(f.location!.file)}:${f.location!.line}: ${f.message}`)).toEqual([
      "error slb.yaml:17: virtual service 'app-dc1': lb1 (on leaf12, network app) cannot connect to member h11 of pool 'app-dc1' (h11) on tcp/8080: the connection is dropped: drop by the default action (firewall.yaml:12) of policy tiers on leaf11, leaf12",
    ]);
  });

  it('a rule accepting the node to its members clears it', () => {
    const rule = ['        - name: lb-to-web', '          source: lb1', '          destination: web-tier', '          services: [app-http]', '          action: accept', ''].join('\n');
    const r = memberCheck(mdcWithPolicy(rule));
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
  });

  it("the firewall's probes leave a pool member's port to the member's server and judge it by the connection", () => {
    const model = loadModelSync(mdcWithPolicy());
    const served = labServedPorts(model);
    expect(Object.fromEntries([...served].map(([n, p]) => [n, [...p]]))).toEqual({ h11: ['tcp/8080'], h12: ['tcp/8080'], h21: ['tcp/8080'], h23: ['tcp/8080'] });
    const plan = firewallProbePlan(model);
    expect(plan.listeners.get('h12')?.tcp).toContain(8080);
    const aside = withoutServedPorts(plan, served);
    // h12's only probed port is its member port: no listener of ours there at all.
    expect(aside.listeners.has('h12')).toBe(false);
    expect(aside.probes).toEqual(plan.probes);
    // A probe expecting our listener's line at a served port would expect it no more.
    const withReply = { ...plan, probes: [{ ...plan.probes.find((p) => p.dst === 'h12' && p.port === 8080)!, reply: { endpoint: 'h12', port: 8080 } }] };
    expect(withoutServedPorts(withReply, served).probes[0].reply).toBeUndefined();
  });
});

describe("the DNS servers' health checks behind a firewall policy", () => {
  it('each member a server cannot check is a warning at the member: the six the lab found down (test/lab/mdc-firewall.test.ts)', () => {
    const r = verifyStatic(loadModelSync(mdcWithPolicy())).results.find((x) => x.check.id === 'gslb-health-reach')!;
    expect(r.passed).toBe(true);
    expect(r.findings.map((f) => `${f.evidence!.server} ${f.evidence!.address}`).sort()).toEqual([
      'ns1 10.11.99.10', 'ns1 10.12.10.21', 'ns1 10.12.10.23', 'ns1 10.12.99.10', 'ns2 10.11.10.11', 'ns2 10.11.20.12',
    ]);
    expect(r.findings[0].message).toBe("DNS server ns1 cannot health-check 10.11.99.10 (vip:app-dc1) of pool 'vip-dc1' on tcp/8080: the connection is dropped: drop by the default action (firewall.yaml:12) of policy tiers on leaf11, leaf12; it answers 'app.gslb.example.com' as if that member were down");
    // Without the policy, none.
    expect(verifyStatic(loadModelSync(path.join(repoRoot, 'intents/mdc'))).results.find((x) => x.check.id === 'gslb-health-reach')!.findings).toEqual([]);
  });
});

describe('live-gslb-health: the probed member health against the prediction', () => {
  const model = loadModelSync(mdcWithPolicy());
  const dropped = new Set(['ns1 10.11.99.10', 'ns1 10.12.10.21', 'ns1 10.12.10.23', 'ns1 10.12.99.10', 'ns2 10.11.10.11', 'ns2 10.11.20.12']);
  const members = ['10.11.10.11', '10.11.20.12', '10.11.99.10', '10.12.10.21', '10.12.10.23', '10.12.99.10'];
  // What the lab's probes saw (test/lab/mdc-firewall.test.ts), with `flip` turned the other way.
  const observed = (flip: string[] = []): GslbServerObservation[] =>
    ['ns1', 'ns2'].map((server) => ({
      server,
      answers: [],
      unstable: [],
      probes: members.map((address) => {
        const up = dropped.has(`${server} ${address}`) === flip.includes(`${server} ${address}`);
        return { check: 'web', address, port: 8080, up, ...(up ? {} : { detail: 'ETIMEDOUT' }) };
      }),
    }));
  const health = (o: GslbServerObservation[]) => compareGslb(model, o).find((r) => r.check.id === 'live-gslb-health')!;

  it('the six checks the policy drops time out and the six others answer: green', () => {
    const r = health(observed());
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.examined).toBe('12 health checks (6 dropped by policy, as predicted)');
  });

  it("a member refusing the connection was reached: its own state (live-gslb-answers follows it), not the network's", () => {
    const o = observed();
    const h21 = o[1].probes.find((p) => p.address === '10.12.10.21')!;
    Object.assign(h21, { up: false, detail: 'ECONNREFUSED' });
    const r = health(o);
    expect(r.findings).toEqual([]);
    expect(r.examined).toBe('12 health checks (6 dropped by policy, as predicted; 1 reached a member not serving)');
  });

  it('a check the policy should drop that answers, and one that should answer but fails, are errors at the member', () => {
    const r = health(observed(['ns1 10.12.99.10', 'ns2 10.12.10.21']));
    expect(r.passed).toBe(false);
    expect(r.findings.map((f) => `${f.severity} ${path.basename(f.location!.file)}: ${f.message}`)).toEqual([
      'error gslb.yaml: DNS server ns1: the web check of 10.12.99.10:8080 (vip:app-dc2) answered; the model predicts the policies drop it (the connection is dropped: drop by the default action (firewall.yaml:12) of policy tiers on leaf11)',
      'error gslb.yaml: DNS server ns2: the web check of 10.12.10.21:8080 (endpoint:h21) failed (ETIMEDOUT); the model predicts it reaches the member',
    ]);
  });
});

describe("the live check's clients of a VIP behind a firewall policy", () => {
  it('a client the policy keeps from the VIP is not one (in the lab h11 timed out 12 of 12 requests to app-dc2)', () => {
    const model = loadModelSync(mdcWithPolicy());
    const m = model.domains.slb as SlbModel;
    const dc2 = m.services.find((s) => s.name === 'app-dc2')!;
    const ep = (n: string) => model.endpoints.find((e) => e.name === n)!;
    expect(vipDenial(model, m, dc2, '10.12.99.10', 8080, ep('h11'))).toBe('the connection is dropped: drop by the default action (firewall.yaml:12) of policy tiers on leaf11');
    expect(vipDenial(model, m, dc2, '10.12.99.10', 8080, ep('h12'))).toMatch(/^the connection is dropped: drop by the default action \(firewall\.yaml:12\) of policy tiers on leaf12$/);
    // dc2's clients meet no policy: not at their leaves, and not at lb1's, whose chain takes
    // only packets to or from web and app (in the lab h21's requests to app-dc1 were answered).
    const dc1 = m.services.find((s) => s.name === 'app-dc1')!;
    expect(vipDenial(model, m, dc1, '10.11.99.10', 8080, ep('h21'))).toBeUndefined();
    expect(vipDenial(model, m, dc1, '10.11.99.10', 8080, ep('h11'))).toMatch(/^the connection is dropped: drop by the default action/);
    // The unfiltered intent has no policy anywhere.
    expect(vipDenial(model, m, dc2, '10.12.99.10', 8080, ep('h21'))).toBeUndefined();
    const plain = loadModelSync(path.join(repoRoot, 'intents/mdc'));
    expect(vipDenial(plain, plain.domains.slb as SlbModel, dc2, '10.12.99.10', 8080, ep('h11'))).toBeUndefined();
  });
});
