/**
 * `pcap analyze`: one pass over a capture. Data-plane packets only go through the dissector
 * (offsets, numbers, no objects); control-plane packets (BGP, OSPF, ARP, DNS, BFD, LLDP,
 * LACP) are decoded in full. Findings are derived at the end, against the fabric model when
 * expectations are given.
 */
import { DecodeError, ipv4FromU32, ipv6At, macAt } from './bytes.ts';
import { BgpStreams, dissectOptions, tcpDirectionKey } from './decode.ts';
import { AUX_FRAG, AUX_MF, Dissection, dissect, K, KIND_NAME, linkTypeSupported, type DissectOptions } from './dissect.ts';
import type { FabricExpectations } from './expectations.ts';
import { compareFindings } from './findings.ts';
import { decodeLayer } from './layers.ts';
import type { Problem } from './problems.ts';
import type { BgpMessage } from './protocols/bgp.ts';
import type { DnsMessage } from './protocols/dns.ts';
import type { LacpPacket, LldpPacket } from './protocols/l2.ts';
import type { OspfPacket } from './protocols/ospf.ts';
import type { BfdPacket } from './protocols/bfd.ts';
import { CaptureReader, type Frame } from './reader.ts';

export interface AnalyzeOptions {
  vxlanPorts?: number[];
  expectations?: FabricExpectations;
  /** ARP packets per second above which a flood is reported. */
  arpFloodPps?: number;
  broadcastFloodPps?: number;
  /** Problems kept in full (all are counted). */
  maxProblems?: number;
  /** Flows tracked at once (default 200,000): past it the smaller half is folded into totals. */
  maxFlows?: number;
  /** Flows listed in the report, largest first (default 10,000); all are counted. */
  keepFlows?: number;
}

/** Default bounds of the flow table (README "Limits"). */
export const FLOW_LIMITS = { tracked: 200_000, kept: 10_000 } as const;

export interface Flow {
  proto: string;
  a: string;
  aPort: number;
  b: string;
  bPort: number;
  /** VNI when the flow was seen inside VXLAN. */
  vni?: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
  tcp?: TcpHealth;
}

export interface TcpHealth {
  syn: number;
  synAck: number;
  established: boolean;
  resets: number;
  retransmissions: number;
  zeroWindows: number;
  fins: number;
}

export interface Tunnel {
  srcVtep: string;
  dstVtep: string;
  vni: number;
  packets: number;
  bytes: number;
  innerMacs: string[];
  innerIps: string[];
  innerVlans: number[];
  fragmented: number;
  largestOuter: number;
  firstPacket: number;
}

export interface BgpEvent {
  packet: number;
  time: number;
  from: string;
  to: string;
  type: string;
  detail: string;
}

export interface BgpSpeaker {
  ip: string;
  asn?: number;
  holdTime?: number;
  routerId?: string;
  afiSafis: Array<{ afi: number; safi: number }>;
  capabilities: string[];
}

export interface BgpSession {
  a: BgpSpeaker;
  b: BgpSpeaker;
  messages: Record<string, number>;
  notifications: Array<{ packet: number; from: string; code: number; subcode: number; reason: string; message?: string }>;
  establishments: number;
  downs: number;
  flaps: number;
  evpnRoutes: Record<string, number>;
  timeline: BgpEvent[];
}

export interface OspfRouter {
  routerId: string;
  src: string;
  version: number;
  area: string;
  networkMask?: string;
  helloInterval?: number;
  deadInterval?: number;
  mtu?: number;
  hellos: number;
  packetTypes: Record<string, number>;
  firstPacket: number;
}

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  category: 'vxlan' | 'bgp' | 'ospf' | 'tcp' | 'flood' | 'decode' | 'bfd' | 'firewall';
  message: string;
  /** First packets that show it (1-based numbers, as in tshark/Wireshark). */
  packets?: number[];
}

