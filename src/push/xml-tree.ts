/**
 * Namespace-resolved XML trees for comparing NETCONF configuration: the rendered payload and
 * what `<get-config>` returns differ in prefixes, whitespace, list order (netconfd sorts
 * system-ordered lists) and identityref prefixes (`ianaift:ethernetCsmacd`). Both sides become
 * trees of `{ns}name` elements whose identity values carry their namespace, compared and
 * printed with children in a canonical order.
 */
import { XMLParser } from 'fast-xml-parser';
import { escapeAttr, escapeText } from './netconf/index.ts';

export interface XNode {
  ns: string;
  name: string;
  /** Leaf value; identityref values as `{namespace}name`. */
  text?: string;
  children: XNode[];
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: true,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

type Raw = Record<string, unknown>;

function convert(raw: Raw[], scope: Map<string, string>): XNode[] {
  const out: XNode[] = [];
  for (const item of raw) {
    const tag = Object.keys(item).find((k) => k !== ':@');
    if (!tag || tag === '#text' || tag === '#comment') continue;
    const attrs = (item[':@'] ?? {}) as Record<string, string>;
    const inner = new Map(scope);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'xmlns') inner.set('', v);
      else if (k.startsWith('xmlns:')) inner.set(k.slice(6), v);
    }
    const [prefix, local] = tag.includes(':') ? tag.split(':', 2) : ['', tag];
    const kids = (item[tag] ?? []) as Raw[];
    const node: XNode = { ns: inner.get(prefix) ?? '', name: local, children: convert(kids, inner) };
    const text = kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('');
    if (node.children.length === 0 && text !== '') {
      const m = /^([A-Za-z_][\w.-]*):([^\s:]+)$/.exec(text);
      // An identityref: prefixed values resolve to {namespace}identity; one in the element's
      // own namespace is written bare, as an unprefixed value means that namespace (RFC 7950
      // 9.10.3): `rt:static` from the server equals the payload's `static`.
      const ns = m && inner.has(m[1]) ? inner.get(m[1])! : undefined;
      node.text = ns === undefined ? text : ns === node.ns ? m![2] : `{${ns}}${m![2]}`;
    }
    out.push(node);
  }
  return out;
}

/** Top-level elements of an XML fragment (the children of `<config>` or `<data>`). */
export function parseFragment(xml: string): XNode[] {
  const raw = parser.parse(`<r>${xml.replace(/<\?xml[^>]*\?>/, '')}</r>`) as Raw[];
  const root = raw.find((x) => 'r' in x) as Raw | undefined;
  return convert((root?.r ?? []) as Raw[], new Map());
}

export function canonical(n: XNode): string {
  const kids = n.children.map(canonical).sort();
  return `<{${n.ns}}${n.name}>${n.text !== undefined ? JSON.stringify(n.text) : ''}${kids.join('')}</>`;
}

function sorted(nodes: XNode[]): XNode[] {
  return [...nodes].sort((a, b) => (canonical(a) < canonical(b) ? -1 : canonical(a) > canonical(b) ? 1 : 0));
}

/** Indented, canonically ordered text of a tree: one element per line, for unified diffs. */
export function prettyLines(nodes: XNode[], parentNs = '', depth = 0): string[] {
  const lines: string[] = [];
  for (const n of sorted(nodes)) {
    const pad = '  '.repeat(depth);
    const ns = n.ns !== parentNs ? ` xmlns="${n.ns}"` : '';
    if (n.children.length) {
      lines.push(`${pad}<${n.name}${ns}>`, ...prettyLines(n.children, n.ns, depth + 1), `${pad}</${n.name}>`);
    } else {
      lines.push(`${pad}<${n.name}${ns}>${n.text ?? ''}</${n.name}>`);
    }
  }
  return lines;
}

export function prettyText(nodes: XNode[]): string {
  return prettyLines(nodes).join('\n') + (nodes.length ? '\n' : '');
}

export function sameTrees(a: XNode[], b: XNode[]): boolean {
  const ca = a.map(canonical).sort();
  const cb = b.map(canonical).sort();
  return ca.length === cb.length && ca.every((x, i) => x === cb[i]);
}

/** XML text of a tree; `topAttrs` goes on the outermost element (nc:operation). */
export function toXml(n: XNode, parentNs = '', topAttrs = ''): string {
  let attrs = n.ns !== parentNs ? ` xmlns="${escapeAttr(n.ns)}"` : '';
  attrs += topAttrs;
  let body = '';
  if (n.text !== undefined) {
    const m = /^\{([^}]*)\}(.*)$/.exec(n.text);
    if (m) {
      attrs += ` xmlns:nlid="${escapeAttr(m[1])}"`;
      body = `nlid:${escapeText(m[2])}`;
    } else body = escapeText(n.text);
  }
  body += n.children.map((c) => toXml(c, n.ns)).join('');
  return `<${n.name}${attrs}>${body}</${n.name}>`;
}

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';

export function withOperation(n: XNode, op: 'replace' | 'remove' | 'merge'): string {
  const attrs = ` xmlns:nc="${NC_BASE}" nc:operation="${op}"`;
  if (op === 'remove') return `<${n.name} xmlns="${escapeAttr(n.ns)}"${attrs}/>`;
  return toXml(n, '', attrs);
}

/** A subtree filter selecting these top-level containers. */
export function subtreeFilter(tops: Array<{ ns: string; name: string }>): string {
  return tops.map((t) => `<${t.name} xmlns="${escapeAttr(t.ns)}"/>`).join('');
}
