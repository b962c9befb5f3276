/**
 * Expected vs observed, side by side, per device: what the troubleshooting API answers. The
 * expectations come from the live comparison's simulated control plane (built once from the
 * model); the observations from the last poll.
 */
import type { FabricModel } from '../model/types.ts';
import { expectedPorts, type DeviceInterfaces } from '../domains/fabric/interfaces-live.ts';
import { linkUp, type CounterName, type LinkCounters } from '../domains/fabric/interfaces-state.ts';
import { LiveComparison } from '../verify/live/compare.ts';
import { basisOf } from '../domains/fabric/index.ts';
import type { FabricGraph } from '../verify/graph.ts';
import type { DeviceObservation, ObservedRoute } from '../verify/live/observed.ts';
import type { Finding } from '../verify/findings.ts';
import { formatLocation } from '../util/errors.ts';

export interface BgpRow {
  session: string;
  peer: string;
  /** Interface (unnumbered) or the peer's address, as FRR names the neighbour. */
  neighbor: string;
  afiSafis: string[];
  location: string;
  observed: { afi: string; state: string; prefixesReceived: number | null }[];
}

export interface RouteRow {
  vrf: string;
  prefix: string;
  expected: { protocol: string; nextHops: unknown[]; origin: string } | null;
  observed: { protocol: string; nextHops: number } | null;
  agrees: boolean;
}

export interface InterfaceRow {
  name: string;
  kind: string;
  location: string;
  expected: { ipv4: string | null; ipv6: string | null; mtu: number; peer: string | null; vlans: number[]; endpoints: string[]; sessions: number };
  /** What the last poll shows about the interface: the sessions over it, OSPF, the routes and MACs using it. */
  observed: { sessions: { peer: string; afi: string; state: string }[]; ospf: string | null; routesVia: number; macs: number } | null;
  /** The interface in the device's kernel at the last poll (null: not read). */
  kernel: KernelInterface | null;
  /** null: the interface's kind leaves nothing to observe (loopback, management). */
  agrees: boolean | null;
}

export class DeviceViews {
  private readonly cmp: LiveComparison;
  private readonly model: FabricModel;
  constructor(model: FabricModel, fg: FabricGraph) {
    this.model = model;
    // The expectations the service's polls compare against (one simulation per model and graph).
    this.cmp = new LiveComparison(model, fg, basisOf(model, fg));
  }

  bgp(device: string, obs: DeviceObservation | undefined): { expected: BgpRow[]; unexpected: { peer: string; vrf: string; afi: string; state: string }[] } {
    const rows: BgpRow[] = [];
    const matched = new Set<string>();
    for (const s of this.model.bgpSessions) {
      const me = s.a.device === device ? s.a : s.b.device === device ? s.b : undefined;
      if (!me) continue;
      const other = me === s.a ? s.b : s.a;
      const neighbor = me.interface ?? other.address ?? other.device;
      const peers = (obs?.bgp ?? []).filter((p) => p.vrf === 'default' && (p.peer === neighbor || p.hostname === other.device && !me.interface && p.peer === other.address));
      for (const p of peers) matched.add(`${p.peer}/${p.afi}`);
      rows.push({ session: s.id, peer: other.device, neighbor, afiSafis: s.afiSafis, location: formatLocation(s.source), observed: peers.map((p) => ({ afi: p.afi ?? 'unknown', state: p.state, prefixesReceived: p.pfxRcd ?? null })) });
    }
    const unexpected = (obs?.bgp ?? []).filter((p) => p.vrf === 'default' && !matched.has(`${p.peer}/${p.afi}`)).map((p) => ({ peer: p.peer, vrf: p.vrf, afi: p.afi ?? 'unknown', state: p.state }));
    return { expected: rows, unexpected };
  }

