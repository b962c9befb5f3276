/**
 * GSLB answers from a real PowerDNS (Debian's pdns_server 4.7 with the bind backend) serving
 * the zone netloom renders for intents/gslb1, in a scratch namespace with real HTTP members on
 * the model's member addresses: each policy answers what predictAnswer (the model) says, a
 * stopped member leaves the answers within the health check's interval + timeout (measured and
 * printed) and comes back when restarted, and topology answers by EDNS Client Subnet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import type { GslbModel, RecordType } from '../../../src/domains/gslb/model.ts';
import { predictAnswer, type PredictedAnswer } from '../../../src/domains/gslb/predict.ts';
import { gslbArtifacts } from '../../../src/domains/gslb/render.ts';
import { detectionMs } from '../../../src/domains/gslb/checks.ts';
import { queryGslb } from '../../../src/domains/gslb/query.ts';
import { warmupPlan } from '../../../src/domains/gslb/warmup.ts';
import { compareGslb, gslbMetrics, observeServer, type Exec } from '../../../src/domains/gslb/live.ts';
import { inCI } from '../../support/ci.ts';
import { repoRoot } from '../../support/intent-copy.ts';
import { DnsLab } from './dns-harness.ts';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = ['pdns_server', 'pdnsutil', 'dig', 'ip'].filter((b) => !have(b));
const runnable = !missing.length && process.getuid?.() === 0;
if (inCI && !runnable) throw new Error(`DNS behaviour test needs root and ${missing.join(', ')} (lab/install-deps.sh)`);

const model = loadModelSync(path.join(repoRoot, 'intents/gslb1'));
const g = model.domains.gslb as GslbModel;
const server = g.servers[0];
const files = gslbArtifacts(model).artifacts.filter((a) => a.node === server.name && a.target === 'powerdns');
const members = [...new Set(g.pools.flatMap((p) => p.members.flatMap((m) => [m.ipv4, m.ipv6].filter((a): a is string => !!a))))];
const host = (c: string) => c.split('/')[0];
const lab = new DnsLab(host(server.ipv4!));
const PORT = 8080;

const down = new Set<string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (name: string, type: RecordType, subnet?: string) => `${name} ${type}${subnet ? ` +subnet=${subnet}` : ''}`;
const expected = (name: string, type: RecordType, subnet?: string): PredictedAnswer => predictAnswer(g, { name, type, client: subnet ? subnet.split('/')[0] : host(server.ipv4!), down });
const sorted = (xs: string[]) => [...xs].sort();

/** Whether one real answer is what the model predicts (one-of: a single address among them). */
function matches(answer: string[], p: PredictedAnswer): boolean {
  if (p.kind === 'all') return JSON.stringify(sorted(answer)) === JSON.stringify(sorted(p.addresses));
  return answer.length === 1 && p.weights.some(([a]) => a === answer[0]);
}

/** Polls until every query answers as predicted; returns the time it took (ms), or throws with the last answers. */
async function settle(queries: [string, RecordType, string?][], limitMs: number): Promise<number> {
  const t0 = Date.now();
  let last: string[][] = [];
  while (Date.now() - t0 < limitMs) {
    last = lab.dig(queries.map(([n, t, s]) => q(n, t, s)));
    if (last.every((a, i) => matches(a, expected(...queries[i])))) return Date.now() - t0;
    await sleep(100);
  }
  const detail = queries.map((x, i) => `${q(...x)} -> ${last[i].join(',') || '(none)'} expected ${JSON.stringify(expected(...x))}`);
  throw new Error(`answers did not match the model within ${limitMs} ms:\n${detail.join('\n')}`);
}

const everyName: [string, RecordType, string?][] = g.names.flatMap((n) => n.types.map((t): [string, RecordType] => [n.name, t]));
const web = g.healthChecks.find((h) => h.name === 'web')!;
const tcp = g.healthChecks.find((h) => h.name === 'tcp')!;

