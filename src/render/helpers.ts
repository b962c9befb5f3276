/**
 * The few Handlebars helpers templates may use. Anything more involved belongs in the view
 * builder (view.ts), where it is typed and tested, not in template logic.
 *
 * Text templates are compiled with noEscape (configs are not HTML), so text that is not an
 * identifier goes through the helper of the syntax it lands in: `line` (the rest of a CLI
 * line: FRR, EOS, NX-OS descriptions), `quoted` (inside "..." of Junos and SR Linux `set`
 * commands), `shell` (inside "..." of network.sh). XML templates keep Handlebars' escaping.
 * The intent schema already keeps free text to one printable line; these make sure nothing a
 * string holds can start a new line, end a quote or run a command.
 */
import type { HelperDelegate } from 'handlebars';

function args(list: unknown[]): unknown[] {
  // Handlebars passes its options object last.
  return list.slice(0, -1);
}

// Line breaks of every kind (including NEL, LS, PS) and other control characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One line of text: control characters become spaces. */
export function oneLine(s: unknown): string {
  return String(s ?? '').replace(CONTROL, ' ');
}

/** Inside a double-quoted string of Junos and SR Linux CLIs: backslash and quote escaped. */
export function quotedText(s: unknown): string {
  return oneLine(s).replace(/[\\"]/g, (c) => `\\${c}`);
}

/** Inside a double-quoted shell word: no expansion, no end of quote. */
export function shellText(s: unknown): string {
  return oneLine(s).replace(/[\\"$`]/g, (c) => `\\${c}`);
}

/** Inside "..." of an nftables file: nft strings have no escapes, so a quote becomes '. */
export function nftText(s: unknown): string {
  return oneLine(s).replace(/"/g, "'");
}

/** Inside "..." of an iptables-restore line: backslash and quote escaped. */
export function iptText(s: unknown): string {
  return oneLine(s).replace(/[\\"]/g, (c) => `\\${c}`);
}

/** Inside "..." of an HAProxy configuration: backslash, quote and "$" (environment expansion) escaped. */
export function haproxyText(s: unknown): string {
  return oneLine(s).replace(/[\\"$]/g, (c) => `\\${c}`);
}

/** Inside "..." of an nginx configuration: backslash and quote escaped. */
export function nginxText(s: unknown): string {
  return oneLine(s).replace(/[\\"]/g, (c) => `\\${c}`);
}

export const helpers: Record<string, HelperDelegate> = {
  /** crt "{{hap path}}" (HAProxy) */
  hap: (...a: unknown[]) => haproxyText(args(a)[0]),
  /** ssl_certificate "{{ngx path}}" (nginx) */
  ngx: (...a: unknown[]) => nginxText(args(a)[0]),
  /** {{json value}}: a JSON value (strings quoted and escaped), indented by 2. */
  json: (...a: unknown[]) => JSON.stringify(args(a)[0], null, 2),
  /** description {{line description}} */
  line: (...a: unknown[]) => oneLine(args(a)[0]),
  /** description "{{quoted description}}" */
  quoted: (...a: unknown[]) => quotedText(args(a)[0]),
  /** fail "... {{shell description}} ..." */
  shell: (...a: unknown[]) => shellText(args(a)[0]),
  /** comment "{{nft text}}" (nftables) */
  nft: (...a: unknown[]) => nftText(args(a)[0]),
  /** {{#if (eq a b)}} */
  eq: (...a: unknown[]) => {
    const [x, y] = args(a);
    return x === y;
  },
  /** {{#if (or a b)}} */
  or: (...a: unknown[]) => args(a).some(Boolean),
  /** {{#if (and a b)}} */
  and: (...a: unknown[]) => args(a).every(Boolean),
  /** {{#unless (not a)}} */
  not: (...a: unknown[]) => !args(a)[0],
  /** {{add platform.vars.vrf_table_base id}}: integer sum. */
  add: (...a: unknown[]) => {
    const [x, y] = args(a);
    const sum = Number(x) + Number(y);
    if (!Number.isFinite(sum)) throw new Error(`add: not numbers: ${String(x)}, ${String(y)}`);
    return sum;
  },
  /** {{join list ","}} */
  join: (...a: unknown[]) => {
    const [list, sep] = args(a);
    if (!Array.isArray(list)) return '';
    return list.join(typeof sep === 'string' ? sep : ' ');
  },
};
