/**
 * RFC 6241 operation bodies (the element inside `<rpc>`). Config payloads and subtree
 * filters are caller-supplied XML and are embedded verbatim; everything else is escaped.
 */
import { escapeAttr, escapeText } from './xml.ts';

export type Datastore = 'running' | 'candidate' | 'startup';

/** A datastore, a `<url>` (:url capability) or inline configuration XML (the children of `<config>`). */
export type ConfigSource = Datastore | { url: string } | { config: string };
export type ConfigTarget = Datastore | { url: string };

/**
 * A subtree filter (XML of the filter's children, each element carrying its namespace) or
 * an XPath filter (:xpath capability) with the prefixes it uses.
 */
export type Filter = { subtree: string } | { xpath: string; namespaces?: Record<string, string> };

export type DefaultOperation = 'merge' | 'replace' | 'none';
export type ErrorOption = 'stop-on-error' | 'continue-on-error' | 'rollback-on-error';
export type TestOption = 'test-then-set' | 'set' | 'test-only';

function datastoreEl(d: Datastore): string {
  if (d !== 'running' && d !== 'candidate' && d !== 'startup') throw new TypeError(`unknown datastore '${String(d)}'`);
  return `<${d}/>`;
}

export function sourceXml(s: ConfigSource): string {
  if (typeof s === 'string') return datastoreEl(s);
  if ('url' in s) return `<url>${escapeText(s.url)}</url>`;
  return `<config>${s.config}</config>`;
}

export function targetXml(t: ConfigTarget): string {
  if (typeof t === 'string') return datastoreEl(t);
  return `<url>${escapeText(t.url)}</url>`;
}

export function filterXml(f: Filter | undefined): string {
  if (!f) return '';
  if ('subtree' in f) return `<filter type="subtree">${f.subtree}</filter>`;
  const ns = Object.entries(f.namespaces ?? {})
    .map(([p, uri]) => ` xmlns:${p}="${escapeAttr(uri)}"`)
    .join('');
  return `<filter type="xpath" select="${escapeAttr(f.xpath)}"${ns}/>`;
}

export function getOp(filter?: Filter): string {
  return `<get>${filterXml(filter)}</get>`;
}

export function getConfigOp(source: Datastore, filter?: Filter): string {
  return `<get-config><source>${datastoreEl(source)}</source>${filterXml(filter)}</get-config>`;
}

export interface EditConfigParams {
  target: Datastore;
  /** Children of `<config>`: top-level data nodes with their namespaces. Or a URL. */
  config: string | { url: string };
  defaultOperation?: DefaultOperation;
  testOption?: TestOption;
  errorOption?: ErrorOption;
}

export function editConfigOp(p: EditConfigParams): string {
  let s = `<edit-config><target>${datastoreEl(p.target)}</target>`;
  if (p.defaultOperation) s += `<default-operation>${p.defaultOperation}</default-operation>`;
  if (p.testOption) s += `<test-option>${p.testOption}</test-option>`;
  if (p.errorOption) s += `<error-option>${p.errorOption}</error-option>`;
  s += typeof p.config === 'string' ? `<config>${p.config}</config>` : `<url>${escapeText(p.config.url)}</url>`;
  return s + '</edit-config>';
}

export function copyConfigOp(target: ConfigTarget, source: ConfigSource): string {
  return `<copy-config><target>${targetXml(target)}</target><source>${sourceXml(source)}</source></copy-config>`;
}

export function deleteConfigOp(target: ConfigTarget): string {
  return `<delete-config><target>${targetXml(target)}</target></delete-config>`;
}

export function lockOp(target: Datastore): string {
  return `<lock><target>${datastoreEl(target)}</target></lock>`;
}

export function unlockOp(target: Datastore): string {
  return `<unlock><target>${datastoreEl(target)}</target></unlock>`;
}

export function validateOp(source: ConfigSource): string {
  return `<validate><source>${sourceXml(source)}</source></validate>`;
}

export interface CommitParams {
  /** Confirmed commit (:confirmed-commit): reverted unless confirmed within confirmTimeout. */
  confirmed?: boolean;
  /** Seconds; server default 600. */
  confirmTimeout?: number;
  /** Makes the confirmed commit survive this session; confirm later with persistId. */
  persist?: string;
  /** Confirms (or extends) a persistent confirmed commit from any session. */
  persistId?: string;
}

export function commitOp(p: CommitParams = {}): string {
  let s = '';
  if (p.confirmed) s += '<confirmed/>';
  if (p.confirmTimeout !== undefined) {
    if (!Number.isInteger(p.confirmTimeout) || p.confirmTimeout < 1) throw new TypeError('confirmTimeout must be a positive integer (seconds)');
    s += `<confirm-timeout>${p.confirmTimeout}</confirm-timeout>`;
  }
  if (p.persist !== undefined) s += `<persist>${escapeText(p.persist)}</persist>`;
  if (p.persistId !== undefined) s += `<persist-id>${escapeText(p.persistId)}</persist-id>`;
  return s ? `<commit>${s}</commit>` : '<commit/>';
}

export function cancelCommitOp(persistId?: string): string {
  return persistId === undefined ? '<cancel-commit/>' : `<cancel-commit><persist-id>${escapeText(persistId)}</persist-id></cancel-commit>`;
}

export function killSessionOp(sessionId: number): string {
  if (!Number.isInteger(sessionId) || sessionId < 1) throw new TypeError('session id must be a positive integer');
  return `<kill-session><session-id>${sessionId}</session-id></kill-session>`;
}
