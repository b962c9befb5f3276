/** Field-level decoding of one dissected layer into a plain object (the full, non-hot path). */
import { DecodeError, ipv4At, ipv6At, macAt } from './bytes.ts';
import { AUX_FRAG, AUX_MF, K, KIND_NAME, type Dissection } from './dissect.ts';
import { decodeBfd, type BfdPacket } from './protocols/bfd.ts';
import type { BgpMessage } from './protocols/bgp.ts';
import { decodeDns, type DnsMessage } from './protocols/dns.ts';
import { decodeArp, decodeLacp, decodeLldp, type ArpPacket, type LacpPacket, type LldpPacket } from './protocols/l2.ts';
import { decodeOspf, type OspfPacket } from './protocols/ospf.ts';

export interface EthLayer { proto: 'eth'; src: string; dst: string; type: number }
export interface VlanLayer { proto: 'vlan'; id: number; pcp: number; type: number; /** 0x8100, or 0x88a8 for an 802.1ad outer tag. */ tpid: number }
export interface CookedLayer { proto: 'sll' | 'sll2' | 'null'; protocol: number }
export interface Ipv4Layer {
  proto: 'ipv4'; src: string; dst: string; protocol: number; ttl: number; id: number; totalLength: number; headerLength: number;
  df: boolean; mf: boolean; fragOffset: number; options: number[];
}
export interface Ipv6Layer { proto: 'ipv6'; src: string; dst: string; nextHeader: number; hopLimit: number; payloadLength: number; fragment: boolean }
export interface IcmpLayer { proto: 'icmp' | 'icmpv6'; type: number; code: number }
export interface UdpLayer { proto: 'udp'; srcPort: number; dstPort: number; length: number }
export interface TcpOption { kind: number; mss?: number; wscale?: number; tsval?: number; tsecr?: number; sack?: Array<[number, number]> }
export interface TcpLayer {
  proto: 'tcp'; srcPort: number; dstPort: number; seq: number; ack: number; flags: number; flagNames: string; window: number;
  headerLength: number; payloadLength: number; options: TcpOption[];
}
export interface VxlanLayer { proto: 'vxlan'; flags: number; vni: number }
export interface GeneveLayer { proto: 'geneve'; vni: number; protocolType: number; optionsLength: number }
export interface LlcLayer { proto: 'llc'; length: number }
export type BgpLayer = { proto: 'bgp' } & BgpMessage;
export type OspfLayer = { proto: 'ospf' } & OspfPacket;
export type BfdLayer = { proto: 'bfd' } & BfdPacket;
export type DnsLayer = { proto: 'dns' } & DnsMessage;
export type ArpLayer = { proto: 'arp' } & ArpPacket;
export type LacpLayer = { proto: 'lacp' } & LacpPacket;
export type LldpLayer = { proto: 'lldp' } & LldpPacket;

export type Layer =
  | EthLayer | VlanLayer | CookedLayer | Ipv4Layer | Ipv6Layer | IcmpLayer | UdpLayer | TcpLayer | VxlanLayer | GeneveLayer | LlcLayer
  | BgpLayer | OspfLayer | BfdLayer | DnsLayer | ArpLayer | LacpLayer | LldpLayer;

const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];

export function tcpFlagNames(flags: number): string {
  const out: string[] = [];
  for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (flags & (1 << i)) out.push(TCP_FLAG_NAMES[i]);
  return out.join(',');
}

function tcpOptions(buf: Buffer, p: number, end: number): TcpOption[] {
  const out: TcpOption[] = [];
  while (p < end) {
    const kind = buf[p];
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) throw new DecodeError('TCP option runs past the header');
    const len = buf[p + 1];
    if (len < 2 || p + len > end) throw new DecodeError(`TCP option ${kind} has bad length ${len}`);
    const o: TcpOption = { kind };
    if (kind === 2 && len === 4) o.mss = buf.readUInt16BE(p + 2);
    else if (kind === 3 && len === 3) o.wscale = buf[p + 2];
    else if (kind === 8 && len === 10) {
      o.tsval = buf.readUInt32BE(p + 2);
      o.tsecr = buf.readUInt32BE(p + 6);
    } else if (kind === 5) {
      o.sack = [];
      for (let q = p + 2; q + 8 <= p + len; q += 8) o.sack.push([buf.readUInt32BE(q), buf.readUInt32BE(q + 4)]);
    }
    out.push(o);
    p += len;
  }
  return out;
}

