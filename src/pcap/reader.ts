/**
 * Streaming reader for classic pcap and pcapng captures.
 *
 * Hand-written rather than `pcap-parser` because that package reads classic pcap only (no
 * pcapng, no per-interface link types or timestamp resolutions) and emits one event and one
 * Buffer per packet, which is too slow for multi-GB files. This reader keeps one reusable
 * window buffer (constant memory whatever the file size) and hands out one reused `Frame`
 * whose `buf`/`off` point into that window: decoders read in place and copy nothing.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Problem } from './problems.ts';

export interface Frame {
  /** 1-based packet number, as tcpdump and tshark count. */
  index: number;
  linkType: number;
  /** Interface number in pcapng (0 for classic pcap). */
  iface: number;
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  /** Packet bytes are buf[off, off + capLen). Valid only until the next call to next(). */
  buf: Buffer;
  off: number;
}

/** Where bytes come from: a file read in chunks, or a Buffer already in memory (tests). */
export interface ByteSource {
  /** Reads up to `len` bytes into target at `at`; returns the number read, 0 at the end. */
  read(target: Buffer, at: number, len: number): number;
  close(): void;
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  return {
    read: (t, at, len) => readSync(fd, t, at, len, null),
    close: () => closeSync(fd),
  };
}

export function bufferSource(data: Uint8Array): ByteSource {
  let pos = 0;
  return {
    read(t, at, len) {
      const n = Math.min(len, data.length - pos);
      t.set(data.subarray(pos, pos + n), at);
      pos += n;
      return n;
    },
    close() {},
  };
}

/** One record may not exceed this (corrupt length fields otherwise ask for gigabytes). */
const MAX_RECORD = 256 * 1024 * 1024;
const WINDOW = 4 * 1024 * 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;

interface Iface {
  linkType: number;
  snapLen: number;
  /** Ticks per second (10^n or 2^n). */
  unitsPerSec: number;
  tsOffset: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export class CaptureReader {
  readonly format: CaptureFormat;
  /** Problems with the file itself (truncated records, bad blocks); decoding goes on where it can. */
  readonly problems: Problem[] = [];
  private src: ByteSource;
  private win: Buffer;
  private start = 0;
  private end = 0;
  private eof = false;
  private le = true;
  private nsec = false;
  private pcapLinkType = 0;
  private ifaces: Iface[] = [];
  private count = 0;
  private done = false;
  private readonly frame: Frame;

  constructor(src: ByteSource) {
    this.src = src;
    this.win = Buffer.allocUnsafe(WINDOW);
    this.frame = { index: 0, linkType: 0, iface: 0, tsSec: 0, tsNsec: 0, capLen: 0, origLen: 0, buf: this.win, off: 0 };
    if (!this.fill(4)) throw new CaptureFormatError('file too short to be a capture');
    const magicLE = this.win.readUInt32LE(0);
    const magicBE = this.win.readUInt32BE(0);
    if (magicLE === PCAPNG_SHB) {
      this.format = 'pcapng';
      if (!this.fill(12)) throw new CaptureFormatError('truncated pcapng section header');
      const bom = this.win.readUInt32LE(8);
      if (bom === BOM) this.le = true;
      else if (this.win.readUInt32BE(8) === BOM) this.le = false;
      else throw new CaptureFormatError('pcapng section header without a valid byte-order magic');
    } else if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS || magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) {
      this.format = 'pcap';
      this.le = magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS;
      this.nsec = (this.le ? magicLE : magicBE) === PCAP_MAGIC_NS;
      if (!this.fill(24)) throw new CaptureFormatError('truncated pcap file header');
      this.pcapLinkType = this.u32(20) & 0x0fffffff; // upper bits carry FCS info
      this.start = 24;
    } else {
      throw new CaptureFormatError(`not a pcap or pcapng file (magic 0x${magicBE.toString(16).padStart(8, '0')})`);
    }
  }