/** pdns_server up (its SOA answers), then the warm-up plan: every record queried once, one check round waited. */
async function startServer(): Promise<void> {
  lab.startServer();
  const t0 = Date.now();
  // dig prints a refused connection on stdout too: up is an SOA answer.
  const soa = () => /hostmaster\.gslb\.example\.com\./.test(lab.sh(['ip', 'netns', 'exec', lab.ns, 'dig', '+short', '+tries=1', '+time=1', `@${host(server.ipv4!)}`, 'gslb.example.com', 'SOA']).stdout);
  while (!soa()) {
    if (Date.now() - t0 > 10_000) throw new Error(`pdns_server gave no SOA within 10 s; its log ends:\n${lab.serverLog().split('\n').slice(-10).join('\n')}`);
    await sleep(100);
  }
}
async function startWarm(): Promise<void> {
  await startServer();
  // The rendered warmup.queries, as the server's lab node runs it (dig -f), then the plan's wait.
  const r = lab.sh(['ip', 'netns', 'exec', lab.ns, 'dig', '-f', path.join(lab.dir, 'warmup.queries')]);
  expect(r.stdout.match(/->>HEADER<<-/g)?.length).toBe(warmupPlan(g).queries.length);
  await sleep(warmupPlan(g).waitMs);
}

