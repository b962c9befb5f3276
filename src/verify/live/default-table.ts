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
import { compareTable, type RibDiff } from './rib-compare.ts';

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

  constructor(routes: ObservedRoute[], ex: DefaultExpect, hosts: ReadonlyMap<string, number>) {
    this.size = routes.length;
    this.hosts = hosts;
    this.present = new Uint8Array((hosts.size + 7) >> 3);
    this.diffs = compareTable('default', ex.defaults, routes, { include: (p) => hosts.has(p) });
    // The last entry of a prefix counts, as in a Map built from the table.
    const byPrefix = new Map<string, ObservedRoute>();
    this.via = new Map();
    for (const r of routes) {
      const i = hosts.get(r.prefix);
      if (i !== undefined) {
        this.present[i >> 3] |= 1 << (i & 7);
        byPrefix.set(r.prefix, r);
      }
      for (const h of r.hops ?? []) if (h.iface !== undefined) this.via.set(h.iface, (this.via.get(h.iface) ?? 0) + 1);
    }
    this.underlay = [];
    for (const u of ex.underlay) {
      const r = hosts.has(u.prefix) ? byPrefix.get(u.prefix) : routes.findLast((x) => x.prefix === u.prefix);
      if (!r || r.nexthops < u.nexthops) this.underlay.push({ prefix: u.prefix, device: u.device, expected: u.nexthops, observed: r ? r.nexthops : null });
    }
    const differing = new Set(this.diffs.map((d) => d.prefix));
    this.counts = new Map();
    for (const p of ex.defaults) {
      const r = byPrefix.get(p.prefix);
      if (r && !differing.has(p.prefix) && r.nexthops !== p.nextHops.length) this.counts.set(p.prefix, r.nexthops);
    }
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
