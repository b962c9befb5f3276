// The service's incremental poll (answers hashed per command, only changed parts re-parsed and
// re-checked, the comparison kept across polls) gives exactly the findings of a full
// collection and comparison of the same answers, poll after poll, with faults seeded into
// FRR answers synthesized from the model: a missing route, a session down, a MAC moved, and
// loopbacks missing along a path (first divergence moves when an upstream device heals).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import type { CheckResult } from '../../src/verify/findings.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { compareLive, LiveBasis, LiveComparison } from '../../src/verify/live/compare.ts';
import { admitPolls, DEFAULT_TABLE_READS, defaultTableVersion, IncrementalLive, refreshRounds, ROUTE_SUMMARY, routeCounts, SLOW_REFRESH_ROUNDS, TABLE_REFRESH_ROUNDS } from '../../src/verify/live/incremental.ts';
import { collectObserved, type LiveTarget } from '../../src/verify/live/run.ts';
import { editAnswer, linkDownAnswers, ReplayCollector, synthesize } from '../support/replay-fabric.ts';
import { model as example } from './helpers.ts';

function generated(): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-incr-'));
  try {
    writeGeneratedIntent(dir, generateFabricIntent({ name: 'incr', pods: 1, spinesPerPod: 2, leavesPerPod: 4, tenants: 2, networksPerVrf: 2, endpointsPerLeaf: 1 }));
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Results as a comparable value: per check, pass, what was examined, findings in a fixed order. */
const canon = (rs: CheckResult[]) => rs.map((r) => ({ check: r.check.id, passed: r.passed, examined: r.examined, findings: r.findings.map((f) => JSON.stringify(f)).sort() }));

async function run(m: FabricModel, steps: { name: string; edit: (t: Map<string, string>) => Map<string, string>; devices: string[]; expect: RegExp[] }[]) {
  const fg = buildFabricGraph(m);
  const collector = new ReplayCollector();
  const healthy = synthesize(m, new LiveComparison(m, fg));
  collector.table = healthy;
  const target: LiveTarget = { collector, describe: 'replay' };
  const live = new IncrementalLive(m, fg);
  // The same poll with expectations derived on demand and a cache holding one device's at most:
  // every re-check derives its device's again, and the findings must not change.
  const tiny = new LiveBasis(m, fg, { cacheRoutes: 1 });
  const small = new IncrementalLive(m, fg, tiny);
  const first = await live.poll(target, { probes: false });
  expect(first.changed).toHaveLength(m.devices.length);
  expect(first.results.flatMap((r) => r.findings)).toEqual([]);
  expect(canon((await small.poll(target, { probes: false })).results)).toEqual(canon(first.results));
  for (const s of steps) {
    collector.table = s.edit(collector.table);
    const inc = await live.poll(target, { probes: false });
    const derived = tiny.derived;
    const bounded = await small.poll(target, { probes: false });
    const full = compareLive(m, await collectObserved(target, m, { probes: false }), fg);
    expect(canon(inc.results), s.name).toEqual(canon(full));
    expect(canon(bounded.results), `${s.name}, bounded cache`).toEqual(canon(full));
    expect(tiny.cached().devices, s.name).toBeLessThanOrEqual(1);
    // Each device re-checked derived its expectation again (but the one still held from the poll before).
    expect(tiny.derived - derived, s.name).toBeGreaterThanOrEqual(bounded.changed.length - 1);
    expect(inc.changed.sort(), s.name).toEqual([...s.devices].sort());
    const messages = inc.results.flatMap((r) => r.findings.map((f) => f.message));
    for (const re of s.expect) expect(messages, s.name).toContainEqual(expect.stringMatching(re));
    if (!s.expect.length) expect(messages, s.name).toEqual([]);
  }
}

const leafOf = (m: FabricModel, i: number) => m.devices.filter((d) => d.vtep)[i];

/** A replay collector recording which devices were asked for their default table. */
function tableReadsRecorded() {
  const collector = new ReplayCollector();
  const target: LiveTarget = { collector, describe: 'replay' };
  const asked: string[] = [];
  const run = collector.run.bind(collector);
  collector.run = async (device: string, command: string) => {
    if (command === 'show ip route json') asked.push(device);
    return run(device, command);
  };
  return { collector, target, asked };
}

/**
 * leaf1's table is `broken` under unmoved signals for `rounds` polls: the finding appears exactly
 * when leaf1's table is read again, and every table is read once over the rounds, spread evenly.
 */
async function refreshedOncePerRounds(
  s: ReturnType<typeof tableReadsRecorded> & { live: IncrementalLive }, broken: Map<string, string>, frr: string[], rounds: number,
): Promise<void> {
  const seen: string[][] = [];
  for (let i = 0; i < rounds; i++) {
    s.asked.length = 0;
    s.collector.table = broken;
    const r = await s.live.poll(s.target, { probes: false });
    seen.push([...s.asked]);
    expect(s.live.skippedTables).toBe(frr.length - s.asked.length);
    const missing = r.results.flatMap((x) => x.findings.map((f) => f.message)).some((msg) => msg.startsWith('leaf1:'));
    expect(missing).toBe(seen.flat().includes('leaf1'));
  }
  expect(seen.flat().sort()).toEqual(frr);
  expect(Math.max(...seen.map((x) => x.length))).toBeLessThanOrEqual(Math.ceil(frr.length / rounds) + 1);
}

describe('incremental poll equals a full comparison', () => {
  it('dc1: missing route, session down, MAC moved, recovery', async () => {
    const m = example('dc1');
    const healthy = synthesize(m, new LiveComparison(m));
    const leaf1 = m.devices.find((d) => d.name === 'leaf1')!;
    const vrf = leaf1.vrfs[0].name;
    const routeCmd = `show ip route vrf ${vrf} json`;
    let dropped = '';
    await run(m, [
      { name: 'unchanged', edit: (t) => t, devices: [], expect: [] },
      {
        name: 'missing route',
        edit: (t) => editAnswer(t, 'leaf1', routeCmd, (j) => {
          dropped = Object.keys(j).find((p) => j[p][0].protocol === 'bgp')!;
          delete j[dropped];
        }),
        devices: ['leaf1'],
        expect: [/leaf1: VRF .* lacks /],
      },
      {
        name: 'session down',
        edit: (t) => editAnswer(t, 'spine2', 'show bgp vrf all summary json', (j) => {
          for (const afi of Object.values(j.default) as { peers: Record<string, { state: string }> }[]) for (const p of Object.values(afi.peers)) p.state = 'Active';
        }),
        devices: ['spine2'],
        expect: [/leaf1: VRF .* lacks /, /^session .*spine2.* not established: spine2: ipv4-unicast is Active/],
      },
      {
        name: 'MAC moved',
        edit: (t) => editAnswer(t, 'leaf2', 'show evpn mac vni all json', (j) => {
          const vtep = leaf1.vtep!.split('/')[0];
          const other = m.devices.find((d) => d.vtep && d.name !== 'leaf1' && d.name !== 'leaf2')!.vtep!.split('/')[0];
          for (const body of Object.values(j) as { macs: Record<string, { type: string; remoteVtep?: string }> }[]) for (const x of Object.values(body.macs)) if (x.remoteVtep === vtep) x.remoteVtep = other;
        }),
        devices: ['leaf2'],
        expect: [/leaf2: MAC .* is behind VTEP .*, expected behind VTEP /],
      },
      { name: 'recovered', edit: () => healthy, devices: ['leaf1', 'leaf2', 'spine2'], expect: [] },
    ]);
    expect(dropped).not.toBe('');
  });

  it('dc1: the default table kept as its differences: a route missing, a next hop changed, an extra route, first divergence at the spines', async () => {
    const m = example('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg));
    const lo = (name: string) => `${m.devices.find((d) => d.name === name)!.loopback!.split('/')[0]}/32`;
    const esc = (x: string) => x.replace(/\./g, '\\.');
    const spines = m.devices.filter((d) => d.role === 'spine').map((d) => d.name);
    const table = 'show ip route json';
    const drop = (device: string, prefix: string) => (t: Map<string, string>) => editAnswer(t, device, table, (j) => delete j[prefix]);
    const restore = (device: string) => (t: Map<string, string>) => new Map(t).set(`${device}\n${table}`, healthy.get(`${device}\n${table}`)!);
    // leaf1's route to leaf2's loopback: its first next hop out of another interface.
    const hopMoved = (t: Map<string, string>) => editAnswer(t, 'leaf1', table, (j) => {
      j[lo('leaf2')][0].nexthops[0].interfaceName = 'eth9';
    });
    await run(m, [
      { name: 'a route missing', edit: drop('leaf1', lo('leaf3')), devices: ['leaf1'], expect: [new RegExp(`^leaf1: lacks ${esc(lo('leaf3'))} \\(predicted bgp via .* from leaf3\\); first divergence on the path at leaf1$`)] },
      { name: 'a next hop changed', edit: hopMoved, devices: ['leaf1'], expect: [new RegExp(`^leaf1: lacks ${esc(lo('leaf3'))}`), new RegExp(`^leaf1: ${esc(lo('leaf2'))} via .*eth9.*, predicted via `)] },
      { name: 'leaf1 restored', edit: restore('leaf1'), devices: ['leaf1'], expect: [] },
      // spine1 does not learn spine2's loopback (both in the spines' AS): holding it is a finding.
      {
        name: 'an extra route',
        edit: (t) => editAnswer(t, 'spine1', table, (j) => {
          j[lo('spine2')] = [{ prefix: lo('spine2'), protocol: 'bgp', selected: true, nexthops: [{ interfaceName: 'eth1', active: true, fib: true }] }];
        }),
        devices: ['spine1'],
        expect: [new RegExp(`^spine1: holds unexpected ${esc(lo('spine2'))} \\(bgp via eth1\\)$`)],
      },
      // Outside the loopbacks and VTEPs: the table changed, nothing to find (spine1 back as it was).
      {
        name: 'an extra route outside the fabric hosts',
        edit: (t) => editAnswer(restore('spine1')(t), 'leaf2', table, (j) => {
          j['192.0.2.0/24'] = [{ prefix: '192.0.2.0/24', protocol: 'static', selected: true, nexthops: [{ ip: '10.9.9.9', interfaceName: 'eth1', active: true, fib: true }] }];
        }),
        devices: ['leaf2', 'spine1'],
        expect: [],
      },
      // leaf3's loopback gone from every spine and from leaf1: leaf1's search names a spine on its path.
      { name: 'spines lack it', edit: (t) => [...spines, 'leaf1'].reduce((x, d) => drop(d, lo('leaf3'))(x), t), devices: [...spines, 'leaf1'], expect: [new RegExp(`^leaf1: lacks ${esc(lo('leaf3'))} .*; first divergence on the path at spine\\d$`)] },
      // The spines heal, leaf1 is not polled anew: re-checked all the same (its search read their tables).
      { name: 'spines heal', edit: (t) => spines.reduce((x, d) => restore(d)(x), t), devices: spines, expect: [new RegExp(`^leaf1: lacks ${esc(lo('leaf3'))} .*; first divergence on the path at leaf1$`)] },
      { name: 'healed', edit: () => healthy, devices: ['leaf1', 'leaf2'], expect: [] },
    ]);
  });

  it('keeps no default table as routes: what it holds answers as the routes would', async () => {
    const m = example('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg));
    const leaf1 = m.devices.find((d) => d.name === 'leaf1')!;
    const loOf = (name: string) => `${m.devices.find((d) => d.name === name)!.loopback!.split('/')[0]}/32`;
    // leaf1: leaf3's loopback gone, an extra route, one next hop fewer to leaf2.
    const broken = editAnswer(healthy, 'leaf1', 'show ip route json', (j) => {
      delete j[loOf('leaf3')];
      j['192.0.2.0/24'] = [{ prefix: '192.0.2.0/24', protocol: 'static', selected: true, nexthops: [{ ip: '10.9.9.9', interfaceName: 'eth1', active: true, fib: true }] }];
      j[loOf('leaf2')][0].nexthops.pop();
    });
    const collector = new ReplayCollector();
    collector.table = broken;
    const target: LiveTarget = { collector, describe: 'replay' };
    const live = new IncrementalLive(m, fg);
    const kept = (await live.poll(target, { probes: false })).observed.devices;
    const read = (await collectObserved(target, m, { probes: false })).devices;
    for (const o of kept.filter((x) => m.devices.find((d) => d.name === x.device)?.platform === 'frr')) {
      expect(o.routes?.default, o.device).toBeUndefined();
      const t = o.defaultTable!;
      const routes = read.find((x) => x.device === o.device)!.routes!.default;
      expect(t.size, o.device).toBe(routes.length);
      const byPrefix = new Map(routes.map((r) => [r.prefix, r]));
      for (const host of live.comparison.basis.fabricHosts) expect(t.has(host), `${o.device} ${host}`).toBe(byPrefix.has(host));
      for (const p of live.comparison.expectation(o.device)!.defaults) {
        const r = byPrefix.get(p.prefix);
        expect(t.observed(p), `${o.device} ${p.prefix}`).toEqual(r ? { protocol: r.protocol, nexthops: r.nexthops } : undefined);
      }
      for (const i of m.devices.find((d) => d.name === o.device)!.interfaces) {
        expect(t.routesVia(i.name), `${o.device} ${i.name}`).toBe(routes.filter((r) => (r.hops ?? []).some((h) => h.iface === i.name)).length);
      }
    }
    const t = kept.find((o) => o.device === 'leaf1')!.defaultTable!;
    expect(t.diffs.map((d) => [d.kind, d.prefix])).toEqual([['next-hops', loOf('leaf2')], ['missing', loOf('leaf3')]]);
    expect(t.has('192.0.2.0/24')).toBe(false);
    expect(JSON.stringify(t).length).toBeLessThan(2000);
    expect(leaf1.vtep).toBeDefined();
  });

  it('generated fabric: loopbacks missing along a path, the first divergence follows the upstream device', async () => {
    const m = generated();
    const [a, b] = [leafOf(m, 0), leafOf(m, 3)];
    const spine = m.devices.find((d) => d.role === 'spine')!;
    const lo = `${b.loopback!.split('/')[0]}/32`;
    const drop = (device: string) => (t: Map<string, string>) => editAnswer(t, device, 'show ip route json', (j) => delete j[lo]);
    const healthy = synthesize(m, new LiveComparison(m));
    const restore = (device: string) => (t: Map<string, string>) => new Map(t).set(`${device}\nshow ip route json`, healthy.get(`${device}\nshow ip route json`)!);
    await run(m, [
      // Every spine lacks b's loopback: a's finding names the spine on its path as the first divergence.
      { name: 'spines lack the loopback', edit: (t) => m.devices.filter((d) => d.role === 'spine').reduce((x, d) => drop(d.name)(x), t), devices: m.devices.filter((d) => d.role === 'spine').map((d) => d.name), expect: [/lacks .*first divergence on the path at .*spine/] },
      { name: 'leaf lacks it too', edit: drop(a.name), devices: [a.name], expect: [new RegExp(`^${a.name}: lacks ${lo.replace(/\./g, '\\.')} .*; first divergence on the path at ${spine.name.replace(/\d+$/, '')}`)] },
      // Only the spines heal: a (unchanged) is re-checked because its search read their tables,
      // and now diverges at itself.
      { name: 'spines heal', edit: (t) => m.devices.filter((d) => d.role === 'spine').reduce((x, d) => restore(d.name)(x), t), devices: m.devices.filter((d) => d.role === 'spine').map((d) => d.name), expect: [new RegExp(`^${a.name}: lacks ${lo.replace(/\./g, '\\.')} .*; first divergence on the path at ${a.name}$`)] },
      { name: 'leaf heals', edit: restore(a.name), devices: [a.name], expect: [] },
    ]);
    expect(spine).toBeDefined();
  });

  it("reads a default table only when bgpd's table version moved, its last answer failed, or its refresh is due", async () => {
    const m = example('dc1');
    const fg = buildFabricGraph(m);
    // FRR's summary as printed: the default VRF's IPv4 unicast instance first, with its table version.
    const withVersion = (answer: string, version: number) => {
      const j = JSON.parse(answer) as { default: Record<string, { peers: unknown }> };
      const { ipv4Unicast, ...rest } = j.default;
      return JSON.stringify({ default: { ipv4Unicast: { routerId: '10.0.0.1', as: 65101, vrfId: 0, vrfName: 'default', tableVersion: version, ribCount: 19, peers: ipv4Unicast?.peers ?? {} }, ...rest } }, null, 2);
    };
    expect(defaultTableVersion(withVersion('{"default":{}}', 20))).toBe('20');
    expect(defaultTableVersion('{"default":{"ipv6Unicast":{"tableVersion":3}}}')).toBeUndefined();
    const healthy = synthesize(m, new LiveComparison(m, fg));
    const versioned = (t: Map<string, string>, v: number) => {
      const out = new Map(t);
      for (const d of m.devices) {
        const k = `${d.name}\nshow bgp vrf all summary json`;
        out.set(k, withVersion(t.get(k)!, v));
      }
      return out;
    };
    const { collector, target, asked } = tableReadsRecorded();
    collector.table = versioned(healthy, 1);
    const live = new IncrementalLive(m, fg);
    expect((await live.poll(target, { probes: false })).results.flatMap((r) => r.findings)).toEqual([]);
    const frr = m.devices.filter((d) => d.platform === 'frr').map((d) => d.name).sort();
    expect(asked.sort()).toEqual(frr);
    // leaf1 loses a loopback route but the version holds (as it never does on FRR): not asked for,
    // except by the device whose refresh is due; then the version moves: read, and the finding.
    const lo = Object.keys(JSON.parse(healthy.get('leaf1\nshow ip route json')!)).find((p) => p.startsWith('10.0.0.') && p !== '10.0.0.1/32')!;
    const broken = editAnswer(versioned(healthy, 1), 'leaf1', 'show ip route json', (j) => delete j[lo]);
    // Over TABLE_REFRESH_ROUNDS polls every table is refreshed once, spread over the polls.
    await refreshedOncePerRounds({ live, collector, target, asked }, broken, frr, TABLE_REFRESH_ROUNDS);
    // The version moves on leaf2: its table is read at once.
    asked.length = 0;
    collector.table = new Map(broken).set('leaf2\nshow bgp vrf all summary json', withVersion(healthy.get('leaf2\nshow bgp vrf all summary json')!, 2));
    await live.poll(target, { probes: false });
    expect(asked).toContain('leaf2');
  });

  it("with zebra's route counts: reads a default table when the version or the counts moved, and each one every SLOW_REFRESH_ROUNDS polls", async () => {
    // As FRR 8.4 printed it in the dc1 lab (leaf1): counts per type, then the totals.
    const recorded = readFileSync(path.join(import.meta.dirname, 'fixtures/dc1-lab/leaf1.ip-route-summary.json'), 'utf8');
    expect(routeCounts(recorded)).toBe(JSON.stringify([[['connected', 3, 3], ['ebgp', 8, 8], ['ibgp', 0, 0]], 11, 11]));
    expect(routeCounts('{"default":{}}')).toBeUndefined();
    expect(routeCounts('% Unknown command')).toBeUndefined();
    const m = example('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), { versions: true, summaries: true });
    const { collector, target, asked } = tableReadsRecorded();
    collector.table = healthy;
    const live = new IncrementalLive(m, fg);
    expect((await live.poll(target, { probes: false })).results.flatMap((r) => r.findings)).toEqual([]);
    const frr = m.devices.filter((d) => d.platform === 'frr').map((d) => d.name).sort();
    expect(asked.sort()).toEqual(frr);
    // leaf1's table changes under an unmoved version and unmoved counts (as a next hop of a
    // connected route would): read exactly at its slow refresh, and the finding then.
    const lo = Object.keys(JSON.parse(healthy.get('leaf1\nshow ip route json')!)).find((p) => p.startsWith('10.0.0.') && p !== '10.0.0.1/32')!;
    const broken = editAnswer(healthy, 'leaf1', 'show ip route json', (j) => delete j[lo]);
    await refreshedOncePerRounds({ live, collector, target, asked }, broken, frr, SLOW_REFRESH_ROUNDS);
    // leaf2's counts move (a kernel route more), its version does not: its table is read at once.
    asked.length = 0;
    collector.table = editAnswer(broken, 'leaf2', ROUTE_SUMMARY, (j) => {
      j.routes.push({ fib: 1, rib: 1, fibOffLoaded: 0, fibTrapped: 0, type: 'kernel' });
      j.routesTotal++;
      j.routesTotalFib++;
    });
    await live.poll(target, { probes: false });
    expect(asked).toEqual(['leaf2']);
    // The counts stay moved: not read again.
    asked.length = 0;
    await live.poll(target, { probes: false });
    expect(asked).toEqual([]);
  });

  it('a refresh budget smaller than the fabric over SLOW_REFRESH_ROUNDS lengthens the refresh: every table once per refreshRounds polls', async () => {
    const m = example('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), { versions: true, summaries: true });
    const { collector, target, asked } = tableReadsRecorded();
    collector.table = healthy;
    const frr = m.devices.filter((d) => d.platform === 'frr').map((d) => d.name).sort();
    // One table every 20 polls on average: 20 * devices polls between two reads of a table.
    const live = new IncrementalLive(m, fg, undefined, { refresh: 1 / 20 });
    expect(live.refreshRounds()).toBe(20 * m.devices.length);
    expect(live.refreshRounds()).toBeGreaterThan(SLOW_REFRESH_ROUNDS);
    expect(refreshRounds(m.devices.length, DEFAULT_TABLE_READS)).toBe(SLOW_REFRESH_ROUNDS);
    await live.poll(target, { probes: false });
    const lo = Object.keys(JSON.parse(healthy.get('leaf1\nshow ip route json')!)).find((p) => p.startsWith('10.0.0.') && p !== '10.0.0.1/32')!;
    const broken = editAnswer(healthy, 'leaf1', 'show ip route json', (j) => delete j[lo]);
    await refreshedOncePerRounds({ live, collector, target, asked }, broken, frr, live.refreshRounds());
  });

  it('reads at most `changed` routes of moved tables a poll, the owed ones first: the session at once, then the findings of a full comparison', async () => {
    const m = generated();
    const fg = buildFabricGraph(m);
    const opts = { versions: true, summaries: true };
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), opts);
    const failed = linkDownAnswers(m, opts);
    const table = (t: Map<string, string>, d: string) => t.get(`${d}\nshow ip route json`);
    // The tables a spine link down moves (each with its version): the leaves', a spine's.
    const moved = m.devices.map((d) => d.name).filter((d) => table(healthy, d) !== table(failed, d));
    expect(moved.length).toBeGreaterThanOrEqual(5);
    // Each table counts at its routes as last read; the budget is two leaves' tables.
    const size = new Map(m.devices.map((d) => [d.name, Object.keys(JSON.parse(table(healthy, d.name)!)).length]));
    const budget = 2 * size.get(leafOf(m, 0).name)!;
    const { collector, target, asked } = tableReadsRecorded();
    collector.table = healthy;
    const live = new IncrementalLive(m, fg, undefined, { changed: budget });
    const first = await live.poll(target, { probes: false });
    // The first read is the admission's, not this budget's: every table at once.
    expect(asked.sort()).toEqual(m.devices.map((d) => d.name).sort());
    expect(first.owed).toBe(0);
    const messagesOf = (r: { results: CheckResult[] }) => r.results.flatMap((x) => x.findings.map((f) => f.message));
    collector.table = failed;
    const read: string[][] = [];
    const owed: number[] = [];
    for (let i = 0; i < 20; i++) {
      asked.length = 0;
      const r = await live.poll(target, { probes: false });
      read.push([...asked]);
      owed.push(r.owed);
      // The session down is read with the summaries, whatever tables are owed.
      expect(messagesOf(r)).toContainEqual(expect.stringMatching(/^session \S+ not established: .* is Active/));
      if (i === 0) {
        // A table read again moves another device's version: it waits behind the owed ones.
        const again = asked[0];
        collector.table = editAnswer(failed, again, 'show bgp vrf all summary json', (j) => (j.default.ipv4Unicast.tableVersion += 1));
        read[0].push(`again:${again}`);
      }
      if (!r.owed) break;
    }
    const again = read[0].find((x) => x.startsWith('again:'))!.slice(6);
    const reads = read.map((x) => x.filter((d) => !d.startsWith('again:')));
    // Within the budget, or the one oldest owed table whatever its size.
    const routes = (x: string[]) => x.reduce((n, d) => n + size.get(d)!, 0);
    for (const x of reads) expect(routes(x) <= budget || x.length === 1, x.join()).toBe(true);
    expect(reads[0].length).toBeGreaterThanOrEqual(1);
    expect(owed[0]).toBe(moved.length - reads[0].length);
    expect(owed.at(-1)).toBe(0);
    expect(reads.flat().sort()).toEqual([...moved, again].sort());
    // Read again only in the last poll: after every table owed before it moved.
    expect(reads.findIndex((x, i) => i > 0 && x.includes(again))).toBe(reads.length - 1);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    const full = compareLive(m, await collectObserved(target, m, { probes: false }), fg);
    expect(canon((await live.poll(target, { probes: false })).results)).toEqual(canon(full));
    // Without the budget (as before) every moved table is read in the one poll.
    const all = new IncrementalLive(m, fg, undefined, { changed: Infinity });
    collector.table = healthy;
    await all.poll(target, { probes: false });
    collector.table = failed;
    asked.length = 0;
    const once = await all.poll(target, { probes: false });
    expect(asked.sort()).toEqual([...moved].sort());
    expect(once.owed).toBe(0);
    expect(canon(once.results)).toEqual(canon(compareLive(m, await collectObserved(target, m, { probes: false }), fg)));
  });

  it('admits the fabric a few devices a poll: none judged before it is admitted, then the findings of a full comparison', async () => {
    const m = generated();
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), { versions: true, summaries: true });
    const names = m.devices.map((d) => d.name).sort((a, b) => a.localeCompare(b));
    // The last device admitted that has a VRF misses a route in it.
    const leaf = m.devices.filter((d) => d.vrfs.length).sort((a, b) => names.indexOf(b.name) - names.indexOf(a.name))[0];
    const cmd = `show ip route vrf ${leaf.vrfs[0].name} json`;
    const table = editAnswer(healthy, leaf.name, cmd, (j) => delete j[Object.keys(j).find((p) => j[p][0].protocol === 'bgp')!]);
    const { collector, target, asked } = tableReadsRecorded();
    collector.table = table;
    const asking: string[] = [];
    const run = collector.run.bind(collector);
    collector.run = async (device: string, command: string) => (asking.push(device), run(device, command));
    const live = new IncrementalLive(m, fg, undefined, { admit: 2 });
    const polls = admitPolls(m.devices.length, live.reads);
    expect(polls).toBe(Math.ceil(m.devices.length / 2));
    for (let i = 0; i < polls; i++) {
      asked.length = 0;
      asking.length = 0;
      const r = await live.poll(target, { probes: false });
      const admitted = names.slice(0, Math.min(names.length, 2 * (i + 1)));
      expect(r.pending).toBe(names.length - admitted.length);
      // Only admitted devices are asked; the newly admitted ones read their default table.
      expect([...new Set(asking)].sort()).toEqual([...admitted].sort());
      expect(asked.sort()).toEqual(admitted.slice(2 * i).sort());
      expect(r.changed.sort()).toEqual(admitted.slice(2 * i).sort());
      const messages = r.results.flatMap((x) => x.findings.map((f) => f.message));
      if (admitted.includes(leaf.name)) expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^${leaf.name}: `)));
      else expect(messages).toEqual([]);
    }
    const full = compareLive(m, await collectObserved(target, m, { probes: false }), fg);
    expect(canon((await live.poll(target, { probes: false })).results)).toEqual(canon(full));
  });
});
