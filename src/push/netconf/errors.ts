/**
 * Typed NETCONF failures. Callers (the rollout engine) branch on the class and on
 * `NetconfRpcError.tag`, never on message text. No message here ever carries a credential:
 * transport errors pass through the session's redactor before they are built.
 */
import { NetloomError } from '../../util/errors.ts';

export class NetconfError extends NetloomError {
  constructor(message: string) {
    super(message);
    this.name = 'NetconfError';
  }
}

/** One `<rpc-error>` (RFC 6241 section 4.3). */
export interface RpcErrorDetail {
  /** transport | rpc | protocol | application */
  type: string;
  /** e.g. lock-denied, invalid-value, in-use, data-missing, operation-failed */
  tag: string;
  /** error | warning */
  severity: string;
  appTag?: string;
  /** Absolute XPath of the offending node, as the server wrote it. */
  path?: string;
  message?: string;
  /** `<error-info>` children by local name (repeated names become arrays). */
  info: Record<string, unknown>;
  /** error-info/session-id: for lock-denied, the session holding the lock (0 = not a NETCONF session). */
  sessionId?: number;
  badElement?: string;
}

function describe(e: RpcErrorDetail): string {
  let s = `${e.tag}`;
  if (e.path) s += ` at ${e.path}`;
  if (e.message) s += `: ${e.message}`;
  if (e.badElement) s += ` (bad-element ${e.badElement})`;
  if (e.tag === 'lock-denied' && e.sessionId !== undefined) s += ` (held by session ${e.sessionId})`;
  return s;
}

/** The server answered an RPC with at least one rpc-error of severity error. */
export class NetconfRpcError extends NetconfError {
  readonly operation: string;
  readonly errors: RpcErrorDetail[];
  readonly replyXml: string;
  constructor(operation: string, errors: RpcErrorDetail[], replyXml: string) {
    super(`NETCONF ${operation} failed: ${errors.map(describe).join('; ')}`);
    this.name = 'NetconfRpcError';
    this.operation = operation;
    this.errors = errors;
    this.replyXml = replyXml;
  }
  /** Tag of the first error. */
  get tag(): string {
    return this.errors[0]?.tag ?? 'unknown';
  }
  get path(): string | undefined {
    return this.errors.find((e) => e.path)?.path;
  }
  /** The lock holder for lock-denied, the session id in error-info otherwise. */
  get sessionId(): number | undefined {
    return this.errors.find((e) => e.sessionId !== undefined)?.sessionId;
  }
  hasTag(tag: string): boolean {
    return this.errors.some((e) => e.tag === tag);
  }
}

/** No reply within the RPC's timeout. The session stays usable; a late reply is dropped. */
export class NetconfTimeoutError extends NetconfError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    readonly messageId: string,
  ) {
    super(`NETCONF ${operation} (message-id ${messageId}) got no reply within ${timeoutMs} ms`);
    this.name = 'NetconfTimeoutError';
  }
}

/** SSH connection, authentication or channel failure, or the session closed under a pending RPC. */
export class NetconfTransportError extends NetconfError {
  constructor(
    message: string,
    readonly kind: 'connect' | 'auth' | 'closed' | 'protocol' = 'connect',
  ) {
    super(message);
    this.name = 'NetconfTransportError';
  }
}

export type HostKeyProblem = 'unknown' | 'mismatch' | 'revoked';

/** The server's host key was not verified: the connection was refused before authenticating. */
export class NetconfHostKeyError extends NetconfError {
  constructor(
    message: string,
    readonly problem: HostKeyProblem,
    /** SHA256:... of the key the server presented (public information). */
    readonly presentedFingerprint: string,
  ) {
    super(message);
    this.name = 'NetconfHostKeyError';
  }
}

/** Malformed framing: the stream cannot be resynchronised, so the session is over. */
export class NetconfFramingError extends NetconfError {
  constructor(message: string) {
    super(message);
    this.name = 'NetconfFramingError';
  }
}
