/**
 * The decode hot path: walks one frame's headers and records, per layer, its kind and byte
 * offsets into a reusable `Dissection` (typed arrays, no objects per packet). Field values are
 * read later, only by whoever needs them (`layers.ts` for a full decode, the analyzer for the
 * few fields its findings use). Every bounds problem stops the walk with a recorded reason.
 */
export const K = {
  ETH: 1,
  VLAN: 2,
  ARP: 3,
  IPV4: 4,
  IPV6: 5,
  ICMP: 6,
  ICMPV6: 7,
  UDP: 8,
  TCP: 9,
  VXLAN: 10,
  GENEVE: 11,
  BGP: 12,
  OSPF: 13,
  BFD: 14,
  DNS: 15,
  LACP: 16,
  LLDP: 17,
  SLL: 18,
  SLL2: 19,
  NULL: 20,
  LLC: 21,
} as const;
export type Kind = (typeof K)[keyof typeof K];

export const KIND_NAME: Record<number, string> = {
  1: 'eth', 2: 'vlan', 3: 'arp', 4: 'ipv4', 5: 'ipv6', 6: 'icmp', 7: 'icmpv6', 8: 'udp', 9: 'tcp',
  10: 'vxlan', 11: 'geneve', 12: 'bgp', 13: 'ospf', 14: 'bfd', 15: 'dns', 16: 'lacp', 17: 'lldp',
  18: 'sll', 19: 'sll2', 20: 'null', 21: 'llc',
};

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export function linkTypeSupported(lt: number): boolean {
  return lt === 0 || lt === 1 || lt === 12 || lt === 14 || lt === 101 || lt === 108 || lt === 113 || lt === 228 || lt === 229 || lt === 276;
}

export const MAX_LAYERS = 24;

export interface DissectOptions {
  /** UDP destination ports carrying VXLAN (default 4789). */
  vxlanPorts: ReadonlySet<number>;
  genevePorts: ReadonlySet<number>;
}

export const defaultDissectOptions: DissectOptions = { vxlanPorts: new Set([4789]), genevePorts: new Set([6081]) };

export class Dissection {
  n = 0;
  readonly kind = new Uint8Array(MAX_LAYERS);
  /** Start of the layer's header. */
  readonly off = new Int32Array(MAX_LAYERS);
  /** Start of the layer's payload (end of its header). */
  readonly pay = new Int32Array(MAX_LAYERS);
  /** End of the layer's bytes (its length field, clamped to what was captured). */
  readonly end = new Int32Array(MAX_LAYERS);
  /** Layer-specific extra: IPv4/IPv6 upper protocol, IPv4 fragment flags, VLAN id... */
  readonly aux = new Int32Array(MAX_LAYERS);
  buf: Buffer = Buffer.alloc(0);
  problemLayer = '';
  problemReason = '';

  find(kind: number, from = 0): number {
    for (let i = from; i < this.n; i++) if (this.kind[i] === kind) return i;
    return -1;
  }
  findLast(kind: number): number {
    for (let i = this.n - 1; i >= 0; i--) if (this.kind[i] === kind) return i;
    return -1;
  }
}

/** aux bits for IPv4/IPv6: low byte = upper protocol; FRAG = fragment (not the first); MF. */
export const AUX_FRAG = 0x100;
export const AUX_MF = 0x200;
export const AUX_FIRSTFRAG = 0x400;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_SLOW = 0x8809;
const ETHERTYPE_LLDP = 0x88cc;

function push(d: Dissection, kind: number, off: number, pay: number, end: number, aux = 0): boolean {
  if (d.n >= MAX_LAYERS) {
    d.problemLayer = 'frame';
    d.problemReason = `more than ${MAX_LAYERS} layers`;
    return false;
  }
  const i = d.n++;
  d.kind[i] = kind;
  d.off[i] = off;
  d.pay[i] = pay;
  d.end[i] = end;
  d.aux[i] = aux;
  return true;
}

function fail(d: Dissection, layer: string, reason: string): void {
  d.problemLayer = layer;
  d.problemReason = reason;
}

