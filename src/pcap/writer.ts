/**
 * Minimal capture writers (classic pcap and pcapng), used by the benchmark to generate its
 * input and by tests to build captures in every byte order and timestamp resolution.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
export interface PcapWriterOptions {
  linkType: number;
  bigEndian?: boolean;
  nanosecond?: boolean;
  snapLen?: number;
}

export function pcapHeader(o: PcapWriterOptions): Buffer {
  const b = Buffer.alloc(24);
  const w32 = (v: number, at: number) => (o.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  const w16 = (v: number, at: number) => (o.bigEndian ? b.writeUInt16BE(v, at) : b.writeUInt16LE(v, at));
  w32(o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(o.snapLen ?? 262144, 16);
  w32(o.linkType, 20);
  return b;
}

/** One record: header + data. `frac` is microseconds or nanoseconds per the file header. */
export function pcapRecord(o: PcapWriterOptions, sec: number, frac: number, data: Uint8Array, origLen = data.length): Buffer {
  const b = Buffer.alloc(16 + data.length);
  const w32 = (v: number, at: number) => (o.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
  w32(sec, 0);
  w32(frac, 4);
  w32(data.length, 8);
  w32(origLen, 12);
  b.set(data, 16);
  return b;
}

export class PcapngBuilder {
  private parts: Buffer[] = [];
  constructor(private bigEndian = false) {}

  private block(type: number, body: Buffer): this {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    body.copy(padded);
    const len = 12 + padded.length;
    const b = Buffer.alloc(len);
    const w32 = (v: number, at: number) => (this.bigEndian ? b.writeUInt32BE(v, at) : b.writeUInt32LE(v, at));
    w32(type, 0);
    w32(len, 4);
    padded.copy(b, 8);
    w32(len, len - 4);
    this.parts.push(b);
    return this;
  }

  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.bigEndian) b.writeUInt32BE(v);
    else b.writeUInt32LE(v);
    return b;
  }
  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.bigEndian) b.writeUInt16BE(v);
    else b.writeUInt16LE(v);
    return b;
  }

  section(): this {
    return this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), Buffer.alloc(8, 0xff)]));
  }

  /** tsresol: if_tsresol option byte (6 = microseconds, 9 = nanoseconds, 0x80|n = 2^-n). */
  iface(linkType: number, tsresol?: number, snapLen = 0): this {
    const opts = tsresol === undefined ? Buffer.alloc(0) : Buffer.concat([this.u16(9), this.u16(1), Buffer.from([tsresol, 0, 0, 0]), this.u16(0), this.u16(0)]);
    return this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snapLen), opts]));
  }

  /** ticks: timestamp in the interface's units, as a bigint. */
  packet(ifaceId: number, ticks: bigint, data: Uint8Array, origLen = data.length): this {
    return this.block(6, Buffer.concat([this.u32(ifaceId), this.u32(Number(ticks >> 32n)), this.u32(Number(ticks & 0xffffffffn)), this.u32(data.length), this.u32(origLen), Buffer.from(data)]));
  }

  simplePacket(data: Uint8Array, origLen = data.length): this {
    return this.block(3, Buffer.concat([this.u32(origLen), Buffer.from(data)]));
  }

  /** Any other block (NRB 4, ISB 5, custom...), which a reader must skip. */
  other(type: number, body: Buffer): this {
    return this.block(type, body);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/**
 * A classic pcap of `flows` distinct TCP flows (one SYN each, 54-byte frames, 10.x.y.z ->
 * 192.168.0.1:443) with `heavy` flows from 172.16.0.k sending a 1,500-byte segment every
 * 1,000 packets: for the flow-table bound's test and bench. Written in 4 MiB chunks.
 */
export function writeManyFlowsCapture(file: string, flows: number, heavy = 10): { packets: number; bytes: number } {
  const frame = Buffer.alloc(54);
  frame.write('020000000002020000000001', 0, 'hex');
  frame.writeUInt16BE(0x0800, 12);
  frame[14] = 0x45;
  frame.writeUInt16BE(40, 16);
  frame[22] = 64;
  frame[23] = 6;
  frame.writeUInt32BE(0xc0a80001, 30);
  frame.writeUInt16BE(443, 36);
  frame[46] = 0x50;
  frame.writeUInt16BE(65535, 48);
  const rec = 16 + frame.length;
  const chunk = Buffer.alloc(Math.floor((4 << 20) / rec) * rec);
  const fd = openSync(file, 'w');
  writeSync(fd, pcapHeader({ linkType: 1 }));
  let used = 0;
  let packets = 0;
  const put = (src: number, sport: number, flags: number, origLen: number) => {
    if (used === chunk.length) {
      writeSync(fd, chunk);
      used = 0;
    }
    chunk.writeUInt32LE(1700000000 + Math.floor(packets / 1e6), used);
    chunk.writeUInt32LE(packets % 1e6, used + 4);
    chunk.writeUInt32LE(frame.length, used + 8);
    chunk.writeUInt32LE(origLen, used + 12);
    frame.copy(chunk, used + 16);
    chunk.writeUInt32BE(src >>> 0, used + 16 + 26);
    chunk.writeUInt16BE(sport, used + 16 + 34);
    chunk.writeUInt32BE(packets, used + 16 + 38);
    chunk[used + 16 + 47] = flags;
    used += rec;
    packets++;
  };
  for (let i = 0; i < flows; i++) {
    put(0x0a000000 + i, 1024 + (i % 60000), 0x02, frame.length);
    if (heavy && i % 1000 === 999) put(0xac100000 + ((i / 1000) % heavy), 40000, 0x10, 1500);
  }
  writeSync(fd, chunk, 0, used);
  closeSync(fd);
  return { packets, bytes: 24 + packets * rec };
}
