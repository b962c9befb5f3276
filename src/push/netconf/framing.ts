/**
 * RFC 6242 message framing. NETCONF 1.0 ends every message with `]]>]]>`; NETCONF 1.1
 * (chosen when both hellos announce base:1.1) sends `\n#<len>\n<bytes>` chunks closed by
 * `\n##\n`. The decoder takes bytes as they come off the SSH channel, so any chunk boundary
 * can fall anywhere (inside a delimiter, a chunk header or a multi-byte UTF-8 character):
 * it keeps raw bytes and decodes a message to text only once it is complete.
 */
import { NetconfFramingError } from './errors.ts';

export type FramingMode = 'eom' | 'chunked';

export const EOM = ']]>]]>';
const EOM_BYTES = Buffer.from(EOM, 'latin1');
const LF = 0x0a;
const HASH = 0x23;
/** RFC 6242 section 4.2: chunk-size is at most 4294967295. */
const MAX_CHUNK_SIZE = 4294967295;

export function encodeFrame(xml: string, mode: FramingMode): Buffer {
  const body = Buffer.from(xml, 'utf8');
  if (mode === 'eom') return Buffer.concat([body, EOM_BYTES]);
  if (body.length === 0) throw new NetconfFramingError('cannot send an empty message in chunked framing');
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`, 'latin1'), body, Buffer.from('\n##\n', 'latin1')]);
}

type ChunkState =
  | 'lf' // expecting the LF that starts a chunk header or end-of-chunks
  | 'hash' // expecting '#'
  | 'size-first' // first character after '#': a digit 1-9 or '#'
  | 'size' // further digits of chunk-size, ended by LF
  | 'data' // chunk-size bytes of chunk-data
  | 'end-lf'; // LF after '##'

export interface FrameDecoderOptions {
  /** Largest message accepted; past it the decoder fails instead of buffering forever. */
  maxMessageBytes?: number;
}

/**
 * Incremental decoder. `push` may call `onMessage` several times; the callback may switch
 * the mode (after the hello) and the switch applies to the very next byte.
 */
export class FrameDecoder {
  private mode: FramingMode;
  private readonly maxBytes: number;
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Last bytes of the pending EOM message: a delimiter may start in them. */
  private eomTail: Buffer = Buffer.alloc(0);
  private state: ChunkState = 'lf';
  private chunkSize = 0;
  private chunkRemaining = 0;
  private sizeDigits = 0;
  private failed: NetconfFramingError | null = null;
  /** Bytes seen in total, for error messages. */
  private offset = 0;

  constructor(
    mode: FramingMode,
    private readonly onMessage: (xml: string) => void,
    opts: FrameDecoderOptions = {},
  ) {
    this.mode = mode;
    this.maxBytes = opts.maxMessageBytes ?? 512 * 1024 * 1024;
  }

  get framing(): FramingMode {
    return this.mode;
  }

  setMode(mode: FramingMode): void {
    if (mode === this.mode) return;
    // Leftover bytes (the peer may already have sent its first chunked message) are replayed.
    const rest = this.mode === 'eom' ? this.takeParts() : Buffer.alloc(0);
    this.mode = mode;
    this.resetChunkState();
    this.eomTail = Buffer.alloc(0);
    if (rest.length) {
      this.offset -= rest.length;
      this.push(rest);
    }
  }

  /** Bytes buffered that do not yet form a complete message. */
  get pendingBytes(): number {
    return this.partsLen;
  }

  push(data: Buffer): void {
    if (this.failed) throw this.failed;
    try {
      if (this.mode === 'eom') this.pushEom(data);
      else this.pushChunked(data);
    } catch (e) {
      if (e instanceof NetconfFramingError) this.failed = e;
      throw e;
    }
  }

  private takeParts(): Buffer {
    const b = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partsLen);
    this.parts = [];
    this.partsLen = 0;
    return b;
  }

  private addPart(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.partsLen += b.length;
    if (this.partsLen > this.maxBytes) {
      throw new NetconfFramingError(`message exceeds ${this.maxBytes} bytes without a frame end (${this.mode} framing)`);
    }
  }

  private pushEom(data: Buffer): void {
    this.offset += data.length;
    let d = data;
    while (d.length > 0) {
      // Only the new bytes plus the last few buffered ones can hold a delimiter not yet seen.
      const probe = this.eomTail.length ? Buffer.concat([this.eomTail, d]) : d;
      const k = probe.indexOf(EOM_BYTES);
      if (k < 0) {
        this.addPart(Buffer.from(d));
        this.eomTail = Buffer.from(probe.subarray(Math.max(0, probe.length - (EOM_BYTES.length - 1))));
        return;
      }
      const endInD = k - this.eomTail.length;
      let msg: Buffer;
      if (endInD >= 0) {
        this.addPart(d.subarray(0, endInD));
        msg = this.takeParts();
      } else {
        // The delimiter began in bytes already buffered.
        const all = this.takeParts();
        msg = all.subarray(0, all.length + endInD);
      }
      this.parts = [];
      this.partsLen = 0;
      this.eomTail = Buffer.alloc(0);
      d = d.subarray(endInD + EOM_BYTES.length);
      this.emit(msg.toString('utf8'));
      if (this.mode !== 'eom') {
        if (d.length) {
          this.offset -= d.length;
          this.push(Buffer.from(d));
        }
        return;
      }
    }
  }

  private emit(msg: string): void {
    // Whitespace between messages is legal padding, not a message.
    if (msg.trim().length === 0) return;
    this.onMessage(msg);
  }

  private resetChunkState(): void {
    this.state = 'lf';
    this.chunkSize = 0;
    this.chunkRemaining = 0;
    this.sizeDigits = 0;
  }

  private fail(what: string, byte: number | undefined, at: number): never {
    const shown = byte === undefined ? 'end of data' : JSON.stringify(String.fromCharCode(byte));
    throw new NetconfFramingError(`malformed chunked frame at byte ${at}: expected ${what}, got ${shown}`);
  }

  private pushChunked(data: Buffer): void {
    let i = 0;
    const n = data.length;
    while (i < n) {
      if (this.mode !== 'chunked') {
        // A callback switched the mode: the remaining bytes belong to the new framing.
        this.offset += i;
        this.push(Buffer.from(data.subarray(i)));
        return;
      }
      const at = this.offset + i;
      switch (this.state) {
        case 'lf': {
          const c = data[i++];
          if (c !== LF) this.fail('LF starting a chunk header', c, at);
          this.state = 'hash';
          break;
        }
        case 'hash': {
          const c = data[i++];
          if (c !== HASH) this.fail("'#'", c, at);
          this.state = 'size-first';
          break;
        }
        case 'size-first': {
          const c = data[i++];
          if (c === HASH) {
            if (this.partsLen === 0) this.fail('a chunk before end-of-chunks', c, at);
            this.state = 'end-lf';
          } else if (c >= 0x31 && c <= 0x39) {
            this.chunkSize = c - 0x30;
            this.sizeDigits = 1;
            this.state = 'size';
          } else {
            this.fail("chunk-size digit 1-9 or '#'", c, at);
          }
          break;
        }
        case 'size': {
          const c = data[i++];
          if (c === LF) {
            this.chunkRemaining = this.chunkSize;
            if (this.partsLen + this.chunkSize > this.maxBytes) {
              throw new NetconfFramingError(`chunked message exceeds ${this.maxBytes} bytes`);
            }
            this.state = 'data';
          } else if (c >= 0x30 && c <= 0x39) {
            this.chunkSize = this.chunkSize * 10 + (c - 0x30);
            if (++this.sizeDigits > 10 || this.chunkSize > MAX_CHUNK_SIZE) {
              this.fail(`chunk-size <= ${MAX_CHUNK_SIZE}`, c, at);
            }
          } else {
            this.fail('chunk-size digit or LF', c, at);
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.chunkRemaining, n - i);
          // Copy: the SSH layer may reuse its buffer.
          this.addPart(Buffer.from(data.subarray(i, i + take)));
          i += take;
          this.chunkRemaining -= take;
          if (this.chunkRemaining === 0) this.state = 'lf';
          break;
        }
        case 'end-lf': {
          const c = data[i++];
          if (c !== LF) this.fail("LF ending end-of-chunks '\\n##\\n'", c, at);
          const msg = this.takeParts().toString('utf8');
          this.resetChunkState();
          this.emit(msg);
          break;
        }
      }
    }
    this.offset += n;
  }
}