export interface AnalysisReport {
  file?: string;
  format?: string;
  linkTypes: number[];
  packets: number;
  bytes: number;
  start?: number;
  end?: number;
  duration: number;
  problemCount: number;
  problems: Problem[];
  protocols: Record<string, number>;
  /** The largest flows by bytes, at most `keepFlows`. */
  flows: Flow[];
  /** Distinct flows in the capture: exact, or estimated (`flowCountEstimated`) once the table overflowed. */
  flowCount: number;
  flowCountEstimated?: boolean;
  /** Packets and bytes of the flows not listed in `flows`. */
  otherFlows?: { packets: number; bytes: number };
  tcp: { flows: number; failedHandshakes: number; resets: number; resetConnections: number; retransmissions: number; zeroWindows: number };
  tunnels: Tunnel[];
  bgp: BgpSession[];
  ospf: OspfRouter[];
  flood: { arpPackets: number; broadcastPackets: number; maxArpPps: number; maxBroadcastPps: number; maxArpSecond?: number };
  dns: Array<{ name: string; type: string; answers: string[]; responses: number }>;
  bfd: Array<{ src: string; dst: string; myDisc: number; states: string[]; lastDiag: string; downs: number }>;
  lldp: Array<{ chassisId?: string; portId?: string; systemName?: string; mtu?: number; packets: number }>;
  lacp: Array<{ actor: string; actorKey: number; actorPort: number; partner?: string; partnerKey?: number; packets: number }>;
  findings: Finding[];
}

const MAX_SET = 32;

interface FlowRec {
  v6: boolean;
  a: number;
  b: number;
  a6: string;
  b6: string;
  aPort: number;
  bPort: number;
  proto: number;
  vni: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
  tcp: TcpHealth | null;
  hiSeq: [number, number];
  hasSeq: [boolean, boolean];
  next: FlowRec | null;
}

interface TunnelRec {
  src: number;
  dst: number;
  src6: string;
  dst6: string;
  vni: number;
  packets: number;
  bytes: number;
  macs: Set<number>;
  ips: Set<number | string>;
  vlans: Set<number>;
  fragmented: number;
  largestOuter: number;
  firstPacket: number;
  next: TunnelRec | null;
}

const seqLe = (a: number, b: number) => ((a - b) | 0) <= 0;

/**
 * HyperLogLog distinct counter (2^16 registers, about 0.4 % error): counts flows in constant
 * memory once the flow table has had to forget some.
 */
class DistinctCounter {
  private readonly reg = new Uint8Array(1 << 16);
  add(hash: number): void {
    // murmur3's finalizer spreads the flow hash's bits.
    let h = hash | 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    const i = h >>> 16;
    const rank = Math.clz32((h << 16) | (1 << 15)) + 1;
    if (rank > this.reg[i]) this.reg[i] = rank;
  }
  estimate(): number {
    const m = this.reg.length;
    let sum = 0;
    let zeros = 0;
    for (const r of this.reg) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const e = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    return Math.round(e <= 2.5 * m && zeros ? m * Math.log(m / zeros) : e);
  }
}

type TcpTotals = AnalysisReport['tcp'];

function addTcp(t: TcpTotals, tcp: TcpHealth): void {
  t.flows++;
  if (isFailedHandshake(tcp)) t.failedHandshakes++;
  t.resets += tcp.resets;
  if (tcp.resets) t.resetConnections++;
  t.retransmissions += tcp.retransmissions;
  t.zeroWindows += tcp.zeroWindows;
}

export class Analyzer {
  private d = new Dissection();
  private opt: DissectOptions;
  private o: AnalyzeOptions;
  private bgpStreams = new BgpStreams();
  private packets = 0;
  private bytes = 0;
  private start = -1;
  private end = 0;
  private linkTypes = new Set<number>();
  private problems: Problem[] = [];
  private problemCount = 0;
  private protocols = new Uint32Array(32);
  private flowBuckets = new Map<number, FlowRec>();
  private flowCount = 0;
  private liveFlows = 0;
  private distinctFlows = new DistinctCounter();
  private flowsForgotten = false;
  /** Totals of flows folded out of the table. */
  private foldedTcp: TcpTotals = { flows: 0, failedHandshakes: 0, resets: 0, resetConnections: 0, retransmissions: 0, zeroWindows: 0 };
  private folded = { packets: 0, bytes: 0 };
  private tunnelBuckets = new Map<number, TunnelRec>();
  /** Non-first fragments of UDP between two underlay addresses: attributed to their tunnels. */
  private fragPairs = new Map<string, number>();
  private bgp = new Map<string, BgpSession & { up: boolean; opens: Set<string> }>();
  private ospf = new Map<string, OspfRouter>();
  private arpSec = new Map<number, number>();
  private bcastSec = new Map<number, number>();
  private arpPackets = 0;
  private bcastPackets = 0;
  private dns = new Map<string, { name: string; type: string; answers: Set<string>; responses: number }>();
  private bfd = new Map<string, { src: string; dst: string; myDisc: number; states: string[]; lastDiag: string; downs: number }>();
  private lldp = new Map<string, { chassisId?: string; portId?: string; systemName?: string; mtu?: number; packets: number }>();
  private lacp = new Map<string, { actor: string; actorKey: number; actorPort: number; partner?: string; partnerKey?: number; packets: number }>();
  private ospfMtuPairs: Array<{ from: string; to: string; mtu: number; packet: number; routerId: string }> = [];

