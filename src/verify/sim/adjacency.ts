/**
 * Who advertises what to whom, as the rendered configs make the routers do it: one
 * adjacency per routing table the simulation propagates (the IPv4 underlay over BGP or OSPF,
 * L2VPN EVPN over its sessions), flat typed arrays over device numbers so a propagation run
 * over 60,000 sessions touches only numbers.
 */
import type { AfiSafi, BgpEnd, BgpSession, FabricModel } from '../../model/types.ts';
import { keepsEvpnNextHop } from '../../model/evpn-relay.ts';

export type Protocol = 'bgp' | 'ospf';

export interface Adjacency {
  protocol: Protocol;
  /** 'ipv4-unicast' | 'l2vpn-evpn' for BGP; 'ospf' for the OSPF underlay. */
  table: AfiSafi | 'ospf';
  n: number;
  /** Row of device i: entries offsets[i]..offsets[i+1]; each entry is "i hears from nbr". */
  offsets: Int32Array;
  nbr: Int32Array;
  /** Index into model.bgpSessions (or model.ospfAdjacencies). */
  session: Int32Array;
  ebgp: Uint8Array;
  /** The neighbour is this device's route-reflector client. */
  client: Uint8Array;
  /** The neighbour sends with itself as next hop (eBGP without attribute-unchanged). */
  nhSelf: Uint8Array;
  /** allowas-in of this device on the session. */
  allowAs: Uint8Array;
  /** Local interface (unnumbered) or the neighbour's address: how the route's next hop reads. */
  via: string[];
  /** The same session seen from the neighbour's row. */
  rev: Int32Array;
  asn: Float64Array;
  routeReflector: Uint8Array;
}

/** Sessions that are expected up: per-link sessions always, loopback sessions when both loopbacks are reachable (decided by the caller). */
export function bgpAdjacency(model: FabricModel, table: AfiSafi, deviceIndex: Map<string, number>, up: (s: BgpSession, i: number) => boolean): Adjacency {
  const n = model.devices.length;
  const sessions = model.bgpSessions;
  // Two passes over typed arrays (count per row, then place): a row lists its sessions in
  // model order, as the sessions' ends are met.
  const endA = new Int32Array(sessions.length).fill(-1);
  const endB = new Int32Array(sessions.length);
  const offsets = new Int32Array(n + 1);
  let m = 0;
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i];
    if (!s.afiSafis.includes(table) || !up(s, i)) continue;
    const a = deviceIndex.get(s.a.device);
    const b = deviceIndex.get(s.b.device);
    if (a === undefined || b === undefined || a === b) continue;
    endA[i] = a;
    endB[i] = b;
    offsets[a + 1]++;
    offsets[b + 1]++;
    m += 2;
  }
  for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
  const adj = alloc('bgp', table, model, m);
  adj.offsets.set(offsets);
  const fill = offsets.subarray(0, n).slice();
  const keeps = table === 'l2vpn-evpn' ? Uint8Array.from(model.devices, (d) => (keepsEvpnNextHop(d) ? 1 : 0)) : undefined;
  const place = (s: BgpSession, i: number, me: number, other: number, mine: BgpEnd, theirs: BgpEnd): number => {
    const k = fill[me]++;
    adj.nbr[k] = other;
    adj.session[k] = i;
    adj.ebgp[k] = s.type === 'ebgp' ? 1 : 0;
    adj.client[k] = theirs.routeReflectorClient ? 1 : 0;
    adj.nhSelf[k] = s.type === 'ebgp' && !keeps?.[other] ? 1 : 0;
    adj.allowAs[k] = mine.allowAsIn ?? 0;
    adj.via[k] = mine.interface ?? theirs.address ?? model.devices[other].name;
    return k;
  };
  for (let i = 0; i < sessions.length; i++) {
    const a = endA[i];
    if (a < 0) continue;
    const s = sessions[i];
    const b = endB[i];
    const ka = place(s, i, a, b, s.a, s.b);
    const kb = place(s, i, b, a, s.b, s.a);
    adj.rev[ka] = kb;
    adj.rev[kb] = ka;
  }
  return adj;
}

