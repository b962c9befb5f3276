/** BGP-4 messages (RFC 4271) with the extensions a fabric uses: MP-BGP, EVPN, 4-byte ASN, add-path. */
import { DecodeError, ipAt, ipv4At, macAt, need, prefixAt } from '../bytes.ts';

export const BGP_TYPE_NAME: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

export const AFI_NAME: Record<number, string> = { 1: 'ipv4', 2: 'ipv6', 25: 'l2vpn', 16388: 'bgp-ls' };
export const SAFI_NAME: Record<number, string> = {
  1: 'unicast', 2: 'multicast', 4: 'labeled-unicast', 5: 'mvpn', 65: 'vpls', 70: 'evpn', 71: 'bgp-ls', 128: 'vpn', 132: 'rt-constraint', 133: 'flowspec', 134: 'flowspec-vpn',
};

export function afiSafiName(afi: number, safi: number): string {
  return `${AFI_NAME[afi] ?? `afi-${afi}`}/${SAFI_NAME[safi] ?? `safi-${safi}`}`;
}

export const CAPABILITY_NAME: Record<number, string> = {
  1: 'multiprotocol', 2: 'route-refresh', 3: 'outbound-route-filtering', 5: 'extended-nexthop', 6: 'extended-message', 7: 'bgpsec', 8: 'multiple-labels', 9: 'bgp-role',
  64: 'graceful-restart', 65: '4-byte-asn', 67: 'dynamic-capability', 69: 'add-path', 70: 'enhanced-route-refresh', 71: 'long-lived-graceful-restart',
  73: 'fqdn', 74: 'bfd', 128: 'route-refresh-cisco', 131: 'multisession-cisco',
};

