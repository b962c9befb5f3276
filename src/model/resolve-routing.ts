/**
 * Routing sessions from links and the fabric design:
 * - ebgp-unnumbered: one session per link over IPv6 link-local carrying IPv4 and EVPN;
 * - ebgp: per-link IPv4 sessions on the /31s, plus loopback-to-loopback EVPN sessions
 *   between each child and parent (multihop);
 * - ospf: an OSPF adjacency per link, and iBGP EVPN sessions from every leaf to every
 *   route reflector, with the reflectors meshed among themselves.
 */
import { isLeafRole, type ResolveContext } from './context.ts';
import { roleTier } from '../domains/fabric/roles.ts';
import type { BgpEnd, BgpSession, Device, Link, OspfAdjacency } from './types.ts';

/**
 * eBGP drops a route whose AS_PATH holds the receiver's ASN. Where a device shares its ASN
 * with another device whose routes it needs (two leaves of a pair, the leaves of a pod, a
 * pinned ASN used twice), every eBGP session of that device accepts its ASN once more
 * (allowas-in 1). Spines of one pod share an ASN by design and never need each other's
 * routes, so sharing within that layer does not count.
 */
function markAllowAsIn(sessions: BgpSession[], devices: Device[]): void {
  const layer = (d: Device) => {
    const tier = roleTier(d.role);
    return tier === 'spine' ? `spine/${d.pod}` : tier === 'super-spine' ? 'super-spine' : `leaf/${d.name}`;
  };
  const byAsn = new Map<number, Set<string>>();
  for (const d of devices) {
    const s = byAsn.get(d.asn) ?? new Set<string>();
    byAsn.set(d.asn, s);
    s.add(layer(d));
  }
  const shared = new Set(devices.filter((d) => byAsn.get(d.asn)!.size > 1).map((d) => d.name));
  for (const s of sessions) {
    if (s.type !== 'ebgp') continue;
    for (const e of [s.a, s.b]) if (shared.has(e.device)) e.allowAsIn = 1;
  }
}

/**
 * Two eBGP-fabric neighbours with one ASN would form an iBGP session, and neither passes on
 * what it learns over iBGP (no route reflection in an eBGP design): routes stop there (a
 * leaf pair's own link is the exception: each leaf learned its routes over eBGP). No
 * configuration makes that design work, so it is refused where the ASN was pinned.
 */
