// The endpoint reachability matrix with ports and protocols: the services the firewall allows
// and denies per endpoint pair the fabric forwards (exact on the packet-set algebra), and the
// firewall-endpoint-services check through `netloom verify --static` as users run it: fw2's
// matrix lines, fw1's inter-VRF rules the fabric never exercises, dc1 without a policy, and a
// seeded copy of fw2 with a rule accepting towards a VRF the fabric does not route to.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { analysisCache } from '../../../src/domains/firewall/analysis.ts';
import { firewallPolicies } from '../../../src/domains/firewall/checks.ts';
import { describeServices, pairFlow, pathServices, servicesText } from '../../../src/domains/firewall/path-services.ts';
import { familySet, intersect, prefixSet, protocolSet, tcpUdpPorts, union } from '../../../src/verify/packet-set/index.ts';
import type { VerifyReport } from '../../../src/verify/findings.ts';
import type { Packet } from '../../../src/verify/packet-set/index.ts';
import { intentCopy, repoRoot } from '../../support/intent-copy.ts';
import { bruteEvaluate } from '../../support/firewall-brute.ts';
import { endpointServicesCheck } from '../../../src/domains/firewall/endpoint-services.ts';
import { buildFabricGraph } from '../../../src/verify/graph.ts';
import { makeContext } from '../../../src/verify/checks/types.ts';

const CHECK = 'firewall-endpoint-services';
const seeded = 'test/domains/firewall/fixtures/unforwarded-accept';

function verify(dir: string): { code: number | null; result: VerifyReport['results'][number] } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'verify', '--static', dir, '--format', 'json', '--check', CHECK], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, result: (JSON.parse(r.stdout) as VerifyReport).results[0]! };
}

const fw = (dir: string, line: string) => `${dir}/firewall.yaml:${line}`;

