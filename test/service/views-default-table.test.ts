// The service keeps each device's default table as compared when it was read (its differences,
// a bit per loopback and VTEP, its size), not as routes: the troubleshooting views (routes,
// interfaces), the metrics and the stored snapshot answer from it exactly what they answer from
// the table as read, with faults seeded into FRR answers synthesized from dc1's simulation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/service/monitor.ts';
import { ServiceMetrics } from '../../src/service/metrics.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { DeviceViews } from '../../src/service/views.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { IncrementalLive } from '../../src/verify/live/incremental.ts';
import { collectObserved, type LiveTarget } from '../../src/verify/live/run.ts';
import { editAnswer, ReplayCollector, synthesize } from '../support/replay-fabric.ts';
import { model } from '../verify/helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-views-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const m = model('dc1');
const fg = buildFabricGraph(m);
const healthy = synthesize(m, new LiveComparison(m, fg));
const lo = (name: string) => `${m.devices.find((d) => d.name === name)!.loopback!.split('/')[0]}/32`;
const TABLE = 'show ip route json';

/** leaf1 lacks leaf3's loopback and one next hop to leaf2's, holds an extra route; spine1 holds spine2's loopback (unexpected). */
function broken(): Map<string, string> {
  const t = editAnswer(healthy, 'leaf1', TABLE, (j) => {
    delete j[lo('leaf3')];
    j[lo('leaf2')][0].nexthops.pop();
    j['192.0.2.0/24'] = [{ prefix: '192.0.2.0/24', protocol: 'static', selected: true, nexthops: [{ ip: '10.9.9.9', interfaceName: 'eth1', active: true, fib: true }] }];
  });
  return editAnswer(t, 'spine1', TABLE, (j) => {
    j[lo('spine2')] = [{ prefix: lo('spine2'), protocol: 'bgp', selected: true, nexthops: [{ interfaceName: 'eth1', active: true, fib: true }] }];
  });
}

describe('views and metrics of a default table kept as its differences', () => {
  it('answer as from the table read: routes, interfaces, route counts', async () => {
    const collector = new ReplayCollector();
    const target: LiveTarget = { collector, describe: 'replay' };
    const views = new DeviceViews(m, fg);
    const live = new IncrementalLive(m, fg);
    let last: Awaited<ReturnType<IncrementalLive['poll']>>['observed']['devices'] = [];
    for (const [name, table] of [['healthy', healthy], ['broken', broken()]] as const) {
      collector.table = table;
      const kept = (await live.poll(target, { probes: false })).observed.devices;
      const read = (await collectObserved(target, m, { probes: false })).devices;
      expect(kept.some((o) => o.routes?.default), name).toBe(false);
      for (const d of m.devices) {
        const k = kept.find((o) => o.device === d.name);
        const r = read.find((o) => o.device === d.name);
        expect(views.routes(d.name, k), `${name} ${d.name}`).toEqual(views.routes(d.name, r));
        expect(views.routes(d.name, k, 'default'), `${name} ${d.name}`).toEqual(views.routes(d.name, r, 'default'));
        expect(views.interfaces(d.name, k), `${name} ${d.name}`).toEqual(views.interfaces(d.name, r));
      }
      const series = async (devices: typeof kept) => {
        const x = new ServiceMetrics();
        x.observe(devices, []);
        return (await x.routes.get()).values.map((v) => [v.labels, v.value]);
      };
      expect(await series(kept), name).toEqual(await series(read));
      last = kept;
    }
    // The faults show in the views: leaf3's loopback not observed, leaf2's with one next hop, spine2's unexpected at spine1.
    const leaf1 = views.routes('leaf1', last.find((o) => o.device === 'leaf1'), 'default');
    expect(leaf1.find((r) => r.prefix === lo('leaf3'))!.observed).toBeNull();
    expect(leaf1.find((r) => r.prefix === lo('leaf2'))!.observed).toEqual({ protocol: 'bgp', nextHops: 1 });
    const spine1 = views.routes('spine1', last.find((o) => o.device === 'spine1'), 'default');
    expect(spine1.filter((r) => !r.expected).map((r) => r.prefix)).toEqual([lo('spine2')]);
  });

  it('the stored snapshot holds the differences, not the routes', async () => {
    const collector = new ReplayCollector();
    collector.table = broken();
    const store = openSqliteStore(path.join(dir, 'netloom.db'));
    const monitor = new Monitor(m, fg, { collector, describe: 'replay' }, store, { probes: false, capture: false });
    try {
      await monitor.pollOnce();
      const snap = store.latestSnapshot()!.state as { fabric: { devices: { device: string; routes?: Record<string, unknown>; defaultTable?: { routes: number; differences: { kind: string; prefix: string }[] } }[] } };
      const leaf1 = snap.fabric.devices.find((d) => d.device === 'leaf1')!;
      expect(leaf1.routes?.default).toBeUndefined();
      expect(leaf1.defaultTable!.routes).toBe(Object.keys(JSON.parse(collector.table.get(`leaf1\n${TABLE}`)!)).length);
      expect(leaf1.defaultTable!.differences.map((x) => [x.kind, x.prefix])).toEqual([['next-hops', lo('leaf2')], ['missing', lo('leaf3')]]);
    } finally {
      await monitor.stop();
      store.close();
    }
  });
});