  constructor(o: AnalyzeOptions = {}) {
    this.o = o;
    this.opt = dissectOptions({ vxlanPorts: [...(o.vxlanPorts ?? []), ...(o.expectations?.vxlanPorts ?? [])] });
  }

  private problem(p: Problem): void {
    this.problemCount++;
    if (this.problems.length < (this.o.maxProblems ?? 200)) this.problems.push(p);
  }

  add(f: Frame): void {
    this.packets++;
    this.bytes += f.origLen;
    const t = f.tsSec + f.tsNsec / 1e9;
    if (this.start < 0 || t < this.start) this.start = t;
    if (t > this.end) this.end = t;
    if (!this.linkTypes.has(f.linkType)) this.linkTypes.add(f.linkType);
    const d = this.d;
    try {
      dissect(d, f.buf, f.off, f.capLen, f.linkType, this.opt);
      if (d.problemLayer) this.problem({ packet: f.index, layer: d.problemLayer, reason: d.problemReason });
      this.walk(f, t);
    } catch (e) {
      this.problem({ packet: f.index, layer: e instanceof DecodeError ? 'decode' : 'analyzer', reason: (e as Error).message });
    }
  }

  private walk(f: Frame, t: number): void {
    const d = this.d;
    const buf = d.buf;
    const n = d.n;
    let vxlan = -1;
    let lastIp = -1;
    let l4 = -1;
    for (let i = 0; i < n; i++) {
      const k = d.kind[i];
      this.protocols[k]++;
      if (k === K.IPV4 || k === K.IPV6) lastIp = i;
      else if (k === K.TCP || k === K.UDP) l4 = i;
      else if (k === K.VXLAN) {
        if (vxlan < 0) vxlan = i;
      } else if (k !== K.ETH && k !== K.VLAN && k !== K.GENEVE && k !== K.SLL && k !== K.SLL2 && k !== K.NULL && k !== K.LLC) this.control(f, i, t);
      if (k === K.ETH && i === 0 && buf.readUInt32BE(d.off[0]) === 0xffffffff && buf.readUInt16BE(d.off[0] + 4) === 0xffff) this.broadcast(t);
    }
    // Outer IPv4 fragments: a later fragment carries no UDP header, so count it per address pair.
    if (n > 0) {
      const first = d.kind[0] === K.IPV4 ? 0 : d.kind[1] === K.IPV4 ? 1 : d.kind[2] === K.IPV4 ? 2 : -1;
      if (first >= 0 && d.aux[first] & AUX_FRAG && (d.aux[first] & 0xff) === 17) {
        const key = `${ipv4FromU32(buf.readUInt32BE(d.off[first] + 12))}>${ipv4FromU32(buf.readUInt32BE(d.off[first] + 16))}`;
        this.fragPairs.set(key, (this.fragPairs.get(key) ?? 0) + 1);
      }
    }
    if (vxlan >= 2) this.tunnel(f, vxlan);
    // Inner frames without IP (ARP, ...) are in the tunnel table, not in the flow table.
    if (lastIp >= 0 && !(vxlan >= 0 && lastIp < vxlan)) this.flow(f, t, lastIp, l4 > lastIp ? l4 : -1, vxlan);
  }

  private broadcast(t: number): void {
    this.bcastPackets++;
    const s = Math.floor(t);
    this.bcastSec.set(s, (this.bcastSec.get(s) ?? 0) + 1);
  }

