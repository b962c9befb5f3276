/**
 * A NETCONF session over SSH (RFC 6241 + RFC 6242) on ssh2. RPCs may be pipelined: each gets
 * a message-id and its own timeout, replies are matched by message-id.
 */
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { type CredentialsInit, Redactor, resolveAuth, type ResolvedAuth } from './credentials.ts';
import {
  NetconfError,
  NetconfFramingError,
  NetconfHostKeyError,
  NetconfRpcError,
  NetconfTimeoutError,
  NetconfTransportError,
  type RpcErrorDetail,
} from './errors.ts';
import { encodeFrame, FrameDecoder, type FramingMode } from './framing.ts';
import { type HostKeyPolicy, type HostKeyVerdict, verifyHostKey } from './hostkeys.ts';
import {
  cancelCommitOp,
  commitOp,
  type CommitParams,
  type ConfigSource,
  type ConfigTarget,
  copyConfigOp,
  type Datastore,
  deleteConfigOp,
  editConfigOp,
  type EditConfigParams,
  type Filter,
  getConfigOp,
  getOp,
  killSessionOp,
  lockOp,
  unlockOp,
  validateOp,
} from './operations.ts';
import { NETCONF_BASE_NS, parseHello, parseRpcError, scanDocument } from './xml.ts';

export const CAP_BASE_10 = 'urn:ietf:params:netconf:base:1.0';
export const CAP_BASE_11 = 'urn:ietf:params:netconf:base:1.1';

export interface NetconfConnectOptions {
  host: string;
  /** Default 830. */
  port?: number;
  credentials: CredentialsInit;
  /** Required: there is no "accept anything" mode. */
  hostKey: HostKeyPolicy;
  /** Default timeout of each RPC; default 60 s. */
  rpcTimeoutMs?: number;
  /** TCP + SSH handshake + authentication + hello; default 20 s. */
  connectTimeoutMs?: number;
  /** SSH keepalive interval; default 15 s, 0 disables. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the session is declared dead; default 3. */
  keepaliveCountMax?: number;
  /** Base protocol versions offered; default both (1.1 chunked framing when the server has it). */
  protocols?: Array<'1.0' | '1.1'>;
  /** Extra capabilities announced in the client hello. */
  clientCapabilities?: string[];
  /** Largest message accepted from the server; default 512 MiB. */
  maxMessageBytes?: number;
  /** Debug lines (SSH and NETCONF), with credentials redacted. Payloads are never logged. */
  debug?: (line: string) => void;
}

export interface RpcOptions {
  timeoutMs?: number;
}

export interface RpcReply {
  messageId: string;
  /** The whole `<rpc-reply>` as received. */
  xml: string;
  /** An `<ok/>` was present. */
  ok: boolean;
  /** Inner XML of `<data>` (get, get-config), as the server wrote it. */
  data?: string;
  /** rpc-errors of severity warning (errors make the RPC reject instead). */
  warnings: RpcErrorDetail[];
}

