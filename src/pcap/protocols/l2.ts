/** ARP, LACP and LLDP: the layer-2 control protocols a fabric shows. */
import { ipAt, macAt, need } from '../bytes.ts';

export interface ArpPacket {
  hwType: number;
  op: number;
  opName: string;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function decodeArp(buf: Buffer, off: number, end: number): ArpPacket {
  need(off, 8, end, 'ARP header');
  const hlen = buf[off + 4];
  const plen = buf[off + 5];
  const op = buf.readUInt16BE(off + 6);
  need(off + 8, 2 * (hlen + plen), end, 'ARP addresses');
  const p = off + 8;
  const hw = (o: number) => (hlen === 6 ? macAt(buf, o) : buf.toString('hex', o, o + hlen));
  return {
    hwType: buf.readUInt16BE(off),
    op,
    opName: op === 1 ? 'request' : op === 2 ? 'reply' : op === 3 ? 'rarp-request' : op === 4 ? 'rarp-reply' : `op-${op}`,
    senderMac: hw(p),
    senderIp: ipAt(buf, p + hlen, plen),
    targetMac: hw(p + hlen + plen),
    targetIp: ipAt(buf, p + 2 * hlen + plen, plen),
  };
}

export interface LacpActor {
  systemPriority: number;
  system: string;
  key: number;
  portPriority: number;
  port: number;
  state: number;
}

export interface LacpPacket {
  version: number;
  actor?: LacpActor;
  partner?: LacpActor;
}

export function decodeLacp(buf: Buffer, off: number, end: number): LacpPacket {
  need(off, 2, end, 'LACP header');
  const pkt: LacpPacket = { version: buf[off + 1] };
  let p = off + 2;
  while (p + 2 <= end) {
    const t = buf[p];
    const l = buf[p + 1];
    if (t === 0) break;
    if (l < 2) break;
    need(p, l, end, `LACP TLV ${t}`);
    if ((t === 1 || t === 2) && l >= 17) {
      const a: LacpActor = {
        systemPriority: buf.readUInt16BE(p + 2), system: macAt(buf, p + 4), key: buf.readUInt16BE(p + 10),
        portPriority: buf.readUInt16BE(p + 12), port: buf.readUInt16BE(p + 14), state: buf[p + 16],
      };
      if (t === 1) pkt.actor = a;
      else pkt.partner = a;
    }
    p += l;
  }
  return pkt;
}

export interface LldpPacket {
  chassisId?: string;
  portId?: string;
  ttl?: number;
  portDescription?: string;
  systemName?: string;
  mtu?: number;
  tlvs: number[];
}

function idString(buf: Buffer, p: number, len: number): string {
  const sub = buf[p];
  // Subtype 4 is a MAC address, 5 a network address; others are text.
  if (sub === 4 && len === 7) return macAt(buf, p + 1);
  if (sub === 5 && len >= 6) return ipAt(buf, p + 2, len - 2);
  return buf.toString('latin1', p + 1, p + len);
}

export function decodeLldp(buf: Buffer, off: number, end: number): LldpPacket {
  const pkt: LldpPacket = { tlvs: [] };
  let p = off;
  while (p + 2 <= end) {
    const h = buf.readUInt16BE(p);
    const t = h >> 9;
    const l = h & 0x1ff;
    p += 2;
    need(p, l, end, `LLDP TLV ${t}`);
    pkt.tlvs.push(t);
    if (t === 0) break;
    if (t === 1 && l >= 2) pkt.chassisId = idString(buf, p, l);
    else if (t === 2 && l >= 2) pkt.portId = idString(buf, p, l);
    else if (t === 3 && l >= 2) pkt.ttl = buf.readUInt16BE(p);
    else if (t === 4) pkt.portDescription = buf.toString('latin1', p, p + l);
    else if (t === 5) pkt.systemName = buf.toString('latin1', p, p + l);
    else if (t === 127 && l >= 6 && buf.readUIntBE(p, 3) === 0x00120f && buf[p + 3] === 4) pkt.mtu = buf.readUInt16BE(p + 4);
    p += l;
  }
  return pkt;
}
