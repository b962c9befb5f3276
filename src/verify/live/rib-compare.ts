/**
 * Predicted (simulated) and observed routing tables of one device, compared route by route,
 * keyed by (device, VRF, prefix): routes missing, unexpected (in a VRF: a prefix that belongs
 * to another VRF is a leak), with another protocol, or with other next hops. The default
 * table is compared on the fabric's loopback and VTEP /32s (what the underlay carries); VRF
 * tables on everything but link-local and multicast.
 */
import type { RibRoute } from '../sim/control-plane.ts';
import type { ObservedRoute } from './observed.ts';

export type RibDiffKind = 'missing' | 'unexpected' | 'leak' | 'protocol' | 'next-hops';

export interface RibDiff {
  kind: RibDiffKind;
  vrf: string;
  prefix: string;
  predicted?: RibRoute;
  observed?: ObservedRoute;
  /** leak: the VRF the prefix belongs to. */
  belongsTo?: string;
}

// Link-local and multicast: only prefixes starting with 'f' need the pattern.
export const ignored = (prefix: string) => (prefix.charCodeAt(0) | 32) === 102 && /^(fe80:|ff[0-9a-f]{2}:)/i.test(prefix);

/** Same selected protocol family: FRR shows locally redistributed host routes as kernel. */
function sameProtocol(p: RibRoute['protocol'], o: string): boolean {
  return p === o;
}

/** The next hops as text both sides can produce: address for routed next hops, interface otherwise. */
export function predictedHops(r: RibRoute): string[] {
  return r.nextHops.map((h) => h.address ?? `if:${h.interface}`).sort();
}

export function observedHops(r: ObservedRoute, like: RibRoute): string[] {
  // Unnumbered next hops are IPv6 link-locals: compare their interfaces.
  const byIf = like.nextHops.some((h) => !h.address);
  return (r.hops ?? []).map((h) => (byIf || !h.ip ? `if:${h.iface}` : h.ip)).sort();
}

/** predictedHops, once per predicted route (the expectations live as long as the model). */
const predictedMemo = new WeakMap<RibRoute, string[]>();
function predictedOnce(r: RibRoute): string[] {
  let h = predictedMemo.get(r);
  if (!h) predictedMemo.set(r, (h = predictedHops(r)));
  return h;
}

export interface TableScope {
  /** Prefixes compared in this table (others are ignored), e.g. loopbacks and VTEPs of the default table. */
  include?: (prefix: string) => boolean;
  /** For VRF tables: prefix -> VRFs whose own networks hold it (leak attribution). */
  ownerVrfs?: (prefix: string) => string[];
}

export function compareTable(vrf: string, predicted: RibRoute[], observed: ObservedRoute[], scope: TableScope = {}): RibDiff[] {
  const seen = new Map<string, ObservedRoute>();
  for (const o of observed) {
    if (ignored(o.prefix) || (scope.include && !scope.include(o.prefix))) continue;
    seen.set(o.prefix, o);
  }
  return compareSeen(vrf, predictedByPrefix(predicted), seen, scope);
}

/** The predicted routes by prefix (a prefix listed twice keeps its first place and last route), once per table. */
const wantMemo = new WeakMap<RibRoute[], Map<string, RibRoute>>();
export function predictedByPrefix(predicted: RibRoute[]): Map<string, RibRoute> {
  let want = wantMemo.get(predicted);
  if (!want) wantMemo.set(predicted, (want = new Map(predicted.map((r) => [r.prefix, r]))));
  return want;
}

/**
 * compareTable on the observed routes already picked (`seen`: compared prefixes, the last route
 * of each, in the order first read).
 */
export function compareSeen(vrf: string, want: Map<string, RibRoute>, seen: Map<string, ObservedRoute>, scope: TableScope = {}): RibDiff[] {
  const out: RibDiff[] = [];
  for (const [prefix, p] of want) {
    const o = seen.get(prefix);
    if (!o) out.push({ kind: 'missing', vrf, prefix, predicted: p });
    else if (!sameProtocol(p.protocol, o.protocol)) out.push({ kind: 'protocol', vrf, prefix, predicted: p, observed: o });
    else if ((p.protocol === 'bgp' || p.protocol === 'ospf') && !sameHops(p, o)) out.push({ kind: 'next-hops', vrf, prefix, predicted: p, observed: o });
  }
  for (const [prefix, o] of seen) {
    if (want.has(prefix)) continue;
    const owners = (scope.ownerVrfs?.(prefix) ?? []).filter((v) => v !== vrf);
    out.push(owners.length ? { kind: 'leak', vrf, prefix, observed: o, belongsTo: owners[0] } : { kind: 'unexpected', vrf, prefix, observed: o });
  }
  return out;
}

/**
 * predictedHops(p) and observedHops(o, p) equal as sorted lists, i.e. as multisets: matched one
 * by one (no lists built, no sorting; in the same order, each at its first try), sorted beyond
 * 31 next hops.
 */
export function sameHops(p: RibRoute, o: ObservedRoute): boolean {
  const ph = p.nextHops;
  const oh = o.hops ?? [];
  const n = ph.length;
  if (n !== oh.length) return false;
  if (n > 31) {
    const a = predictedOnce(p);
    const b = observedHops(o, p);
    return a.every((x, i) => x === b[i]);
  }
  let byIf = false;
  for (const h of ph) if (!h.address) byIf = true;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const h = ph[i];
    const a = h.address ?? `if:${h.interface}`;
    let k = 0;
    let j = i;
    for (; k < n; k++, j = j + 1 === n ? 0 : j + 1) {
      if (used & (1 << j)) continue;
      const g = oh[j];
      if ((byIf || !g.ip ? `if:${g.iface}` : g.ip) === a) break;
    }
    if (k === n) return false;
    used |= 1 << j;
  }
  return true;
}

export function describeDiff(device: string, d: RibDiff): string {
  const where = d.vrf === 'default' ? '' : ` VRF ${d.vrf}`;
  const pHops = d.predicted ? d.predicted.nextHops.map((h) => h.address ?? h.interface).join(', ') : '';
  const oHops = d.observed ? (d.observed.hops ?? []).map((h) => h.ip && !h.ip.startsWith('fe80') ? h.ip : h.iface).join(', ') : '';
  switch (d.kind) {
    case 'missing':
      return `${device}:${where} lacks ${d.prefix} (predicted ${d.predicted!.protocol}${pHops ? ` via ${pHops}` : ''} from ${d.predicted!.origin})`;
    case 'unexpected':
      return `${device}:${where} holds unexpected ${d.prefix} (${d.observed!.protocol}${oHops ? ` via ${oHops}` : ''})`;
    case 'leak':
      return `${device}:${where} holds ${d.prefix} of VRF ${d.belongsTo} (${d.observed!.protocol}): tenants leak`;
    case 'protocol':
      return `${device}:${where} ${d.prefix} is ${d.observed!.protocol}, predicted ${d.predicted!.protocol}`;
    case 'next-hops':
      return `${device}:${where} ${d.prefix} via ${oHops || 'nothing'}, predicted via ${pHops}`;
  }
}