function sameAsnNeighbours(ctx: ResolveContext, links: Link[]): void {
  const seen = new Set<string>();
  for (const l of links) {
    const a = ctx.nodes.get(l.a.device);
    const b = ctx.nodes.get(l.b.device);
    if (!a || !b || a.device.asn !== b.device.asn || a.device.asn === 0) continue;
    // A link between the two leaves of a pair is iBGP by design: each learned its routes over eBGP.
    if (isLeafRole(a.device.role) && isLeafRole(b.device.role)) continue;
    const [x, y] = ctx.intent.nodes[b.name]?.asn !== undefined ? [b, a] : [a, b];
    const key = `${x.name}|${y.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pinned = ctx.intent.nodes[x.name]?.asn !== undefined;
    ctx.error(pinned ? ['nodes', x.name, 'asn'] : ['nodes', x.name], `node '${x.name}': ASN ${x.device.asn} is also the ASN of its neighbour '${y.name}'; an eBGP fabric needs a different ASN on each side of a link (the session would be iBGP and neither would pass routes on)`);
  }
}

export function resolveRouting(ctx: ResolveContext, links: Link[]): { bgp: BgpSession[]; ospf: OspfAdjacency[]; routeReflectors: string[] } {
  const { fabric } = ctx.intent;
  const bgp: BgpSession[] = [];
  const ospf: OspfAdjacency[] = [];
  const dev = (n: string) => ctx.nodes.get(n)!.device;
  const end = (n: string, extra: Partial<BgpEnd>): BgpEnd => {
    const d = dev(n);
    return { device: n, asn: d.asn, routerId: d.routerId, ...extra };
  };
  let routeReflectors: string[] = [];

  if (fabric.underlay === 'ebgp-unnumbered') {
    for (const l of links) {
      bgp.push({
        id: `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`,
        layer: 'underlay+overlay',
        type: dev(l.a.device).asn === dev(l.b.device).asn ? 'ibgp' : 'ebgp',
        a: end(l.a.device, { interface: l.a.interface }),
        b: end(l.b.device, { interface: l.b.interface }),
        afiSafis: ['ipv4-unicast', 'l2vpn-evpn'],
        multihop: false,
        source: l.source,
      });
    }
  } else if (fabric.underlay === 'ebgp') {
    const pairs = new Map<string, Link>();
    for (const l of links) {
      if (!l.a.ipv4 || !l.b.ipv4) continue;
      bgp.push({
        id: `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`,
        layer: 'underlay',
        type: dev(l.a.device).asn === dev(l.b.device).asn ? 'ibgp' : 'ebgp',
        a: end(l.a.device, { address: l.a.ipv4.split('/')[0] }),
        b: end(l.b.device, { address: l.b.ipv4.split('/')[0] }),
        afiSafis: ['ipv4-unicast'],
        multihop: false,
        source: l.source,
      });
      const key = `${l.a.device}--${l.b.device}`;
      if (!pairs.has(key)) pairs.set(key, l);
    }
    for (const [key, l] of pairs) {
      bgp.push({
        id: key,
        layer: 'overlay',
        type: 'ebgp',
        a: end(l.a.device, { address: dev(l.a.device).routerId }),
        b: end(l.b.device, { address: dev(l.b.device).routerId }),
        afiSafis: ['l2vpn-evpn'],
        multihop: true,
        source: l.source,
      });
    }
  } else {
    for (const l of links) {
      if (!l.a.ipv4 || !l.b.ipv4) continue;
      ospf.push({
        id: `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`,
        area: fabric.ospf_area,
        networkType: 'point-to-point',
        mtu: l.mtu,
        helloInterval: 10,
        deadInterval: 40,
        a: { device: l.a.device, interface: l.a.interface, address: l.a.ipv4, routerId: dev(l.a.device).routerId },
        b: { device: l.b.device, interface: l.b.interface, address: l.b.ipv4, routerId: dev(l.b.device).routerId },
        source: l.source,
      });
    }
    const explicit = fabric.overlay.route_reflectors;
    if (explicit) {
      explicit.forEach((r, i) => {
        if (!ctx.nodes.has(r)) ctx.error(['fabric', 'overlay', 'route_reflectors', i], `unknown route reflector '${r}'`);
      });
      routeReflectors = explicit.filter((r) => ctx.nodes.has(r));
    } else {
      routeReflectors = ctx.nodesOfTier('spine').map((n) => n.name);
    }
    routeReflectors.sort((a, b) => dev(a).id - dev(b).id);
    // Spines that failed to resolve have their own error; "no spines" would mislead.
    if (fabric.overlay.transport === 'ibgp' && routeReflectors.length === 0 && ctx.nodes.size > 0 && (explicit || !ctx.declaresTier('spine'))) {
      ctx.error(['fabric', 'overlay'], `the iBGP overlay needs at least one route reflector (no spines and no route_reflectors given)`, true);
    }
    const rrSet = new Set(routeReflectors);
    for (const n of ctx.nodes.values()) if (rrSet.has(n.name)) n.device.routeReflector = true;
    const clients = [...ctx.nodes.values()].filter((n) => isLeafRole(n.device.role) && !rrSet.has(n.name)).sort((a, b) => a.device.id - b.device.id);
    const ibgp = (a: string, b: string): BgpSession => ({
      id: `${a}--${b}`,
      layer: 'overlay',
      type: 'ibgp',
      a: end(a, { address: dev(a).routerId }),
      b: end(b, { address: dev(b).routerId }),
      afiSafis: ['l2vpn-evpn'],
      multihop: false,
      source: ctx.nodes.get(a)!.device.source,
    });
    for (const c of clients) {
      for (const rr of routeReflectors) {
        const s = ibgp(c.name, rr);
        s.a.routeReflectorClient = true;
        bgp.push(s);
      }
    }
    for (let i = 0; i < routeReflectors.length; i++) {
      for (let j = i + 1; j < routeReflectors.length; j++) bgp.push(ibgp(routeReflectors[i], routeReflectors[j]));
    }
  }

  if (fabric.underlay !== 'ospf') sameAsnNeighbours(ctx, links);
  markAllowAsIn(bgp, [...ctx.nodes.values()].map((n) => n.device));
  // In the model's order (by id) first, so each device's list comes out sorted as the model
  // wants it: sorting them after compared 120,000 long ids in a few big lists.
  bgp.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const s of bgp) {
    dev(s.a.device).bgpSessionIds.push(s.id);
    dev(s.b.device).bgpSessionIds.push(s.id);
  }
  if (ospf.length) {
    const perDevice = new Map<string, string[]>();
    for (const a of ospf) {
      for (const e of [a.a, a.b]) {
        let l = perDevice.get(e.device);
        if (!l) perDevice.set(e.device, (l = []));
        l.push(e.interface);
      }
    }
    for (const n of ctx.nodes.values()) {
      // The VTEP loopback must be reachable too when it is its own interface (eos Loopback1).
      const loopbacks = [n.def.interfaces.loopback];
      if (n.device.vtep && n.def.interfaces.vtep_loopback !== n.def.interfaces.loopback) loopbacks.push(n.def.interfaces.vtep_loopback);
      n.device.ospf = { area: fabric.ospf_area, routerId: n.device.routerId, interfaces: [...loopbacks, ...(perDevice.get(n.name) ?? [])] };
    }
  }
  return { bgp, ospf, routeReflectors };
}
