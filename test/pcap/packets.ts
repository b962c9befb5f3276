/** Builders for test packets: just enough header fields to exercise decoders and findings. */
export function mac(s: string): Buffer {
  return Buffer.from(s.replace(/:/g, ''), 'hex');
}
export function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

export function eth(dst: string, src: string, type: number, payload: Buffer, vlan?: number): Buffer {
  const tag = vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, (vlan >> 8) & 0x0f, vlan & 0xff]);
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type);
  return Buffer.concat([mac(dst), mac(src), tag, t, payload]);
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { id?: number; mf?: boolean; fragOffset?: number; ttl?: number } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3), 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  ip4(src).copy(h, 12);
  ip4(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer = Buffer.alloc(0), window = 65535): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(window, 14);
  return Buffer.concat([h, payload]);
}

export function vxlan(vni: number, inner: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUInt32BE(vni << 8, 4);
  return Buffer.concat([h, inner]);
}

export function arpRequest(senderMac: string, senderIp: string, targetIp: string): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(0x0800, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(1, 6);
  mac(senderMac).copy(b, 8);
  ip4(senderIp).copy(b, 14);
  ip4(targetIp).copy(b, 24);
  return b;
}

export function bgpMessage(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

export function bgpOpen(asn: number, hold: number, routerId: string, afiSafis: Array<[number, number]>): Buffer {
  const caps: Buffer[] = [];
  for (const [afi, safi] of afiSafis) caps.push(Buffer.from([1, 4, afi >> 8, afi & 255, 0, safi]));
  const as4 = Buffer.from([65, 4, 0, 0, 0, 0]);
  as4.writeUInt32BE(asn, 2);
  caps.push(as4);
  const capBody = Buffer.concat(caps);
  const opt = Buffer.concat([Buffer.from([2, capBody.length]), capBody]);
  const b = Buffer.alloc(10);
  b[0] = 4;
  b.writeUInt16BE(asn > 65535 ? 23456 : asn, 1);
  b.writeUInt16BE(hold, 3);
  ip4(routerId).copy(b, 5);
  b[9] = opt.length;
  return bgpMessage(1, Buffer.concat([b, opt]));
}

export function ospfHello(routerId: string, area: string, mask: string, hello: number, dead: number): Buffer {
  const h = Buffer.alloc(24 + 20);
  h[0] = 2;
  h[1] = 1;
  h.writeUInt16BE(h.length, 2);
  ip4(routerId).copy(h, 4);
  ip4(area).copy(h, 8);
  ip4(mask).copy(h, 24);
  h.writeUInt16BE(hello, 28);
  h[31] = 1;
  h.writeUInt32BE(dead, 32);
  return h;
}

export function ospfDbd(routerId: string, area: string, mtu: number): Buffer {
  const h = Buffer.alloc(24 + 8);
  h[0] = 2;
  h[1] = 2;
  h.writeUInt16BE(h.length, 2);
  ip4(routerId).copy(h, 4);
  ip4(area).copy(h, 8);
  h.writeUInt16BE(mtu, 24);
  h[27] = 7;
  return h;
}