  evpn(device: string, obs: DeviceObservation | undefined) {
    const ex = this.cmp.expectation(device);
    const byVni = new Map((obs?.vnis ?? []).map((v) => [v.vni, v]));
    const vnis = (ex?.vnis ?? []).map((e) => {
      const o = byVni.get(e.vni);
      const agrees = !!o && o.type === e.type && (e.type === 'L3' || JSON.stringify([...e.remote].sort()) === JSON.stringify(o.remoteVteps));
      return { vni: e.vni, expected: { type: e.type, remoteVteps: e.remote }, observed: o ? { type: o.type, state: o.state ?? null, remoteVteps: o.remoteVteps } : null, agrees, location: formatLocation(e.source) };
    });
    const macsSeen = new Map((obs?.macs ?? []).map((m) => [`${m.vni}/${m.mac}`, m]));
    const macs = (ex?.macs ?? []).map((e) => {
      const o = macsSeen.get(`${e.vni}/${e.mac}`);
      const expected = e.local ? { type: 'local', where: e.local } : { type: 'remote', where: e.remoteVtep ?? '' };
      const observed = o ? { type: o.type, where: (o.type === 'local' ? o.intf : o.remoteVtep) ?? '' } : null;
      return { vni: e.vni, mac: e.mac, endpoint: e.endpoint, expected, observed, agrees: !!observed && observed.type === expected.type && observed.where === expected.where };
    });
    return { vnis, macs };
  }

  /**
   * The model's interfaces beside the control-plane evidence of the last poll: a fabric port
   * agrees when every session the model runs over it is Established (or its OSPF neighbour is
   * Full, or routes use it), an access port with endpoints when their MACs are learned on it.
   * Beside it the kernel's reading of the interface (live-fabric-interfaces): where it was read, an
   * interface on a link agrees only when it is also up there with the model's MTU.
   */
  interfaces(device: string, obs: DeviceObservation | undefined, kernelSeen?: DeviceInterfaces): InterfaceRow[] {
    const d = this.model.devices.find((x) => x.name === device);
    if (!d) return [];
    const onLink = new Set((expectedPorts(this.model).get(device) ?? []).map((p) => p.interface));
    const bgp = this.bgp(device, obs).expected;
    const routes = Object.values(obs?.routes ?? {}).flat();
    return d.interfaces.map((i) => {
      const peerAddr = i.peer?.ipv4?.split('/')[0];
      const sessions = bgp.filter((r) => r.neighbor === i.name || (!!peerAddr && r.neighbor === peerAddr));
      const endpoints = i.endpoints ?? [];
      const expected = { ipv4: i.ipv4 ?? null, ipv6: i.ipv6 ?? null, mtu: i.mtu, peer: i.peer ? `${i.peer.device}:${i.peer.interface}` : null, vlans: [...(i.accessVlan !== undefined ? [i.accessVlan] : []), ...(i.taggedVlans ?? [])], endpoints, sessions: sessions.length };
      // Nothing collected (no poll yet, or every command failed): nothing to show but the miss.
      if (!obs || (!obs.bgp && !obs.routes && !obs.defaultTable && !obs.macs && !obs.ospf)) return { name: i.name, kind: i.kind, location: formatLocation(i.source), expected, observed: null, agrees: i.kind === 'fabric' || endpoints.length ? false : null };
      const seen = sessions.flatMap((r) => r.observed.map((o) => ({ peer: r.peer, afi: o.afi, state: o.state })));
      const ospf = (obs.ospf ?? []).find((n) => n.iface === i.name || n.iface.startsWith(`${i.name}:`))?.state ?? null;
      const routesVia = routes.filter((r) => (r.hops ?? []).some((h) => h.iface === i.name)).length + (obs.defaultTable?.routesVia(i.name) ?? 0);
      const macs = (obs.macs ?? []).filter((m) => m.type === 'local' && m.intf === i.name).length;
      const agrees = i.kind === 'fabric'
        ? sessions.length ? seen.length > 0 && seen.every((x) => x.state === 'Established') && sessions.every((r) => r.observed.length > 0) : ospf ? ospf.startsWith('Full') : routesVia > 0
        : endpoints.length ? macs > 0 : null;
      return { name: i.name, kind: i.kind, location: formatLocation(i.source), expected, observed: { sessions: seen, ospf, routesVia, macs }, agrees };
    }).map((row) => {
      const kernel = kernelInterface(kernelSeen, row.name);
      // An interface on a link must also be up in the kernel, with the model's MTU.
      const agrees = kernel && onLink.has(row.name) ? row.agrees !== false && kernel.up && kernel.mtu === row.expected.mtu : row.agrees;
      return { ...row, kernel, agrees };
    });
  }

