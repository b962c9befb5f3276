/**
 * Minimal capture writers (classic pcap and pcapng), used by the benchmark to generate its
 * input and by tests to build captures in every byte order and timestamp resolution.
 */
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
