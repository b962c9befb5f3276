/**
 * nginx as a load-balancer node, and persistence, for real (intents/slb1's fabric with an slb
 * section of its own, lab h20nngx, mgmt 172.26.40.0/24): lb1 runs Debian's nginx (BLUE and
 * RED), lb2 HAProxy (BLUE), member servers on the endpoints.
 *  - live-slb-answers is green over both nodes, names what it cannot read from nginx (info),
 *    and proves persistence: cookie kept and cookie naming a member (HAProxy), one member per
 *    source address (nginx hash $remote_addr, HAProxy stick table);
 *  - nginx splits roundrobin 3:1 as predicted (40 requests 30:10, whichever worker accepts),
 *    routes by host and path, terminates TLS with the lab's test certificate, TCP via stream
 *    with its backup idle;
 *  - passive health only: a killed member is skipped after one failed attempt, no request fails;
 *  - apply pushes the nginx node: a weight change checked by nginx -t and reloaded (same master,
 *    new workers) under steady load, 0 failed requests, the new split served;
 *  - a dead nginx withdraws lb1's VIPs from the fabric, the live check names it; back after
 *    node.sh restarts it.
 * Times are measured and printed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLabState, labExec } from '../../src/lab/index.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { pushPostChecks } from '../../src/domains/index.ts';
import { runDir } from '../../src/lab/state.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { labNginxPid } from '../../src/domains/slb/live.ts';
import { SLB_CA_BUNDLE } from '../../src/domains/slb/lab.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { formatWindow, loadWindow, memberPid, requests, startMember, steadyLoad, tally, until, vipVteps } from '../support/slb-lab.ts';
import { intentLab } from './helpers.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/haproxy') ? 'haproxy' : !existsSync('/usr/sbin/nginx') ? 'nginx' : undefined;
if (missing && !inCI) console.log(`slb-nginx-lab: skipped, needs ${missing}`);

const LAB = 'h20nngx';

const SLB = `slb:
  certificates:
    shop: { cert: /etc/netloom/tls/shop.example.com.pem, key: /etc/netloom/tls/shop.example.com.pem.key }
  vip_ranges:
    - { vrf: BLUE, prefix: 10.10.99.0/24 }
  nodes:
    lb1:
      attach: [leaf1]
      targets: [nginx]
      vrfs:
        BLUE: { network: web, port: eth20, ipv4: 10.10.10.51 }
        RED: { network: db, port: eth21, ipv4: 10.20.30.51 }
    lb2:
      attach: [leaf2]
      targets: [haproxy]
      vrfs:
        BLUE: { network: web, port: eth20, ipv4: 10.10.10.52 }
  pools:
    shop-web:
      members: [{ endpoint: h1, port: 8080, weight: 3 }, { endpoint: h2, port: 8080, weight: 1 }]
    shop-api:
      algorithm: leastconn
      members: [{ endpoint: h3, port: 8080 }, { endpoint: h2, port: 8081, backup: true }]
    cart:
      members: [{ endpoint: h1, port: 8080 }, { endpoint: h2, port: 8080 }, { endpoint: h3, port: 8080 }]
      persistence: { type: source }
    account:
      members: [{ endpoint: h1, port: 8080 }, { endpoint: h2, port: 8080 }]
      health_check: { type: http, path: /, interval: 1s }
      persistence: { type: cookie, cookie: ACCT }
    basket:
      members: [{ endpoint: h1, port: 8080 }, { endpoint: h2, port: 8080 }, { endpoint: h3, port: 8080 }]
      health_check: { type: tcp, interval: 1s }
      persistence: { type: source, timeout: 5m }
    orders-db:
      algorithm: leastconn
      members: [{ endpoint: h4, port: 5432 }, { endpoint: h5, port: 5432, backup: true }]
  services:
    - name: shop
      vrf: BLUE
      vip: 10.10.99.10
      nodes: [lb1]
      listeners: [{ port: 443, protocol: https, certificates: [shop], alpn: [h2, http/1.1] }]
      rules:
        - { name: api, host: api.shop.example.com, pool: shop-api }
        - { name: api-path, host: shop.example.com, path_prefix: /api/, pool: shop-api }
      default_pool: shop-web
    - { name: cart, vrf: BLUE, vip: 10.10.99.20, nodes: [lb1], listeners: [{ port: 80, protocol: http }], default_pool: cart }
    - { name: account, vrf: BLUE, vip: 10.10.99.21, nodes: [lb2], listeners: [{ port: 80, protocol: http }], default_pool: account }
    - { name: basket, vrf: BLUE, vip: 10.10.99.22, nodes: [lb2], listeners: [{ port: 80, protocol: http }], default_pool: basket }
    - { name: orders-db, vrf: RED, vip: 10.20.30.101, nodes: [lb1], listeners: [{ port: 5432, protocol: tcp }], default_pool: orders-db }
`;

describe.skipIf(!!missing && !inCI)('nginx as a load-balancer node, and persistence, in the lab', () => {
  const copy = intentCopy('intents/slb1', 40, '172.26');
  const slbFile = path.join(copy.dir, 'slb.yaml');
  writeFileSync(slbFile, SLB);
  const model = loadModelSync(copy.dir);
  const apply = () => {
    const m = loadModelSync(copy.dir);
    return runRollout({ model: m, inventory: inventoryFromLab(getLabState(LAB)), canary: 1, waveSize: 5, confirmTimeoutS: 60, postChecks: pushPostChecks(m, { live: true }) });
  };
  const bundle = () => path.join(runDir(LAB), SLB_CA_BUNDLE);

  intentLab(copy, LAB);

  it('live-slb-answers is green over nginx and HAProxy nodes, says what it cannot read from nginx, and proves persistence', async () => {
    const { results } = await verifyLive(model, `lab:${LAB}`);
    expect(results.filter((r) => !r.passed).map((r) => `${r.check.id}: ${r.findings.map((f) => f.message).join('; ')}`)).toEqual([]);
    const slb = results.find((r) => r.check.id === 'live-slb-answers')!;
    console.log(`slb-nginx-lab: live-slb-answers ${slb.examined}\n  ${slb.details!.join('\n  ')}`);
    expect(slb.examined).toMatch(/^\d+ requests, 7 routes, \d+ persistence cases$/);
    expect(slb.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([expect.stringMatching(/^info lb1 runs nginx: member health and state are not read \(OSS nginx has no runtime API and only passive health/)]);
    const d = slb.details!;
    const line = (re: RegExp) => expect(d.filter((x) => re.test(x)).length, `${re}\n${d.join('\n')}`).toBeGreaterThan(0);
    line(/^shop 10\.10\.99\.10:443\/https Host api\.shop\.example\.com \/ from h\d -> shop-api \(rule 'api'\): h3 \d+$/);
    line(/^orders-db 10\.20\.30\.101:5432\/tcp from h\d -> orders-db \(default pool\): h4 \d+$/);
    // Persistence: one member per client (source), the kept cookie, a cookie naming each member.
    line(/^cart 10\.10\.99\.20:80\/http Host 10\.10\.99\.20 \/ from h\d -> cart \(default pool, one source address\): h\d \d+$/);
    line(/^basket 10\.10\.99\.22:80\/http Host 10\.10\.99\.22 \/ from h\d -> basket \(default pool, one source address\): h\d 8$/);
    line(/^account 10\.10\.99\.21:80\/http Host 10\.10\.99\.21 \/ from h\d -> account \(default pool, cookie ACCT kept\): h\d 8$/);
    line(/^account 10\.10\.99\.21:80\/http Host 10\.10\.99\.21 \/ from h\d -> account \(default pool, cookie ACCT=h1\): h1 3$/);
    line(/^account 10\.10\.99\.21:80\/http Host 10\.10\.99\.21 \/ from h\d -> account \(default pool, cookie ACCT=h2\): h2 3$/);
  }, 180_000);

  it('nginx: roundrobin 3:1 splits 40 requests 30:10; host and path route; TLS with the test certificate; TCP with its backup idle', async () => {
    const ca = bundle();
    const web = await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 40, { host: 'shop.example.com', cafile: ca });
    console.log(`slb-nginx-lab: nginx shop-web split over 40 requests: ${JSON.stringify(tally(web))}`);
    expect(tally(web)).toEqual({ h1: 30, h2: 10 });
    // Verified against the lab's test certificates for the Host name; ALPN answered.
    expect(new Set(web.map((a) => a.alpn))).toEqual(new Set(['http/1.1']));
    expect(tally(await requests(LAB, 'h1', 'https', '10.10.99.10', 443, 6, { host: 'api.shop.example.com', cafile: ca }))).toEqual({ h3: 6 });
    expect(tally(await requests(LAB, 'h1', 'https', '10.10.99.10', 443, 6, { host: 'shop.example.com', path: '/api/orders', cafile: ca }))).toEqual({ h3: 6 });
    expect(tally(await requests(LAB, 'h1', 'https', '10.10.99.10', 443, 8, { host: 'shop.example.com', path: '/apiary', cafile: ca }))).toEqual({ h1: 6, h2: 2 });
    // A name the certificate does not carry fails verification: the certificate is the test one.
    const wrong = await requests(LAB, 'h1', 'https', '10.10.99.10', 443, 1, { host: 'other.example.com', cafile: ca });
    expect(wrong[0].error).toMatch(/CERTIFICATE_VERIFY_FAILED|hostname/i);
    expect(tally(await requests(LAB, 'h5', 'tcp', '10.20.30.101', 5432, 6))).toEqual({ h4: 6 });
  }, 120_000);

  it('persistence: each source address stays on one member (nginx and HAProxy); a cookie keeps a client on its member, one naming another member moves it there', async () => {
    const onOne = async (vip: string, from: string) => {
      const t = tally(await requests(LAB, from, 'http', vip, 80, 10));
      expect(Object.keys(t), `${vip} from ${from}: ${JSON.stringify(t)}`).toHaveLength(1);
      expect(Object.keys(t)[0]).toMatch(/^h[123]$/);
      return Object.keys(t)[0];
    };
    const cart = [await onOne('10.10.99.20', 'h1'), await onOne('10.10.99.20', 'h2'), await onOne('10.10.99.20', 'h3')];
    const basket = [await onOne('10.10.99.22', 'h1'), await onOne('10.10.99.22', 'h2'), await onOne('10.10.99.22', 'h3')];
    console.log(`slb-nginx-lab: source persistence, clients h1 h2 h3 -> nginx cart ${cart.join(' ')}, HAProxy basket ${basket.join(' ')}`);
    // HAProxy's stick table learns each new source from roundrobin: three fresh sources in turn
    // are not all sent to one member.
    expect(new Set(basket).size).toBeGreaterThan(1);
    const kept = await requests(LAB, 'h3', 'http', '10.10.99.21', 80, 10, { cookie: 'jar:ACCT' });
    expect(Object.keys(tally(kept))).toHaveLength(1);
    expect(kept[0].set_cookie).toBe(`ACCT=${kept[0].member}`);
    const other = kept[0].member === 'h1' ? 'h2' : 'h1';
    expect(tally(await requests(LAB, 'h3', 'http', '10.10.99.21', 80, 5, { cookie: `ACCT=${other}` }))).toEqual({ [other]: 5 });
    // Without the cookie the same client is balanced again.
    expect(tally(await requests(LAB, 'h3', 'http', '10.10.99.21', 80, 4))).toEqual({ h1: 2, h2: 2 });
  }, 120_000);

  it('nginx has passive health only: a killed member is skipped after one failed attempt and no request fails; it serves again after fail_timeout', async () => {
    const pid = await memberPid(LAB, 'h2', 8080);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    const during = tally(await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 12, { host: 'shop.example.com', cafile: bundle() }));
    expect(during).toEqual({ h1: 12 });
    await startMember(LAB, 'h2', 'http', 8080);
    // max_fails 1, fail_timeout 10 s: h2 is tried again after at most 10 s.
    const back = await until('nginx sends to h2 again', async () => tally(await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 4, { host: 'shop.example.com', cafile: bundle() })), (t) => (t.h2 ?? 0) > 0 && !t.failed, 20_000);
    console.log(`slb-nginx-lab: member h2 killed -> 12 of 12 requests answered by h1 (nginx retried the next member); h2 restarted -> back after ${back} ms (fail_timeout 10 s)`);
  }, 60_000);

  it('apply pushes the nginx node: a weight change checked by nginx -t and reloaded (same master, new workers) under steady load with 0 failed requests', async () => {
    const first = await apply();
    expect(first.ok, JSON.stringify(first.results.filter((x) => x.action !== 'unchanged'), null, 1)).toBe(true);
    const master = Number(readFileSync(labNginxPid(LAB, 'lb1'), 'utf8').trim());
    const workers = () => readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).sort().join(' ');
    const before = workers();
    const load = steadyLoad(LAB, 'h3', { mode: 'https', vip: '10.10.99.10', port: 443, seconds: 14, concurrency: 3, host: 'shop.example.com', cafile: bundle() });
    await new Promise((r) => setTimeout(r, 4000));
    writeFileSync(slbFile, SLB.replace('{ endpoint: h1, port: 8080, weight: 3 }', '{ endpoint: h1, port: 8080, weight: 1 }'));
    const from = Date.now();
    const r = await apply();
    const to = Date.now();
    expect(r.ok, JSON.stringify(r.results.filter((x) => x.action !== 'unchanged'), null, 1)).toBe(true);
    expect(r.results.filter((x) => x.action !== 'unchanged').map((x) => x.device)).toEqual(['lb1']);
    const samples = await load;
    const windows = [loadWindow(samples, from - 4000, from), loadWindow(samples, from, to), loadWindow(samples, to, to + 4000)];
    console.log(`slb-nginx-lab: apply of a weight change to the nginx node (nginx -t, nginx -s reload) in ${to - from} ms under load: before ${formatWindow(windows[0])}; during ${formatWindow(windows[1])}; after ${formatWindow(windows[2])}`);
    expect(samples.filter((x) => !x[2]).map((x) => x[3])).toEqual([]);
    expect(Number(readFileSync(labNginxPid(LAB, 'lb1'), 'utf8').trim())).toBe(master);
    await until('the old workers gone', async () => workers(), (w) => w !== before && w.split(' ').every((p) => !before.split(' ').includes(p)), 10_000);
    expect(tally(await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 8, { host: 'shop.example.com', cafile: bundle() }))).toEqual({ h1: 4, h2: 4 });
    // Back to the intent of this lab (3:1), the way it came.
    writeFileSync(slbFile, SLB);
    expect((await apply()).ok).toBe(true);
    expect(tally(await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 8, { host: 'shop.example.com', cafile: bundle() }))).toEqual({ h1: 6, h2: 2 });
  }, 300_000);

  it('a dead nginx withdraws its VIPs within a few seconds; the live check names it; back after node.sh restarts it', async () => {
    expect(await vipVteps(LAB, 'leaf3', 'BLUE', '10.10.99.10/32')).toEqual(['10.0.1.1']);
    // SIGTERM: nginx's fast shutdown, its workers with it (a master killed outright leaves them serving).
    const pid = Number(readFileSync(labNginxPid(LAB, 'lb1'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    const withdrawn = await until('shop VIP withdrawn on leaf3', () => vipVteps(LAB, 'leaf3', 'BLUE', '10.10.99.10/32'), (v) => v.length === 0, 15_000);
    await until('orders-db VIP withdrawn on leaf4', () => vipVteps(LAB, 'leaf4', 'RED', '10.20.30.101/32'), (v) => v.length === 0, 15_000);
    console.log(`slb-nginx-lab: lb1's nginx killed -> its VIPs withdrawn from leaf3 in ${withdrawn} ms`);
    expect(withdrawn).toBeLessThan(5000);
    const { results } = await verifyLive(model, `lab:${LAB}`);
    const slb = results.find((r) => r.check.id === 'live-slb-answers')!;
    expect(slb.passed).toBe(false);
    expect(slb.findings.map((f) => f.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^lb1: nginx is not running/), expect.stringMatching(/^shop 10\.10\.99\.10:443\/https .*requests failed/)]));
    // HAProxy's node is untouched.
    expect(tally(await requests(LAB, 'h3', 'http', '10.10.99.21', 80, 2))).toEqual({ h1: 1, h2: 1 });
    const r = await labExec(LAB, 'lb1', ['sh', '/etc/netloom/node.sh']);
    expect(r.code, r.stderr).toBe(0);
    const back = await until('shop VIP back on leaf3', () => vipVteps(LAB, 'leaf3', 'BLUE', '10.10.99.10/32'), (v) => v.length === 1, 15_000);
    console.log(`slb-nginx-lab: lb1's nginx restarted -> VIPs announced again on leaf3 in ${back} ms`);
    expect(tally(await requests(LAB, 'h3', 'https', '10.10.99.10', 443, 4, { host: 'shop.example.com', cafile: bundle() }))).toEqual({ h1: 3, h2: 1 });
  }, 240_000);
});