/** Decodes the header chain of one frame into `d` (which is reset first). */
export function dissect(d: Dissection, buf: Buffer, off: number, capLen: number, linkType: number, opt: DissectOptions = defaultDissectOptions): void {
  d.n = 0;
  d.buf = buf;
  d.problemLayer = '';
  d.problemReason = '';
  const end = off + capLen;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      ethernet(d, buf, off, end, opt);
      return;
    case LINKTYPE.LINUX_SLL: {
      if (end - off < 16) return fail(d, 'sll', 'truncated Linux cooked header');
      const proto = buf.readUInt16BE(off + 14);
      if (!push(d, K.SLL, off, off + 16, end, proto)) return;
      etherPayload(d, buf, proto, off + 16, end, opt);
      return;
    }
    case LINKTYPE.LINUX_SLL2: {
      if (end - off < 20) return fail(d, 'sll2', 'truncated Linux cooked v2 header');
      const proto = buf.readUInt16BE(off);
      if (!push(d, K.SLL2, off, off + 20, end, proto)) return;
      etherPayload(d, buf, proto, off + 20, end, opt);
      return;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (end - off < 4) return fail(d, 'null', 'truncated loopback header');
      // DLT_NULL stores the address family in the capturing host's byte order.
      let af = linkType === LINKTYPE.LOOP ? buf.readUInt32BE(off) : buf.readUInt32LE(off);
      if (af > 0xffff) af = buf.readUInt32BE(off);
      if (!push(d, K.NULL, off, off + 4, end, af)) return;
      if (af === 2) ipv4(d, buf, off + 4, end, opt);
      else if (af === 10 || af === 24 || af === 28 || af === 30) ipv6(d, buf, off + 4, end, opt);
      else fail(d, 'null', `unknown address family ${af}`);
      return;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_BSD12:
    case LINKTYPE.RAW_BSD14:
      if (end - off < 1) return fail(d, 'raw', 'empty packet');
      if (buf[off] >> 4 === 4) ipv4(d, buf, off, end, opt);
      else if (buf[off] >> 4 === 6) ipv6(d, buf, off, end, opt);
      else fail(d, 'raw', `IP version ${buf[off] >> 4}`);
      return;
    case LINKTYPE.IPV4:
      ipv4(d, buf, off, end, opt);
      return;
    case LINKTYPE.IPV6:
      ipv6(d, buf, off, end, opt);
      return;
    default:
      fail(d, 'frame', `unsupported link type ${linkType}`);
  }
}

function ethernet(d: Dissection, buf: Buffer, off: number, end: number, opt: DissectOptions): void {
  if (end - off < 14) return fail(d, 'eth', `truncated Ethernet header (${end - off} bytes)`);
  const type = buf.readUInt16BE(off + 12);
  if (!push(d, K.ETH, off, off + 14, end, type)) return;
  if (type <= 1500) {
    push(d, K.LLC, off + 14, off + 14, Math.min(end, off + 14 + type), 0);
    return;
  }
  etherPayload(d, buf, type, off + 14, end, opt);
}

function etherPayload(d: Dissection, buf: Buffer, type: number, off: number, end: number, opt: DissectOptions): void {
  // 802.1Q / QinQ tags: each is its own layer with the VLAN id in aux.
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    if (end - off < 4) return fail(d, 'vlan', 'truncated 802.1Q tag');
    const tci = buf.readUInt16BE(off);
    type = buf.readUInt16BE(off + 2);
    if (!push(d, K.VLAN, off, off + 4, end, tci & 0xfff)) return;
    off += 4;
  }
  switch (type) {
    case ETHERTYPE_IPV4:
      ipv4(d, buf, off, end, opt);
      return;
    case ETHERTYPE_IPV6:
      ipv6(d, buf, off, end, opt);
      return;
    case ETHERTYPE_ARP:
      if (end - off < 8) return fail(d, 'arp', 'truncated ARP header');
      push(d, K.ARP, off, off + 8, end);
      return;
    case ETHERTYPE_LLDP:
      push(d, K.LLDP, off, off, end);
      return;
    case ETHERTYPE_SLOW:
      if (end - off >= 1 && buf[off] === 1) push(d, K.LACP, off, off, end);
      return;
    default:
      return;
  }
}