  routes(device: string, obs: DeviceObservation | undefined, vrf?: string): RouteRow[] {
    const ex = this.cmp.expectation(device);
    if (!ex) return [];
    const tables: { vrf: string; predicted: typeof ex.defaults; include: (p: string) => boolean }[] = [
      { vrf: 'default', predicted: ex.defaults, include: (p) => this.cmp.isFabricHost(p) },
      ...ex.vrfs.map((v) => ({ vrf: v.vrf, predicted: v.predicted, include: () => true })),
    ];
    const rows: RouteRow[] = [];
    for (const t of tables) {
      if (vrf && t.vrf !== vrf) continue;
      // A default table kept as compared when read answers from its differences; a table of routes from them.
      const kept = t.vrf === 'default' ? obs?.defaultTable : undefined;
      const seen = kept ? undefined : new Map<string, ObservedRoute>((obs?.routes?.[t.vrf] ?? []).filter((r) => t.include(r.prefix)).map((r) => [r.prefix, r]));
      for (const p of t.predicted) {
        const o = kept ? kept.observed(p) : seen!.get(p.prefix);
        seen?.delete(p.prefix);
        rows.push({ vrf: t.vrf, prefix: p.prefix, expected: { protocol: p.protocol, nextHops: p.nextHops, origin: p.origin }, observed: o ? { protocol: o.protocol, nextHops: o.nexthops } : null, agrees: !!o && o.nexthops >= Math.min(1, p.nextHops.length) });
      }
      const unexpected = kept ? kept.diffs.flatMap((d) => (!d.predicted && d.observed ? [d.observed] : [])) : seen!.values();
      for (const o of unexpected) rows.push({ vrf: t.vrf, prefix: o.prefix, expected: null, observed: { protocol: o.protocol, nextHops: o.nexthops }, agrees: false });
    }
    return rows;
  }
}

export interface KernelInterface {
  /** Whether the kernel has an interface of that name; the rest is null when it has not. */
  exists: boolean;
  /** Admin up, carrier and no down operational state. */
  up: boolean;
  admin: 'up' | 'down' | null;
  carrier: boolean | null;
  oper: string | null;
  mtu: number | null;
  mac: string | null;
  /** The bridge it is enslaved to (access ports). */
  master: string | null;
  counters: LinkCounters | null;
  /** Growth of the error and drop counters since the poll before (null: one reading only). */
  growth: Partial<Record<CounterName, number>> | null;
}

/** One interface of a device's kernel reading, as the view shows it; null when the device's interfaces were not read. */
function kernelInterface(seen: DeviceInterfaces | undefined, name: string): KernelInterface | null {
  if (!seen?.links) return null;
  const l = seen.links.find((x) => x.name === name);
  if (!l) return { exists: false, up: false, admin: null, carrier: null, oper: null, mtu: null, mac: null, master: null, counters: null, growth: null };
  return { exists: true, up: linkUp(l), admin: l.admin ? 'up' : 'down', carrier: l.carrier, oper: l.oper, mtu: l.mtu, mac: l.mac, master: l.master, counters: seen.counters?.[name] ?? null, growth: seen.growth ? (seen.growth[name] ?? {}) : null };
}

/** A finding as the API returns it. */
export function findingJson(key: string, f: Finding) {
  return { key, check: f.check, severity: f.severity, message: f.message, evidence: f.evidence, location: f.location ? formatLocation(f.location) : null, devices: f.elements?.devices ?? [], links: f.elements?.links ?? [] };
}
