/**
 * Header fields of the packet space and their BDD variables, most significant bit first. The
 * service part (state, protocol, ports, ICMP) comes first and the addresses last: a rule's
 * few services form a small top, and its address part (long bit chains, IPv6 above all) is
 * built once per group and shared by every rule naming the group.
 *
 * An IPv4 address occupies the top 32 bits of the 128-bit address field; its low 96 bits and
 * every field a protocol does not carry (ports outside tcp/udp, ICMP type/code outside
 * icmp/icmpv6) are never tested by any set built here, so they do not split sets and a packet
 * is canonical with them at zero.
 */
export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly width: number;
}

const field = (name: string, offset: number, width: number): Field => ({ name, offset, width });

export const FAMILY = field('family', 0, 1);
export const STATE = field('state', 1, 2);
export const PROTO = field('protocol', 3, 8);
export const DPORT = field('dstPort', 11, 16);
export const SPORT = field('srcPort', 27, 16);
export const ICMP_TYPE = field('icmpType', 43, 8);
export const ICMP_CODE = field('icmpCode', 51, 8);
export const DST = field('dst', 59, 128);
export const SRC = field('src', 187, 128);
export const NVARS = 315;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** Connection states, in the order of their 2-bit code. */
export const STATES = ['new', 'established', 'related', 'invalid'] as const;

export function hasPorts(proto: number): boolean {
  return proto === PROTO_TCP || proto === PROTO_UDP;
}
export function hasIcmp(proto: number): boolean {
  return proto === PROTO_ICMP || proto === PROTO_ICMPV6;
}
