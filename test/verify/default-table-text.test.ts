// A default table read straight from its text (ObservedDefaultTable.fromText, what a poll keeps)
// must keep exactly what the table built from the parsed routes keeps: same differences (with
// their observed routes), shortfalls, bits, counts and routes per interface, on healthy and
// failed fabrics and on tables edited into every kind of difference; where it declines (a prefix
// twice), the poll parses as before.
import { describe, expect, it } from 'vitest';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { ObservedDefaultTable, type DefaultExpect } from '../../src/verify/live/default-table.ts';
import { parseRoutes } from '../../src/verify/live/observed.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { FabricAnswers, linkDown } from '../support/replay-fabric.ts';
import { model } from './helpers.ts';
import { observedHops, predictedHops, sameHops } from '../../src/verify/live/rib-compare.ts';
import type { RibRoute } from '../../src/verify/sim/control-plane.ts';
import type { ObservedRoute } from '../../src/verify/live/observed.ts';

type Table = Record<string, { prefix: string; protocol: string; selected?: boolean; nexthops: Record<string, unknown>[] }[]>;

/** `ex`: an expectation edited (else the device's own). */
function same(c: LiveComparison, device: string, text: string, ex?: DefaultExpect): ObservedDefaultTable {
  const hosts = c.basis.hostIndex;
  const fast = ex ? ObservedDefaultTable.fromText(text, ex, hosts) : c.defaultFromText(device, text);
  const routes = parseRoutes('default', JSON.parse(text));
  const slow = ex ? new ObservedDefaultTable(routes, ex, hosts) : c.compactDefault(device, routes)!;
  expect(fast, `${device}: declined`).toBeDefined();
  expect(fast!.diffs).toStrictEqual(slow.diffs);
  expect(fast!.underlay).toStrictEqual(slow.underlay);
  expect(fast!.signature()).toBe(slow.signature());
  expect(fast!.toJSON()).toStrictEqual(slow.toJSON());
  return fast!;
}