function ipv4(d: Dissection, buf: Buffer, off: number, end: number, opt: DissectOptions): void {
  if (end - off < 20) return fail(d, 'ipv4', `truncated IPv4 header (${end - off} bytes)`);
  const vihl = buf[off];
  if (vihl >> 4 !== 4) return fail(d, 'ipv4', `bad IP version ${vihl >> 4}`);
  const hl = (vihl & 15) * 4;
  if (hl < 20) return fail(d, 'ipv4', `bad header length ${hl}`);
  if (off + hl > end) return fail(d, 'ipv4', `header length ${hl} exceeds captured ${end - off}`);
  let total = buf.readUInt16BE(off + 2);
  // Total length 0 is what TSO/GSO captures show: the real length is what was captured.
  if (total === 0) total = end - off;
  if (total < hl) return fail(d, 'ipv4', `total length ${total} smaller than header length ${hl}`);
  const pend = Math.min(end, off + total);
  const fragField = buf.readUInt16BE(off + 6);
  const fragOff = fragField & 0x1fff;
  const mf = fragField & 0x2000;
  const proto = buf[off + 9];
  let aux = proto;
  if (fragOff !== 0) aux |= AUX_FRAG;
  if (mf) aux |= AUX_MF | (fragOff === 0 ? AUX_FIRSTFRAG : 0);
  if (!push(d, K.IPV4, off, off + hl, pend, aux)) return;
  // Later fragments have no upper header; a first fragment's is decoded (VXLAN over a
  // fragmenting underlay shows up this way).
  if (fragOff !== 0) return;
  upper(d, buf, proto, off + hl, pend, opt, false);
}

function ipv6(d: Dissection, buf: Buffer, off: number, end: number, opt: DissectOptions): void {
  if (end - off < 40) return fail(d, 'ipv6', `truncated IPv6 header (${end - off} bytes)`);
  if (buf[off] >> 4 !== 6) return fail(d, 'ipv6', `bad IP version ${buf[off] >> 4}`);
  const plen = buf.readUInt16BE(off + 4);
  let nh = buf[off + 6];
  const pend = plen === 0 ? end : Math.min(end, off + 40 + plen);
  let p = off + 40;
  let aux = 0;
  // Extension headers belong to the IPv6 layer; its payload starts at the upper protocol.
  for (let guard = 0; guard < 16; guard++) {
    if (nh === 0 || nh === 43 || nh === 60) {
      if (pend - p < 8) return failIp6(d, off, p, pend, nh, `truncated extension header ${nh}`);
      const len = (buf[p + 1] + 1) * 8;
      if (p + len > pend) return failIp6(d, off, p, pend, nh, `extension header ${nh} length ${len} runs past the packet`);
      nh = buf[p];
      p += len;
    } else if (nh === 44) {
      if (pend - p < 8) return failIp6(d, off, p, pend, nh, 'truncated fragment header');
      const fo = buf.readUInt16BE(p + 2);
      const next = buf[p];
      p += 8;
      if (fo & 0xfff8) aux |= AUX_FRAG;
      if (fo & 1) aux |= AUX_MF | (fo & 0xfff8 ? 0 : AUX_FIRSTFRAG);
      nh = next;
      if (aux & AUX_FRAG) {
        push(d, K.IPV6, off, p, pend, aux | nh);
        return;
      }
    } else if (nh === 51) {
      if (pend - p < 8) return failIp6(d, off, p, pend, nh, 'truncated authentication header');
      const len = (buf[p + 1] + 2) * 4;
      if (p + len > pend) return failIp6(d, off, p, pend, nh, `authentication header length ${len} runs past the packet`);
      nh = buf[p];
      p += len;
    } else break;
  }
  if (!push(d, K.IPV6, off, p, pend, aux | nh)) return;
  upper(d, buf, nh, p, pend, opt, true);
}

