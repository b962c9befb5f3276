/**
 * model.domains.slb from intents/slb1: every reference resolved through the fabric model,
 * vendor-independent, sorted, durations in milliseconds; and the static checks (slb-*) on
 * copies that break one thing each, every finding at its intent line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import type { SlbModel } from '../../../src/domains/slb/model.ts';
import { SLB_TEMPLATES } from '../../../src/domains/slb/render.ts';
import { templatesDir } from '../../../src/render/templates.ts';
import { verifyStatic } from '../../../src/verify/static.ts';
import { existsSync } from 'node:fs';
import { cleanupCopies, repoRoot, slb1Copy } from './fixtures.ts';

afterAll(cleanupCopies);
const slbOf = (dir: string) => loadModelSync(dir).domains.slb as SlbModel;

describe('model.domains.slb', () => {
  const m = slbOf(path.join(repoRoot, 'intents/slb1'));

  it('resolves nodes, VIPs and members from the fabric model, sorted by name', () => {
    expect(m.nodes.map((n) => [n.name, n.attach, n.targets, n.runDir, n.legs.map((l) => `${l.vrf}/${l.tenant}/${l.network} ${l.ipv4} ${l.ipv6 ?? '-'}`)])).toEqual([
      ['lb1', ['leaf1'], ['haproxy', 'f5-as3'], '/run/netloom/slb/lb1', ['BLUE/blue/web 10.10.10.51/24 fd00:10:10::51/64', 'RED/red/db 10.20.30.51/24 -']],
      ['lb2', ['leaf2'], ['haproxy', 'f5-as3'], '/run/netloom/slb/lb2', ['BLUE/blue/web 10.10.10.52/24 fd00:10:10::52/64']],
    ]);
    expect(m.services.map((s) => `${s.name} ${s.tenant}/${s.vrf} ${s.vips.join(',')} on ${s.nodes.join('+')}`)).toEqual([
      'orders red/RED 10.20.30.100 on lb1',
      'orders-db red/RED 10.20.30.101 on lb1',
      'shop blue/BLUE 10.10.99.10,fd00:10:99::10 on lb1+lb2',
    ]);
    expect(m.pools.map((p) => p.name)).toEqual(['orders-db', 'orders-web', 'shop-api', 'shop-web']);
    const api = m.pools.find((p) => p.name === 'shop-api')!;
    expect(api.members.map((x) => `${x.name} ${x.endpoint} ${x.address}:${x.port} w${x.weight}${x.backup ? ' backup' : ''} maxconn ${x.maxconn}`)).toEqual([
      'h3 h3 10.10.20.13:8080 w1 maxconn 200',
      'h2 h2 10.10.10.12:8081 w1 backup maxconn 200',
    ]);
    expect(m.pools.find((p) => p.name === 'orders-db')!.mode).toBe('tcp');
    expect(m.pools.find((p) => p.name === 'shop-web')!.health).toMatchObject({ type: 'http', intervalMs: 2000, rise: 2, fall: 3, timeoutMs: 1000, expectStatus: [{ from: 200, to: 200 }, { from: 300, to: 399 }] });
    expect(m.pools.find((p) => p.name === 'shop-web')!.slowStartMs).toBe(30_000);
    const shop = m.services.find((s) => s.name === 'shop')!;
    expect(shop.rules.map((r) => `${r.name}: ${r.host ?? ''} ${r.pathPrefix ?? ''} -> ${r.pool}`)).toEqual(['api: api.shop.example.com  -> shop-api', 'api-path: shop.example.com /api/ -> shop-api']);
    expect(shop.source.file).toMatch(/intents\/slb1\/slb\.yaml$/);
  });

  it('the registry renders from templates that exist', () => {
    for (const t of SLB_TEMPLATES) expect(existsSync(path.join(templatesDir, t)), t).toBe(true);
  });
});

describe('verify --static: slb-* checks', () => {
  const run = (dir: string) => verifyStatic(loadModelSync(dir)).results.filter((r) => r.check.id.startsWith('slb-'));

  it('slb1 is green', () => {
    const r = run(path.join(repoRoot, 'intents/slb1'));
    expect(r.map((x) => [x.check.id, x.passed, x.findings.length])).toEqual([
      ['slb-pool-members', true, 0],
      ['slb-member-reachability', true, 0],
      ['slb-vip-conflicts', true, 0],
    ]);
  });

  it('finds a pool that cannot serve, an unreachable member, and VIP collisions, each at its line', () => {
    const dir = slb1Copy((slb) => {
      // Every member of orders-web drained; every live member of orders-db a backup.
      for (const x of slb.pools['orders-web'].members) x.drain = true;
      slb.pools['orders-db'].members[0].drain = true;
      delete slb.pools['shop-api'].health_check;
      // A member in RED behind a BLUE-only service: isolated by the fabric.
      slb.pools['shop-web'].members.push({ endpoint: 'h4', port: 8080 });
      // lb2, external (no leaf port), also attached to leaf3, which does not carry VLAN 10 of its BLUE leg.
      delete slb.nodes.lb2.vrfs.BLUE.port;
      slb.nodes.lb2.attach.push('leaf3');
      // The orders VIP is h5's address; orders-db's is the network's broadcast address.
      slb.services.find((s: any) => s.name === 'orders').vip = '10.20.30.15';
      slb.services.find((s: any) => s.name === 'orders-db').vip = '10.20.30.255';
    });
    const f = `${dir}/slb.yaml`;
    const r = Object.fromEntries(run(dir).map((x) => [x.check.id, x]));
    const lines = (id: string) => r[id].findings.map((x) => `${x.severity} ${x.location!.file}:${x.location!.line}: ${x.message}`);
    expect(r['slb-pool-members'].passed).toBe(false);
    expect(lines('slb-pool-members')).toEqual([
      `error ${f}:94: pool 'orders-db': every member that is not drained is a backup: backups serve only when a primary is down, and there is none`,
      `error ${f}:80: pool 'orders-web': every member is drained: no new connection has anywhere to go`,
      `warning ${f}:68: pool 'shop-api' has no health check: a failed member stays in rotation`,
    ]);
    expect(r['slb-member-reachability'].passed).toBe(false);
    expect(lines('slb-member-reachability')).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`^error ${f}:\\d+: virtual service 'shop': lb1 \\(on leaf1, network web\\) cannot reach member h4 of pool 'shop-web' \\(h4\\): VRF BLUE of lb1 and VRF RED of h4 are separate$`)),
      expect.stringMatching(/virtual service 'shop': lb2 \(on leaf3, network web\) cannot reach member h1 of pool 'shop-web' \(h1\): leaf3 does not carry VLAN 10 of lb2$/),
    ]));
    expect(lines('slb-vip-conflicts')).toEqual([
      expect.stringMatching(/^error .*slb\.yaml:\d+: virtual service 'orders': VIP 10\.20\.30\.15 is the address of endpoint h5$/),
      expect.stringMatching(/^error .*slb\.yaml:\d+: virtual service 'orders-db': VIP 10\.20\.30\.255 is the broadcast address of db$/),
    ]);
  });
});