  private tunnel(f: Frame, v: number): void {
    const d = this.d;
    const buf = d.buf;
    const ip = v - 2;
    const v6 = d.kind[ip] === K.IPV6;
    const o = d.off[ip];
    const src = v6 ? 0 : buf.readUInt32BE(o + 12);
    const dst = v6 ? 0 : buf.readUInt32BE(o + 16);
    const src6 = v6 ? ipv6At(buf, o + 8) : '';
    const dst6 = v6 ? ipv6At(buf, o + 24) : '';
    const vni = d.aux[v];
    const h = v6 ? hashStr(src6 + dst6) ^ vni : (Math.imul(src, 0x9e3779b1) ^ Math.imul(dst, 0x85ebca77) ^ Math.imul(vni, 0xc2b2ae3d)) | 0;
    let r = this.tunnelBuckets.get(h) ?? null;
    while (r && !(r.src === src && r.dst === dst && r.vni === vni && r.src6 === src6 && r.dst6 === dst6)) r = r.next;
    if (!r) {
      r = { src, dst, src6, dst6, vni, packets: 0, bytes: 0, macs: new Set(), ips: new Set(), vlans: new Set(), fragmented: 0, largestOuter: 0, firstPacket: f.index, next: this.tunnelBuckets.get(h) ?? null };
      this.tunnelBuckets.set(h, r);
    }
    r.packets++;
    r.bytes += f.origLen;
    const outerLen = v6 ? buf.readUInt16BE(o + 4) + 40 : buf.readUInt16BE(o + 2) || f.origLen;
    if (outerLen > r.largestOuter) r.largestOuter = outerLen;
    if (d.aux[ip] & (AUX_MF | AUX_FRAG)) r.fragmented++;
    // Inner frame: Ethernet right after VXLAN, then optional tags, then IP.
    const e = v + 1;
    if (e < d.n && d.kind[e] === K.ETH) {
      const eo = d.off[e];
      if (r.macs.size < MAX_SET) {
        r.macs.add(buf.readUIntBE(eo + 6, 6));
        if (r.macs.size < MAX_SET) r.macs.add(buf.readUIntBE(eo, 6));
      }
      let j = e + 1;
      while (j < d.n && d.kind[j] === K.VLAN) {
        if (r.vlans.size < MAX_SET) r.vlans.add(d.aux[j]);
        j++;
      }
      if (j < d.n && r.ips.size < MAX_SET) {
        const io = d.off[j];
        if (d.kind[j] === K.IPV4) {
          r.ips.add(buf.readUInt32BE(io + 12));
          r.ips.add(buf.readUInt32BE(io + 16));
        } else if (d.kind[j] === K.IPV6) {
          r.ips.add(ipv6At(buf, io + 8));
          r.ips.add(ipv6At(buf, io + 24));
        } else if (d.kind[j] === K.ARP && d.end[j] - io >= 28 && buf[io + 5] === 4) {
          r.ips.add(buf.readUInt32BE(io + 14));
        }
      }
    }
  }

  private flow(f: Frame, t: number, ip: number, l4: number, vxlan: number): void {
    const d = this.d;
    const buf = d.buf;
    const o = d.off[ip];
    const v6 = d.kind[ip] === K.IPV6;
    const proto = d.aux[ip] & 0xff;
    let s = 0;
    let ds = 0;
    let s6 = '';
    let d6 = '';
    if (v6) {
      s6 = ipv6At(buf, o + 8);
      d6 = ipv6At(buf, o + 24);
    } else {
      s = buf.readUInt32BE(o + 12);
      ds = buf.readUInt32BE(o + 16);
    }
    let sp = 0;
    let dp = 0;
    if (l4 >= 0) {
      sp = buf.readUInt16BE(d.off[l4]);
      dp = buf.readUInt16BE(d.off[l4] + 2);
    }
    const vni = vxlan >= 0 && vxlan < ip ? d.aux[vxlan] : -1;
    // Canonical order so both directions land in one flow.
    const fwd = v6 ? s6 < d6 || (s6 === d6 && sp <= dp) : s < ds || (s === ds && sp <= dp);
    const a = fwd ? s : ds;
    const b = fwd ? ds : s;
    const a6 = fwd ? s6 : d6;
    const b6 = fwd ? d6 : s6;
    const ap = fwd ? sp : dp;
    const bp = fwd ? dp : sp;
    const h = flowHash(v6, a, b, a6, b6, ap, bp, proto, vni);
    let r = this.flowBuckets.get(h) ?? null;
    while (r && !(r.a === a && r.b === b && r.aPort === ap && r.bPort === bp && r.proto === proto && r.vni === vni && r.a6 === a6 && r.b6 === b6)) r = r.next;
    if (!r && this.liveFlows >= (this.o.maxFlows ?? FLOW_LIMITS.tracked)) this.foldSmallFlows();
    if (!r) {
      r = {
        v6, a, b, a6, b6, aPort: ap, bPort: bp, proto, vni, packets: 0, bytes: 0, first: t, last: t,
        tcp: proto === 6 && l4 >= 0 ? { syn: 0, synAck: 0, established: false, resets: 0, retransmissions: 0, zeroWindows: 0, fins: 0 } : null,
        hiSeq: [0, 0], hasSeq: [false, false], next: this.flowBuckets.get(h) ?? null,
      };
      this.flowBuckets.set(h, r);
      this.flowCount++;
      this.liveFlows++;
      this.distinctFlows.add(h);
    }
    r.packets++;
    r.bytes += vni >= 0 ? d.end[ip] - o : f.origLen;
    if (t > r.last) r.last = t;
    if (r.tcp && l4 >= 0 && d.kind[l4] === K.TCP) {
      const to = d.off[l4];
      const flags = buf[to + 13];
      const tcp = r.tcp;
      const dir = fwd ? 0 : 1;
      const seq = buf.readUInt32BE(to + 4);
      let len = d.end[l4] - d.pay[l4];
      if (flags & 0x02) {
        if (flags & 0x10) tcp.synAck++;
        else tcp.syn++;
        len++;
      } else if (flags & 0x10 && tcp.synAck > 0) tcp.established = true;
      if (flags & 0x04) tcp.resets++;
      if (flags & 0x01) {
        tcp.fins++;
        len++;
      }
      if (!(flags & 0x06) && buf.readUInt16BE(to + 14) === 0) tcp.zeroWindows++;
      if (len > 0 && !(flags & 0x04)) {
        const segEnd = (seq + len) >>> 0;
        if (r.hasSeq[dir] && seqLe(segEnd, r.hiSeq[dir])) tcp.retransmissions++;
        else {
          r.hiSeq[dir] = segEnd;
          r.hasSeq[dir] = true;
        }
      }
      const sport = buf.readUInt16BE(to);
      const dport = buf.readUInt16BE(to + 2);
      if (sport === 179 || dport === 179) this.bgpSegment(f, t, l4, flags);
    }
  }

