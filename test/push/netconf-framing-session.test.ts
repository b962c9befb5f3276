// A deliberately broken NETCONF peer (a real SSH server from ssh2, on loopback) checks that
// malformed framing ends the session with a clear error instead of leaving RPCs hanging.
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { parseableKeyPair } from '../support/ssh-keys.ts';
import { NetconfFramingError, NetconfSession, NetconfTransportError, fingerprintSha256 } from '../../src/push/netconf/index.ts';

const { Server } = ssh2;
const HELLO_11 =
  '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>' +
  '<capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>42</session-id></hello>]]>]]>';

/** What the fake server answers to the first RPC after the hello. */
let answer: (rpc: string) => string | Buffer = () => '';
/** Write the answer one byte per SSH packet. */
let byteByByte = false;

describe('session-level framing errors', () => {
  let server: InstanceType<typeof Server>;
  let port = 0;
  const hostKey = parseableKeyPair();
  const client = parseableKeyPair();
  const hostBlob = Buffer.from(hostKey.public.split(' ')[1], 'base64');

  beforeAll(async () => {
    server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
      conn.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
      conn.on('ready', () => {
        conn.on('session', (accept) => {
          const session = accept();
          session.on('subsystem', (acc) => {
            const ch = acc();
            ch.write(HELLO_11);
            let seen = '';
            ch.on('data', (d: Buffer) => {
              seen += d.toString('utf8');
              // After the client hello, answer the first chunked rpc.
              if (seen.includes(']]>]]>') && seen.includes('<rpc ') && seen.endsWith('\n##\n')) {
                const rpc = seen;
                seen = '';
                const out = Buffer.from(answer(rpc));
                if (!byteByByte) ch.write(out);
                else for (let i = 0; i < out.length; i++) ch.write(out.subarray(i, i + 1));
              }
            });
          });
        });
      });
      conn.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const connect = (): Promise<NetconfSession> =>
    NetconfSession.connect({
      host: '127.0.0.1',
      port,
      credentials: { username: 'u', privateKey: client.private },
      hostKey: { fingerprints: [fingerprintSha256(hostBlob)] },
      connectTimeoutMs: 5000,
    });

  it('a bad chunk header rejects the pending RPC with NetconfFramingError and closes the session', async () => {
    answer = () => '\n#12x\n<rpc-reply/>\n##\n';
    const s = await connect();
    expect(s.sessionId).toBe(42);
    expect(s.framingMode).toBe('chunked');
    const err = await s.getConfig({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfFramingError);
    expect((err as Error).message).toMatch(/malformed chunked frame at byte \d+: expected chunk-size digit or LF, got "x"/);
    expect(s.isOpen).toBe(false);
    await expect(s.getConfig()).rejects.toBeInstanceOf(NetconfFramingError);
  });

  it('a well-framed but unparseable reply closes the session with a protocol error', async () => {
    answer = () => {
      const body = '<rpc-reply message-id="1"><data></rpc-reply>';
      return `\n#${Buffer.byteLength(body)}\n${body}\n##\n`;
    };
    const s = await connect();
    const err = await s.getConfig({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfTransportError);
    expect((err as NetconfTransportError).kind).toBe('protocol');
    expect((err as Error).message).toMatch(/unparseable message from server: end tag <\/rpc-reply> does not match <data>/);
  });

  it('a reply split into many chunks arriving byte by byte is reassembled', async () => {
    answer = (rpc) => {
      const id = /message-id="(\d+)"/.exec(rpc)![1];
      const body = Buffer.from(`<rpc-reply message-id="${id}" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><data><x>Zürich ✓</x></data></rpc-reply>`);
      const parts: Buffer[] = [];
      // 5-byte chunks split the multi-byte characters.
      for (let i = 0; i < body.length; i += 5) parts.push(Buffer.from(`\n#${Math.min(5, body.length - i)}\n`), body.subarray(i, i + 5));
      return Buffer.concat([...parts, Buffer.from('\n##\n')]);
    };
    byteByByte = true;
    const s = await connect();
    expect(await s.getConfig()).toBe('<x>Zürich ✓</x>');
    await s.close({ timeoutMs: 500 });
  });
});