export const NOTIFICATION_NAME: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired', 5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};
export const NOTIFICATION_SUBCODE_NAME: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: { 1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter', 6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 8: 'Deprecated', 11: 'Role Mismatch' },
  3: { 1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute', 4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute', 9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH' },
  5: { 1: 'Receive Unexpected Message in OpenSent State', 2: 'Receive Unexpected Message in OpenConfirm State', 3: 'Receive Unexpected Message in Established State' },
  6: { 1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset', 5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources', 9: 'Hard Reset', 10: 'BFD Down' },
  7: { 1: 'Invalid Message Length' },
};

export function notificationName(code: number, subcode: number): string {
  const c = NOTIFICATION_NAME[code] ?? `code ${code}`;
  const s = NOTIFICATION_SUBCODE_NAME[code]?.[subcode] ?? (subcode ? `subcode ${subcode}` : '');
  return s ? `${c} / ${s}` : c;
}

export interface BgpCapability {
  code: number;
  name: string;
  afi?: number;
  safi?: number;
  asn?: number;
  addPath?: Array<{ afi: number; safi: number; mode: 'receive' | 'send' | 'send/receive' | string }>;
}

export interface BgpOpen {
  version: number;
  myAs: number;
  holdTime: number;
  routerId: string;
  capabilities: BgpCapability[];
  /** The 4-byte ASN capability if present, else myAs. */
  asn: number;
  afiSafis: Array<{ afi: number; safi: number }>;
}

export interface EvpnRoute {
  routeType: number;
  rd: string;
  esi?: string;
  ethTag?: number;
  mac?: string;
  ip?: string;
  prefix?: string;
  gateway?: string;
  label?: number;
  originator?: string;
}

export interface BgpUpdate {
  withdrawn: string[];
  attributes: Array<{ type: number; name: string; flags: number; length: number; value?: unknown }>;
  nlri: string[];
  mpReach?: { afi: number; safi: number; nextHop: string[]; nlri: string[]; evpn?: EvpnRoute[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: string[]; evpn?: EvpnRoute[] };
  asPath?: number[];
}

export interface BgpNotification {
  code: number;
  subcode: number;
  reason: string;
  /** Shutdown communication (RFC 9003) when the Cease carries one. */
  message?: string;
}

export interface BgpMessage {
  type: number;
  typeName: string;
  length: number;
  open?: BgpOpen;
  update?: BgpUpdate;
  notification?: BgpNotification;
  routeRefresh?: { afi: number; safi: number; subtype: number };
  /** A problem inside this message; the header (type, length) was still readable. */
  problem?: string;
}

/** Length of the BGP message at off, or -1 if the header is not a BGP header. */
export function bgpMessageLength(buf: Buffer, off: number): number {
  for (let i = 0; i < 16; i++) if (buf[off + i] !== 0xff) return -1;
  return buf.readUInt16BE(off + 16);
}

export interface BgpContext {
  /** Both ends announced 4-byte ASN: AS_PATH uses 4-byte numbers. Undefined = guess. */
  asn4?: boolean;
}

export function decodeBgpMessage(buf: Buffer, off: number, end: number, ctx: BgpContext = {}): BgpMessage {
  need(off, 19, end, 'BGP header');
  const length = buf.readUInt16BE(off + 16);
  const type = buf[off + 18];
  const msg: BgpMessage = { type, typeName: BGP_TYPE_NAME[type] ?? `type-${type}`, length };
  const mend = Math.min(end, off + length);
  const p = off + 19;
  try {
    if (length < 19) throw new DecodeError(`message length ${length} below the 19-byte header`);
    if (off + length > end) throw new DecodeError(`message length ${length} but only ${end - off} bytes`);
    if (type === 1) msg.open = decodeOpen(buf, p, mend);
    else if (type === 2) msg.update = decodeUpdate(buf, p, mend, ctx);
    else if (type === 3) msg.notification = decodeNotification(buf, p, mend);
    else if (type === 5) {
      need(p, 4, mend, 'ROUTE-REFRESH');
      msg.routeRefresh = { afi: buf.readUInt16BE(p), subtype: buf[p + 2], safi: buf[p + 3] };
    } else if (type !== 4) throw new DecodeError(`unknown message type ${type}`);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    msg.problem = e.message;
  }
  return msg;
}

function decodeOpen(buf: Buffer, p: number, end: number): BgpOpen {
  need(p, 10, end, 'OPEN');
  const open: BgpOpen = {
    version: buf[p],
    myAs: buf.readUInt16BE(p + 1),
    holdTime: buf.readUInt16BE(p + 3),
    routerId: ipv4At(buf, p + 5),
    capabilities: [],
    asn: 0,
    afiSafis: [],
  };
  open.asn = open.myAs;
  let optLen = buf[p + 9];
  let q = p + 10;
  let extended = false;
  // RFC 9072: a 255 length followed by type 255 means 2-byte lengths follow.
  if (optLen === 255 && q < end && buf[q] === 255) {
    need(q, 3, end, 'extended optional parameters length');
    optLen = buf.readUInt16BE(q + 1);
    q += 3;
    extended = true;
  }
  const oend = q + optLen;
  if (oend > end) throw new DecodeError(`optional parameters length ${optLen} runs past the message`);
  while (q < oend) {
    need(q, extended ? 3 : 2, oend, 'optional parameter');
    const ptype = buf[q];
    const plen = extended ? buf.readUInt16BE(q + 1) : buf[q + 1];
    q += extended ? 3 : 2;
    need(q, plen, oend, 'optional parameter value');
    if (ptype === 2) decodeCapabilities(buf, q, q + plen, open);
    q += plen;
  }
  return open;
}

function decodeCapabilities(buf: Buffer, q: number, end: number, open: BgpOpen): void {
  while (q < end) {
    need(q, 2, end, 'capability');
    const code = buf[q];
    const len = buf[q + 1];
    q += 2;
    need(q, len, end, `capability ${code}`);
    const cap: BgpCapability = { code, name: CAPABILITY_NAME[code] ?? `capability-${code}` };
    if (code === 1 && len >= 4) {
      cap.afi = buf.readUInt16BE(q);
      cap.safi = buf[q + 3];
      open.afiSafis.push({ afi: cap.afi, safi: cap.safi });
    } else if (code === 65 && len >= 4) {
      cap.asn = buf.readUInt32BE(q);
      open.asn = cap.asn;
    } else if (code === 69) {
      cap.addPath = [];
      for (let i = q; i + 4 <= q + len; i += 4) {
        const m = buf[i + 3];
        cap.addPath.push({ afi: buf.readUInt16BE(i), safi: buf[i + 2], mode: m === 1 ? 'receive' : m === 2 ? 'send' : m === 3 ? 'send/receive' : `mode-${m}` });
      }
    }
    open.capabilities.push(cap);
    q += len;
  }
}

const ATTR_NAME: Record<number, string> = {
  1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP', 4: 'MULTI_EXIT_DISC', 5: 'LOCAL_PREF', 6: 'ATOMIC_AGGREGATE', 7: 'AGGREGATOR', 8: 'COMMUNITIES', 9: 'ORIGINATOR_ID', 10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI', 15: 'MP_UNREACH_NLRI', 16: 'EXTENDED_COMMUNITIES', 17: 'AS4_PATH', 18: 'AS4_AGGREGATOR', 22: 'PMSI_TUNNEL', 23: 'TUNNEL_ENCAPSULATION', 26: 'AIGP', 32: 'LARGE_COMMUNITY', 33: 'BGPSEC_PATH', 128: 'ATTR_SET',
};

function decodeUpdate(buf: Buffer, p: number, end: number, ctx: BgpContext): BgpUpdate {
  need(p, 2, end, 'UPDATE withdrawn routes length');
  const wlen = buf.readUInt16BE(p);
  p += 2;
  need(p, wlen, end, 'withdrawn routes');
  const upd: BgpUpdate = { withdrawn: decodePrefixes(buf, p, p + wlen, 4), attributes: [], nlri: [] };
  p += wlen;
  need(p, 2, end, 'path attributes length');
  const alen = buf.readUInt16BE(p);
  p += 2;
  need(p, alen, end, 'path attributes');
  const aend = p + alen;
  while (p < aend) {
    need(p, 3, aend, 'path attribute header');
    const flags = buf[p];
    const type = buf[p + 1];
    let len: number;
    if (flags & 0x10) {
      need(p, 4, aend, 'extended-length path attribute header');
      len = buf.readUInt16BE(p + 2);
      p += 4;
    } else {
      len = buf[p + 2];
      p += 3;
    }
    need(p, len, aend, `path attribute ${ATTR_NAME[type] ?? type}`);
    const attr: BgpUpdate['attributes'][number] = { type, name: ATTR_NAME[type] ?? `attr-${type}`, flags, length: len };
    const vend = p + len;
    if (type === 1 && len >= 1) attr.value = ['IGP', 'EGP', 'INCOMPLETE'][buf[p]] ?? buf[p];
    else if (type === 2 || type === 17) {
      const path = decodeAsPath(buf, p, vend, type === 17 ? true : ctx.asn4);
      attr.value = path;
      if (type === 2) upd.asPath = path;
    } else if (type === 3 && len === 4) attr.value = ipv4At(buf, p);
    else if ((type === 4 || type === 5) && len === 4) attr.value = buf.readUInt32BE(p);
    else if (type === 8) {
      const c: string[] = [];
      for (let i = p; i + 4 <= vend; i += 4) c.push(`${buf.readUInt16BE(i)}:${buf.readUInt16BE(i + 2)}`);
      attr.value = c;
    } else if (type === 14) upd.mpReach = decodeMpReach(buf, p, vend);
    else if (type === 15) upd.mpUnreach = decodeMpUnreach(buf, p, vend);
    else if (type === 16) attr.value = decodeExtCommunities(buf, p, vend);
    upd.attributes.push(attr);
    p = vend;
  }
  upd.nlri = decodePrefixes(buf, p, end, 4);
  return upd;
}

/** AS_PATH segments; 2- vs 4-byte numbers guessed the way tcpdump does when the session is unknown. */
function decodeAsPath(buf: Buffer, p: number, end: number, asn4: boolean | undefined): number[] {
  let size = asn4 === undefined ? 0 : asn4 ? 4 : 2;
  if (size === 0) {
    size = 2;
    for (const s of [2, 4]) {
      let q = p;
      while (q + 2 <= end) q += 2 + buf[q + 1] * s;
      if (q === end) {
        size = s;
        break;
      }
    }
  }
  const out: number[] = [];
  while (p < end) {
    need(p, 2, end, 'AS_PATH segment');
    const n = buf[p + 1];
    p += 2;
    need(p, n * size, end, 'AS_PATH segment ASNs');
    for (let i = 0; i < n; i++) out.push(size === 4 ? buf.readUInt32BE(p + i * 4) : buf.readUInt16BE(p + i * 2));
    p += n * size;
  }
  return out;
}

function decodeExtCommunities(buf: Buffer, p: number, end: number): string[] {
  const out: string[] = [];
  for (let i = p; i + 8 <= end; i += 8) {
    const t = buf[i];
    const st = buf[i + 1];
    if (t === 0x06 && st === 0x00) out.push(`mac-mobility:${buf.readUInt32BE(i + 4)}`);
    else if (t === 0x03 && st === 0x0c) out.push(`encap:${buf.readUInt16BE(i + 6)}`);
    else if ((t & 0x3f) === 0x00 && st === 0x02) out.push(`rt:${buf.readUInt16BE(i + 2)}:${buf.readUInt32BE(i + 4)}`);
    else if ((t & 0x3f) === 0x02 && st === 0x02) out.push(`rt:${buf.readUInt32BE(i + 2)}:${buf.readUInt16BE(i + 6)}`);
    else if ((t & 0x3f) === 0x01 && st === 0x02) out.push(`rt:${ipv4At(buf, i + 2)}:${buf.readUInt16BE(i + 6)}`);
    else out.push(buf.toString('hex', i, i + 8));
  }
  return out;
}

function decodePrefixes(buf: Buffer, p: number, end: number, family: 4 | 6): string[] {
  const out: string[] = [];
  const max = family === 4 ? 32 : 128;
  while (p < end) {
    const bits = buf[p];
    if (bits > max) throw new DecodeError(`prefix length ${bits} exceeds ${max}`);
    need(p + 1, Math.ceil(bits / 8), end, 'prefix');
    out.push(prefixAt(buf, p + 1, bits, family));
    p += 1 + Math.ceil(bits / 8);
  }
  return out;
}

function rdAt(buf: Buffer, p: number): string {
  const t = buf.readUInt16BE(p);
  if (t === 0) return `${buf.readUInt16BE(p + 2)}:${buf.readUInt32BE(p + 4)}`;
  if (t === 1) return `${ipv4At(buf, p + 2)}:${buf.readUInt16BE(p + 6)}`;
  if (t === 2) return `${buf.readUInt32BE(p + 2)}:${buf.readUInt16BE(p + 6)}`;
  return buf.toString('hex', p, p + 8);
}

function decodeEvpn(buf: Buffer, p: number, end: number): EvpnRoute[] {
  const out: EvpnRoute[] = [];
  while (p < end) {
    need(p, 2, end, 'EVPN route header');
    const rt = buf[p];
    const len = buf[p + 1];
    const q = p + 2;
    need(q, len, end, `EVPN route type ${rt}`);
    const r: EvpnRoute = { routeType: rt, rd: len >= 8 ? rdAt(buf, q) : '' };
    if (rt === 2) {
      need(q, 33, q + len, 'EVPN MAC/IP route');
      r.esi = buf.toString('hex', q + 8, q + 18);
      r.ethTag = buf.readUInt32BE(q + 18);
      const macBits = buf[q + 22];
      if (macBits !== 48) throw new DecodeError(`EVPN MAC length ${macBits}`);
      r.mac = macAt(buf, q + 23);
      const ipBits = buf[q + 29];
      const ipLen = ipBits / 8;
      if (ipLen !== 0 && ipLen !== 4 && ipLen !== 16) throw new DecodeError(`EVPN IP length ${ipBits}`);
      need(q + 30, ipLen + 3, q + len, 'EVPN MAC/IP route address and label');
      if (ipLen) r.ip = ipAt(buf, q + 30, ipLen);
      r.label = buf.readUIntBE(q + 30 + ipLen, 3) >> 4;
    } else if (rt === 3) {
      need(q, 13, q + len, 'EVPN inclusive multicast route');
      r.ethTag = buf.readUInt32BE(q + 8);
      const ipLen = buf[q + 12] / 8;
      need(q + 13, ipLen, q + len, 'EVPN originator address');
      if (ipLen === 4 || ipLen === 16) r.originator = ipAt(buf, q + 13, ipLen);
    } else if (rt === 5) {
      const al = len === 34 ? 4 : len === 58 ? 16 : 0;
      if (!al) throw new DecodeError(`EVPN IP prefix route length ${len}`);
      r.esi = buf.toString('hex', q + 8, q + 18);
      r.ethTag = buf.readUInt32BE(q + 18);
      const bits = buf[q + 22];
      if (bits > al * 8) throw new DecodeError(`EVPN prefix length ${bits}`);
      r.prefix = `${ipAt(buf, q + 23, al)}/${bits}`;
      r.gateway = ipAt(buf, q + 23 + al, al);
      r.label = buf.readUIntBE(q + 23 + 2 * al, 3) >> 4;
    }
    out.push(r);
    p = q + len;
  }
  return out;
}

function decodeNlri(buf: Buffer, p: number, end: number, afi: number, safi: number): { nlri: string[]; evpn?: EvpnRoute[] } {
  if (afi === 25 && safi === 70) {
    const evpn = decodeEvpn(buf, p, end);
    return { nlri: evpn.map((r) => `type-${r.routeType} ${r.rd}${r.mac ? ' ' + r.mac : ''}${r.ip ? ' ' + r.ip : ''}${r.prefix ? ' ' + r.prefix : ''}${r.originator ? ' ' + r.originator : ''}`), evpn };
  }
  if ((afi === 1 || afi === 2) && (safi === 1 || safi === 2)) return { nlri: decodePrefixes(buf, p, end, afi === 1 ? 4 : 6) };
  return { nlri: [] };
}

function decodeMpReach(buf: Buffer, p: number, end: number): NonNullable<BgpUpdate['mpReach']> {
  need(p, 5, end, 'MP_REACH_NLRI');
  const afi = buf.readUInt16BE(p);
  const safi = buf[p + 2];
  const nhLen = buf[p + 3];
  need(p + 4, nhLen + 1, end, 'MP_REACH_NLRI next hop');
  const nextHop: string[] = [];
  const nh = p + 4;
  // VPN next hops carry an 8-byte zero RD before each address.
  const rdLen = safi === 128 || safi === 129 ? 8 : 0;
  if (nhLen === 4 + rdLen || nhLen === 16 + rdLen) nextHop.push(ipAt(buf, nh + rdLen, nhLen - rdLen));
  else if (nhLen === 32 + 2 * rdLen) nextHop.push(ipAt(buf, nh + rdLen, 16), ipAt(buf, nh + 16 + 2 * rdLen, 16));
  const q = nh + nhLen + 1;
  return { afi, safi, nextHop, ...decodeNlri(buf, q, end, afi, safi) };
}

function decodeMpUnreach(buf: Buffer, p: number, end: number): NonNullable<BgpUpdate['mpUnreach']> {
  need(p, 3, end, 'MP_UNREACH_NLRI');
  const afi = buf.readUInt16BE(p);
  const safi = buf[p + 2];
  const r = decodeNlri(buf, p + 3, end, afi, safi);
  return { afi, safi, withdrawn: r.nlri, evpn: r.evpn };
}

function decodeNotification(buf: Buffer, p: number, end: number): BgpNotification {
  need(p, 2, end, 'NOTIFICATION');
  const code = buf[p];
  const subcode = buf[p + 1];
  const n: BgpNotification = { code, subcode, reason: notificationName(code, subcode) };
  if (code === 6 && (subcode === 2 || subcode === 4) && end > p + 2) {
    const l = buf[p + 2];
    if (l > 0 && p + 3 + l <= end) n.message = buf.toString('utf8', p + 3, p + 3 + l);
  }
  return n;
}