  /**
   * The table is full: keep the larger half by bytes, fold the rest into totals. Sorting
   * half the table every half-table of new flows keeps the cost O(log n) per flow.
   */
  private foldSmallFlows(): void {
    const all: FlowRec[] = [];
    for (let r of this.flowBuckets.values()) for (; r; r = r.next as FlowRec) all.push(r);
    all.sort((x, y) => y.bytes - x.bytes || y.packets - x.packets);
    const keep = Math.max(1, Math.floor(all.length / 2));
    this.flowBuckets.clear();
    for (const [i, r] of all.entries()) {
      if (i < keep) {
        r.next = null;
        continue;
      }
      this.folded.packets += r.packets;
      this.folded.bytes += r.bytes;
      if (r.tcp) addTcp(this.foldedTcp, r.tcp);
    }
    for (const r of all.slice(0, keep)) {
      const h = flowHash(r.v6, r.a, r.b, r.a6, r.b6, r.aPort, r.bPort, r.proto, r.vni);
      r.next = this.flowBuckets.get(h) ?? null;
      this.flowBuckets.set(h, r);
    }
    this.liveFlows = keep;
    this.flowsForgotten = true;
  }

  /** Control-plane layers: full decode. */
  private control(f: Frame, i: number, t: number): void {
    const k = this.d.kind[i];
    let l;
    try {
      l = decodeLayer(this.d, i);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.problem({ packet: f.index, layer: KIND_NAME[k], reason: e.message });
      return;
    }
    if (!l) return;
    const d = this.d;
    const ipIdx = i - 1 >= 0 && (d.kind[i - 1] === K.IPV4 || d.kind[i - 1] === K.IPV6) ? i - 1 : i - 2 >= 0 && (d.kind[i - 2] === K.IPV4 || d.kind[i - 2] === K.IPV6) ? i - 2 : -1;
    const src = ipIdx >= 0 ? this.ipText(ipIdx, 12) : '';
    const dst = ipIdx >= 0 ? this.ipText(ipIdx, 16) : '';
    switch (l.proto) {
      case 'arp': {
        this.arpPackets++;
        const s = Math.floor(t);
        this.arpSec.set(s, (this.arpSec.get(s) ?? 0) + 1);
        break;
      }
      case 'ospf':
        this.ospfPacket(f, l, src, dst);
        break;
      case 'dns':
        this.dnsMessage(l);
        break;
      case 'bfd':
        this.bfdPacket(l, src, dst);
        break;
      case 'lldp':
        this.lldpPacket(l, f.index);
        break;
      case 'lacp':
        this.lacpPacket(l);
        break;
      default:
        break;
    }
  }

