/**
 * An observed default table kept as what is read of it, not as its routes. The default table
 * holds every loopback and VTEP of the fabric (about 10,000 routes per leaf at 5,000 devices,
 * 50 million over the fabric), so it is compared with the device's expectation when it is read
 * and only this is kept between polls:
 *  - its differences from the expected loopback and VTEP routes (compareTable's, with the
 *    observed routes they name), and the VTEP routes short of their ECMP;
 *  - which of the fabric's loopbacks and VTEPs it holds, one bit each (another device's
 *    first-divergence search asks "does it hold this loopback?");
 *  - for the views: the next-hop counts that differ from the expectation without being a
 *    finding (a connected route's), and how many routes leave by each interface;
 *  - its size (the metrics' route count).
 * What is kept grows with the differences; the bits with the fabric's hosts (1.2 KB per device
 * at 5,000 devices).
 */
import type { RibRoute } from '../sim/control-plane.ts';
import type { ObservedRoute } from './observed.ts';
import { compareSeen, ignored, predictedByPrefix, sameHops, type RibDiff } from './rib-compare.ts';
import { eachRoute } from './route-scan.ts';

/** A VTEP route with fewer next hops than the equal-cost paths to it (observed null: no route). */
export interface UnderlayShortfall {
  prefix: string;
  device: string;
  expected: number;
  observed: number | null;
}

/** What a device's expected default table is compared on: its loopback and VTEP routes and its VTEP routes' ECMP. */
export interface DefaultExpect {
  defaults: RibRoute[];
  underlay: { prefix: string; device: string; nexthops: number }[];
}

/** What a table keeps (see ObservedDefaultTable's fields). */
interface Kept {
  size: number;
  diffs: RibDiff[];
  underlay: UnderlayShortfall[];
  present: Uint8Array;
  hosts: ReadonlyMap<string, number>;
  counts: Map<string, number>;
  via: Map<string, number>;
}

export class ObservedDefaultTable {
  /** Routes in the table as read. */
  readonly size: number;
  /** Differences from the expected loopback and VTEP routes, in compareTable's order. */
  readonly diffs: RibDiff[];
  readonly underlay: UnderlayShortfall[];
  /** Bit i: the table holds the fabric host numbered i in `hosts`. */
  private readonly present: Uint8Array;
  private readonly hosts: ReadonlyMap<string, number>;
  /** Expected routes held without a difference but with another number of next hops (e.g. connected). */
  private readonly counts: Map<string, number>;
  /** Interface -> routes with a next hop out of it. */
  private readonly via: Map<string, number>;

  /** What is kept, worked out (fromText), or the routes read and the expectation they are compared with. */
  constructor(kept: Kept);
  constructor(routes: ObservedRoute[], ex: DefaultExpect, hosts: ReadonlyMap<string, number>);
  constructor(routes: ObservedRoute[] | Kept, ex?: DefaultExpect, hosts?: ReadonlyMap<string, number>) {
    if (!Array.isArray(routes)) {
      ({ size: this.size, diffs: this.diffs, underlay: this.underlay, present: this.present, hosts: this.hosts, counts: this.counts, via: this.via } = routes);
      return;
    }
    const k = ObservedDefaultTable.compare(routes, ex!, hosts!);
    ({ size: this.size, diffs: this.diffs, underlay: this.underlay, present: this.present, hosts: this.hosts, counts: this.counts, via: this.via } = k);
  }

  /** The routes read, compared with the expectation: what is kept of them. */
  private static compare(routes: ObservedRoute[], ex: DefaultExpect, hosts: ReadonlyMap<string, number>): Kept {
    const size = routes.length;
    const present = new Uint8Array((hosts.size + 7) >> 3);
    // The last entry of a prefix counts, as in a Map built from the table; these are the routes compared.
    const byPrefix = new Map<string, ObservedRoute>();
    const via = new Map<string, number>();
    for (const r of routes) {
      const i = hosts.get(r.prefix);
      if (i !== undefined) {
        present[i >> 3] |= 1 << (i & 7);
        if (!ignored(r.prefix)) byPrefix.set(r.prefix, r);
      }
      for (const h of r.hops ?? []) if (h.iface !== undefined) via.set(h.iface, (via.get(h.iface) ?? 0) + 1);
    }
    const diffs = compareSeen('default', predictedByPrefix(ex.defaults), byPrefix);
    const underlay: UnderlayShortfall[] = [];
    for (const u of ex.underlay) {
      const r = hosts.has(u.prefix) ? byPrefix.get(u.prefix) : routes.findLast((x) => x.prefix === u.prefix);
      if (!r || r.nexthops < u.nexthops) underlay.push({ prefix: u.prefix, device: u.device, expected: u.nexthops, observed: r ? r.nexthops : null });
    }
    const differing = new Set(diffs.map((d) => d.prefix));
    const counts = new Map<string, number>();
    for (const p of ex.defaults) {
      const r = byPrefix.get(p.prefix);
      if (r && !differing.has(p.prefix) && r.nexthops !== p.nextHops.length) counts.set(p.prefix, r.nexthops);
    }
    return { size, diffs, underlay, present, hosts, counts, via };
  }