describe.runIf(runnable)('GSLB answers from a real PowerDNS (intents/gslb1)', () => {
  beforeAll(async () => {
    lab.up([host(server.ipv4!), host(server.ipv6!), ...members]);
    lab.writeFiles(files);
    for (const a of members) lab.startMember(a, PORT);
    await lab.waitListening(members, PORT);
    await startWarm();
  }, 30_000);
  afterAll(() => lab.cleanup());

  // check-zone parses records and types, not the Lua inside (probes.md): real queries prove that.
  it('pdnsutil check-zone accepts the rendered zone, and rejects a broken copy (the oracle can fail)', () => {
    const ok = lab.checkZone('gslb.example.com');
    expect(ok.out).toMatch(/0 errors/);
    expect(ok.status).toBe(0);
    const zone = files.find((f) => f.name.endsWith('.zone'))!;
    lab.writeFiles([{ ...zone, content: zone.content.replace(' IN LUA A ', ' IN LUA BOGUS ') }]);
    const bad = lab.checkZone('gslb.example.com');
    lab.writeFiles([zone]);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/Unknown DNS type 'BOGUS'/);
  });

  it('with every member up, every name answers as the model predicts', async () => {
    const ms = await settle(everyName, 10_000);
    console.log(`all members up: answers match the model after ${ms} ms`);
    expect(lab.dig([q('shop.gslb.example.com', 'A'), q('shop.gslb.example.com', 'AAAA')])).toEqual([['10.10.99.10'], ['fd00:10:99::10']]);
  }, 20_000);

  it('the live check (verify --live) agrees with the server, reports health as metrics, and catches a zone that disagrees with the model', async () => {
    const exec: Exec = async (argv) => {
      const r = lab.sh(['ip', 'netns', 'exec', lab.ns, ...argv]);
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    };
    const o = await observeServer(g, server, exec);
    expect(o.error).toBeUndefined();
    expect(o.answers.map((a) => `${a.name} ${a.type}${a.subnet ? ` ${a.subnet}` : ''}`)).toContain('near.gslb.example.com A 10.2.0.0/16');
    const [ok] = compareGslb(model, [o]);
    expect(ok.findings).toEqual([]);
    expect(ok.passed).toBe(true);
    expect(ok.examined).toBe(`${o.answers.length} answers from 1 DNS server(s)`);
    expect(gslbMetrics([o])).toContain('netloom_gslb_member_up{server="ns1",check="web",address="10.10.99.10",port="8080"} 1');
    // A zone whose failover order is the reverse of the model's: the check names the name and both answers.
    const zone = files.find((f) => f.name.endsWith('.zone'))!;
    const swapped = zone.content.replace("{{'10.10.99.10'},{'198.51.100.10'}}) do", "{{'198.51.100.10'},{'10.10.99.10'}}) do");
    expect(swapped).not.toBe(zone.content);
    lab.writeFiles([{ ...zone, content: swapped }]);
    expect(lab.sh(['pdns_control', `--config-dir=${lab.dir}`, 'bind-reload-now', 'gslb.example.com']).status).toBe(0);
    const [bad] = compareGslb(model, [await observeServer(g, server, exec)]);
    lab.writeFiles([zone]);
    expect(lab.sh(['pdns_control', `--config-dir=${lab.dir}`, 'bind-reload-now', 'gslb.example.com']).status).toBe(0);
    expect(bad.passed).toBe(false);
    expect(bad.findings.map((f) => f.message)).toEqual(['DNS server ns1: shop.gslb.example.com A answered 198.51.100.10; the model predicts 10.10.99.10']);
    await settle(everyName, 5_000);
  }, 30_000);

  it('weighted: answers follow the member weights (3:1:2), 600 queries', () => {
    const p = expected('www.gslb.example.com', 'A');
    expect(p.kind).toBe('one-of');
    const answers = lab.dig(Array.from({ length: 600 }, () => q('www.gslb.example.com', 'A')));
    const count = new Map<string, number>();
    for (const a of answers) {
      expect(a).toHaveLength(1);
      count.set(a[0], (count.get(a[0]) ?? 0) + 1);
    }
    const weights = p.kind === 'one-of' ? p.weights : [];
    const total = weights.reduce((s, [, w]) => s + w, 0);
    console.log(`weighted www: ${weights.map(([a, w]) => `${a} ${count.get(a) ?? 0}/600 (weight ${w}/${total})`).join(', ')}`);
    expect(sorted([...count.keys()])).toEqual(sorted(weights.map(([a]) => a)));
    // 600 draws: each share within 0.07 of its weight (binomial sd <= 0.021).
    for (const [a, w] of weights) expect(Math.abs((count.get(a) ?? 0) / 600 - w / total)).toBeLessThan(0.07);
  });

  it('topology: answers by EDNS Client Subnet, fallback for unmatched clients', async () => {
    const cases: [string, RecordType, string?][] = [
      ['near.gslb.example.com', 'A', '10.1.7.0/24'],
      ['near.gslb.example.com', 'A', '10.2.7.0/24'],
      ['near.gslb.example.com', 'A', '2001:db8:2:5::/64'],
      ['near.gslb.example.com', 'A', '192.0.2.0/24'],
      ['near.gslb.example.com', 'A'],
    ];
    await settle(cases, 5_000);
    const answers = lab.dig(cases.map((c) => q(...c)));
    expect(answers).toEqual([['10.10.99.10'], ['198.51.100.10'], ['198.51.100.10'], ['10.10.99.10'], ['10.10.99.10']]);
  }, 10_000);

  it('a stopped member leaves the answers within interval + timeout, and comes back when restarted', async () => {
    const vip = g.pools.find((p) => p.name === 'shop-dc1')!.members[0];
    const bound = detectionMs(web);
    const watched: [string, RecordType, string?][] = [
      ['shop.gslb.example.com', 'A'], ['shop.gslb.example.com', 'AAAA'],
      ['near.gslb.example.com', 'A', '10.1.7.0/24'], ['near.gslb.example.com', 'A', '10.2.7.0/24'],
    ];
    for (const a of [vip.ipv4!, vip.ipv6!]) {
      lab.stopMember(a);
      down.add(a);
    }
    // The prediction moved: shop fails over to dc2, and dc1's clients of near too.
    expect(expected('shop.gslb.example.com', 'A')).toEqual({ kind: 'all', addresses: ['198.51.100.10'] });
    expect(expected('near.gslb.example.com', 'A', '10.1.7.0/24')).toEqual({ kind: 'all', addresses: ['198.51.100.10'] });
    const gone = await settle(watched, bound + 5_000);
    console.log(`shop VIP stopped: out of the answers after ${gone} ms (health check '${web.name}': interval ${web.intervalMs} ms + timeout ${web.timeoutMs} ms = ${bound} ms; PowerDNS defaults: 5 s interval + 2 s timeout)`);
    expect(gone).toBeLessThanOrEqual(bound + 1_000);
    // `netloom gslb query near... --from 10.1.7.0/24 --down shop-dc1` predicts what PowerDNS answers now.
    const predicted = queryGslb(g, { name: 'near.gslb.example.com', type: 'A', from: '10.1.7.0/24', down: ['shop-dc1'] });
    expect('answer' in predicted && predicted.answer).toEqual({ kind: 'all', addresses: lab.dig([q('near.gslb.example.com', 'A', '10.1.7.0/24')])[0] });

    const t0 = Date.now();
    for (const a of [vip.ipv4!, vip.ipv6!]) {
      lab.startMember(a, PORT);
      down.delete(a);
    }
    await lab.waitListening([vip.ipv4!, vip.ipv6!], PORT);
    console.log(`shop VIP members listening again after ${Date.now() - t0} ms`);
    const back = await settle(watched, bound + 5_000);
    console.log(`shop VIP restarted: back in the answers after ${back} ms`);
    expect(back).toBeLessThanOrEqual(bound + 1_000);
  }, 30_000);

  it('all-healthy and weighted drop a stopped member (tcp check); with every member down PowerDNS answers all of them', async () => {
    const h3 = '10.10.20.13';
    lab.stopMember(h3);
    down.add(h3);
    const gone = await settle([['all.gslb.example.com', 'A'], ['www.gslb.example.com', 'A']], detectionMs(tcp) + 5_000);
    console.log(`h3 stopped: out of all/www after ${gone} ms (tcp check ${detectionMs(tcp)} ms)`);
    expect(lab.dig(Array.from({ length: 60 }, () => q('www.gslb.example.com', 'A'))).flat()).not.toContain(h3);
    const h1 = '10.10.10.11';
    lab.stopMember(h1);
    down.add(h1);
    expect(expected('all.gslb.example.com', 'A')).toEqual({ kind: 'all', addresses: [h1, h3] });
    await settle([['all.gslb.example.com', 'A']], detectionMs(tcp) + 5_000);
    for (const a of [h1, h3]) {
      lab.startMember(a, PORT);
      down.delete(a);
    }
    await lab.waitListening([h1, h3], PORT);
    await settle(everyName, detectionMs(tcp) + 5_000);
  }, 40_000);

  it('a restarted server answers its first client query health-correctly after the warm-up plan (PowerDNS issue 12557)', async () => {
    const vip = g.pools.find((p) => p.name === 'shop-dc1')!.members[0];
    for (const a of [vip.ipv4!, vip.ipv6!]) {
      lab.stopMember(a);
      down.add(a);
    }
    const expect1 = expected('shop.gslb.example.com', 'A');
    expect(expect1).toEqual({ kind: 'all', addresses: ['198.51.100.10'] });
    // Without the warm-up: what a fresh server answers first (printed; 4.7 answers before any check ran).
    await lab.stopServer();
    await startServer();
    const cold = lab.dig([q('shop.gslb.example.com', 'A')])[0];
    console.log(`fresh server, first query without warm-up: ${cold.join(',')} (model: ${expect1.kind === 'all' ? expect1.addresses.join(',') : ''})`);
    // With it: the first client query after the plan is right, for every name.
    await lab.stopServer();
    const t0 = Date.now();
    await startWarm();
    console.log(`warm-up plan took ${Date.now() - t0} ms (${warmupPlan(g).queries.length} queries, ${warmupPlan(g).waitMs} ms wait)`);
    const first = lab.dig(everyName.map(([n, t]) => q(n, t)));
    first.forEach((a, i) => expect(matches(a, expected(...everyName[i])), `${q(...everyName[i])} -> ${a.join(',')}`).toBe(true));
    for (const a of [vip.ipv4!, vip.ipv6!]) {
      lab.startMember(a, PORT);
      down.delete(a);
    }
    await lab.waitListening([vip.ipv4!, vip.ipv6!], PORT);
    await settle(everyName, detectionMs(web) + 5_000);
  }, 40_000);
});