  private ipText(ipIdx: number, v4off: number): string {
    const d = this.d;
    const o = d.off[ipIdx];
    if (d.kind[ipIdx] === K.IPV4) return ipv4FromU32(d.buf.readUInt32BE(o + v4off));
    return ipv6At(d.buf, o + (v4off === 12 ? 8 : 24));
  }

  private bgpSegment(f: Frame, t: number, l4: number, flags: number): void {
    const d = this.d;
    const key = tcpDirectionKey(d, l4);
    const probs: Problem[] = [];
    const msgs = this.bgpStreams.feed(key, d.buf.readUInt32BE(d.off[l4] + 4), flags, d.buf, d.pay[l4], d.end[l4], f.index, probs);
    for (const p of probs) this.problem(p);
    const [fromEp, toEp] = key.split('>');
    const from = fromEp.split('|')[0];
    const to = toEp.split('|')[0];
    const sess = this.session(from, to);
    for (const m of msgs) this.bgpMessage(sess, f.index, t, from, to, m);
    if (flags & 0x05 && sess.up) {
      sess.up = false;
      sess.downs++;
      sess.flaps = sess.downs;
      sess.opens.clear();
      sess.timeline.push({ packet: f.index, time: t, from, to, type: flags & 0x04 ? 'TCP RST' : 'TCP FIN', detail: 'session down' });
    }
  }

  private session(from: string, to: string): BgpSession & { up: boolean; opens: Set<string> } {
    const [a, b] = from < to ? [from, to] : [to, from];
    const key = `${a}>${b}`;
    let s = this.bgp.get(key);
    if (!s) {
      s = {
        a: { ip: a, afiSafis: [], capabilities: [] }, b: { ip: b, afiSafis: [], capabilities: [] }, messages: {}, notifications: [],
        establishments: 0, downs: 0, flaps: 0, evpnRoutes: {}, timeline: [], up: false, opens: new Set(),
      };
      this.bgp.set(key, s);
    }
    return s;
  }

  private bgpMessage(s: BgpSession & { up: boolean; opens: Set<string> }, packet: number, time: number, from: string, to: string, m: BgpMessage): void {
    s.messages[m.typeName] = (s.messages[m.typeName] ?? 0) + 1;
    const sp = s.a.ip === from ? s.a : s.b;
    if (m.open) {
      const o = m.open;
      sp.asn = o.asn;
      sp.holdTime = o.holdTime;
      sp.routerId = o.routerId;
      sp.afiSafis = o.afiSafis;
      sp.capabilities = o.capabilities.map((c) => c.name);
      if (s.up) {
        // A new OPEN on an established session: the old one went down without a NOTIFICATION.
        s.up = false;
        s.downs++;
        s.opens.clear();
      }
      s.opens.add(from);
      const afs = o.afiSafis.map((x) => afiSafiText(x.afi, x.safi)).join(', ');
      s.timeline.push({ packet, time, from, to, type: 'OPEN', detail: `AS ${o.asn}, hold ${o.holdTime}s, router-id ${o.routerId}${afs ? `, ${afs}` : ''}` });
    } else if (m.notification) {
      const n = m.notification;
      s.notifications.push({ packet, from, code: n.code, subcode: n.subcode, reason: n.reason, message: n.message });
      s.timeline.push({ packet, time, from, to, type: 'NOTIFICATION', detail: `${n.reason} (${n.code}/${n.subcode})${n.message ? ` "${n.message}"` : ''}` });
      if (s.up) {
        s.up = false;
        s.downs++;
      }
      s.opens.clear();
    } else if (m.type === 4) {
      if (!s.up && s.opens.size === 2) {
        s.up = true;
        s.establishments++;
        s.timeline.push({ packet, time, from, to, type: 'ESTABLISHED', detail: 'both OPENs and a KEEPALIVE seen' });
      }
    } else if (m.update) {
      for (const r of m.update.mpReach?.evpn ?? []) s.evpnRoutes[`type-${r.routeType}`] = (s.evpnRoutes[`type-${r.routeType}`] ?? 0) + 1;
    }
    s.flaps = s.downs;
  }

  private ospfPacket(f: Frame, p: OspfPacket, src: string, dst: string): void {
    const key = `${p.routerId}|${src}`;
    let r = this.ospf.get(key);
    if (!r) {
      r = { routerId: p.routerId, src, version: p.version, area: p.area, hellos: 0, packetTypes: {}, firstPacket: f.index };
      this.ospf.set(key, r);
    }
    r.packetTypes[p.typeName] = (r.packetTypes[p.typeName] ?? 0) + 1;
    r.area = p.area;
    if (p.hello) {
      r.hellos++;
      r.helloInterval = p.hello.helloInterval;
      r.deadInterval = p.hello.deadInterval;
      r.networkMask = p.hello.networkMask;
    }
    if (p.dbd) {
      r.mtu = p.dbd.mtu;
      this.ospfMtuPairs.push({ from: src, to: dst, mtu: p.dbd.mtu, packet: f.index, routerId: p.routerId });
      if (this.ospfMtuPairs.length > 10000) this.ospfMtuPairs.shift();
    }
  }

