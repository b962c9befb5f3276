/**
 * Full per-packet decoding: the dissector's layer chain turned into objects, BGP messages cut
 * from reassembled TCP streams, every problem recorded with packet number and layer.
 */
import { DecodeError, ipv4At, ipv6At } from './bytes.ts';
import { defaultDissectOptions, Dissection, dissect, K, KIND_NAME, type DissectOptions } from './dissect.ts';
import { decodeLayer, type BgpLayer, type Layer } from './layers.ts';
import type { Problem } from './problems.ts';
import { bgpMessageLength, decodeBgpMessage, type BgpMessage } from './protocols/bgp.ts';
import { decodeDns } from './protocols/dns.ts';
import type { Frame } from './reader.ts';

export interface DecodedPacket {
  index: number;
  /** Seconds since the epoch (microsecond-or-better fraction). */
  time: number;
  linkType: number;
  capLen: number;
  origLen: number;
  layers: Layer[];
  problems: Problem[];
}

/** Key of one TCP direction: "addr|port>addr|port". */
export function tcpDirectionKey(d: Dissection, tcpIndex: number): string {
  const ip = tcpIndex - 1;
  const buf = d.buf;
  const t = d.off[tcpIndex];
  const o = d.off[ip];
  const v4 = d.kind[ip] === K.IPV4;
  const src = v4 ? ipv4At(buf, o + 12) : ipv6At(buf, o + 8);
  const dst = v4 ? ipv4At(buf, o + 16) : ipv6At(buf, o + 24);
  return `${src}|${buf.readUInt16BE(t)}>${dst}|${buf.readUInt16BE(t + 2)}`;
}

interface StreamState {
  /** Sequence number of the SYN that opened the stream, or -1. */
  isn: number;
  nextSeq: number;
  pending: Buffer | null;
}

const MAX_PENDING = 1 << 20;
const seqLt = (a: number, b: number) => ((a - b) | 0) < 0;

/**
 * Cuts BGP messages out of TCP payloads: a message split across segments is returned with
 * the segment that completes it (as tshark shows it), retransmitted bytes are not parsed
 * twice, and a corrupt length drops the stream's buffer until the next clean segment start.
 */
export class BgpStreams {
  private streams = new Map<string, StreamState>();
  /** 4-byte ASN announced by both ends of a connection (key: sorted endpoints). */
  private asn4 = new Map<string, { a?: boolean; b?: boolean }>();

  feed(key: string, seq: number, flags: number, buf: Buffer, off: number, end: number, packet: number, problems: Problem[]): BgpMessage[] {
    const out: BgpMessage[] = [];
    let st = this.streams.get(key);
    if (flags & 0x02) {
      // The SYN takes one sequence number; data in a SYN follows it. The same SYN again is a
      // retransmission (as tshark treats it), not a new stream.
      const isn = seq;
      seq = (seq + 1) >>> 0;
      if (!st || st.isn !== isn) {
        st = { isn, nextSeq: seq, pending: null };
        this.streams.set(key, st);
      }
    }
    let len = end - off;
    if (len > 0) {
      if (!st) {
        st = { isn: -1, nextSeq: seq, pending: null };
        this.streams.set(key, st);
      }
      if (st.pending || st.nextSeq !== seq) {
        if (seqLt(seq, st.nextSeq)) {
          const overlap = (st.nextSeq - seq) >>> 0;
          if (overlap >= len) len = 0; // pure retransmission
          else {
            off += overlap;
            len -= overlap;
            seq = st.nextSeq;
          }
        } else if (seq !== st.nextSeq) {
          if (st.pending) problems.push({ packet, layer: 'bgp', reason: `${(seq - st.nextSeq) >>> 0} bytes missing from the TCP stream; partial message dropped` });
          st.pending = null;
        }
      }
      if (len > 0) {
        st.nextSeq = (seq + len) >>> 0;
        const data = st.pending ? Buffer.concat([st.pending, buf.subarray(off, off + len)]) : buf.subarray(off, off + len);
        st.pending = null;
        let p = 0;
        const ctx = { asn4: this.asn4Of(key) };
        while (data.length - p >= 19) {
          const mlen = bgpMessageLength(data, p);
          if (mlen < 0) {
            problems.push({ packet, layer: 'bgp', reason: 'no BGP marker where a message should start' });
            p = data.length;
            break;
          }
          if (mlen < 19 || mlen > 65535) {
            problems.push({ packet, layer: 'bgp', reason: `bad message length ${mlen}` });
            p = data.length;
            break;
          }
          if (data.length - p < mlen) break;
          const msg = decodeBgpMessage(data, p, p + mlen, ctx);
          if (msg.problem) problems.push({ packet, layer: 'bgp', reason: `${msg.typeName}: ${msg.problem}` });
          if (msg.open) this.noteOpen(key, msg.open.capabilities.some((c) => c.code === 65));
          out.push(msg);
          p += mlen;
        }
        if (p < data.length) {
          if (data.length - p > MAX_PENDING) problems.push({ packet, layer: 'bgp', reason: 'unfinished message larger than 1 MiB dropped' });
          else st.pending = Buffer.from(data.subarray(p)); // copy: the frame buffer is reused
        }
      }
    }
    if (flags & 0x05) this.streams.delete(key); // FIN or RST
    return out;
  }

