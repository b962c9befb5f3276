import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../src/push/netconf/framing.ts';
import { NetconfFramingError } from '../../src/push/netconf/errors.ts';

const msgs = [
  '<rpc-reply message-id="1" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><ok/></rpc-reply>',
  // Multi-byte UTF-8 and text that looks like framing inside a message body.
  '<rpc-reply message-id="2"><data><description>Zürich ✓ — \n#12\n ##</description></data></rpc-reply>',
  '<rpc-reply message-id="3"><data>' + 'x'.repeat(70_000) + '</data></rpc-reply>',
];

function collect(mode: 'eom' | 'chunked'): { dec: FrameDecoder; out: string[] } {
  const out: string[] = [];
  const dec = new FrameDecoder(mode, (m) => out.push(m));
  return { dec, out };
}

function byteAtATime(dec: FrameDecoder, b: Buffer): void {
  for (let i = 0; i < b.length; i++) dec.push(b.subarray(i, i + 1));
}

/** RFC 6242 section 4.2 allows splitting a message into any number of chunks. */
function multiChunk(xml: string, sizes: number[]): Buffer {
  const body = Buffer.from(xml, 'utf8');
  const parts: Buffer[] = [];
  let off = 0;
  let k = 0;
  while (off < body.length) {
    const n = Math.min(sizes[k++ % sizes.length], body.length - off);
    parts.push(Buffer.from(`\n#${n}\n`), body.subarray(off, off + n));
    off += n;
  }
  parts.push(Buffer.from('\n##\n'));
  return Buffer.concat(parts);
}

describe('NETCONF framing (RFC 6242)', () => {
  for (const mode of ['eom', 'chunked'] as const) {
    it(`${mode}: decodes messages fed one byte at a time`, () => {
      const { dec, out } = collect(mode);
      byteAtATime(dec, Buffer.concat(msgs.map((m) => encodeFrame(m, mode))));
      expect(out).toEqual(msgs);
      expect(dec.pendingBytes).toBe(0);
    });

    it(`${mode}: decodes messages fed in one buffer and at every split point`, () => {
      const all = Buffer.concat(msgs.slice(0, 2).map((m) => encodeFrame(m, mode)));
      for (let cut = 0; cut <= all.length; cut++) {
        const { dec, out } = collect(mode);
        dec.push(all.subarray(0, cut));
        dec.push(all.subarray(cut));
        expect(out, `split at ${cut}`).toEqual(msgs.slice(0, 2));
      }
    });
  }

  it('chunked: a message split into many chunks of odd sizes, splitting UTF-8 characters, byte at a time', () => {
    const { dec, out } = collect('chunked');
    byteAtATime(dec, Buffer.concat([multiChunk(msgs[1], [1, 2, 3, 7]), multiChunk(msgs[0], [1000])]));
    expect(out).toEqual([msgs[1], msgs[0]]);
  });

  it('chunked: encodes byte length (not string length) per RFC 6242', () => {
    const f = encodeFrame('<a>ü</a>', 'chunked').toString('utf8');
    expect(f).toBe('\n#9\n<a>ü</a>\n##\n');
  });

  it('switches from EOM to chunked after the hello, with the next message in the same buffer', () => {
    const hello = '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities/></hello>';
    const out: string[] = [];
    const dec = new FrameDecoder('eom', (m) => {
      out.push(m);
      if (out.length === 1) dec.setMode('chunked');
    });
    const wire = Buffer.concat([encodeFrame(hello, 'eom'), encodeFrame(msgs[0], 'chunked'), encodeFrame(msgs[1], 'chunked')]);
    byteAtATime(dec, wire);
    expect(out).toEqual([hello, msgs[0], msgs[1]]);
    const out2: string[] = [];
    const dec2 = new FrameDecoder('eom', (m) => {
      out2.push(m);
      if (out2.length === 1) dec2.setMode('chunked');
    });
    dec2.push(wire);
    expect(out2).toEqual([hello, msgs[0], msgs[1]]);
  });

  it('EOM: a delimiter split across pushes is found, whitespace between messages is ignored', () => {
    const { dec, out } = collect('eom');
    dec.push(Buffer.from('<a/>]]>'));
    expect(out).toEqual([]);
    dec.push(Buffer.from(']]>\n  <b/>]'));
    dec.push(Buffer.from(']>]]>\n'));
    expect(out).toEqual(['<a/>', '\n  <b/>']);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['missing LF before #', '#4\nabcd\n##\n', /expected LF starting a chunk header, got "#"/],
    ['missing #', '\n4\nabcd\n##\n', /expected '#', got "4"/],
    ['leading zero in chunk-size', '\n#04\nabcd\n##\n', /chunk-size digit 1-9/],
    ['zero chunk-size', '\n#0\n\n##\n', /chunk-size digit 1-9/],
    ['non-digit in chunk-size', '\n#4x\nabcd\n##\n', /chunk-size digit or LF, got "x"/],
    ['chunk-size too large', '\n#4294967296\n', /chunk-size <= 4294967295/],
    ['end-of-chunks with no chunk', '\n##\n', /a chunk before end-of-chunks/],
    ['bad end-of-chunks', '\n#4\nabcd\n##x', /LF ending end-of-chunks/],
    ['data longer than chunk-size', '\n#2\nabcd\n##\n', /expected LF starting a chunk header, got "c"/],
  ];
  for (const [name, wire, re] of malformed) {
    it(`chunked: rejects ${name} with a clear error, fed whole or byte by byte`, () => {
      for (const feed of ['whole', 'bytes'] as const) {
        const { dec, out } = collect('chunked');
        const push = (): void => (feed === 'whole' ? dec.push(Buffer.from(wire)) : byteAtATime(dec, Buffer.from(wire)));
        expect(push).toThrow(NetconfFramingError);
        expect(() => dec.push(Buffer.from('\n#1\na\n##\n')), 'decoder stays failed').toThrow(re);
        expect(out).toEqual([]);
      }
    });
  }

  it('fails instead of buffering forever when a message exceeds maxMessageBytes', () => {
    for (const mode of ['eom', 'chunked'] as const) {
      const dec = new FrameDecoder(mode, () => undefined, { maxMessageBytes: 1000 });
      const wire = mode === 'eom' ? Buffer.alloc(600, 0x61) : Buffer.from(`\n#600\n${'a'.repeat(600)}`);
      dec.push(wire);
      const more = mode === 'eom' ? Buffer.alloc(600, 0x61) : Buffer.from(`\n#600\n`);
      expect(() => dec.push(more)).toThrow(/exceeds 1000 bytes/);
    }
  });

  it('refuses to encode an empty chunked message', () => {
    expect(() => encodeFrame('', 'chunked')).toThrow(NetconfFramingError);
  });
});
