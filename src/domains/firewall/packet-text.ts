/** A packet as one line for findings and `netloom fw`: `tcp 10.10.20.0:0 -> 10.20.30.0:5432 (new)`. */
import type { Packet } from '../../verify/packet-set/index.ts';

const NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' };

export const protocolName = (n: number): string => NAMES[n] ?? `proto ${n}`;

export function formatPacket(p: Packet): string {
  const host = (a: string, port?: number) => (port === undefined ? a : p.family === 6 ? `[${a}]:${port}` : `${a}:${port}`);
  const icmp = p.icmpType === undefined ? '' : ` type ${p.icmpType}${p.icmpCode === undefined ? '' : ` code ${p.icmpCode}`}`;
  return `${protocolName(p.protocol)} ${host(p.src, p.srcPort)} -> ${host(p.dst, p.dstPort)}${icmp} (${p.state})`;
}