  private dnsMessage(m: DnsMessage): void {
    if (!m.response) return;
    for (const q of m.questions) {
      const key = `${q.name}|${q.typeName}`;
      let e = this.dns.get(key);
      if (!e) {
        e = { name: q.name, type: q.typeName, answers: new Set(), responses: 0 };
        this.dns.set(key, e);
      }
      e.responses++;
      for (const a of m.answers) if (a.data && e.answers.size < 64) e.answers.add(`${a.typeName} ${a.data}`);
    }
  }

  private bfdPacket(p: BfdPacket, src: string, dst: string): void {
    const key = `${src}>${dst}|${p.myDisc}`;
    let e = this.bfd.get(key);
    if (!e) {
      e = { src, dst, myDisc: p.myDisc, states: [], lastDiag: p.diagName, downs: 0 };
      this.bfd.set(key, e);
    }
    const last = e.states[e.states.length - 1];
    if (last !== p.state) {
      if (last === 'Up') e.downs++;
      if (e.states.length < 50) e.states.push(p.state);
    }
    e.lastDiag = p.diagName;
  }

  private lldpPacket(p: LldpPacket, _packet: number): void {
    const key = `${p.chassisId}|${p.portId}`;
    const e = this.lldp.get(key) ?? { chassisId: p.chassisId, portId: p.portId, systemName: p.systemName, mtu: p.mtu, packets: 0 };
    e.packets++;
    this.lldp.set(key, e);
  }

  private lacpPacket(p: LacpPacket): void {
    if (!p.actor) return;
    const key = `${p.actor.system}|${p.actor.port}`;
    const e = this.lacp.get(key) ?? { actor: p.actor.system, actorKey: p.actor.key, actorPort: p.actor.port, partner: p.partner?.system, partnerKey: p.partner?.key, packets: 0 };
    e.packets++;
    e.partner = p.partner?.system;
    e.partnerKey = p.partner?.key;
    this.lacp.set(key, e);
  }

