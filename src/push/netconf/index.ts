/**
 * netloom's NETCONF client (RFC 6241 operations over RFC 6242 SSH framing). Public surface
 * used by the push/rollout engine; everything else in this folder is an implementation detail.
 */
export { NetconfSession, CAP_BASE_10, CAP_BASE_11 } from './session.ts';
export type { NetconfConnectOptions, RpcOptions, RpcReply } from './session.ts';
export type {
  CommitParams,
  ConfigSource,
  ConfigTarget,
  Datastore,
  DefaultOperation,
  EditConfigParams,
  ErrorOption,
  Filter,
  TestOption,
} from './operations.ts';
export {
  NetconfError,
  NetconfRpcError,
  NetconfTimeoutError,
  NetconfTransportError,
  NetconfHostKeyError,
  NetconfFramingError,
} from './errors.ts';
export type { RpcErrorDetail, HostKeyProblem } from './errors.ts';
export { credentials, credentialsFromEnv, Redactor } from './credentials.ts';
export type { Credentials, CredentialsInit } from './credentials.ts';
export { fingerprintSha256, knownHostsLine, parseKnownHosts, verifyHostKey } from './hostkeys.ts';
export type { HostKeyPolicy, HostKeyVerdict } from './hostkeys.ts';
export { xmlToObject, escapeText, escapeAttr } from './xml.ts';
