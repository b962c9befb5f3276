// The service's poll over replayed FRR answers (synthesized from dc1's simulation): steady polls
// re-check no device, one spine link down becomes exactly one incident explaining every finding,
// and the recovery resolves it; snapshots after the first hold only the devices that changed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { linkDownAnswers, ReplayCollector, synthesize } from '../support/replay-fabric.ts';
import { model } from '../verify/helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-monitor-incr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monitor with the incremental poll', () => {
  it('steady polls re-check nothing; a spine link down is one incident, resolved on recovery', async () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg));
    const collector = new ReplayCollector();
    collector.table = healthy;
    const store = openSqliteStore(path.join(dir, 'netloom.db'));
    const monitor = new Monitor(m, fg, { collector, describe: 'replay' }, store, { probes: false, capture: false });
    const rechecked: string[] = [];
    monitor.onRecheck = (device) => rechecked.push(device);
    try {
      expect((await monitor.pollOnce()).failing).toBe(0);
      expect(rechecked.sort()).toEqual(m.devices.map((d) => d.name).sort());
      rechecked.length = 0;
      await monitor.pollOnce();
      expect(rechecked).toEqual([]);

      collector.table = linkDownAnswers(m);
      const down = await monitor.pollOnce();
      expect(down.failing).toBeGreaterThan(5);
      const open = monitor.openIncidents();
      expect(open.map((i) => i.element)).toEqual(['link:leaf1:eth1--spine1:eth1']);
      expect(open[0].findings.sort()).toEqual([...down.findings.keys()].sort());
      // The snapshot of the fault holds the devices whose answers changed, not the whole fabric again.
      const snap = store.latestSnapshot()!.state as { fabric: { since: number; devices: { device: string }[] } };
      expect(snap.fabric.since).toBeGreaterThan(0);
      expect(snap.fabric.devices.map((d) => d.device).sort()).toEqual([...new Set(rechecked)].sort());

      collector.table = healthy;
      const up = await monitor.pollOnce();
      expect(up.failing).toBe(0);
      expect(monitor.openIncidents()).toEqual([]);
      expect(store.incidents({ status: 'resolved' })).toHaveLength(1);
    } finally {
      await monitor.stop();
      store.close();
    }
  });

  it('moved tables over the budget: the incident opens at the first poll, gathers the owed tables\' findings, and closes once every table is read again', async () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const opts = { versions: true, summaries: true };
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), opts);
    const failed = linkDownAnswers(m, opts);
    const episode = async (name: string, changed: number) => {
      const collector = new ReplayCollector();
      collector.table = healthy;
      const store = openSqliteStore(path.join(dir, `${name}.db`));
      const monitor = new Monitor(m, fg, { collector, describe: 'replay' }, store, { probes: false, capture: false, tables: { changed } });
      try {
        expect((await monitor.pollOnce()).failing).toBe(0);
        collector.table = failed;
        const down: { owed: number; findings: string[]; incidents: { id: string; element: string; findings: string[] }[] }[] = [];
        do {
          const r = await monitor.pollOnce();
          // What is owed is exported (and in /status).
          expect(await monitor.metrics.registry.getSingleMetricAsString('netloom_default_tables_owed')).toMatch(new RegExp(`^netloom_default_tables_owed ${r.owed}$`, 'm'));
          down.push({ owed: r.owed, findings: [...r.findings.keys()].sort(), incidents: monitor.openIncidents().map((i) => ({ id: i.id, element: i.element, findings: [...i.findings].sort() })) });
        } while (down.at(-1)!.owed > 0 && down.length < 10);
        collector.table = healthy;
        const up: { owed: number; open: number }[] = [];
        do {
          const r = await monitor.pollOnce();
          up.push({ owed: r.owed, open: monitor.openIncidents().length });
        } while (up.at(-1)!.owed > 0 && up.length < 10);
        return { down, up, resolved: store.incidents({ status: 'resolved' }).length };
      } finally {
        await monitor.stop();
        store.close();
      }
    };
    const all = await episode('changed-all', Infinity);
    const one = await episode('changed-one', 1);
    expect(all.down).toHaveLength(1);
    // Some tables owed at first, one read a poll.
    expect(one.down[0].owed).toBeGreaterThanOrEqual(2);
    expect(one.down.map((p) => p.owed)).toEqual(one.down.map((_, i) => one.down[0].owed - i));
    // One incident from the first poll, the same one throughout, explaining every finding of each poll.
    for (const p of one.down) {
      expect(p.incidents.map((i) => [i.id, i.element])).toEqual([[one.down[0].incidents[0].id, 'link:leaf1:eth1--spine1:eth1']]);
      expect(p.incidents[0].findings).toEqual(p.findings);
    }
    expect(one.down[0].findings.length).toBeLessThan(all.down[0].findings.length);
    // Every table read: the findings of reading them all at once.
    expect(one.down.at(-1)!.findings).toEqual(all.down[0].findings);
    // Recovery: open while a table still owed shows the fault, closed once all are read again.
    expect(all.up).toEqual([{ owed: 0, open: 0 }]);
    expect(one.up.at(-1)).toEqual({ owed: 0, open: 0 });
    expect(one.up.slice(0, -1).every((p) => p.owed > 0 && p.open === 1)).toBe(true);
    expect(one.up.length).toBeGreaterThan(1);
    expect([one.resolved, all.resolved]).toEqual([1, 1]);
  });

  it("tables still showing an earlier fault opened a device's incident; the link goes down with those tables owed: their findings join the link's incident at once", async () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const opts = { versions: true, summaries: true };
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), opts);
    const failed = linkDownAnswers(m, opts);
    // Sessions up, but three leaves' default tables still without leaf1's routes over spine1 (a
    // flap a moment ago, the routes not yet back): explained by leaf1 alone.
    const TABLES = ['leaf2', 'leaf3', 'leaf4'].map((d) => `${d}\nshow ip route json`);
    const stale = new Map([...healthy].map(([k, v]) => [k, TABLES.includes(k) ? failed.get(k)! : v]));
    const collector = new ReplayCollector();
    collector.table = stale;
    const store = openSqliteStore(path.join(dir, 'stale.db'));
    const monitor = new Monitor(m, fg, { collector, describe: 'replay' }, store, { probes: false, capture: false, tables: { changed: 1 } });
    try {
      const first = await monitor.pollOnce();
      const staleKeys = [...first.findings.keys()].filter((k) => /\|leaf[234]\|/.test(k));
      expect(staleKeys.length).toBeGreaterThan(0);
      expect(monitor.openIncidents().map((i) => i.element)).toEqual(['device:leaf1']);
      // The link goes down: every table's version moves, the leaves' tables are owed (read one a
      // poll) and their findings, the same keys as before, are explained by the link.
      collector.table = failed;
      const owed: number[] = [];
      for (let r = await monitor.pollOnce(); ; r = await monitor.pollOnce()) {
        owed.push(r.owed);
        const open = monitor.openIncidents();
        expect(open.map((i) => i.element)).toEqual(['link:leaf1:eth1--spine1:eth1']);
        expect(open[0].findings).toEqual(expect.arrayContaining(staleKeys));
        if (!r.owed || owed.length > 10) break;
      }
      expect(owed[0]).toBeGreaterThan(0);
      expect(owed.at(-1)).toBe(0);
      expect(store.incidents({ status: 'resolved' }).map((i) => i.element)).toEqual(['device:leaf1']);
    } finally {
      await monitor.stop();
      store.close();
    }
  });

  it('admitting the fabric two devices a poll: each poll stores the devices it admitted, no finding before the fault, then one incident', async () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const healthy = synthesize(m, new LiveComparison(m, fg), new Set(), { versions: true, summaries: true });
    const collector = new ReplayCollector();
    collector.table = healthy;
    const store = openSqliteStore(path.join(dir, 'admit.db'));
    const monitor = new Monitor(m, fg, { collector, describe: 'replay' }, store, { probes: false, capture: false, tables: { admit: 2 } });
    const names = m.devices.map((d) => d.name).sort((a, b) => a.localeCompare(b));
    try {
      const stored: string[][] = [];
      for (let i = 0, pending = names.length; pending > 0; i++) {
        const r = await monitor.pollOnce();
        expect(r.failing).toBe(0);
        expect(r.pending).toBe(Math.max(0, names.length - 2 * (i + 1)));
        pending = r.pending;
        const snap = store.latestSnapshot()!.state as { fabric: { since?: number; devices: { device: string }[] } };
        expect(snap.fabric.since === undefined).toBe(i === 0);
        stored.push(snap.fabric.devices.map((d) => d.device).sort());
      }
      expect(stored).toEqual(names.reduce<string[][]>((g, n, i) => (i % 2 ? g[g.length - 1].push(n) : g.push([n]), g), []).map((x) => x.sort()));
      // Steady: nothing new, nothing stored.
      const last = store.latestSnapshot()!.id;
      await monitor.pollOnce();
      expect(store.latestSnapshot()!.id).toBe(last);

      collector.table = linkDownAnswers(m, { versions: true, summaries: true });
      const down = await monitor.pollOnce();
      expect(down.failing).toBeGreaterThan(5);
      const open = monitor.openIncidents();
      expect(open.map((i) => i.element)).toEqual(['link:leaf1:eth1--spine1:eth1']);
      expect(open[0].findings.sort()).toEqual([...down.findings.keys()].sort());
    } finally {
      await monitor.stop();
      store.close();
    }
  });
});
