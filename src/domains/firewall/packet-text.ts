/** A packet as one line for findings and `netloom fw`: `tcp 10.10.20.0:0 -> 10.20.30.0:5432 (new)`. */
import type { Packet } from '../../verify/packet-set/index.ts';

const NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' };

export const protocolName = (n: number): string => NAMES[n] ?? `proto ${n}`;

/** An address with a port as written for its family: `10.0.0.1:80`, `[fd00::1]:80`. */
export const hostPort = (a: string, port?: number): string => (port === undefined ? a : a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);

export function formatPacket(p: Packet): string {
  const host = hostPort;
  const icmp = p.icmpType === undefined ? '' : ` type ${p.icmpType}${p.icmpCode === undefined ? '' : ` code ${p.icmpCode}`}`;
  return `${protocolName(p.protocol)} ${host(p.src, p.srcPort)} -> ${host(p.dst, p.dstPort)}${icmp} (${p.state})`;
}
