/**
 * model.domains.gslb from intents/gslb1 (members resolved through slb VIPs and endpoints),
 * intent errors at file:line:col, the answer prediction, and the static checks (gslb-*) on
 * copies that break one thing each.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import type { GslbModel } from '../../../src/domains/gslb/model.ts';
import { predictAnswer } from '../../../src/domains/gslb/predict.ts';
import { verifyStatic } from '../../../src/verify/static.ts';
import { semanticDiff } from '../../../src/plan/semantic-diff.ts';
import { domains, RESERVED_DOMAINS } from '../../../src/domains/index.ts';
import path from 'node:path';
import { cleanupCopies, gslb1, gslb1Copy, loadErrors, repoRoot } from './fixtures.ts';

afterAll(cleanupCopies);
const gslbOf = (dir: string) => loadModelSync(dir).domains.gslb as GslbModel;

describe('model.domains.gslb', () => {
  const m = gslbOf(gslb1);

  it('resolves pools from SLB VIPs, endpoints and addresses; names with zone, TTL and topology', () => {
    expect(m.pools.map((p) => `${p.name}@${p.site}: ${p.members.map((x) => `${x.ref}=${[x.ipv4, x.ipv6].filter(Boolean).join('+')} w${x.weight}`).join(' ')}`)).toEqual([
      'shop-dc1@dc1: vip:shop=10.10.99.10+fd00:10:99::10 w1',
      'shop-dc2@dc2: 198.51.100.10,2001:db8:2::10=198.51.100.10+2001:db8:2::10 w1',
      'web-dc1@dc1: endpoint:h1=10.10.10.11+fd00:10:10::11 w3 endpoint:h3=10.10.20.13 w1',
      'web-dc2@dc2: 198.51.100.20=198.51.100.20 w2',
    ]);
    expect(m.names.map((n) => `${n.name} ${n.zone} ${n.types.join('+')} ${n.policy} ttl ${n.ttl} ${n.pools.join('>')} ${n.health ?? '-'}`)).toEqual([
      'all.gslb.example.com gslb.example.com A all-healthy ttl 3 web-dc1 tcp',
      'near.gslb.example.com gslb.example.com A topology ttl 3 shop-dc1>shop-dc2 web',
      'shop.gslb.example.com gslb.example.com A+AAAA failover ttl 3 shop-dc1>shop-dc2 web',
      'www.gslb.example.com gslb.example.com A weighted ttl 3 web-dc1>web-dc2 tcp',
    ]);
    expect(m.names[1].topology.map((r) => `${r.subnets.join(',')} -> ${r.sites.join('>')}`)).toEqual(['10.1.0.0/16 -> dc1>dc2', '10.2.0.0/16,2001:db8:2::/48 -> dc2>dc1']);
    expect(m.servers).toMatchObject([{ name: 'ns1', site: 'dc1', attach: ['leaf1'], vrf: 'BLUE', tenant: 'blue', network: 'web', ipv4: '10.10.10.53/24', ipv6: 'fd00:10:10::53/64', targets: ['powerdns', 'f5-as3'] }]);
    expect(m.healthChecks.find((h) => h.name === 'web')).toMatchObject({ type: 'http', port: 8080, path: '/healthz', expectStatus: 200, expectContent: 'ok', intervalMs: 2000, timeoutMs: 1000, failures: 1 });
  });

  it('predicts answers per policy, client subnet and member health (fail-open when all are down)', () => {
    const p = (name: string, type: 'A' | 'AAAA', client?: string, down: string[] = []) => predictAnswer(m, { name, type, client, down: new Set(down) });
    expect(p('shop.gslb.example.com', 'A')).toEqual({ kind: 'all', addresses: ['10.10.99.10'] });
    expect(p('shop.gslb.example.com', 'AAAA', undefined, ['fd00:10:99::10'])).toEqual({ kind: 'all', addresses: ['2001:db8:2::10'] });
    expect(p('shop.gslb.example.com', 'A', undefined, ['10.10.99.10', '198.51.100.10'])).toEqual({ kind: 'all', addresses: ['10.10.99.10'] });
    expect(p('near.gslb.example.com', 'A', '10.2.0.9')).toEqual({ kind: 'all', addresses: ['198.51.100.10'] });
    expect(p('near.gslb.example.com', 'A', '2001:db8:2::1')).toEqual({ kind: 'all', addresses: ['198.51.100.10'] });
    expect(p('near.gslb.example.com', 'A', '10.2.0.9', ['198.51.100.10'])).toEqual({ kind: 'all', addresses: ['10.10.99.10'] });
    expect(p('near.gslb.example.com', 'A', '192.0.2.1')).toEqual({ kind: 'all', addresses: ['10.10.99.10'] });
    expect(p('www.gslb.example.com', 'A', undefined, ['198.51.100.20'])).toEqual({ kind: 'one-of', weights: [['10.10.10.11', 3], ['10.10.20.13', 1]] });
    expect(p('all.gslb.example.com', 'A', undefined, ['10.10.20.13'])).toEqual({ kind: 'all', addresses: ['10.10.10.11'] });
  });

  it('schema errors name their file:line:col', () => {
    const dir = gslb1Copy((g) => {
      g.health_checks.web.interval = 'soon';
      g.names[0].name = 'Shop.example.com.';
    });
    expect(loadErrors(dir)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^gslb\.yaml:\d+:\d+: .*must be a duration like 500ms/),
      expect.stringMatching(/^gslb\.yaml:\d+:\d+: .*must be a lower-case fully qualified name/),
    ]));
  });

  it('reference errors name their file:line:col', () => {
    const dir = gslb1Copy((g) => {
      g.pools['shop-dc1'].members.push({ vip: 'nope' }, { endpoint: 'h9' }, { vip: 'shop', endpoint: 'h1' });
      g.pools['web-dc2'].site = 'dc3';
      g.names[0].pools.push('ghost');
      g.names[1].health_check = 'none';
      g.names.push({ name: 'x.other.example.com', policy: 'failover', pools: ['shop-dc1'] });
      g.names.push({ name: 'shop.gslb.example.com', policy: 'failover', pools: ['shop-dc1'] });
      g.names[1].topology = [{ subnets: ['10.9.0.0/16'], sites: ['mars'] }];
      g.dns_servers.ns1.leg.ipv4 = '10.10.10.11';
      g.dns_servers.ns2 = { site: 'dc1', attach: ['spine1'], vrf: 'BLUE', leg: { network: 'web', ipv4: '10.10.10.54' } };
    });
    const errs = loadErrors(dir);
    expect(errs.every((x) => /^gslb\.yaml:\d+:\d+: /.test(x)), errs.join('\n')).toBe(true);
    expect(errs.map((x) => x.replace(/^gslb\.yaml:\d+:\d+: /, ''))).toEqual(expect.arrayContaining([
      "pool 'shop-dc1': unknown SLB virtual service 'nope' (known: orders, orders-db, shop)",
      expect.stringMatching(/^pool 'shop-dc1': unknown endpoint 'h9'/),
      "pool 'shop-dc1': a member names exactly one of vip, endpoint or address",
      "pool 'web-dc2': unknown site 'dc3' (known: dc1, dc2)",
      "GSLB name 'shop.gslb.example.com': unknown pool 'ghost' (known: shop-dc1, shop-dc2, web-dc1, web-dc2)",
      "GSLB name 'www.gslb.example.com': unknown health check 'none' (known: web, tcp)",
      "GSLB name 'x.other.example.com' lies in none of the zones (gslb.example.com)",
      expect.stringMatching(/^GSLB name 'shop\.gslb\.example\.com' is defined twice \(first at .*gslb\.yaml:\d+:\d+\)$/),
      "GSLB name 'www.gslb.example.com': unknown site 'mars' (known: dc1, dc2)",
      "GSLB name 'www.gslb.example.com': topology and fallback belong to the topology policy (this name's policy is weighted)",
      "DNS server 'ns1': 10.10.10.11 is already the address of endpoint 'h1'",
      "DNS server 'ns2': 'spine1' is a spine, not a leaf",
    ]));
  });
});

describe('verify --static: gslb-* checks', () => {
  const run = (dir: string) => verifyStatic(loadModelSync(dir)).results.filter((r) => r.check.id.startsWith('gslb-'));

  it('gslb1 is green', () => {
    expect(run(gslb1).map((x) => [x.check.id, x.passed, x.findings.length])).toEqual([
      ['gslb-name-answers', true, 0],
      ['gslb-pool-members', true, 0],
      ['gslb-name-overlap', true, 0],
      ['gslb-topology-fallback', true, 0],
      ['gslb-health-reach', true, 0],
      ['gslb-ttl-health', true, 0],
    ]);
  });

  it('finds names with nothing to answer, pools that cannot be healthy, overlaps, topology without fallback and long TTLs, each at its line', () => {
    const dir = gslb1Copy((g) => {
      g.names.find((n: any) => n.name === 'all.gslb.example.com').pools = ['web-dc2'];
      g.names.find((n: any) => n.name === 'all.gslb.example.com').types = ['A', 'AAAA'];
      g.pools['v6-only'] = { site: 'dc2', members: [{ address: '2001:db8:9::1' }] };
      g.pools.unused = { site: 'dc2', members: [{ address: '198.51.100.99' }] };
      g.names.push({ name: 'v6.gslb.example.com', policy: 'failover', pools: ['v6-only'], health_check: 'web' });
      g.names.push({ name: 'ns-ns1.gslb.example.com', policy: 'all-healthy', pools: ['web-dc1'], health_check: 'tcp' });
      g.names.push({ name: 'a.www.gslb.example.com', policy: 'all-healthy', pools: ['web-dc1'], health_check: 'tcp' });
      delete g.names.find((n: any) => n.name === 'near.gslb.example.com').fallback;
      g.names.find((n: any) => n.name === 'shop.gslb.example.com').ttl = 60;
    });
    const r = Object.fromEntries(run(dir).map((x) => [x.check.id, x]));
    const lines = (id: string) => r[id].findings.map((x) => `${x.severity} ${x.location!.file.endsWith('gslb.yaml') ? 'gslb.yaml' : x.location!.file}:${x.location!.line > 0}: ${x.message}`);
    expect(lines('gslb-name-answers')).toEqual([
      "error gslb.yaml:true: GSLB name 'all.gslb.example.com': no member of its pools (web-dc2) has an IPv6 address: AAAA queries get no answer",
      "error gslb.yaml:true: GSLB name 'v6.gslb.example.com': no member of its pools (v6-only) has an IPv4 address: A queries get no answer",
    ]);
    expect(lines('gslb-pool-members')).toEqual([
      "warning gslb.yaml:true: pool 'unused' is used by no GSLB name",
      "error gslb.yaml:true: pool 'v6-only' (site dc2): no member has an address of the record types its names answer (A): it can never be healthy",
    ]);
    expect(lines('gslb-name-overlap')).toEqual([
      "warning gslb.yaml:true: GSLB name 'a.www.gslb.example.com' lies below GSLB name 'www.gslb.example.com'",
      "error gslb.yaml:true: GSLB name 'ns-ns1.gslb.example.com' is the name server host of a DNS server in zone gslb.example.com",
    ]);
    expect(lines('gslb-topology-fallback')).toEqual(["warning gslb.yaml:true: GSLB name 'near.gslb.example.com': topology without a fallback: clients no rule matches get its pools' sites in listed order"]);
    expect(lines('gslb-ttl-health')).toEqual(["warning gslb.yaml:true: GSLB name 'shop.gslb.example.com': TTL 60s exceeds health detection (1 x 2s + 1s timeout = 3s): resolvers keep a failed member up to 63s"]);
  });
});

describe('netloom plan: gslb objects in the semantic diff', () => {
  it('a changed name and an added pool are named, with the changed field', () => {
    const base = loadModelSync(gslb1);
    const head = loadModelSync(gslb1Copy((g) => {
      g.names.find((n: any) => n.name === 'shop.gslb.example.com').ttl = 10;
      g.pools.extra = { site: 'dc2', members: [{ address: '198.51.100.30' }] };
    }));
    const changes = semanticDiff(base, head).filter((c) => c.domain === 'gslb');
    expect(changes.map((c) => `${c.change} ${c.kind} ${c.key} ${c.fields.map((f) => `${f.field}:${String(f.before)}->${String(f.after)}`).join(',')}`)).toEqual([
      'added pool extra ',
      'changed name shop.gslb.example.com ttl:3->10',
    ]);
  });
});

describe('the gslb domain is registered', () => {
  it('no longer reserved; absent from models without a gslb section', () => {
    expect(RESERVED_DOMAINS as readonly string[]).not.toContain('gslb');
    expect(domains().map((d) => d.id)).toContain('gslb');
    expect(loadModelSync(path.join(repoRoot, 'intents/slb1')).domains.gslb).toBeUndefined();
  });
});

describe('DNS servers as service nodes', () => {
  it('an attached server is a service node of the fabric: dns role, its leaf port, pdns_server started with the warm-up plan', () => {
    const model = loadModelSync(gslb1);
    const sn = model.serviceNodes!.find((n) => n.name === 'ns1')!;
    expect(sn).toMatchObject({ domain: 'gslb', role: 'dns', leaf: 'leaf1', asn: 65353, advertise: [] });
    expect(sn.legs.map((l) => `${l.port} ${l.iface} ${l.vrf}/${l.network} ${l.ipv4} ${l.ipv6}`)).toEqual(['eth22 eth1 BLUE/web 10.10.10.53/24 fd00:10:10::53/64']);
    expect(sn.run.start).toMatch(/pdns_server --config-dir=\/etc\/netloom\/gslb\/ns1 --daemon=yes --guardian=no; .*dig -f \/etc\/netloom\/gslb\/ns1\/warmup\.queries .*sleep 3; fi$/);
    expect(sn.run.check).toBe('pdns_control --config-dir=/etc/netloom/gslb/ns1 --socket-dir=/run/netloom/gslb/ns1 rping >/dev/null 2>&1');
    expect(Object.keys(sn.run.files).sort()).toEqual(['gslb.example.com.zone', 'named.conf', 'pdns.conf', 'warmup.queries']);
    expect(model.devices.find((d) => d.name === 'leaf1')!.interfaces.find((i) => i.name === 'eth22')).toMatchObject({ kind: 'access', accessVlan: 10, description: 'dns ns1 (VRF BLUE)' });
  });

  it('a server port the leaf lacks or already uses is an error at its line; without a port the server is external', () => {
    const bad = gslb1Copy((g) => {
      g.dns_servers.ns1.leg.port = 'eth20';
    });
    expect(loadErrors(bad)).toEqual([expect.stringMatching(/^gslb\.yaml:\d+:\d+: dns node 'ns1': leaf1:eth20 is already used \(load-balancer lb1/)]);
    const external = gslb1Copy((g) => {
      delete g.dns_servers.ns1.leg.port;
    });
    expect(loadModelSync(external).serviceNodes!.map((n) => n.name)).toEqual(['lb1', 'lb2']);
  });
});