export function ospfAdjacency(model: FabricModel, deviceIndex: Map<string, number>): Adjacency {
  const n = model.devices.length;
  const rows: number[][] = Array.from({ length: n }, () => []);
  const ends: { me: number; other: number; s: number; via: string }[] = [];
  model.ospfAdjacencies.forEach((o, i) => {
    const a = deviceIndex.get(o.a.device);
    const b = deviceIndex.get(o.b.device);
    if (a === undefined || b === undefined || a === b) return;
    rows[a].push(ends.length);
    ends.push({ me: a, other: b, s: i, via: o.b.address.split('/')[0] });
    rows[b].push(ends.length);
    ends.push({ me: b, other: a, s: i, via: o.a.address.split('/')[0] });
  });
  const adj = alloc('ospf', 'ospf', model, ends.length);
  const kOf = new Int32Array(ends.length);
  let k = 0;
  for (let i = 0; i < n; i++) {
    adj.offsets[i] = k;
    for (const e of rows[i]) {
      kOf[e] = k;
      adj.nbr[k] = ends[e].other;
      adj.session[k] = ends[e].s;
      adj.via[k] = ends[e].via;
      k++;
    }
  }
  adj.offsets[n] = k;
  for (let e = 0; e < ends.length; e++) adj.rev[kOf[e]] = kOf[e ^ 1];
  return adj;
}

function alloc(protocol: Protocol, table: Adjacency['table'], model: FabricModel, m: number): Adjacency {
  const n = model.devices.length;
  return {
    protocol,
    table,
    n,
    offsets: new Int32Array(n + 1),
    nbr: new Int32Array(m),
    session: new Int32Array(m),
    ebgp: new Uint8Array(m),
    client: new Uint8Array(m),
    nhSelf: new Uint8Array(m),
    allowAs: new Uint8Array(m),
    via: new Array<string>(m),
    rev: new Int32Array(m),
    asn: Float64Array.from(model.devices, (d) => d.asn),
    routeReflector: Uint8Array.from(model.devices, (d) => (d.routeReflector ? 1 : 0)),
  };
}

/**
 * Twin classes: devices whose rows are identical (same neighbours over sessions of the same
 * kind and flags) and that do not reflect. Propagation from one twin mirrors propagation from
 * another; see propagate.ts for when that is exact.
 */
export function twinClasses(adj: Adjacency, origins: number[]): { classOf: Int32Array; reps: number[]; members: number[][] } {
  const classOf = new Int32Array(adj.n).fill(-1);
  const bySig = new Map<string, number>();
  const reps: number[] = [];
  const members: number[][] = [];
  for (const v of origins) {
    // A row as the sorted numbers of its entries: the neighbour and both ends' flags (allowas-in
    // is below 256), exact in a double; sorting numbers, not strings.
    const from = adj.offsets[v];
    const parts = new Float64Array(adj.offsets[v + 1] - from);
    for (let k = from; k < adj.offsets[v + 1]; k++) {
      const r = adj.rev[k];
      const flags = (adj.ebgp[k] << 20) | (adj.client[k] << 19) | (adj.nhSelf[k] << 18) | (adj.allowAs[k] << 10) | (adj.client[r] << 9) | (adj.nhSelf[r] << 8) | adj.allowAs[r];
      parts[k - from] = adj.nbr[k] * 2 ** 21 + flags;
    }
    parts.sort();
    const sig = adj.routeReflector[v] || parts.length === 0 ? `#${v}` : parts.join(',');
    let c = bySig.get(sig);
    if (c === undefined) {
      c = reps.length;
      bySig.set(sig, c);
      reps.push(v);
      members.push([]);
    }
    classOf[v] = c;
    members[c].push(v);
  }
  return { classOf, reps, members };
}