function failIp6(d: Dissection, off: number, p: number, pend: number, nh: number, reason: string): void {
  push(d, K.IPV6, off, p, pend, nh);
  fail(d, 'ipv6', reason);
}

function upper(d: Dissection, buf: Buffer, proto: number, off: number, end: number, opt: DissectOptions, v6: boolean): void {
  switch (proto) {
    case 6:
      tcp(d, buf, off, end);
      return;
    case 17:
      udp(d, buf, off, end, opt);
      return;
    case 1:
      if (v6) return;
      if (end - off < 4) return fail(d, 'icmp', 'truncated ICMP header');
      push(d, K.ICMP, off, off + Math.min(8, end - off), end);
      return;
    case 58:
      if (end - off < 4) return fail(d, 'icmpv6', 'truncated ICMPv6 header');
      push(d, K.ICMPV6, off, off + Math.min(8, end - off), end);
      return;
    case 89:
      if (end - off < 24) return fail(d, 'ospf', `truncated OSPF header (${end - off} bytes)`);
      push(d, K.OSPF, off, off + 24, end);
      return;
    default:
      return;
  }
}

function udp(d: Dissection, buf: Buffer, off: number, end: number, opt: DissectOptions): void {
  if (end - off < 8) return fail(d, 'udp', `truncated UDP header (${end - off} bytes)`);
  const len = buf.readUInt16BE(off + 4);
  let uend = end;
  if (len >= 8 && off + len < end) uend = off + len;
  if (!push(d, K.UDP, off, off + 8, uend)) return;
  if (len < 8 && len !== 0) return fail(d, 'udp', `bad length ${len}`);
  const sport = buf.readUInt16BE(off);
  const dport = buf.readUInt16BE(off + 2);
  const p = off + 8;
  if (opt.vxlanPorts.has(dport)) {
    if (uend - p < 8) return fail(d, 'vxlan', 'truncated VXLAN header');
    if (!push(d, K.VXLAN, p, p + 8, uend, buf.readUInt32BE(p + 4) >>> 8)) return;
    ethernet(d, buf, p + 8, uend, opt);
  } else if (opt.genevePorts.has(dport)) {
    if (uend - p < 8) return fail(d, 'geneve', 'truncated Geneve header');
    const hl = 8 + (buf[p] & 0x3f) * 4;
    if (p + hl > uend) return fail(d, 'geneve', `options length ${hl - 8} runs past the packet`);
    const ptype = buf.readUInt16BE(p + 2);
    if (!push(d, K.GENEVE, p, p + hl, uend, buf.readUInt32BE(p + 4) >>> 8)) return;
    if (ptype === 0x6558) ethernet(d, buf, p + hl, uend, opt);
    else etherPayload(d, buf, ptype, p + hl, uend, opt);
  } else if (isBfdPort(dport) || isBfdPort(sport)) {
    push(d, K.BFD, p, p, uend);
  } else if (dport === 53 || sport === 53) {
    push(d, K.DNS, p, p, uend);
  }
}

function tcp(d: Dissection, buf: Buffer, off: number, end: number): void {
  if (end - off < 20) return fail(d, 'tcp', `truncated TCP header (${end - off} bytes)`);
  const hl = (buf[off + 12] >> 4) * 4;
  if (hl < 20) {
    push(d, K.TCP, off, off + 20, end);
    return fail(d, 'tcp', `bad header length ${hl}`);
  }
  if (off + hl > end) {
    push(d, K.TCP, off, end, end);
    return fail(d, 'tcp', `header length ${hl} exceeds captured ${end - off}`);
  }
  if (!push(d, K.TCP, off, off + hl, end)) return;
  // BGP and DNS-over-TCP are stream protocols: their messages are cut out by a reassembler.
}

/** BFD single-hop 3784, multihop 4784, micro-BFD on LAG members 6784, seamless BFD 7784. */
function isBfdPort(p: number): boolean {
  return p === 3784 || p === 4784 || p === 6784 || p === 7784;
}