  private connKey(key: string): { conn: string; side: 'a' | 'b' } {
    const [x, y] = key.split('>');
    return x < y ? { conn: `${x}>${y}`, side: 'a' } : { conn: `${y}>${x}`, side: 'b' };
  }

  private noteOpen(key: string, has4: boolean): void {
    const { conn, side } = this.connKey(key);
    const s = this.asn4.get(conn) ?? {};
    s[side] = has4;
    this.asn4.set(conn, s);
  }

  private asn4Of(key: string): boolean | undefined {
    const s = this.asn4.get(this.connKey(key).conn);
    if (!s || s.a === undefined || s.b === undefined) return undefined;
    return s.a && s.b;
  }
}

export interface DecoderOptions {
  /** Extra UDP ports to decode as VXLAN besides 4789 (e.g. 8472, Linux's old default). */
  vxlanPorts?: number[];
}

export function dissectOptions(o: DecoderOptions = {}): DissectOptions {
  if (!o.vxlanPorts?.length) return defaultDissectOptions;
  return { vxlanPorts: new Set([4789, ...o.vxlanPorts]), genevePorts: defaultDissectOptions.genevePorts };
}

/** Stateful decoder for one capture: feed frames in order. Never throws for bad bytes. */
export class PacketDecoder {
  readonly d = new Dissection();
  readonly bgp = new BgpStreams();
  private opt: DissectOptions;

  constructor(o: DecoderOptions = {}) {
    this.opt = dissectOptions(o);
  }

  decode(f: Frame): DecodedPacket {
    const problems: Problem[] = [];
    const layers: Layer[] = [];
    const d = this.d;
    try {
      dissect(d, f.buf, f.off, f.capLen, f.linkType, this.opt);
      if (d.problemLayer) problems.push({ packet: f.index, layer: d.problemLayer, reason: d.problemReason });
      for (let i = 0; i < d.n; i++) {
        try {
          const l = decodeLayer(d, i);
          if (l) layers.push(l);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          problems.push({ packet: f.index, layer: KIND_NAME[d.kind[i]], reason: e.message });
          break;
        }
        if (d.kind[i] === K.TCP && i === d.n - 1) this.tcpPayload(f.index, i, layers, problems);
      }
    } catch (e) {
      // A decoder bug must not stop the capture: record it like a malformed packet.
      problems.push({ packet: f.index, layer: 'decoder', reason: `internal error: ${(e as Error).message}` });
    }
    return { index: f.index, time: f.tsSec + f.tsNsec / 1e9, linkType: f.linkType, capLen: f.capLen, origLen: f.origLen, layers, problems };
  }

  private tcpPayload(packet: number, i: number, layers: Layer[], problems: Problem[]): void {
    const d = this.d;
    const buf = d.buf;
    const t = d.off[i];
    const sport = buf.readUInt16BE(t);
    const dport = buf.readUInt16BE(t + 2);
    if (sport === 179 || dport === 179) {
      const msgs = this.bgp.feed(tcpDirectionKey(d, i), buf.readUInt32BE(t + 4), buf[t + 13], buf, d.pay[i], d.end[i], packet, problems);
      for (const m of msgs) layers.push({ proto: 'bgp', ...m } as BgpLayer);
    } else if ((sport === 53 || dport === 53) && d.end[i] - d.pay[i] >= 14) {
      const p = d.pay[i];
      const len = buf.readUInt16BE(p);
      if (p + 2 + len <= d.end[i]) {
        try {
          layers.push({ proto: 'dns', ...decodeDns(buf, p + 2, p + 2 + len) });
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          problems.push({ packet, layer: 'dns', reason: e.message });
        }
      }
    }
  }
}