interface Pending {
  operation: string;
  resolve: (r: RpcReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function opName(op: string): string {
  const m = /^<\s*([A-Za-z_][\w.:-]*)/.exec(op);
  return m ? m[1] : 'rpc';
}

export class NetconfSession {
  /** session-id the server assigned in its hello. */
  readonly sessionId: number;
  readonly serverCapabilities: readonly string[];
  readonly host: string;
  readonly port: number;
  /** Host key the server presented, `SHA256:...`. */
  readonly hostKeyFingerprint: string;

  private readonly client: Client;
  private readonly channel: ClientChannel;
  private framing: FramingMode;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private readonly rpcTimeoutMs: number;
  private readonly log: ((line: string) => void) | undefined;
  private closedReason: Error | undefined;
  private closeWaiters: Array<() => void> = [];
  private closing = false;

  private constructor(init: {
    client: Client;
    channel: ClientChannel;
    decoder: FrameDecoder;
    framing: FramingMode;
    sessionId: number;
    capabilities: string[];
    opts: NetconfConnectOptions;
    redactor: Redactor;
    fingerprint: string;
  }) {
    this.client = init.client;
    this.channel = init.channel;
    this.framing = init.framing;
    this.sessionId = init.sessionId;
    this.serverCapabilities = Object.freeze([...init.capabilities]);
    this.host = init.opts.host;
    this.port = init.opts.port ?? 830;
    this.rpcTimeoutMs = init.opts.rpcTimeoutMs ?? 60_000;
    this.log = init.opts.debug;
    this.hostKeyFingerprint = init.fingerprint;
  }

  /** Opens SSH, verifies the host key, authenticates, starts the netconf subsystem and exchanges hellos. */
  static connect(opts: NetconfConnectOptions): Promise<NetconfSession> {
    const port = opts.port ?? 830;
    const where = `${opts.host}:${port}`;
    let auth: ResolvedAuth;
    try {
      auth = resolveAuth(opts.credentials);
    } catch (e) {
      return Promise.reject(new NetconfTransportError(`NETCONF ${where}: ${(e as Error).message}`, 'auth'));
    }
    const redactor = new Redactor(auth);
    const debug = opts.debug ? (l: string) => opts.debug!(redactor.redact(l)) : undefined;
    const protocols = opts.protocols ?? ['1.0', '1.1'];
    if (protocols.length === 0) return Promise.reject(new TypeError('protocols must not be empty'));

    return new Promise<NetconfSession>((resolve, reject) => {
      const client = new Client();
      let verdict: HostKeyVerdict | undefined;
      let settled = false;
      let decoder: FrameDecoder | undefined;
      let session: NetconfSession | undefined;
      // Messages that arrive before the session object exists (only the hello is expected).
      let onEarlyMessage: ((xml: string) => void) | undefined;

      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new NetconfTransportError(`NETCONF ${where}: no session within ${opts.connectTimeoutMs ?? 20_000} ms (connect, SSH handshake, authentication and hello)`, 'connect')),
        opts.connectTimeoutMs ?? 20_000,
      );

      client.on('error', (err: Error & { level?: string }) => {
        if (session) {
          session.onTransportGone(new NetconfTransportError(`NETCONF ${where}: ${redactor.redact(err.message)}`, 'closed'));
          return;
        }
        if (verdict && !verdict.ok) return fail(new NetconfHostKeyError(verdict.message, verdict.problem, verdict.fingerprint));
        if (err.level === 'client-authentication') {
          return fail(new NetconfTransportError(`NETCONF ${where}: authentication failed for user ${auth.username} (${describeMethods(auth)})`, 'auth'));
        }
        fail(new NetconfTransportError(`NETCONF ${where}: ${redactor.redact(err.message)}`, 'connect'));
      });
      client.on('close', () => {
        if (session) session.onTransportGone(new NetconfTransportError(`NETCONF session ${session.sessionId} to ${where} closed`, 'closed'));
        else fail(new NetconfTransportError(`NETCONF ${where}: connection closed before the session started`, 'connect'));
      });

      client.on('ready', () => {
        debug?.(`netconf: ssh ready to ${where}, opening subsystem`);
        client.subsys('netconf', (err, channel) => {
          if (err) return fail(new NetconfTransportError(`NETCONF ${where}: netconf subsystem refused: ${redactor.redact(err.message)}`, 'connect'));
          decoder = new FrameDecoder(
            'eom',
            (xml) => {
              if (session) session.onMessage(xml);
              else onEarlyMessage?.(xml);
            },
            opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes },
          );
          onEarlyMessage = (xml) => {
            onEarlyMessage = undefined;
            let hello;
            try {
              hello = parseHello(xml);
            } catch (e) {
              return fail(new NetconfTransportError(`NETCONF ${where}: bad server hello: ${(e as Error).message}`, 'protocol'));
            }
            if (hello.sessionId === undefined || !Number.isInteger(hello.sessionId)) {
              return fail(new NetconfTransportError(`NETCONF ${where}: server hello has no session-id`, 'protocol'));
            }
            const use11 = protocols.includes('1.1') && hello.capabilities.includes(CAP_BASE_11);
            const use10 = protocols.includes('1.0') && hello.capabilities.includes(CAP_BASE_10);
            if (!use11 && !use10) return fail(new NetconfTransportError(`NETCONF ${where}: no common base protocol version`, 'protocol'));
            const framing: FramingMode = use11 ? 'chunked' : 'eom';
            // Switch before the decoder looks at the next byte.
            decoder!.setMode(framing);
            session = new NetconfSession({
              client,
              channel,
              decoder: decoder!,
              framing,
              sessionId: hello.sessionId,
              capabilities: hello.capabilities,
              opts,
              redactor,
              fingerprint: verdict && verdict.ok ? verdict.fingerprint : '',
            });
            settled = true;
            clearTimeout(timer);
            debug?.(`netconf: session ${hello.sessionId} up (${framing} framing, ${hello.capabilities.length} capabilities)`);
            resolve(session);
          };
          channel.on('data', (chunk: Buffer) => {
            try {
              decoder!.push(chunk);
            } catch (e) {
              const fe = e instanceof NetconfFramingError ? e : new NetconfFramingError(String(e));
              if (session) session.onTransportGone(fe, true);
              else fail(fe);
            }
          });
          channel.stderr.on('data', (d: Buffer) => debug?.(`netconf: subsystem stderr: ${d.toString('utf8').trim()}`));
          channel.on('close', () => {
            if (session) session.onTransportGone(new NetconfTransportError(`NETCONF session ${session.sessionId} to ${where}: channel closed by the server`, 'closed'), true);
            else fail(new NetconfTransportError(`NETCONF ${where}: channel closed before the server hello`, 'connect'));
          });
          const caps = [...(protocols.includes('1.0') ? [CAP_BASE_10] : []), ...(protocols.includes('1.1') ? [CAP_BASE_11] : []), ...(opts.clientCapabilities ?? [])];
          const hello =
            `<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${NETCONF_BASE_NS}"><capabilities>` +
            caps.map((c) => `<capability>${c}</capability>`).join('') +
            '</capabilities></hello>';
          channel.write(encodeFrame(hello, 'eom'));
        });
      });

      const cfg: ConnectConfig = {
        host: opts.host,
        port,
        username: auth.username,
        readyTimeout: opts.connectTimeoutMs ?? 20_000,
        keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: opts.keepaliveCountMax ?? 3,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(opts.hostKey, opts.host, port, key);
          debug?.(`netconf: host key ${verdict.fingerprint} of ${where}: ${verdict.ok ? `accepted (${verdict.how})` : `refused (${verdict.problem})`}`);
          return verdict.ok;
        },
      };
      if (auth.password !== undefined) cfg.password = auth.password;
      if (auth.privateKey !== undefined) cfg.privateKey = auth.privateKey;
      if (auth.passphrase !== undefined) cfg.passphrase = auth.passphrase;
      if (auth.agent !== undefined) cfg.agent = auth.agent;
      if (debug) cfg.debug = (l: string) => debug(`ssh2: ${l}`);
      try {
        client.connect(cfg);
      } catch (e) {
        // ssh2 throws synchronously on an unreadable key or a wrong passphrase.
        fail(new NetconfTransportError(`NETCONF ${where}: ${redactor.redact((e as Error).message)}`, 'auth'));
      }
    });
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  /** Chunked (base:1.1) or end-of-message (base:1.0) framing, as negotiated. */
  get framingMode(): FramingMode {
    return this.framing;
  }

  /** Full URI, or a short name such as ':candidate' / ':confirmed-commit:1.1'. */
  hasCapability(cap: string): boolean {
    if (!cap.startsWith(':')) return this.serverCapabilities.some((c) => c === cap || c.split('?')[0] === cap);
    const short = cap.slice(1);
    const want = short.includes(':') ? [short] : [`${short}:1.0`, `${short}:1.1`];
    return this.serverCapabilities.some((c) => want.some((w) => c.split('?')[0] === `urn:ietf:params:netconf:capability:${w}`));
  }

  /** Why the session ended (undefined while open). */
  get closeReason(): Error | undefined {
    return this.closedReason;
  }

  /** Sends one operation (the element inside `<rpc>`) and resolves with its reply. */
  rpc(operationXml: string, opts: RpcOptions = {}): Promise<RpcReply> {
    const operation = opName(operationXml);
    if (this.closedReason) return Promise.reject(this.closedReason);
    const messageId = String(this.nextId++);
    const timeoutMs = opts.timeoutMs ?? this.rpcTimeoutMs;
    const xml = `<rpc message-id="${messageId}" xmlns="${NETCONF_BASE_NS}">${operationXml}</rpc>`;
    return new Promise<RpcReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(messageId)) {
          this.log?.(`netconf: ${operation} message-id ${messageId} timed out after ${timeoutMs} ms`);
          reject(new NetconfTimeoutError(operation, timeoutMs, messageId));
        }
      }, timeoutMs);
      this.pending.set(messageId, { operation, resolve, reject, timer });
      this.log?.(`netconf: -> ${operation} message-id ${messageId} (${xml.length} chars)`);
      this.channel.write(encodeFrame(xml, this.framing));
    });
  }

  /** `<get>`: config and state data. Returns the inner XML of `<data>`. */
  async get(p: { filter?: Filter } & RpcOptions = {}): Promise<string> {
    return (await this.rpc(getOp(p.filter), p)).data ?? '';
  }

  /** `<get-config>`. Returns the inner XML of `<data>`. */
  async getConfig(p: { source?: Datastore; filter?: Filter } & RpcOptions = {}): Promise<string> {
    return (await this.rpc(getConfigOp(p.source ?? 'running', p.filter), p)).data ?? '';
  }

  editConfig(p: EditConfigParams & RpcOptions): Promise<RpcReply> {
    return this.rpc(editConfigOp(p), p);
  }

  copyConfig(p: { target: ConfigTarget; source: ConfigSource } & RpcOptions): Promise<RpcReply> {
    return this.rpc(copyConfigOp(p.target, p.source), p);
  }

  deleteConfig(p: { target: ConfigTarget } & RpcOptions): Promise<RpcReply> {
    return this.rpc(deleteConfigOp(p.target), p);
  }

  lock(target: Datastore, opts: RpcOptions = {}): Promise<RpcReply> {
    return this.rpc(lockOp(target), opts);
  }

  unlock(target: Datastore, opts: RpcOptions = {}): Promise<RpcReply> {
    return this.rpc(unlockOp(target), opts);
  }

  validate(p: { source: ConfigSource } & RpcOptions): Promise<RpcReply> {
    return this.rpc(validateOp(p.source), p);
  }

  /** Plain commit, confirmed commit, or (with persistId / in the same session) its confirmation. */
  commit(p: CommitParams & RpcOptions = {}): Promise<RpcReply> {
    return this.rpc(commitOp(p), p);
  }

  cancelCommit(p: { persistId?: string } & RpcOptions = {}): Promise<RpcReply> {
    return this.rpc(cancelCommitOp(p.persistId), p);
  }

  discardChanges(opts: RpcOptions = {}): Promise<RpcReply> {
    return this.rpc('<discard-changes/>', opts);
  }

  killSession(sessionId: number, opts: RpcOptions = {}): Promise<RpcReply> {
    return this.rpc(killSessionOp(sessionId), opts);
  }

  /**
   * `<close-session>` then SSH disconnect. Never throws: a session that is already gone or
   * does not answer in time is torn down anyway.
   */
  async close(opts: RpcOptions = {}): Promise<void> {
    if (this.closedReason || this.closing) return this.waitClosed(opts.timeoutMs ?? 5000);
    this.closing = true;
    try {
      await this.rpc('<close-session/>', { timeoutMs: opts.timeoutMs ?? 5000 });
    } catch (e) {
      this.log?.(`netconf: close-session of ${this.sessionId}: ${(e as Error).message}`);
    }
    try {
      this.client.end();
    } catch {
      // already torn down
    }
    await this.waitClosed(opts.timeoutMs ?? 5000);
  }

  /** Drops the connection without close-session. */
  destroy(): void {
    this.client.destroy();
    this.onTransportGone(new NetconfTransportError(`NETCONF session ${this.sessionId} destroyed locally`, 'closed'));
  }

  private waitClosed(timeoutMs: number): Promise<void> {
    if (this.closedReason) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** @internal */
  onTransportGone(reason: NetconfError, endConnection = false): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.log?.(`netconf: session ${this.sessionId} ended: ${reason.message}`);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.pending.clear();
    if (endConnection) this.client.end();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** @internal */
  onMessage(xml: string): void {
    let doc;
    try {
      doc = scanDocument(xml);
    } catch (e) {
      this.onTransportGone(new NetconfTransportError(`NETCONF session ${this.sessionId}: unparseable message from server: ${(e as Error).message}`, 'protocol'), true);
      return;
    }
    if (doc.root.local !== 'rpc-reply') {
      this.log?.(`netconf: ignoring <${doc.root.local}> message`);
      return;
    }
    let id: string | undefined = doc.root.attrs['message-id'];
    // Some servers drop message-id on replies to malformed RPCs; unambiguous only with one pending.
    if (id === undefined && this.pending.size === 1) id = [...this.pending.keys()][0];
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) {
      this.log?.(`netconf: dropping reply for message-id ${id ?? '(none)'} (timed out or unknown)`);
      return;
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    const reply: RpcReply = { messageId: id, xml, ok: false, warnings: [] };
    const errors: RpcErrorDetail[] = [];
    for (const c of doc.children) {
      if (c.local === 'ok') reply.ok = true;
      else if (c.local === 'data') reply.data = xml.slice(c.innerStart, c.innerEnd);
      else if (c.local === 'rpc-error') {
        const d = parseRpcError(xml.slice(c.start, c.end));
        (d.severity === 'warning' ? reply.warnings : errors).push(d);
      }
    }
    this.log?.(`netconf: <- ${p.operation} message-id ${id} ${errors.length ? `${errors.length} error(s)` : reply.ok ? 'ok' : 'reply'}`);
    if (errors.length) p.reject(new NetconfRpcError(p.operation, errors, xml));
    else p.resolve(reply);
  }
}

function describeMethods(a: ResolvedAuth): string {
  const m: string[] = [];
  if (a.agent) m.push('ssh-agent');
  if (a.privateKey) m.push('public key');
  if (a.password !== undefined) m.push('password');
  return `tried ${m.join(', ')}`;
}