describe('a default table read from its text keeps what the parsed table keeps', () => {
  const m = model('dc1');
  const fg = buildFabricGraph(m);
  const c = new LiveComparison(m, fg);
  const healthy = new FabricAnswers(m, new LiveComparison(m, fg), new Set(), {});
  const failed = linkDown(m, {});

  it('on every device of a healthy fabric and of one with a spine link down', () => {
    let differences = 0;
    for (const answers of [healthy, failed]) {
      for (const d of m.devices) {
        const t = same(c, d.name, answers.answer(d.name, 'show ip route json')!);
        differences += t.diffs.length + t.underlay.length;
      }
    }
    // The link down shows: missing routes, other next hops, shortfalls.
    expect(differences).toBeGreaterThan(5);
  });

  it('on tables edited into each kind of difference, spaced as FRR prints them', () => {
    let n = 0;
    const kinds = new Set<string>();
    for (const d of m.devices) {
      const table = JSON.parse(healthy.answer(d.name, 'show ip route json')!) as Table;
      const prefixes = Object.keys(table);
      const edits: ((t: Table) => void)[] = [
        (t) => delete t[prefixes[0]],
        (t) => (t[prefixes[1]][0].protocol = 'static'),
        (t) => t[prefixes[prefixes.length - 1]][0].nexthops.pop(),
        (t) => t[prefixes[prefixes.length - 1]][0].nexthops.push({ active: true, fib: true, ip: '10.99.0.1', interfaceName: 'eth9' }),
        (t) => t[prefixes[2]][0].nexthops.reverse(),
        (t) => (t['10.255.255.77/32'] = [{ prefix: '10.255.255.77/32', protocol: 'kernel', selected: true, nexthops: [{ active: true, interfaceName: 'lo' }] }]),
        (t) => (t['192.0.2.0/24'] = [{ prefix: '192.0.2.0/24', protocol: 'connected', selected: true, nexthops: [{ fib: true, interfaceName: 'eth1' }] }]),
        // Another fabric host this device is not predicted to hold (a spine holding a leaf's VTEP, or the reverse).
        (t) => {
          const other = m.devices.find((x) => x.name !== d.name && x.vtep && !(`${x.vtep!.split('/')[0]}/32` in t));
          if (other) t[`${other.vtep!.split('/')[0]}/32`] = [{ prefix: other.vtep!, protocol: 'bgp', selected: true, nexthops: [{ active: true, ip: '10.1.1.1', interfaceName: 'eth1' }] }];
        },
        // A second, unselected entry first, and a connected route with two next hops.
        (t) => {
          t[prefixes[0]].unshift({ prefix: prefixes[0], protocol: 'ospf', nexthops: [] });
          t[prefixes[0]][1].nexthops.push({ fib: true, interfaceName: 'eth2' });
        },
      ];
      for (const edit of edits) {
        const t = structuredClone(table);
        edit(t);
        const kept = same(c, d.name, JSON.stringify(t, null, 2));
        for (const x of kept.diffs) kinds.add(x.kind);
        if (kept.underlay.length) kinds.add('underlay');
        n++;
      }
      // A host held but not predicted (and one predicted twice: declined, as the parsed table is built then).
      const ex = c.expectation(d.name)!;
      const text = healthy.answer(d.name, 'show ip route json')!;
      const less = { defaults: ex.defaults.filter((r) => r.prefix !== prefixes[3]), underlay: ex.underlay };
      for (const x of same(c, d.name, text, less).diffs) kinds.add(x.kind);
      expect(ObservedDefaultTable.fromText(text, { defaults: [...ex.defaults, ex.defaults[0]], underlay: ex.underlay }, c.basis.hostIndex)).toBeUndefined();
    }
    expect(n).toBe(m.devices.length * 9);
    expect([...kinds].sort()).toStrictEqual(['missing', 'next-hops', 'protocol', 'underlay', 'unexpected']);
  });

  it('declines a prefix listed twice and text it does not read; the poll then parses as before', () => {
    const d = m.devices.find((x) => x.vtep)!;
    const text = healthy.answer(d.name, 'show ip route json')!;
    const first = Object.keys(JSON.parse(text) as Table)[0];
    const twice = text.replace(/^\{/, `{${JSON.stringify(first)}:[],`);
    expect(c.defaultFromText(d.name, twice)).toBeUndefined();
    expect(c.defaultFromText(d.name, text.slice(0, -1))).toBeUndefined();
    expect(c.defaultFromText('no-such-device', text)).toBeUndefined();
    // The table from the parsed text (where JSON keeps the prefix's first place and last value).
    expect(c.compactDefault(d.name, parseRoutes('default', JSON.parse(twice)))!.signature()).toBe(same(c, d.name, text).signature());
  });
});

describe('next hops matched one by one', () => {
  it('agree with the sorted lists compared, for 0 to 40 next hops, repeated, reordered, by address or interface', () => {
    let a = 11;
    const r = () => ((a = (a * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const outcomes = { same: 0, other: 0 };
    for (let t = 0; t < 20000; t++) {
      const n = pick([0, 1, 2, 3, 4, 8, 12, 16, 31, 32, 40]);
      const pool = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fe80::1', ''];
      const ifs = ['eth1', 'eth2', 'eth3', undefined];
      const p = { prefix: 'x', protocol: 'bgp', nextHops: Array.from({ length: n }, () => (r() < 0.15 ? { interface: pick(ifs) } : { address: pick(pool.slice(0, 3)), interface: pick(ifs) })) } as unknown as RibRoute;
      // The observed hops: the predicted ones reordered (or not), some changed.
      const hops = p.nextHops.map((h) => ({ ...(h.address !== undefined ? { ip: h.address } : {}), ...(h.interface !== undefined ? { iface: h.interface } : {}) }) as { ip?: string; iface?: string });
      if (r() < 0.5) hops.sort(() => r() - 0.5);
      if (r() < 0.4 && n) hops[Math.floor(r() * n)] = { ip: pick(pool), iface: pick(ifs) };
      if (r() < 0.1) hops.push({ ip: pick(pool) });
      const o: ObservedRoute = { vrf: 'default', prefix: 'x', protocol: 'bgp', nexthops: hops.length, hops };
      const want = JSON.stringify(predictedHops(p)) === JSON.stringify(observedHops(o, p));
      expect(sameHops(p, o), JSON.stringify([p.nextHops, hops])).toBe(want);
      outcomes[want ? 'same' : 'other']++;
    }
    expect(outcomes.same).toBeGreaterThan(5000);
    expect(outcomes.other).toBeGreaterThan(2000);
  });
});