  static open(path: string): CaptureReader {
    const src = fileSource(path);
    try {
      return new CaptureReader(src);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /** Link type of the first interface (classic pcap: the file's). */
  get linkType(): number {
    return this.format === 'pcap' ? this.pcapLinkType : (this.ifaces[0]?.linkType ?? -1);
  }

  get packetCount(): number {
    return this.count;
  }

  close(): void {
    this.src.close();
  }

  /** The next packet, or null at the end of the capture. The returned Frame is reused. */
  next(): Frame | null {
    if (this.done) return null;
    return this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
  }

  private u32(at: number): number {
    return this.le ? this.win.readUInt32LE(at) : this.win.readUInt32BE(at);
  }
  private u16(at: number): number {
    return this.le ? this.win.readUInt16LE(at) : this.win.readUInt16BE(at);
  }

  /** Makes sure `n` bytes are available from `start`; false when the file ends first. */
  private fill(n: number): boolean {
    if (this.end - this.start >= n) return true;
    if (n > this.win.length) {
      const bigger = Buffer.allocUnsafe(Math.max(n, this.win.length * 2));
      this.win.copy(bigger, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      this.win = bigger;
      this.frame.buf = bigger;
    } else if (this.start + n > this.win.length) {
      this.win.copy(this.win, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    while (this.end - this.start < n && !this.eof) {
      const got = this.src.read(this.win, this.end, this.win.length - this.end);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.start >= n;
  }

  private problem(reason: string): void {
    this.problems.push({ packet: this.count + 1, layer: this.format, reason });
  }

  private finish(): null {
    this.done = true;
    return null;
  }

  private nextPcap(): Frame | null {
    if (!this.fill(16)) {
      if (this.end > this.start) this.problem(`truncated record header (${this.end - this.start} of 16 bytes)`);
      return this.finish();
    }
    const s = this.start;
    const sec = this.u32(s);
    const frac = this.u32(s + 4);
    const capLen = this.u32(s + 8);
    const origLen = this.u32(s + 12);
    if (capLen > MAX_RECORD) {
      this.problem(`record claims ${capLen} captured bytes; file is corrupt from here on`);
      return this.finish();
    }
    if (!this.fill(16 + capLen)) {
      this.problem(`truncated record: ${this.end - this.start - 16} of ${capLen} bytes`);
      return this.finish();
    }
    const f = this.frame;
    f.index = ++this.count;
    f.linkType = this.pcapLinkType;
    f.iface = 0;
    f.tsSec = sec;
    f.tsNsec = this.nsec ? frac : frac * 1000;
    f.capLen = capLen;
    f.origLen = origLen;
    f.buf = this.win;
    f.off = this.start + 16;
    this.start += 16 + capLen;
    return f;
  }

  private nextPcapng(): Frame | null {
    for (;;) {
      if (!this.fill(12)) {
        if (this.end > this.start) this.problem(`truncated block header (${this.end - this.start} bytes)`);
        return this.finish();
      }
      let s = this.start;
      let type = this.u32(s);
      if (type === PCAPNG_SHB) {
        // A new section may switch byte order; its BOM decides.
        if (this.win.readUInt32LE(s + 8) === BOM) this.le = true;
        else if (this.win.readUInt32BE(s + 8) === BOM) this.le = false;
        else {
          this.problem('section header without a valid byte-order magic');
          return this.finish();
        }
        type = PCAPNG_SHB;
      }
      const len = this.u32(s + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
        this.problem(`block of type 0x${type.toString(16)} has invalid length ${len}`);
        return this.finish();
      }
      if (!this.fill(len)) {
        this.problem(`truncated block of type 0x${type.toString(16)}: ${this.end - this.start} of ${len} bytes`);
        return this.finish();
      }
      s = this.start; // fill() may have moved the window
      if (this.u32(s + len - 4) !== len) {
        this.problem(`block of type 0x${type.toString(16)}: trailing length differs from leading length`);
        return this.finish();
      }
      this.start += len;
      switch (type) {
        case PCAPNG_SHB:
          this.ifaces = [];
          break;
        case 1:
          this.readIdb(s, len);
          break;
        case 6: {
          const f = this.enhancedPacket(s, len);
          if (f) return f;
          break;
        }
        case 3: {
          const f = this.simplePacket(s, len);
          if (f) return f;
          break;
        }
        case 2: {
          const f = this.obsoletePacket(s, len);
          if (f) return f;
          break;
        }
        default:
          // NRB (4), ISB (5), DSB, custom and unknown blocks carry no packets.
          break;
      }
    }
  }

  private readIdb(s: number, len: number): void {
    if (len < 20) {
      this.problem('interface description block too short');
      this.ifaces.push({ linkType: -1, snapLen: 0, unitsPerSec: 1e6, tsOffset: 0 });
      return;
    }
    const iface: Iface = { linkType: this.u16(s + 8), snapLen: this.u32(s + 12), unitsPerSec: 1e6, tsOffset: 0 };
    let o = s + 16;
    const optEnd = s + len - 4;
    while (o + 4 <= optEnd) {
      const code = this.u16(o);
      const olen = this.u16(o + 2);
      if (code === 0) break;
      if (o + 4 + olen > optEnd) {
        this.problem('interface option runs past its block');
        break;
      }
      if (code === 9 && olen >= 1) {
        const v = this.win[o + 4];
        iface.unitsPerSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === 14 && olen >= 8) {
        const hi = this.u32(o + 4 + (this.le ? 4 : 0));
        const lo = this.u32(o + 4 + (this.le ? 0 : 4));
        iface.tsOffset = hi * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
  }

  private setTime(f: Frame, iface: Iface, hi: number, lo: number): void {
    // Long division in base 65536 keeps 64-bit tick counts exact without BigInt.
    const u = iface.unitsPerSec;
    const a = hi * 65536 + (lo >>> 16);
    const q1 = Math.floor(a / u);
    const b = (a - q1 * u) * 65536 + (lo & 0xffff);
    const q2 = Math.floor(b / u);
    const r = b - q2 * u;
    f.tsSec = q1 * 65536 + q2 + iface.tsOffset;
    f.tsNsec = u === 1e9 ? r : Math.floor((r * 1e9) / u);
  }

  private packetFrame(ifaceId: number, capLen: number, origLen: number, dataOff: number, room: number): Frame | null {
    const iface = this.ifaces[ifaceId];
    if (!iface) {
      this.problem(`packet refers to interface ${ifaceId}, which has no description block`);
      this.count++;
      return null;
    }
    if (capLen > room) {
      this.problem(`packet claims ${capLen} captured bytes but its block holds ${room}`);
      capLen = Math.max(0, room);
    }
    const f = this.frame;
    f.index = ++this.count;
    f.linkType = iface.linkType;
    f.iface = ifaceId;
    f.capLen = capLen;
    f.origLen = origLen;
    f.buf = this.win;
    f.off = dataOff;
    return f;
  }

  private enhancedPacket(s: number, len: number): Frame | null {
    if (len < 32) {
      this.problem('enhanced packet block too short');
      this.count++;
      return null;
    }
    const id = this.u32(s + 8);
    const f = this.packetFrame(id, this.u32(s + 20), this.u32(s + 24), s + 28, len - 32);
    if (f) this.setTime(f, this.ifaces[id], this.u32(s + 12), this.u32(s + 16));
    return f;
  }

  private obsoletePacket(s: number, len: number): Frame | null {
    if (len < 32) {
      this.problem('packet block too short');
      this.count++;
      return null;
    }
    const id = this.u16(s + 8);
    const f = this.packetFrame(id, this.u32(s + 20), this.u32(s + 24), s + 28, len - 32);
    if (f) this.setTime(f, this.ifaces[id], this.u32(s + 12), this.u32(s + 16));
    return f;
  }

  private simplePacket(s: number, len: number): Frame | null {
    if (len < 16) {
      this.problem('simple packet block too short');
      this.count++;
      return null;
    }
    const origLen = this.u32(s + 8);
    const snap = this.ifaces[0]?.snapLen || origLen;
    const f = this.packetFrame(0, Math.min(origLen, snap, len - 16), origLen, s + 12, len - 16);
    if (f) {
      f.tsSec = 0;
      f.tsNsec = 0;
    }
    return f;
  }
}

export class CaptureFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureFormatError';
  }
}
