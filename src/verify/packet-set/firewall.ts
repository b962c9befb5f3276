/** Packet sets of the firewall model's match fields (src/domains/firewall/model.ts). */
import type { FwAddressMatch, FwConnState, FwService } from '../../domains/firewall/model.ts';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, hasIcmp, hasPorts } from './layout.ts';
import {
  ALL, EMPTY, addressSetOver, familySet, memo, icmpTypeSet, intersect, prefixSet, protocolSet, stateSet, tcpUdpPorts, union,
  type PacketSet,
} from './packet-set.ts';

const PROTOCOLS: Record<string, number> = { tcp: PROTO_TCP, udp: PROTO_UDP, icmp: PROTO_ICMP, icmpv6: PROTO_ICMPV6 };

export function protocolNumber(p: FwService['protocol']): number {
  return typeof p === 'number' ? p : PROTOCOLS[p]!;
}

/** (include - exclude), complemented when negate; no include means any address of both families. */
const matchSets = new Map<string, PacketSet>();

export function addressMatchSet(which: 'src' | 'dst', m: FwAddressMatch): PacketSet {
  // Rules name the same groups again and again.
  return memo(matchSets, `${which}${m.negate ? '!' : ''}${m.include.join()}-${m.exclude.join()}`, () => addressSetOver(which, m));
}

/**
 * Packets of one service. Ports on a protocol without ports, or ICMP types on one without
 * them, match no packet: the empty set, which the analysis reports as unmatchable. ICMP is
 * IPv4's and ICMPv6 IPv6's, as every renderer writes them (render-common.ts familyServices).
 */
export function serviceSet(svc: FwService): PacketSet {
  const proto = protocolNumber(svc.protocol);
  const portsGiven = svc.dstPorts.length > 0 || svc.srcPorts.length > 0;
  if (portsGiven && !hasPorts(proto)) return EMPTY;
  if (svc.icmp.length > 0 && !hasIcmp(proto)) return EMPTY;
  let s = protocolSet(proto);
  if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) s = intersect(s, familySet(proto === PROTO_ICMP ? 4 : 6));
  if (svc.dstPorts.length) s = intersect(s, unionOf(svc.dstPorts.map((r) => tcpUdpPorts(proto, 'dst', r.from, r.to))));
  if (svc.srcPorts.length) s = intersect(s, unionOf(svc.srcPorts.map((r) => tcpUdpPorts(proto, 'src', r.from, r.to))));
  if (svc.icmp.length) s = intersect(s, unionOf(svc.icmp.map((t) => icmpTypeSet(proto, t.type, t.code))));
  return s;
}

/** Any of the services; an empty list is any protocol. */
const serviceSets = new Map<string, PacketSet>();

const oneService = new Map<string, PacketSet>();
const serviceKeys = new WeakMap<FwService, string>();

/** A service's fields as text; service objects are shared by the rules naming them, so kept per object. */
function serviceKey(s: FwService): string {
  let k = serviceKeys.get(s);
  if (k === undefined) serviceKeys.set(s, (k = JSON.stringify([s.protocol, s.dstPorts, s.srcPorts, s.icmp])));
  return k;
}

const serviceListSets = new WeakMap<FwService[], PacketSet>();

export function servicesSet(services: FwService[]): PacketSet {
  if (services.length === 0) return ALL;
  // The same list object again (a rule re-analysed) needs no key.
  const known = serviceListSets.get(services);
  if (known !== undefined) return known;
  // Order and repetition do not change a union: lists naming the same services share one set.
  const keys = services.map(serviceKey);
  // One service (most rules): its key is the list's, with no set, sort or join.
  const key = keys.length === 1 ? keys[0]! : distinctSorted(keys);
  let set = serviceSets.get(key);
  if (set === undefined) {
    set = unionOf(services.map((s, i) => memo(oneService, keys[i]!, () => serviceSet(s))));
    if (serviceSets.size > 100_000) serviceSets.clear();
    serviceSets.set(key, set);
  }
  serviceListSets.set(services, set);
  return set;
}

/** The distinct keys in order, joined by commas (as [...new Set(keys)].sort().join(), without the set and sort's work array: lists are short). */
function distinctSorted(keys: string[]): string {
  const k = keys.slice();
  for (let i = 1; i < k.length; i++) {
    const x = k[i]!;
    let j = i - 1;
    for (; j >= 0 && k[j]! > x; j--) k[j + 1] = k[j]!;
    k[j + 1] = x;
  }
  let out = k[0]!;
  for (let i = 1; i < k.length; i++) if (k[i] !== k[i - 1]) out += `,${k[i]}`;
  return out;
}

/** Any of the states; an empty list is every state. */
export function statesSet(states: FwConnState[]): PacketSet {
  return states.length === 0 ? ALL : unionOf(states.map(stateSet));
}

function unionOf(sets: PacketSet[]): PacketSet {
  return sets.reduce(union, EMPTY);
}
