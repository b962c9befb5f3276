// `netloom fw query|search|diff` as users run them, on intents/fw1 and an edited copy: exact
// verdicts, deciding rules and their lines; mistakes named with a suggestion, exit 2.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const bin = path.join(repoRoot, 'src/cli/bin.mjs');
const FW = 'intents/fw1/firewall.yaml';

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, NETLOOM_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const json = (...args: string[]) => {
  const r = netloom(...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};

// fw1 with web-to-app also allowing http (tcp/80) and app-to-db removed.
const copy = intentCopy('intents/fw1', 0, '172.31');
const edited = path.join(copy.dir, 'firewall.yaml');
{
  const text = readFileSync(edited, 'utf8');
  const next = text
    .replace('services: [app-http]\n', 'services: [app-http, http]\n')
    .replace(/ {8}- name: app-to-db\n(?: {10}.*\n)+/, '');
  expect(next).not.toBe(text);
  writeFileSync(edited, next);
}
// fw1 with the policy using every feature: a second policy enforced at the web network.
const features = intentCopy('intents/fw1', 0, '172.31');
const FEAT = path.join(features.dir, 'firewall.yaml');
copyFileSync(path.join(repoRoot, 'test/domains/firewall/fixtures/all-features.yaml'), FEAT);
afterAll(() => {
  copy.cleanup();
  features.cleanup();
});

describe('netloom fw query', () => {
  const verdicts = (from: string, to: string, service: string, ...more: string[]) => {
    const r = json('fw', 'query', 'intents/fw1', '--from', from, '--to', to, '--service', service, ...more);
    return [r.verdict, r.policies.map((p: any) => [p.policy, p.devices.map((d: any) => `${d.device} ${d.side}`), p.filters, p.decisions.map((d: any) => `${d.action} ${d.rule} ${d.location}`)])];
  };

  it('gives each policy on the path its verdict, the deciding rule and its line', () => {
    expect(verdicts('h1', 'h3', 'tcp/8080')).toEqual(['accepted', [['tenants', ['leaf1 source leaf', 'leaf3 destination leaf'], true, [`accept web-to-app ${FW}:30:11`]]]]);
    expect(verdicts('h3', 'h4', 'postgres')).toEqual(['accepted', [['tenants', ['leaf3 source leaf', 'leaf4 destination leaf'], true, [`accept app-to-db ${FW}:38:11`]]]]);
    expect(verdicts('h1', 'h4', 'tcp/5432')).toEqual(['denied', [['tenants', ['leaf1 source leaf', 'leaf4 destination leaf'], true, [`reject db-deny ${FW}:45:11`]]]]);
    // Nothing matches: the default (the policy's line); established packets: the stateful acceptance.
    expect(verdicts('h1', 'h3', 'tcp/22')).toEqual(['denied', [['tenants', ['leaf1 source leaf', 'leaf3 destination leaf'], true, [`drop (default) ${FW}:24:7`]]]]);
    expect(verdicts('h1', 'h3', 'tcp/22', '--state', 'established')).toEqual(['accepted', [['tenants', ['leaf1 source leaf', 'leaf3 destination leaf'], true, [`accept (established/related) ${FW}:24:7`]]]]);
    // Inside one VRF (BLUE) the inter-VRF policy is enforced on both leaves but filters nothing.
    expect(verdicts('h1', 'h2', 'tcp/22')).toEqual(['accepted', [['tenants', ['leaf1 source leaf', 'leaf2 destination leaf'], false, []]]]);
    // h5 sits on leaf1 with h1: one device on both sides. By address and by network name too.
    expect(verdicts('10.20.30.15', 'web', 'icmp/8')).toEqual(['denied', [['tenants', ['leaf1 source and destination leaf', 'leaf2 destination leaf'], true, [`drop (default) ${FW}:24:7`]]]]);
  });

  it('a port-forwarded service: the destination NAT first, then the rule allowing the real address and port', () => {
    const r = json('fw', 'query', 'intents/fw1', '--from', 'h1', '--to', '10.10.20.100', '--service', 'http');
    expect([r.verdict, r.policies[0].nat, r.policies[0].decisions.map((d: any) => [d.action, d.rule, d.location, d.afterNat, d.example.dst, d.example.dstPort])]).toEqual([
      'accepted',
      [{ rule: 'app-forward', location: `${FW}:59:11`, to: '10.10.20.13:8080', packets: '65536' }],
      [['accept', 'web-to-app', `${FW}:30:11`, 'app-forward', '10.10.20.13', 8080]],
    ]);
    // From the database tier the forwarded flow meets the default; other ports are not forwarded.
    expect(verdicts('h4', '10.10.20.100', 'tcp/80')).toEqual(['denied', [['tenants', ['leaf3 destination leaf', 'leaf4 source leaf'], true, [`drop (default) ${FW}:24:7`]]]]);
    const text = netloom('fw', 'query', 'intents/fw1', '--from', 'h1', '--to', '10.10.20.100', '--service', 'tcp/443');
    expect(text.out).not.toContain('destination NAT');
    expect(text.out).toContain(`  drop by the default action (policy at ${FW}:24:7)\n    e.g. tcp 10.10.10.11:0 -> 10.10.20.100:443 (new), one of 65536 packets\nverdict: denied\n`);
  });

  it('two policies on one path: each says whether the flow is in its scope; a device applies every policy\'s destination NAT first', () => {
    const q = (...args: string[]) => {
      const r = json('fw', 'query', features.dir, ...args);
      return [r.verdict, r.policies.map((p: any) => [p.policy, p.enforcement, p.filters, p.nat.map((n: any) => `${n.rule} ${n.to}`), p.decisions.map((d: any) => `${d.action} ${d.rule} ${d.location}`)])];
    };
    expect(q('--from', 'h1', '--to', 'h2', '--service', 'tcp/23')).toEqual(['denied', [
      ['tenants', 'inter-vrf', false, [], []],
      ['web-local', 'networks', true, [], [`reject no-telnet ${FEAT}:75:11`]],
    ]]);
    expect(q('--from', 'h1', '--to', 'fd00:10:20::100', '--service', 'tcp/80')).toEqual(['denied', [
      ['tenants', 'inter-vrf', true, ['vip6-forward [fd00:10:20::13]:8080'], [`drop last-resort ${FEAT}:64:11`]],
      ['web-local', 'networks', true, ['vip6-forward [fd00:10:20::13]:8080'], [`drop (default) ${FEAT}:70:7`]],
    ]]);
    expect(q('--from', 'h1', '--to', 'h2', '--service', 'tcp/23', '--policy', 'web-local')[1]).toHaveLength(1);
  });

  it('a network source decided by several rules: each with its share and an example (text)', () => {
    const r = netloom('fw', 'query', 'intents/fw1', '--from', 'web', '--to', 'RED');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('web (10.10.10.0/24, fd00:10:10::/64) behind leaf1, leaf2 -> RED (10.20.30.0/24) behind leaf1, leaf4, any, new connections');
    expect(lines.filter((l) => / by /.test(l))).toEqual([
      `  reject by rule db-deny at ${FW}:45:11`,
      `  accept by rule monitoring-echo at ${FW}:52:11`,
      `  drop by the default action (policy at ${FW}:24:7)`,
    ]);
    expect(lines).toContain('    e.g. icmp 10.10.10.11 -> 10.20.30.0 type 8 code 0 (new), one of 65536 packets');
    expect(lines.at(-1)).toBe('verdict: partly accepted');
  });

  it('names mistakes with a suggestion and exits 2', () => {
    const cases: [string[], string][] = [
      [['--from', 'h11', '--to', 'h3'], "netloom fw query: --from 'h11' is no endpoint, network, VRF or address (did you mean h1?); endpoints: h1, h2, h3, h4, h5"],
      [['--from', 'h1', '--to', 'h3', '--policy', 'tenant'], "netloom fw query: no firewall policy 'tenant' (did you mean tenants?); policies: tenants"],
      [['--from', 'h1', '--to', 'h3', '--service', 'postgress'], "netloom fw query: --service 'postgress' is no literal like tcp/443, udp/53, icmp/8 and no service the policies use (did you mean postgres?)"],
      [['--from', 'h1', '--to', 'h3', '--service', 'tcp/70000'], "netloom fw query: --service: service 'tcp/70000': a port is between 0 and 65535"],
      [['--from', '10.1.2.300', '--to', 'h3'], "netloom fw query: --from '10.1.2.300': invalid address '10.1.2.300'"],
      [['--from', 'h4', '--to', 'h1', '--service', 'icmpv6/128'], 'netloom fw query: no packet goes from h4 to h1 with that service (address families differ?)'],
    ];
    for (const [args, msg] of cases) {
      const r = netloom('fw', 'query', 'intents/fw1', ...args);
      expect([r.code, r.err.trim(), r.out]).toEqual([2, msg, '']);
    }
    expect(netloom('fw', 'query', 'intents/dc1', '--from', 'h1', '--to', 'h2').err.trim()).toBe('netloom fw query: dc1 has no firewall policy (no firewall: section in its intent)');
    expect(netloom('fw', 'quer').err.trim()).toBe("netloom fw: unknown sub-command 'quer' (did you mean fw query?); one of: query, search, diff");
  });
});

describe('netloom fw search', () => {
  it('example packets with the rule deciding each, like searchFilters', () => {
    const r = json('fw', 'search', 'intents/fw1', '--policy', 'tenants', '--action', 'accept', '--not-service', 'tcp/8080');
    expect(r.hits.map((h: any) => [h.action, h.rule, h.location, h.example])).toEqual([
      ['accept', 'app-to-db', `${FW}:38:11`, { family: 4, src: '10.10.20.0', dst: '10.20.30.0', protocol: 6, state: 'new', srcPort: 0, dstPort: 5432 }],
      ['accept', 'monitoring-echo', `${FW}:52:11`, { family: 4, src: '10.10.10.11', dst: '0.0.0.0', protocol: 1, state: 'new', icmpType: 8, icmpCode: 0 }],
    ]);
    const denied = json('fw', 'search', 'intents/fw1', '--action', 'reject', '--src', 'h1', '--service', 'tcp/5000-6000');
    expect(denied.hits.map((h: any) => [h.rule, h.location, h.example.src, h.example.dst, h.example.dstPort, h.packets])).toEqual([
      ['db-deny', `${FW}:45:11`, '10.10.10.11', '10.20.30.0', 5432, String(256 * 65536)],
    ]);
  });

  it('text output; an unknown --src is a usage error', () => {
    const r = netloom('fw', 'search', 'intents/fw1', '--policy', 'tenants', '--action', 'drop', '--src', 'app', '--dst', 'db');
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'policy tenants: packets dropped from app to db',
      `  drop by the default action (policy at ${FW}:24:7)`,
      '    e.g. tcp 10.10.20.0:0 -> 10.20.30.0:0 (new), one of about 5.63e14 packets',
      '',
    ].join('\n'));
    const bad = netloom('fw', 'search', 'intents/fw1', '--src', 'ap');
    expect([bad.code, bad.err.trim()]).toEqual([2, "netloom fw search: --src 'ap' is no endpoint, network, VRF or address (did you mean app?); endpoints: h1, h2, h3, h4, h5"]);
  });
});

