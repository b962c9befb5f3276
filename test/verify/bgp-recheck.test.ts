// A BGP re-check looks only at the sessions naming a summary entry that changed (touchedPeers in
// src/verify/live/compare.ts: a spine holds hundreds); poll after poll the findings must be a full
// comparison's, whichever entries change, move or go.
import { describe, expect, it } from 'vitest';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { compareLive, LiveComparison } from '../../src/verify/live/compare.ts';
import { IncrementalLive } from '../../src/verify/live/incremental.ts';
import { collectObserved } from '../../src/verify/live/run.ts';
import { ReplayCollector, synthesize } from '../support/replay-fabric.ts';
import { model } from './helpers.ts';

describe("a spine's BGP re-check looks only at the sessions whose entries changed", () => {
  it('and finds what a full comparison finds: one peer down, another with no prefixes, entries reordered, one gone, all back', async () => {
    const m = model('dc1');
    const fg = buildFabricGraph(m);
    const collector = new ReplayCollector();
    const healthy = synthesize(m, new LiveComparison(m, fg));
    const target = { collector, describe: 'replay' };
    const BGP = 'show bgp vrf all summary json';
    const spine = m.devices.find((d) => d.role === 'spine')!.name;
    const key = `${spine}\n${BGP}`;
    type Summary = Record<string, Record<string, { peers: Record<string, Record<string, unknown>> }>>;
    const edit = (f: (s: Summary) => void) => {
      const s = JSON.parse(healthy.get(key)!) as Summary;
      f(s);
      const t = new Map(healthy);
      t.set(key, JSON.stringify(s));
      return t;
    };
    const peersOf = (s: Summary) => s.default.ipv4Unicast.peers;
    const steps: [string, Map<string, string>][] = [
      ['one peer down', edit((s) => (Object.values(peersOf(s))[1].state = 'Active'))],
      ['another count moved to 0', edit((s) => (Object.values(peersOf(s))[0].pfxRcd = 0))],
      ['entries reordered', edit((s) => (s.default.ipv4Unicast.peers = Object.fromEntries(Object.entries(peersOf(s)).reverse())))],
      ['one entry gone', edit((s) => delete peersOf(s)[Object.keys(peersOf(s))[0]])],
      ['one peer down again', edit((s) => (Object.values(peersOf(s))[1].state = 'Idle'))],
      ['healthy', healthy],
    ];
    const live = new IncrementalLive(m, fg);
    collector.table = healthy;
    await live.poll(target, { probes: false });
    const canon = (rs: { check: { id: string }; findings: unknown[] }[]) => rs.map((r) => [r.check.id, r.findings.map((f) => JSON.stringify(f)).sort()]);
    let sessionFindings = 0;
    for (const [name, table] of steps) {
      collector.table = table;
      const inc = await live.poll(target, { probes: false });
      const full = compareLive(m, await collectObserved(target, m, { probes: false }), fg);
      expect(canon(inc.results), name).toStrictEqual(canon(full));
      sessionFindings += inc.results.find((r) => r.check.id === 'live-bgp-sessions')!.findings.length;
    }
    expect(sessionFindings).toBeGreaterThanOrEqual(4);
  });
});