  /**
   * The table read straight from `show ip route json`'s text, route by route, without keeping
   * its routes (what the constructor gives for parseRoutes of the parsed text, field for
   * field); undefined where that reading does not apply (text the scan does not read the same
   * way, a prefix listed twice, an expectation with a prefix twice or a VTEP route outside the
   * fabric's hosts): the caller then parses and constructs.
   */
  static fromText(text: string, ex: DefaultExpect, hosts: ReadonlyMap<string, number>): ObservedDefaultTable | undefined {
    const want = predictedByPrefix(ex.defaults);
    if (want.size !== ex.defaults.length || ex.underlay.some((u) => !hosts.has(u.prefix))) return undefined;
    const present = new Uint8Array((hosts.size + 7) >> 3);
    // Next hops read per host (valid where its bit is set).
    const nexthops = new Int32Array(hosts.size);
    const others = new Set<string>();
    const via = new Map<string, number>();
    // Host routes that differ from their prediction, and those not predicted (in the order read).
    const differ = new Map<string, RibDiff>();
    const unexpected: ObservedRoute[] = [];
    let size = 0;
    const read = eachRoute('default', text, (r) => {
      const i = hosts.get(r.prefix);
      if (i === undefined) {
        if (others.has(r.prefix)) return false;
        others.add(r.prefix);
      } else {
        if (present[i >> 3] & (1 << (i & 7)) || ignored(r.prefix)) return false;
        present[i >> 3] |= 1 << (i & 7);
        nexthops[i] = r.nexthops;
        const p = want.get(r.prefix);
        if (!p) unexpected.push(r);
        else if (p.protocol !== r.protocol) differ.set(r.prefix, { kind: 'protocol', vrf: 'default', prefix: r.prefix, predicted: p, observed: r });
        else if ((p.protocol === 'bgp' || p.protocol === 'ospf') && !sameHops(p, r)) differ.set(r.prefix, { kind: 'next-hops', vrf: 'default', prefix: r.prefix, predicted: p, observed: r });
      }
      size++;
      for (const h of r.hops ?? []) if (h.iface !== undefined) via.set(h.iface, (via.get(h.iface) ?? 0) + 1);
      return true;
    });
    if (!read) return undefined;
    const held = (i: number | undefined) => i !== undefined && (present[i >> 3] & (1 << (i & 7))) !== 0;
    // In compareSeen's order: the predicted routes, then the unexpected ones as read.
    const diffs: RibDiff[] = [];
    const counts = new Map<string, number>();
    for (const [prefix, p] of want) {
      const i = hosts.get(prefix);
      if (!held(i)) {
        diffs.push({ kind: 'missing', vrf: 'default', prefix, predicted: p });
        continue;
      }
      const d = differ.get(prefix);
      if (d) diffs.push(d);
      else if (nexthops[i!] !== p.nextHops.length) counts.set(prefix, nexthops[i!]);
    }
    for (const o of unexpected) diffs.push({ kind: 'unexpected', vrf: 'default', prefix: o.prefix, observed: o });
    const underlay: UnderlayShortfall[] = [];
    for (const u of ex.underlay) {
      const i = hosts.get(u.prefix)!;
      const n = held(i) ? nexthops[i] : null;
      if (n === null || n < u.nexthops) underlay.push({ prefix: u.prefix, device: u.device, expected: u.nexthops, observed: n });
    }
    return new ObservedDefaultTable({ size, diffs, underlay, present, hosts, counts, via });
  }

  /**
   * Whether the table holds a route to one of the fabric's loopbacks or VTEPs (what the
   * first-divergence search asks); any other prefix is not kept and answers false.
   */
  has(prefix: string): boolean {
    const i = this.hosts.get(prefix);
    return i !== undefined && (this.present[i >> 3] & (1 << (i & 7))) !== 0;
  }

  /** The observed route for an expected loopback or VTEP route (protocol and next-hop count), or undefined when absent. */
  observed(p: RibRoute): { protocol: string; nexthops: number } | undefined {
    if (!this.has(p.prefix)) return undefined;
    this.differing ??= new Map(this.diffs.flatMap((x) => (x.observed ? [[x.prefix, x] as const] : [])));
    const d = this.differing.get(p.prefix);
    if (d) return { protocol: d.observed!.protocol, nexthops: d.observed!.nexthops };
    return { protocol: p.protocol, nexthops: this.counts.get(p.prefix) ?? p.nextHops.length };
  }

  /** Differences with an observed route by prefix, built when a view first asks. */
  private differing?: Map<string, RibDiff>;

  /** Routes with a next hop out of `iface`. */
  routesVia(iface: string): number {
    return this.via.get(iface) ?? 0;
  }

  /**
   * Everything kept, as text: two reads with the same signature give the same findings and
   * views (what the poll compares instead of the parsed routes, which it no longer holds).
   */
  signature(): string {
    return JSON.stringify([this.size, this.diffs, this.underlay, Buffer.from(this.present).toString('base64'), [...this.counts], [...this.via]]);
  }

  /** As stored in a snapshot: the differences, not the routes. */
  toJSON(): unknown {
    return { routes: this.size, differences: this.diffs.map((d) => ({ kind: d.kind, prefix: d.prefix, observed: d.observed ?? null })), underlay: this.underlay };
  }
}
