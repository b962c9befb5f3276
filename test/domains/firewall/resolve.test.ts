/**
 * The firewall domain's resolver: fw1's policy resolved through the fabric model (networks,
 * VRFs, endpoints by name), object arithmetic (except, nested groups, negation) and the
 * registry seam (intent.firewall -> model.domains.firewall).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { excludeCidr, mergeCidr } from 'cidr-tools';
import { loadModelSync } from '../../../src/model/index.ts';
import { summarize } from '../../../src/model/summary.ts';
import { domains, RESERVED_DOMAINS } from '../../../src/domains/index.ts';
import type { FirewallModel, FwAddressMatch } from '../../../src/domains/firewall/model.ts';
import { cleanupCopies, fw1Copy, repoRoot } from './fixtures.ts';

afterAll(cleanupCopies);

const fwOf = (dir: string) => loadModelSync(dir).domains.firewall as FirewallModel;
/** What a match stands for, as one merged prefix list. */
const effective = (m: FwAddressMatch) => mergeCidr(m.exclude.length ? excludeCidr(m.include, m.exclude) : m.include);

describe('firewall resolver', () => {
  it('resolves fw1: objects to the fabric model\'s prefixes, devices from the VRFs', () => {
    const fw = fwOf(path.join(repoRoot, 'intents/fw1'));
    expect(fw.policies.map((p) => p.name)).toEqual(['tenants']);
    const [p] = fw.policies;
    expect(p.enforcement).toEqual({ kind: 'inter-vrf', vrfs: ['BLUE', 'GREEN', 'RED'], devices: ['leaf1', 'leaf2', 'leaf3', 'leaf4'] });
    expect([p.stateful, p.defaultAction]).toEqual([true, 'drop']);
    expect(p.rules.map((r) => [r.name, r.index, r.action])).toEqual([
      ['web-to-app', 0, 'accept'],
      ['app-to-db', 1, 'accept'],
      ['db-deny', 2, 'reject'],
      ['monitoring-echo', 3, 'accept'],
    ]);
    const [web, , deny, mon] = p.rules;
    expect(web.src).toEqual({ include: ['10.10.10.0/24', 'fd00:10:10::/64'], exclude: [], negate: false, refs: ['frontends'] });
    expect(web.services).toEqual([{ name: 'app-http', protocol: 'tcp', dstPorts: [{ from: 8080, to: 8080 }], srcPorts: [], icmp: [] }]);
    expect(web.source.file.endsWith('firewall.yaml')).toBe(true);
    expect(deny.src).toEqual({ include: [], exclude: [], negate: false, refs: [] });
    expect([deny.log, deny.counter, deny.comment]).toEqual([true, true, 'nobody else reaches the database port']);
    // An endpoint is its /32 and /128; `not:` keeps the prefixes and marks the match negated.
    expect(mon.src.include).toEqual(['10.10.10.11/32', 'fd00:10:10::11/128']);
    expect(mon.dst).toMatchObject({ include: ['10.10.10.0/24', 'fd00:10:10::/64'], negate: true });
    expect(mon.services.map((s) => [s.name, s.protocol, s.icmp])).toEqual([['ping', 'icmp', [{ type: 8 }]], ['ping6', 'icmpv6', [{ type: 128 }]]]);
    expect(mon.expires).toBe('2027-06-30');
    expect(p.nat).toEqual([
      expect.objectContaining({ name: 'app-forward', kind: 'dnat', to: { address: '10.10.20.13', port: 8080 }, dst: expect.objectContaining({ include: ['10.10.20.100/32'] }) }),
    ]);
  });

  it('netloom validate prints one line for the firewall', () => {
    expect(summarize(loadModelSync(path.join(repoRoot, 'intents/fw1'))).at(-1)).toBe(
      '  firewall   1 policy: tenants (between BLUE, GREEN, RED on 4 devices: 4 rules, 1 NAT rule, default drop, stateful)',
    );
    expect(summarize(loadModelSync(path.join(repoRoot, 'intents/dc1'))).some((l) => l.includes('firewall'))).toBe(false);
  });

  it('a renumbered subnet changes the model, not the policy', () => {
    const dir = fw1Copy();
    const t = path.join(dir, 'tenants.yaml');
    writeFileSync(t, readFileSync(t, 'utf8').replace('10.10.20.0/24', '10.10.64.0/24').replace('gateway: 10.10.20.1', 'gateway: 10.10.64.1'));
    const e = path.join(dir, 'endpoints.yaml');
    writeFileSync(e, readFileSync(e, 'utf8').replace('10.10.20.13/24', '10.10.64.13/24'));
    const fw = fwOf(dir);
    expect(fw.policies[0].rules[0].dst.include).toEqual(['10.10.64.0/24', 'fd00:10:20::/64']);
    expect(fw.policies[0].rules[1].src.include).toEqual(['10.10.64.0/24', 'fd00:10:20::/64']);
  });

  it('works out except, nested groups, zones and literals exactly', () => {
    const fw = fwOf(fw1Copy({ firewall: 'all-features.yaml' }));
    const [tenants, local] = fw.policies;
    const outer = tenants.rules[0];
    // outer = (web-hosts + office) + app-tier, minus 10.10.20.13; office = 3 prefixes minus 192.0.2.64/26.
    expect(effective(outer.src)).toEqual(
      mergeCidr(excludeCidr(['10.10.10.11/32', '10.10.10.12/32', 'fd00:10:10::11/128', 'fd00:10:10::12/128', '192.0.2.0/24', '2001:db8::/48', '198.51.100.7/32', '10.10.20.0/24', 'fd00:10:20::/64'], ['192.0.2.64/26', '10.10.20.13/32'])),
    );
    expect(outer.src.refs).toEqual(['outer']);
    // A zone of networks [app, db] plus a literal IPv6 prefix.
    expect(outer.dst).toEqual({ include: ['10.10.20.0/24', '10.20.30.0/24', '2001:db8:1::/64', 'fd00:10:20::/64'], exclude: [], negate: false, refs: ['back', '2001:db8:1::/64'] });
    expect(outer.services.map((s) => s.name)).toEqual(['https', 'high-src']);
    expect(outer.services[0].dstPorts).toEqual([{ from: 443, to: 443 }, { from: 8443, to: 8444 }]);
    expect(outer.services[1].srcPorts).toEqual([{ from: 1024, to: 65535 }]);
    expect(outer.state).toEqual(['new']);
    const notFront = tenants.rules[1];
    expect(notFront.src.negate).toBe(true);
    expect(effective(notFront.dst)).toEqual(['10.20.30.0/25']);
    // Nested service groups flatten in order; a literal with an ICMP code.
    expect(notFront.services.map((s) => s.name ?? s.protocol)).toEqual(['dns', 'echo', 'echo6', 'unreachable', 'gre']);
    expect(tenants.rules[4].services).toEqual([
      { protocol: 'icmp', dstPorts: [], srcPorts: [], icmp: [] },
      { protocol: 'icmpv6', dstPorts: [], srcPorts: [], icmp: [{ type: 1, code: 4 }] },
      { protocol: 'udp', dstPorts: [{ from: 1000, to: 2000 }], srcPorts: [], icmp: [] },
    ]);
    expect(tenants.nat.map((n) => [n.name, n.kind, n.to])).toEqual([
      ['vip-forward', 'dnat', { address: '10.10.20.13', port: 8080 }],
      ['vip6-forward', 'dnat', { address: 'fd00:10:20::13', port: 8080 }],
      ['to-db', 'snat', { address: '10.20.30.1' }],
      ['out', 'masquerade', undefined],
    ]);
    expect(local.enforcement).toEqual({ kind: 'network', networks: ['web'], devices: ['leaf1', 'leaf2'] });
    expect([local.stateful, local.defaultAction]).toEqual([false, 'drop']);
  });

  it('editors validate fw1 with the checked-in JSON Schema (and catch a misspelt key)', async () => {
    const { default: Ajv2020 } = (await import('ajv/dist/2020.js')) as unknown as { default: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } } };
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(path.join(repoRoot, 'models/intent.schema.json'), 'utf8')));
    const doc = parse(readFileSync(path.join(repoRoot, 'intents/fw1/firewall.yaml'), 'utf8'));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    doc.firewall.policies[0].rules[0].acton = 'accept';
    expect(validate(doc)).toBe(false);
  });

  it('is a registered domain: no longer reserved, absent from models without a firewall section', () => {
    expect(domains().map((d) => d.id)).toContain('firewall');
    expect(RESERVED_DOMAINS as readonly string[]).not.toContain('firewall');
    expect(loadModelSync(path.join(repoRoot, 'intents/dc1')).domains).toEqual({});
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'models/intent.schema.json'), 'utf8'));
    expect(Object.keys(schema.properties.firewall.properties)).toEqual(['addresses', 'address_groups', 'services', 'service_groups', 'zones', 'policies']);
  });
});