describe('netloom fw diff', () => {
  it('newly accepted and newly denied flows with the old and new rules responsible, like compareFilters', () => {
    const r = json('fw', 'diff', 'intents/fw1', copy.dir);
    const part = (x: any) => [x.example.src, x.example.dst, x.example.dstPort, x.packets, `${x.before.action} ${x.before.rule} ${x.before.location}`, `${x.after.action} ${x.after.rule} ${x.after.location}`];
    expect(r.policies.map((p: any) => [p.policy, p.change, p.newlyAccepted.map(part), p.newlyDenied.map(part), p.denialChanged.map(part)])).toEqual([
      ['tenants', 'changed',
        // tcp/80 from the web tier (IPv4 /24 and IPv6 /64) to the app tier: new and invalid packets.
        [['10.10.10.0', '10.10.20.0', 80, String(2n * 65536n * (2n ** 16n + 2n ** 128n)), `drop (default) ${FW}:24:7`, `accept web-to-app ${edited}:30:11`]],
        [['10.10.20.0', '10.20.30.0', 5432, String(2 * 65536 * 2 ** 16), `accept app-to-db ${FW}:38:11`, `reject db-deny ${edited}:38:11`]],
        []],
    ]);
    const same = netloom('fw', 'diff', 'intents/fw1', 'intents/fw1');
    expect([same.code, same.out]).toEqual([0, 'policy tenants: no flow decided differently\n']);
    const text = netloom('fw', 'diff', 'intents/fw1', copy.dir);
    expect(text.out.split('\n').slice(0, 4)).toEqual([
      'policy tenants:',
      '  newly accepted: about 4.46e43 packets, e.g. tcp 10.10.10.0:0 -> 10.10.20.0:80 (new)',
      `    before: drop by the default action (policy at ${FW}:24:7)`,
      `    after:  accept by rule web-to-app at ${edited}:30:11`,
    ]);
    const bad = netloom('fw', 'diff', 'intents/fw1', copy.dir, '--policy', 'tenantz');
    expect([bad.code, bad.err.trim()]).toEqual([2, "netloom fw diff: no firewall policy 'tenantz' (did you mean tenants?); policies: tenants"]);
  });
});