function ipv4Options(buf: Buffer, p: number, end: number): number[] {
  const out: number[] = [];
  while (p < end) {
    const t = buf[p];
    if (t === 0) break;
    out.push(t);
    if (t === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end || buf[p + 1] < 2) throw new DecodeError(`IPv4 option ${t} has a bad length`);
    p += buf[p + 1];
  }
  return out;
}

/**
 * The fields of layer i. BGP is not decoded here: its messages are cut from the TCP stream
 * by `BgpStreams`. Throws DecodeError when the layer's bytes are inconsistent.
 */
export function decodeLayer(d: Dissection, i: number): Layer | null {
  const buf = d.buf;
  const off = d.off[i];
  const pay = d.pay[i];
  const end = d.end[i];
  switch (d.kind[i]) {
    case K.ETH:
      return { proto: 'eth', dst: macAt(buf, off), src: macAt(buf, off + 6), type: buf.readUInt16BE(off + 12) };
    case K.VLAN: {
      const tci = buf.readUInt16BE(off);
      return { proto: 'vlan', id: tci & 0xfff, pcp: tci >> 13, type: buf.readUInt16BE(off + 2), tpid: buf.readUInt16BE(off - 2) };
    }
    case K.SLL:
    case K.SLL2:
    case K.NULL:
      return { proto: KIND_NAME[d.kind[i]] as CookedLayer['proto'], protocol: d.aux[i] };
    case K.LLC:
      return { proto: 'llc', length: end - off };
    case K.IPV4: {
      const frag = buf.readUInt16BE(off + 6);
      return {
        proto: 'ipv4', src: ipv4At(buf, off + 12), dst: ipv4At(buf, off + 16), protocol: buf[off + 9], ttl: buf[off + 8], id: buf.readUInt16BE(off + 4),
        totalLength: buf.readUInt16BE(off + 2), headerLength: pay - off, df: (frag & 0x4000) !== 0, mf: (frag & 0x2000) !== 0, fragOffset: (frag & 0x1fff) * 8,
        options: pay - off > 20 ? ipv4Options(buf, off + 20, pay) : [],
      };
    }
    case K.IPV6:
      return {
        proto: 'ipv6', src: ipv6At(buf, off + 8), dst: ipv6At(buf, off + 24), nextHeader: d.aux[i] & 0xff, hopLimit: buf[off + 7],
        payloadLength: buf.readUInt16BE(off + 4), fragment: (d.aux[i] & (AUX_FRAG | AUX_MF)) !== 0,
      };
    case K.ICMP:
    case K.ICMPV6:
      return { proto: d.kind[i] === K.ICMP ? 'icmp' : 'icmpv6', type: buf[off], code: buf[off + 1] };
    case K.UDP:
      return { proto: 'udp', srcPort: buf.readUInt16BE(off), dstPort: buf.readUInt16BE(off + 2), length: buf.readUInt16BE(off + 4) };
    case K.TCP: {
      const flags = buf.readUInt16BE(off + 12) & 0x1ff;
      const t: TcpLayer = {
        proto: 'tcp', srcPort: buf.readUInt16BE(off), dstPort: buf.readUInt16BE(off + 2), seq: buf.readUInt32BE(off + 4), ack: buf.readUInt32BE(off + 8),
        flags, flagNames: tcpFlagNames(flags), window: buf.readUInt16BE(off + 14), headerLength: pay - off, payloadLength: Math.max(0, end - pay), options: [],
      };
      t.options = pay - off > 20 ? tcpOptions(buf, off + 20, pay) : [];
      return t;
    }
    case K.VXLAN:
      return { proto: 'vxlan', flags: buf[off], vni: d.aux[i] };
    case K.GENEVE:
      return { proto: 'geneve', vni: d.aux[i], protocolType: buf.readUInt16BE(off + 2), optionsLength: pay - off - 8 };
    case K.ARP:
      return { proto: 'arp', ...decodeArp(buf, off, end) };
    case K.OSPF:
      return { proto: 'ospf', ...decodeOspf(buf, off, end) };
    case K.BFD:
      return { proto: 'bfd', ...decodeBfd(buf, off, end) };
    case K.DNS:
      return { proto: 'dns', ...decodeDns(buf, off, end) };
    case K.LACP:
      return { proto: 'lacp', ...decodeLacp(buf, off, end) };
    case K.LLDP:
      return { proto: 'lldp', ...decodeLldp(buf, off, end) };
    default:
      return null;
  }
}
