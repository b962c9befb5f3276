/**
 * "Is this session up": the one reading of FRR 8.4's BGP and OSPF neighbour state that the lab
 * (lab wait --converged), the push post-checks and live verification share. Each caller words
 * its own messages; what counts as up, and which neighbour entry is a model session's, is here.
 */

/** One BGP neighbour entry as FRR reports it (per VRF, and per address family for summaries). */
export interface BgpPeerState {
  vrf: string;
  /** Summary JSON key: 'ipv4Unicast', 'l2VpnEvpn', ... (absent in `neighbors` output). */
  afi?: string;
  /** The neighbour as configured: an address or, for unnumbered sessions, an interface. */
  peer: string;
  state: string;
  hostname?: string;
  /** The peer's address (neighbors output). */
  address?: string;
  remoteAs?: number;
  pfxRcd?: number;
}

/** The model's address families -> FRR summary keys. */
export const AFI_KEYS: Record<string, string> = { 'ipv4-unicast': 'ipv4Unicast', 'ipv6-unicast': 'ipv6Unicast', 'l2vpn-evpn': 'l2VpnEvpn' };

type J = Record<string, unknown>;
const obj = (x: unknown): J => (x && typeof x === 'object' && !Array.isArray(x) ? (x as J) : {});
const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);

export const bgpEstablished = (state: string | undefined): boolean => state === 'Established';

/**
 * `show bgp vrf all summary json` (VRF -> AFI -> peers) or, with `vrf` given, the single-VRF
 * `show bgp summary json` (AFI -> peers).
 */
export function parseBgpSummary(json: unknown, vrf?: string): BgpPeerState[] {
  const out: BgpPeerState[] = [];
  const byVrf: [string, unknown][] = vrf === undefined ? Object.entries(obj(json)) : [[vrf, json]];
  for (const [v, afis] of byVrf) {
    for (const [afi, body] of Object.entries(obj(afis))) {
      for (const [peer, p] of Object.entries(obj(obj(body).peers))) {
        const x = obj(p);
        out.push({ vrf: v, afi, peer, hostname: x.hostname as string | undefined, state: String(x.state ?? 'unknown'), pfxRcd: num(x.pfxRcd), remoteAs: num(x.remoteAs) });
      }
    }
  }
  return out;
}

/** `show bgp vrf all neighbors json` (VRF -> neighbour -> details). */
export function parseBgpNeighbors(json: unknown): BgpPeerState[] {
  const out: BgpPeerState[] = [];
  for (const [vrf, body] of Object.entries(obj(json))) {
    for (const [peer, n] of Object.entries(obj(body))) {
      const x = obj(n);
      if (!('bgpState' in x)) continue;
      out.push({ vrf, peer, state: String(x.bgpState), remoteAs: num(x.remoteAs), hostname: x.hostname as string | undefined, address: x.bgpNeighborAddr as string | undefined });
    }
  }
  return out;
}

/** How a model session is found among a device's neighbours. */
export interface PeerMatch {
  /** The neighbour as the device configures it: its interface, or the peer's address. */
  key: string;
  /** Also match the peer's address or hostname (numbered sessions seen under another key). */
  aliases?: string[];
  vrf?: string;
}

export function matchingPeers(peers: BgpPeerState[], m: PeerMatch): BgpPeerState[] {
  return peers.filter((p) => (m.vrf === undefined || p.vrf === m.vrf) && (p.peer === m.key || (m.aliases ?? []).some((a) => a === p.peer || a === p.address || a === p.hostname)));
}

export interface BgpSessionState {
  /** The matching neighbour entries. */
  peers: BgpPeerState[];
  /** The device has the neighbour at all. */
  configured: boolean;
  /** Every matching entry (every address family asked for) is Established. */
  up: boolean;
  /** Entries not Established: address family (summary key, when known) and state. */
  down: { afi?: string; state: string }[];
  /** Model address families the device does not run towards the peer (summaries only). */
  missingAfis: string[];
  /** Established families that received no prefixes (summaries only). */
  noPrefixes: string[];
  /** Per model address family: state as printed in evidence. */
  perAfi: Record<string, string>;
  remoteAs?: number;
}

/** The state of one model session at one end, from that end's neighbour entries. */
export function bgpSessionState(peers: BgpPeerState[], m: PeerMatch, afis: string[] = []): BgpSessionState {
  const seen = matchingPeers(peers, m);
  const down = seen.filter((p) => !bgpEstablished(p.state)).map((p) => ({ afi: p.afi, state: p.state }));
  const perAfi: Record<string, string> = {};
  const missingAfis: string[] = [];
  const noPrefixes: string[] = [];
  for (const afi of afis) {
    const p = seen.find((x) => x.afi === AFI_KEYS[afi]);
    perAfi[afi] = p ? `${p.state}${p.pfxRcd !== undefined ? ` pfxRcd=${p.pfxRcd}` : ''}` : 'not configured';
    if (!p) missingAfis.push(afi);
    else if (bgpEstablished(p.state) && p.pfxRcd === 0) noPrefixes.push(afi);
  }
  return {
    peers: seen,
    configured: seen.length > 0,
    up: seen.length > 0 && down.length === 0 && missingAfis.length === 0,
    down,
    missingAfis,
    noPrefixes,
    perAfi,
    remoteAs: seen.find((p) => p.remoteAs !== undefined)?.remoteAs,
  };
}

/** One OSPF neighbour entry (`show ip ospf neighbor json`). */
export interface OspfNeighborState {
  routerId: string;
  /** e.g. `Full/-`, `Full/DR`, `2-Way/DROther`. */
  state: string;
  role?: string;
  iface: string;
  address: string;
}

export function parseOspfNeighbors(json: unknown): OspfNeighborState[] {
  const out: OspfNeighborState[] = [];
  for (const [rid, list] of Object.entries(obj(obj(json).neighbors))) {
    for (const n of Array.isArray(list) ? list : []) {
      const x = obj(n);
      out.push({
        routerId: rid,
        state: String(x.nbrState ?? x.state ?? 'unknown'),
        role: x.role as string | undefined,
        iface: String(x.ifaceName ?? '').split(':')[0],
        address: String(x.ifaceAddress ?? x.address ?? ''),
      });
    }
  }
  return out;
}

/** Full, or 2-Way between two DROthers on a broadcast segment (its final state there). */
export function ospfAdjacencyUp(n: { state: string; role?: string }): boolean {
  return n.state.startsWith('Full') || (n.state.startsWith('2-Way') && (n.role === 'DROther' || /DROther/.test(n.state)));
}
