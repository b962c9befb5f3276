/** OSPFv2 (RFC 2328) packets in full; OSPFv3 (RFC 5340) hello and DBD fields the findings use. */
import { ipv4At, need } from '../bytes.ts';

export const OSPF_TYPE_NAME: Record<number, string> = { 1: 'Hello', 2: 'DBD', 3: 'LSR', 4: 'LSU', 5: 'LSAck' };

export interface LsaHeader {
  age: number;
  type: number;
  lsId: string;
  advRouter: string;
  seq: number;
  length: number;
}

export interface OspfPacket {
  version: number;
  type: number;
  typeName: string;
  length: number;
  routerId: string;
  area: string;
  hello?: {
    networkMask?: string;
    helloInterval: number;
    deadInterval: number;
    priority: number;
    options: number;
    dr: string;
    bdr: string;
    neighbors: string[];
    interfaceId?: number;
  };
  dbd?: { mtu: number; options: number; flags: number; seq: number; lsas: LsaHeader[] };
  lsr?: Array<{ type: number; lsId: string; advRouter: string }>;
  lsu?: { count: number; lsas: LsaHeader[] };
  lsack?: LsaHeader[];
}

function lsaHeader(buf: Buffer, p: number, v3: boolean): LsaHeader {
  return {
    age: buf.readUInt16BE(p),
    type: v3 ? buf.readUInt16BE(p + 2) : buf[p + 3],
    lsId: ipv4At(buf, p + 4),
    advRouter: ipv4At(buf, p + 8),
    seq: buf.readInt32BE(p + 12),
    length: buf.readUInt16BE(p + 18),
  };
}

function lsaHeaders(buf: Buffer, p: number, end: number, v3: boolean): LsaHeader[] {
  const out: LsaHeader[] = [];
  for (; p + 20 <= end; p += 20) out.push(lsaHeader(buf, p, v3));
  return out;
}

export function decodeOspf(buf: Buffer, off: number, end: number): OspfPacket {
  need(off, 16, end, 'OSPF header');
  const version = buf[off];
  const type = buf[off + 1];
  const length = buf.readUInt16BE(off + 2);
  const pkt: OspfPacket = { version, type, typeName: OSPF_TYPE_NAME[type] ?? `type-${type}`, length, routerId: ipv4At(buf, off + 4), area: ipv4At(buf, off + 8) };
  const v3 = version === 3;
  const hl = v3 ? 16 : 24;
  need(off, hl, end, 'OSPF header');
  const pend = Math.min(end, off + Math.max(length, hl));
  const p = off + hl;
  if (type === 1) {
    if (v3) {
      need(p, 20, pend, 'OSPFv3 hello');
      pkt.hello = {
        interfaceId: buf.readUInt32BE(p), priority: buf[p + 4], options: buf.readUIntBE(p + 5, 3),
        helloInterval: buf.readUInt16BE(p + 8), deadInterval: buf.readUInt16BE(p + 10),
        dr: ipv4At(buf, p + 12), bdr: ipv4At(buf, p + 16), neighbors: [],
      };
      for (let q = p + 20; q + 4 <= pend; q += 4) pkt.hello.neighbors.push(ipv4At(buf, q));
    } else {
      need(p, 20, pend, 'OSPF hello');
      pkt.hello = {
        networkMask: ipv4At(buf, p), helloInterval: buf.readUInt16BE(p + 4), options: buf[p + 6], priority: buf[p + 7],
        deadInterval: buf.readUInt32BE(p + 8), dr: ipv4At(buf, p + 12), bdr: ipv4At(buf, p + 16), neighbors: [],
      };
      for (let q = p + 20; q + 4 <= pend; q += 4) pkt.hello.neighbors.push(ipv4At(buf, q));
    }
  } else if (type === 2) {
    if (v3) {
      need(p, 12, pend, 'OSPFv3 database description');
      pkt.dbd = { options: buf.readUIntBE(p + 1, 3), mtu: buf.readUInt16BE(p + 4), flags: buf[p + 7], seq: buf.readUInt32BE(p + 8), lsas: lsaHeaders(buf, p + 12, pend, true) };
    } else {
      need(p, 8, pend, 'OSPF database description');
      pkt.dbd = { mtu: buf.readUInt16BE(p), options: buf[p + 2], flags: buf[p + 3], seq: buf.readUInt32BE(p + 4), lsas: lsaHeaders(buf, p + 8, pend, false) };
    }
  } else if (type === 3) {
    pkt.lsr = [];
    for (let q = p; q + 12 <= pend; q += 12) {
      pkt.lsr.push({ type: v3 ? buf.readUInt16BE(q + 2) : buf.readUInt32BE(q), lsId: ipv4At(buf, q + 4), advRouter: ipv4At(buf, q + 8) });
    }
  } else if (type === 4) {
    need(p, 4, pend, 'OSPF link state update');
    const count = buf.readUInt32BE(p);
    const lsas: LsaHeader[] = [];
    let q = p + 4;
    for (let i = 0; i < count && q + 20 <= pend; i++) {
      const h = lsaHeader(buf, q, v3);
      lsas.push(h);
      if (h.length < 20) break; // a zero length would loop forever
      q += h.length;
    }
    pkt.lsu = { count, lsas };
  } else if (type === 5) {
    pkt.lsack = lsaHeaders(buf, p, pend, v3);
  }
  return pkt;
}
