/**
 * A secret scanner over the intent's files (the YAML the model was built from): private keys,
 * cloud and forge tokens by their documented prefixes, and keys named like credentials that
 * carry a literal value. A secret belongs in the inventory's credential store, never in a
 * repository every reviewer and pipeline reads. Findings name the kind and where, never the
 * value (four characters at most, to tell two apart).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SourceLocation } from '../../util/errors.ts';
import { LIMITS, readTextBounded } from '../../util/safe-path.ts';
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';

export interface SecretHit {
  kind: string;
  location: SourceLocation;
  /** What may be shown of the value. */
  hint: string;
}

const TOKENS: [RegExp, string][] = [
  [/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, 'a PEM private key'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, 'a GitHub token'],
  [/\bgithub_pat_[A-Za-z0-9_]{40,}\b/g, 'a GitHub fine-grained token'],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/g, 'a GitLab token'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, 'a Slack token'],
  [/\bsk_live_[A-Za-z0-9]{20,}\b/g, 'a Stripe secret key'],
];

/** `password: value`, `snmp_community: "x"`, `api-key: x` with a literal value (a path, a variable reference or an empty value is none). */
const CREDENTIAL_KEY = /^(\s*-?\s*)([A-Za-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|community|psk|pre[_-]?shared[_-]?key)[A-Za-z0-9_-]*)\s*:\s*(.+?)\s*$/i;
/** A line CREDENTIAL_KEY can match holds one of these words. */
const CREDENTIAL_WORD = /password|passwd|secret|token|api[_-]?key|private[_-]?key|community|psk|pre[_-]?shared[_-]?key/gi;
const NOT_A_VALUE = /^(?:["']?\$\{[^}]+\}["']?|["']?\/[^\s"']*["']?|["']{2}|~|null|\||>|&\S+|\*\S+|#.*)$/;

/** The intent's YAML files as the loader reads them (a directory's *.yaml / *.yml, or the one file), paths as the model names them. */
export function intentFiles(intentDir: string): string[] {
  let list: string[];
  try {
    list = statSync(intentDir).isFile() ? [intentDir] : readdirSync(intentDir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(intentDir, f));
  } catch {
    return [];
  }
  return list.map((f) => {
    const rel = path.relative(process.cwd(), f);
    return rel.startsWith('..') ? f : rel;
  });
}

const hint = (v: string) => `${v.slice(0, 4)}…, ${v.length} characters`;
/** Inventories hold device passwords: not one character of a value is shown. */
export const lengthOnly = (v: string) => `${v.length} characters`;

export function scanText(file: string, text: string, show: (value: string) => string = hint): SecretHit[] {
  // Whole-text searches, then only the lines they hit: an intent of 5,000 devices is 100,000
  // lines, and eight expressions on each line cost a plan's secret gate 35 ms. Neither a token
  // nor a credential key spans a line, so the hits (and their order) are the line scan's.
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineOf = (index: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const lineText = (i: number) => text.slice(starts[i], i + 1 < starts.length ? starts[i + 1] - 1 : text.length);
  const byLine = new Map<number, SecretHit[]>();
  const add = (i: number, h: SecretHit) => {
    const l = byLine.get(i);
    if (l) l.push(h);
    else byLine.set(i, [h]);
  };
  for (const [re, kind] of TOKENS) {
    for (const m of text.matchAll(re)) {
      const i = lineOf(m.index);
      add(i, { kind, location: { file, line: i + 1, col: m.index - starts[i] + 1 }, hint: kind === 'a PEM private key' ? 'key block' : show(m[0]) });
    }
  }
  const named = new Set<number>();
  for (const m of text.matchAll(CREDENTIAL_WORD)) named.add(lineOf(m.index));
  for (const i of named) {
    if (byLine.has(i)) continue;
    const line = lineText(i);
    const m = CREDENTIAL_KEY.exec(line.replace(/\s+#.*$/, ''));
    if (m && !NOT_A_VALUE.test(m[3])) {
      const value = m[3].replace(/^["']|["']$/g, '');
      // `{` or `[` opens a structure (a `secrets:` section of references), not a value.
      if (value && !/^[{[]/.test(value)) add(i, { kind: `a literal value for '${m[2]}'`, location: { file, line: i + 1, col: line.indexOf(m[3], m[1].length + m[2].length) + 1 }, hint: show(value) });
    }
  }
  return [...byLine.keys()].sort((a, b) => a - b).flatMap((i) => byLine.get(i)!);
}

/** A key that names a credential, not a reference to one (`password_env`, `key_file` name where it is). */
const CREDENTIAL_NAME = /(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|community|psk|pre[_-]?shared[_-]?key)/i;
const REFERENCE_NAME = /[_-](?:env|file|path)$/i;

/**
 * The YAML-aware scan (inventories write credentials in flow mappings, `{ password: x }`, which
 * a line scan does not see): tokens anywhere in the text, and every credential-named key with a
 * literal scalar value, at the value's line and column. Text that does not parse is scanned
 * line by line.
 */
export function scanYaml(file: string, text: string, show: (value: string) => string = hint): SecretHit[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  if (doc.errors.length) return scanText(file, text, show);
  const hits = scanText(file, text, show).filter((h) => TOKENS.some(([, kind]) => kind === h.kind));
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || !pair.value.range) return;
      const key = String(pair.key.value);
      const raw = pair.value.source ?? String(pair.value.value ?? '');
      if (!CREDENTIAL_NAME.test(key) || REFERENCE_NAME.test(key) || pair.value.value === null || typeof pair.value.value === 'boolean') return;
      const value = String(pair.value.value);
      if (!value || NOT_A_VALUE.test(raw) || /^\$\{[^}]+\}$/.test(value)) return;
      const { line, col } = lc.linePos(pair.value.range[0]);
      if (hits.some((h) => h.location.line === line)) return;
      hits.push({ kind: `a literal value for '${key}'`, location: { file, line, col }, hint: show(value) });
    },
  });
  return hits.sort((a, b) => a.location.line - b.location.line || a.location.col - b.location.col);
}

export function scanIntent(intentDir: string): { files: number; hits: SecretHit[] } {
  const files = intentFiles(intentDir);
  return { files: files.length, hits: files.flatMap((f) => scanText(f, readTextBounded(f, LIMITS.intentFile, 'an intent file'))) };
}
