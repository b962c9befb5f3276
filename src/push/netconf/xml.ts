/**
 * XML helpers for NETCONF messages. Replies are routed with a single linear scan of the
 * root element and its direct children (message-id, ok, data, rpc-error) so a large
 * `<data>` is handed back as the server's own text without building a tree; only
 * `<rpc-error>` and `<hello>` go through fast-xml-parser.
 */
import { XMLParser } from 'fast-xml-parser';
import type { RpcErrorDetail } from './errors.ts';

export const NETCONF_BASE_NS = 'urn:ietf:params:xml:ns:netconf:base:1.0';

export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;');
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITY[e] ?? m;
  });
}

export interface ScannedElement {
  /** Name as written, with any prefix. */
  qname: string;
  /** Name without prefix. */
  local: string;
  attrs: Record<string, string>;
  /** Offsets into the scanned text: whole element [start, end), content [innerStart, innerEnd). */
  start: number;
  end: number;
  innerStart: number;
  innerEnd: number;
}

export interface ScannedDocument {
  root: ScannedElement;
  children: ScannedElement[];
}

const ATTR_RE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTR_RE.lastIndex = 0;
  for (let m = ATTR_RE.exec(s); m; m = ATTR_RE.exec(s)) out[m[1]] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

function localName(q: string): string {
  const i = q.indexOf(':');
  return i < 0 ? q : q.slice(i + 1);
}

export class XmlScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlScanError';
  }
}

/** Finds the end of a start or end tag beginning at `lt`, skipping quoted attribute values. */
function tagEnd(xml: string, lt: number): number {
  let q = 0;
  for (let i = lt + 1; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (q) {
      if (c === q) q = 0;
    } else if (c === 0x22 || c === 0x27) q = c;
    else if (c === 0x3e) return i;
  }
  throw new XmlScanError('unterminated tag');
}

function skipTo(xml: string, from: number, needle: string, what: string): number {
  const i = xml.indexOf(needle, from);
  if (i < 0) throw new XmlScanError(`unterminated ${what}`);
  return i + needle.length;
}

/** Root element and its direct children, with source offsets. Well-formedness is not fully checked. */
export function scanDocument(xml: string): ScannedDocument {
  let root: ScannedElement | undefined;
  const children: ScannedElement[] = [];
  const stack: string[] = [];
  let current: ScannedElement | undefined;
  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    const c1 = xml.charCodeAt(lt + 1);
    if (c1 === 0x3f /* ? */) {
      i = skipTo(xml, lt, '?>', 'processing instruction');
      continue;
    }
    if (c1 === 0x21 /* ! */) {
      if (xml.startsWith('<!--', lt)) i = skipTo(xml, lt, '-->', 'comment');
      else if (xml.startsWith('<![CDATA[', lt)) i = skipTo(xml, lt, ']]>', 'CDATA section');
      else throw new XmlScanError('DOCTYPE is not allowed in NETCONF messages');
      continue;
    }
    const gt = tagEnd(xml, lt);
    if (c1 === 0x2f /* / */) {
      const name = xml.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (open !== name) throw new XmlScanError(`end tag </${name}> does not match <${open ?? ''}>`);
      if (stack.length === 1 && current) {
        current.innerEnd = lt;
        current.end = gt + 1;
        children.push(current);
        current = undefined;
      } else if (stack.length === 0 && root) {
        root.innerEnd = lt;
        root.end = gt + 1;
        return { root, children };
      }
      i = gt + 1;
      continue;
    }
    const selfClosing = xml.charCodeAt(gt - 1) === 0x2f;
    const body = xml.slice(lt + 1, selfClosing ? gt - 1 : gt);
    const sp = body.search(/\s/);
    const qname = sp < 0 ? body : body.slice(0, sp);
    if (stack.length <= 1) {
      const el: ScannedElement = {
        qname,
        local: localName(qname),
        attrs: sp < 0 ? {} : parseAttrs(body.slice(sp)),
        start: lt,
        end: gt + 1,
        innerStart: gt + 1,
        innerEnd: gt + 1,
      };
      if (stack.length === 0) {
        if (root) throw new XmlScanError('more than one root element');
        root = el;
        if (selfClosing) return { root, children };
      } else if (selfClosing) children.push(el);
      else current = el;
    }
    if (!selfClosing) stack.push(qname);
    i = gt + 1;
  }
  throw new XmlScanError(root ? `element <${root.qname}> is not closed` : 'no root element');
}

const errorParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: () => false,
});

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && '#text' in (v as Record<string, unknown>)) return text((v as Record<string, unknown>)['#text']);
  return undefined;
}

/** Parses one `<rpc-error>...</rpc-error>` element. */
export function parseRpcError(xml: string): RpcErrorDetail {
  const doc = errorParser.parse(xml) as Record<string, unknown>;
  const e = (doc['rpc-error'] ?? {}) as Record<string, unknown>;
  const rawInfo = e['error-info'];
  const info: Record<string, unknown> = rawInfo && typeof rawInfo === 'object' ? (rawInfo as Record<string, unknown>) : {};
  const sid = text(info['session-id']);
  const detail: RpcErrorDetail = {
    type: text(e['error-type']) ?? 'unknown',
    tag: text(e['error-tag']) ?? 'unknown',
    severity: text(e['error-severity']) ?? 'error',
    info,
  };
  const appTag = text(e['error-app-tag']);
  if (appTag) detail.appTag = appTag;
  const path = text(e['error-path']);
  if (path) detail.path = path.trim();
  const message = text(e['error-message']);
  if (message) detail.message = message.trim();
  if (sid !== undefined && /^\d+$/.test(sid.trim())) detail.sessionId = Number(sid.trim());
  const bad = text(info['bad-element']);
  if (bad) detail.badElement = bad;
  return detail;
}

const helloParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'capability',
});

export interface Hello {
  capabilities: string[];
  sessionId?: number;
}

export function parseHello(xml: string): Hello {
  const doc = helloParser.parse(xml) as Record<string, unknown>;
  const hello = doc['hello'] as Record<string, unknown> | undefined;
  if (!hello || typeof hello !== 'object') throw new XmlScanError('first message is not a <hello>');
  const caps = ((hello['capabilities'] as Record<string, unknown> | undefined)?.['capability'] ?? []) as unknown[];
  const out: Hello = { capabilities: caps.map((c) => (text(c) ?? '').trim()).filter(Boolean) };
  const sid = text(hello['session-id']);
  if (sid !== undefined) out.sessionId = Number(sid);
  return out;
}

const dataParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
});

/** Plain-object view of an XML fragment (namespace prefixes dropped, attributes as `@name`). */
export function xmlToObject(xml: string): Record<string, unknown> {
  return dataParser.parse(xml) as Record<string, unknown>;
}