describe('services between two endpoints', () => {
  const model = loadModelSync(path.join(repoRoot, 'intents/fw2'));
  const policies = firewallPolicies(model);
  const ep = (n: string) => model.endpoints.find((e) => e.name === n)!;

  it('app1 -> db1 (routed): the database port and echo, each with its rule; ssh and the rest denied', () => {
    const s = pathServices(policies, analysisCache(), ep('app1'), ep('db1'), 'routed');
    expect(s.allowed).toEqual(['icmp/8', 'tcp/5432', 'icmpv6/128']);
    expect(s.policies.map((p) => [p.policy, p.devices])).toEqual([['tiers', ['leaf2', 'leaf3']]]);
    expect(s.policies[0]!.accepts.map((r) => [r.rule, r.services])).toEqual([['app-to-db', ['tcp/5432']], ['echo', ['icmp/8', 'icmpv6/128']]]);
    expect(servicesText(s)).toBe(
      `allows tcp/5432 (rule app-to-db, ${fw('intents/fw2', '36:11')}), icmp/8, icmpv6/128 (rule echo, ${fw('intents/fw2', '54:11')}); ` +
      `drops tcp/22 (rule ssh-drop, ${fw('intents/fw2', '50:11')}); drops the rest (default drop, ${fw('intents/fw2', '22:7')})`,
    );
  });

  it('two policies on the path, each accepting only what the other denies: neither is said to allow nothing', () => {
    const copy = intentCopy('intents/fw2', 0);
    try {
      const file = path.join(copy.dir, 'firewall.yaml');
      const extra = '    - name: db-lock\n      enforcement: { kind: networks, networks: [db] }\n      default: drop\n      rules:\n        - { name: ssh-in, source: web-tier, destination: db-tier, services: [ssh], action: accept }\n';
      writeFileSync(file, readFileSync(file, 'utf8').replace('      nat:\n', '') .replace(/\n        - name: app-forward[\s\S]*$/, '\n') + extra);
      const m = loadModelSync(copy.dir);
      const two = firewallPolicies(m);
      const e = (n: string) => m.endpoints.find((x) => x.name === n)!;
      const s = pathServices(two, analysisCache(), e('web1'), e('db1'), 'routed');
      expect(s.allowed).toEqual([]);
      expect(s.policies.map((p) => [p.policy, p.accepts.length, p.acceptsOnlyDeniedElsewhere])).toEqual([['tiers', 0, true], ['db-lock', 0, true]]);
      expect(servicesText(s)).toMatch(/^allows nothing end to end; policy tiers allows nothing another policy on the path passes; .*; policy db-lock allows nothing another policy on the path passes; drops the rest/);
      // A policy accepting nothing of the pair at all still says so plainly.
      const none = pathServices(two, analysisCache(), e('app1'), e('db1'), 'routed');
      expect(none.policies.find((p) => p.policy === 'db-lock')).toMatchObject({ accepts: [] });
      expect(none.policies.find((p) => p.policy === 'db-lock')!.acceptsOnlyDeniedElsewhere).toBeUndefined();
      expect(servicesText(none)).toContain('policy db-lock allows nothing; drops the rest');
    } finally {
      copy.cleanup();
    }
  });

  it('agrees with a brute-force first-match evaluator on every tcp and udp port and ICMP type of every routed pair (both families)', () => {
    const tiers = policies[0]!;
    const names = (p: Packet) => (p.protocol === 6 ? 'tcp' : p.protocol === 17 ? 'udp' : p.protocol === 1 ? 'icmp' : 'icmpv6');
    for (const [a, b] of [['web1', 'app1'], ['app1', 'db1'], ['web1', 'db1'], ['db1', 'web2']] as const) {
      const s = pathServices(policies, analysisCache(), ep(a), ep(b), 'routed');
      const brute = new Set<string>();
      for (const [src, dst] of [[ep(a).ipv4!, ep(b).ipv4!], [ep(a).ipv6!, ep(b).ipv6!]]) {
        const family = src.includes(':') ? 6 : 4;
        const base = { family, src: src.split('/')[0]!, dst: dst.split('/')[0]!, state: 'new' } as const;
        for (const protocol of [6, 17]) {
          for (let port = 0; port < 65536; port++) {
            const p: Packet = { ...base, protocol, srcPort: 40000, dstPort: port };
            if (bruteEvaluate(tiers, p).action === 'accept') brute.add(`${names(p)}/${port}`);
          }
        }
        for (let type = 0; type < 256; type++) {
          const p: Packet = { ...base, protocol: family === 4 ? 1 : 58, icmpType: type, icmpCode: 0 };
          if (bruteEvaluate(tiers, p).action === 'accept') brute.add(`${names(p)}/${type}`);
        }
      }
      // Whole single ports and types only (no range, no '(in part)'), each one the evaluator accepts.
      expect([...s.allowed].sort()).toEqual([...brute].sort());
    }
  });

  it('bridged web1 -> web2 crosses no policy (a stateful policy has no bridge table)', () => {
    expect(pathServices(policies, analysisCache(), ep('web1'), ep('web2'), 'bridged').policies).toEqual([]);
  });

  it('describes a set exactly: merged port ranges, a port held for some source ports only, one address family only', () => {
    const flow = pairFlow(ep('web1'), ep('app1'));
    const tcp = (from: number, to: number) => intersect(flow, tcpUdpPorts(6, 'dst', from, to));
    expect(describeServices(union(union(tcp(1000, 1999), tcp(2000, 2100)), tcp(443, 443)), flow)).toEqual(['tcp/443', 'tcp/1000-2100']);
    expect(describeServices(intersect(tcp(80, 80), tcpUdpPorts(6, 'src', 1024, 65535)), flow)).toEqual(['tcp/80 (in part)']);
    expect(describeServices(intersect(tcp(5432, 5432), familySet(4)), flow)).toEqual(['tcp/5432 (IPv4 only)']);
    expect(describeServices(intersect(flow, protocolSet(47)), flow)).toEqual(['proto 47']);
    const all = describeServices(flow, flow);
    expect(all.length).toBe(256);
    expect(describeServices(intersect(flow, prefixSet('dst', '10.10.20.21/32')), flow)[0]).toBe('proto 0 (IPv4 only)');
    expect(all.slice(0, 3)).toEqual(['proto 0', 'icmp (any type)', 'proto 2']);
    expect([all[6], all[17], all[58]]).toEqual(['tcp (any port)', 'udp (any port)', 'icmpv6 (any type)']);
  });
});