  finish(meta: { file?: string; format?: string; readerProblems?: Problem[] } = {}): AnalysisReport {
    for (const p of meta.readerProblems ?? []) this.problem(p);
    const recs: FlowRec[] = [];
    const tcpTotals: TcpTotals = { ...this.foldedTcp };
    for (let r of this.flowBuckets.values()) {
      for (; r; r = r.next as FlowRec) {
        recs.push(r);
        if (r.tcp) addTcp(tcpTotals, r.tcp);
      }
    }
    recs.sort((x, y) => y.bytes - x.bytes || y.packets - x.packets);
    const keep = this.o.keepFlows ?? FLOW_LIMITS.kept;
    const other = { ...this.folded };
    for (const r of recs.slice(keep)) {
      other.packets += r.packets;
      other.bytes += r.bytes;
    }
    const flows: Flow[] = recs.slice(0, keep).map((r) => {
      const fl: Flow = {
        proto: r.proto === 6 ? 'tcp' : r.proto === 17 ? 'udp' : r.proto === 1 ? 'icmp' : r.proto === 58 ? 'icmpv6' : r.proto === 89 ? 'ospf' : `ip-${r.proto}`,
        a: r.v6 ? r.a6 : ipv4FromU32(r.a), aPort: r.aPort, b: r.v6 ? r.b6 : ipv4FromU32(r.b), bPort: r.bPort,
        packets: r.packets, bytes: r.bytes, first: r.first, last: r.last,
      };
      if (r.vni >= 0) fl.vni = r.vni;
      if (r.tcp) fl.tcp = r.tcp;
      return fl;
    });
    const tunnels: Tunnel[] = [];
    for (let r of this.tunnelBuckets.values()) {
      for (; r; r = r.next as TunnelRec) {
        const srcVtep = r.src6 || ipv4FromU32(r.src);
        const dstVtep = r.dst6 || ipv4FromU32(r.dst);
        tunnels.push({
          srcVtep, dstVtep, vni: r.vni, packets: r.packets, bytes: r.bytes,
          innerMacs: [...r.macs].map(macFromNumber).sort(), innerIps: [...r.ips].map((x) => (typeof x === 'number' ? ipv4FromU32(x) : x)).sort(),
          innerVlans: [...r.vlans].sort((a, b) => a - b), fragmented: r.fragmented + (this.fragPairs.get(`${srcVtep}>${dstVtep}`) ?? 0), largestOuter: r.largestOuter, firstPacket: r.firstPacket,
        });
      }
    }
    tunnels.sort((a, b) => a.srcVtep.localeCompare(b.srcVtep) || a.dstVtep.localeCompare(b.dstVtep) || a.vni - b.vni);
    const protocols: Record<string, number> = {};
    this.protocols.forEach((c, k) => {
      if (c && KIND_NAME[k]) protocols[KIND_NAME[k]] = c;
    });
    const maxOf = (m: Map<number, number>) => {
      let best = 0;
      let sec: number | undefined;
      for (const [s, c] of m) if (c > best) [best, sec] = [c, s];
      return { best, sec };
    };
    const arp = maxOf(this.arpSec);
    const bc = maxOf(this.bcastSec);
    const report: AnalysisReport = {
      file: meta.file, format: meta.format, linkTypes: [...this.linkTypes], packets: this.packets, bytes: this.bytes,
      start: this.start >= 0 ? this.start : undefined, end: this.start >= 0 ? this.end : undefined, duration: this.start >= 0 ? this.end - this.start : 0,
      problemCount: this.problemCount, problems: this.problems, protocols, flows,
      flowCount: this.flowsForgotten ? Math.max(this.distinctFlows.estimate(), recs.length) : this.flowCount,
      ...(this.flowsForgotten ? { flowCountEstimated: true } : {}),
      ...(other.packets ? { otherFlows: other } : {}),
      tcp: tcpTotals, tunnels,
      bgp: [...this.bgp.values()].map(({ up: _u, opens: _o, ...s }) => s),
      ospf: [...this.ospf.values()],
      flood: { arpPackets: this.arpPackets, broadcastPackets: this.bcastPackets, maxArpPps: arp.best, maxBroadcastPps: bc.best, maxArpSecond: arp.sec },
      dns: [...this.dns.values()].map((e) => ({ name: e.name, type: e.type, answers: [...e.answers].sort(), responses: e.responses })).sort((a, b) => a.name.localeCompare(b.name)),
      bfd: [...this.bfd.values()],
      lldp: [...this.lldp.values()],
      lacp: [...this.lacp.values()],
      findings: [],
    };
    for (const lt of this.linkTypes) if (!linkTypeSupported(lt)) report.findings.push({ severity: 'warning', category: 'decode', message: `link type ${lt} is not supported: its packets were counted but not decoded` });
    report.findings.push(...compareFindings(report, this.o, this.ospfMtuPairs));
    return report;
  }
}

export function isFailedHandshake(t: TcpHealth): boolean {
  return t.syn > 0 && (t.synAck === 0 || (!t.established && t.resets > 0));
}

export function afiSafiText(afi: number, safi: number): string {
  const a: Record<number, string> = { 1: 'IPv4', 2: 'IPv6', 25: 'L2VPN' };
  const s: Record<number, string> = { 1: 'unicast', 2: 'multicast', 4: 'labeled-unicast', 70: 'EVPN', 128: 'VPN', 65: 'VPLS', 133: 'flowspec' };
  return `${a[afi] ?? `AFI ${afi}`} ${s[safi] ?? `SAFI ${safi}`} (${afi}/${safi})`;
}

function macFromNumber(n: number): string {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return macAt(b, 0);
}

function flowHash(v6: boolean, a: number, b: number, a6: string, b6: string, ap: number, bp: number, proto: number, vni: number): number {
  const h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul((ap << 16) | bp, 0xc2b2ae3d) ^ Math.imul(proto + 1, 0x27d4eb2f) ^ vni) | 0;
  return v6 ? h ^ hashStr(a6) ^ (hashStr(b6) * 31) : h;
}

function hashStr(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Reads and analyzes a whole capture file in one streaming pass. */
export function analyzeFile(file: string, o: AnalyzeOptions = {}): AnalysisReport {
  const r = CaptureReader.open(file);
  const a = new Analyzer(o);
  try {
    for (let f = r.next(); f; f = r.next()) a.add(f);
  } finally {
    r.close();
  }
  return a.finish({ file, format: r.format, readerProblems: r.problems });
}
