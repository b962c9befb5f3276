/**
 * Four domains at once, as a demanding user combines them: intents/mdc (two sites, GSLB, a load
 * balancer per site) with a firewall policy between dc1's web and app networks
 * (test/domains/slb/fixtures/mdc-tiers.yaml, plus a rule for lb1's health checks and traffic to
 * its member in web). `netloom pipeline` end to end, every live check green: what the policy
 * denies is a prediction checked like the rest. Found by running exactly this: the firewall's
 * probe listener could not bind a pool member's port (its server holds it), lb1's health checks
 * were dropped with every static check green (the rollout rolled lb1 back), the load balancer's
 * live requests came from a client the policy drops (12 timeouts), and a client in the other
 * site was predicted dropped at leaf12 where the ruleset never judges its packets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineOn } from '../support/pipeline.ts';
import { inCI } from '../support/ci.ts';
import { sitesCopy } from '../support/intent-copy.ts';
import { existsSync } from 'node:fs';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/pdns_server') ? 'pdns-server' : undefined;
if (missing && !inCI) console.log(`mdc-firewall: skipped, needs ${missing}`);

const LAB = 'mdcfw';

describe.skipIf(!!missing && !inCI)('netloom pipeline on intents/mdc with a firewall policy: predicted denials checked live', () => {
  const copy = sitesCopy('intents/mdc', 94);
  const sites = path.join(copy.dir, 'sites.yaml');
  writeFileSync(sites, readFileSync(sites, 'utf8').replace(/^name: mdc$/m, `name: ${LAB}`));
  const rule = ['        - name: lb-to-web', '          source: lb1', '          destination: web-tier', '          services: [app-http]', '          action: accept', ''].join('\n');
  writeFileSync(path.join(copy.dir, 'firewall.yaml'), readFileSync(path.join(import.meta.dirname, '../domains/slb/fixtures/mdc-tiers.yaml'), 'utf8') + rule);
  const pipeline = pipelineOn(copy, LAB);
  afterAll(() => pipeline.cleanup(), 60_000);

  it('is green, the denials included', () => {
    const { status, text } = pipeline.run();
    expect(status, text.slice(-4000)).toBe(0);
    expect(text).toMatch(/PASS\s+slb-member-reachability\s+4 node-member pairs/);
    expect(text).toMatch(/PASS\s+live-firewall-probes\s+\d+ probes \(\d+ connected, \d+ timeout\)/);
    // Clients of dc1 the policy keeps from both VIPs get nothing; dc2's clients get the members.
    expect(text).toMatch(/app-dc1 10\.11\.99\.10:8080\/http Host 10\.11\.99\.10 \/ from h11: no answer, as predicted \(the connection is dropped: drop by the default action \(firewall\.yaml:\d+\) of policy tiers on leaf11, leaf12\)/);
    expect(text).toMatch(/app-dc1 10\.11\.99\.10:8080\/http Host 10\.11\.99\.10 \/ from h21 -> app-dc1 \(default pool\): h11 \d+, h12 \d+/);
    expect(text).toMatch(/app-dc2 10\.12\.99\.10:8080\/http Host 10\.12\.99\.10 \/ from h11: no answer, as predicted/);
    expect(text).toMatch(/PASS\s+live-slb-answers\s+\d+ requests, 2 routes/);
    // What each DNS server's health checks see is what gslb-health-reach predicted: its six
    // warnings are the six members found down, every other member up.
    const predicted = [...text.matchAll(/warning: DNS server (ns\d) cannot health-check (\S+) /g)].map((x) => `${x[1]} ${x[2]}`).sort();
    const down = [...text.matchAll(/(ns\d): (\S+):8080 \(web\) down/g)].map((x) => `${x[1]} ${x[2]}`).sort();
    expect(predicted).toEqual(['ns1 10.11.99.10', 'ns1 10.12.10.21', 'ns1 10.12.10.23', 'ns1 10.12.99.10', 'ns2 10.11.10.11', 'ns2 10.11.20.12']);
    expect(down).toEqual(predicted);
    expect([...text.matchAll(/(ns\d): (\S+):8080 \(web\) up/g)]).toHaveLength(6);
    // netloom checks that itself: every check the policies drop gets no answer, every other one answers.
    expect(text).toMatch(/PASS\s+live-gslb-health\s+12 health checks \(6 dropped by policy, as predicted\)/);
    expect(text).toMatch(/\(live, lab mdcfw\): 18\/18 checks passed, 0 failed/);
  }, 620_000);
});