describe('verify --static: firewall-endpoint-services', () => {
  it('fw2: one matrix line per set of pairs with the same services, no finding', () => {
    const { code, result } = verify('intents/fw2');
    expect(code).toBe(0);
    expect(result.passed).toBe(true);
    expect(result.findings).toEqual([]);
    expect(result.examined).toBe('20 ordered endpoint pairs with a policy on the path: 16 forwarded and filtered (0 denied entirely), 4 forwarded past no policy (bridged), 0 not forwarded; 2 port-forwarded flows (2 accepted)');
    const f = (l: string) => fw('intents/fw2', l);
    const echo = `icmp/8, icmpv6/128 (rule echo, ${f('54:11')})`;
    const rest = `drops tcp/22 (rule ssh-drop, ${f('50:11')}); drops the rest (default drop, ${f('22:7')})`;
    expect(result.details).toEqual([
      `web1 -> app1 (routed): firewall allows tcp/8080 (rule web-to-app, ${f('28:11')}), ${echo}; ${rest} [and 3 more pairs alike: web1 -> app2, web2 -> app1, web2 -> app2]`,
      `web1 -> db1 (routed): firewall allows ${echo}; rejects tcp/5432 (rule db-deny, ${f('43:11')}); ${rest} [and 1 more pair alike: web2 -> db1]`,
      `app1 -> web1 (routed): firewall allows ${echo}; ${rest} [and 7 more pairs alike: app1 -> web2, app2 -> web1, app2 -> web2, db1 -> web1, db1 -> web2, ...]`,
      `app1 -> db1 (routed): firewall allows tcp/5432 (rule app-to-db, ${f('36:11')}), ${echo}; ${rest} [and 1 more pair alike: app2 -> db1]`,
      // The port forward, translated first (the reachability matrix's NAT'ed service).
      ...['web1', 'web2'].map((w) => `${w} -> 10.10.99.80:80 (port forward app-forward at ${f('58:11')}, to 10.10.20.21:8080 on app1): accepted: accept by rule web-to-app (${f('28:11')}) of policy tiers`),
    ]);
  });

  it('fw1: the fabric isolates the VRFs, so each inter-VRF accept rule is a warning at its line; the check passes', () => {
    const { code, result } = verify('intents/fw1');
    expect(code).toBe(0);
    expect(result.passed).toBe(true);
    expect(result.details).toBeUndefined();
    expect(result.findings.map((x) => [x.severity, `${x.location!.file}:${x.location!.line}`, x.evidence.rule, x.evidence.examples])).toEqual([
      ['warning', 'intents/fw1/firewall.yaml:30', 'web-to-app', ['h1 -> h3', 'h2 -> h3']],
      ['warning', 'intents/fw1/firewall.yaml:52', 'monitoring-echo', ['h1 -> h3', 'h1 -> h4', 'h1 -> h5']],
      ['warning', 'intents/fw1/firewall.yaml:38', 'app-to-db', ['h3 -> h4', 'h3 -> h5']],
    ]);
  });

  it('dc1: no policy, not applicable', () => {
    const { code, result } = verify('intents/dc1');
    expect(code).toBe(0);
    expect([result.passed, result.examined, result.findings]).toEqual([true, 'no firewall policy: not applicable', []]);
  });

  it('seeded: an accept rule towards a VRF the fabric does not route to (warning), pairs denied entirely (info)', () => {
    const { code, result } = verify(seeded);
    expect(code).toBe(0);
    expect(result.passed).toBe(true);
    expect(result.findings.map((x) => [x.severity, `${x.location!.file}:${x.location!.line}:${x.location!.col}`, x.message])).toEqual([
      ['info', fw(seeded, '22:7'), `app1 -> web1 (routed) and 7 more pairs: forwarded by the fabric, denied entirely by the firewall (default drop of policy tiers, ${fw(seeded, '22:7')})`],
      ['warning', fw(seeded, '43:11'), `policy 'tiers': rule 'ops-to-db' accepts tcp/5432 from ops1 -> db1, which the fabric does not forward (isolated), and no pair the fabric forwards: the rule can never be exercised between endpoints`],
    ]);
    expect(result.findings[0]!.evidence.examples).toEqual(['app1 -> web1', 'app1 -> web2', 'app2 -> web1', 'app2 -> web2', 'db1 -> web1']);
  });
});

describe('firewall-endpoint-services bounds', () => {
  it('past the pair bound the rest is counted, not analysed, and no rule is called unexercised; past the line bound a summary', () => {
    const fg = buildFabricGraph(loadModelSync(path.join(repoRoot, seeded)));
    const r = endpointServicesCheck(6, 1).run(makeContext(fg));
    expect(r.examined).toBe('6 ordered endpoint pairs with a policy on the path: 3 forwarded and filtered (0 denied entirely), 2 forwarded past no policy (bridged), 1 not forwarded, 24 past the bound of 6; 2 port-forwarded flows (2 accepted)');
    expect(r.details!.slice(1).map((l) => l.replace(/ \(port forward .*/, ' ...'))).toEqual([
      '... 1 more distinct line (1 pair) past the first 1',
      '... 24 more pairs with a policy not analysed (bound: 6 ordered pairs)',
      'web1 -> 10.10.99.80:80 ...',
      '... 1 more port-forward line',
    ]);
    expect(r.findings).toEqual([]);
  });
});
