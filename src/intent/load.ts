/**
 * Loads an intent directory: every *.yaml / *.yml file, parsed with source positions and
 * merged into one document. Every container of the merged value keeps where each of its
 * keys and items came from, so any diagnostic can name file:line:col.
 */
import { readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { EnvironmentError, IntentError, type Diagnostic, type SourceLocation } from '../util/errors.ts';
import { LIMITS, readTextBounded } from '../util/safe-path.ts';
import { packFile, unpackFile, type ParseCache } from './parse-cache.ts';
import { fastParseFile } from './fast-yaml.ts';

/** Where a key's key and value, or an item, sit in its file. */
interface Place {
  file: string;
  key?: SourceLocation;
  value: SourceLocation;
}

/** Side table: container -> places of its keys (objects) or items (arrays). */
export class Origins {
  private readonly places = new WeakMap<object, Map<string | number, Place>>();
  private readonly self = new WeakMap<object, SourceLocation>();

  /** `parent`: the places of the containers another load parsed and this one shares (reloadIntentDir). */
  constructor(private readonly parent?: Origins) {}

  set(container: object, key: string | number, place: Place): void {
    let m = this.places.get(container);
    if (!m) this.places.set(container, (m = new Map()));
    m.set(key, place);
  }
  get(container: object, key: string | number): Place | undefined {
    return this.places.get(container)?.get(key) ?? this.parent?.get(container, key);
  }
  setSelf(container: object, loc: SourceLocation): void {
    if (!this.self.has(container)) this.self.set(container, loc);
  }
  selfOf(container: object): SourceLocation | undefined {
    return this.self.get(container) ?? this.parent?.selfOf(container);
  }
}

export interface LoadedIntent {
  dir: string;
  files: string[];
  /** Merged plain value, before schema validation. */
  raw: Record<string, unknown>;
  origins: Origins;
  /** sha256 over file names and contents: the intent revision. */
  revision: string;
  /** Each file's text and its top-level keys (after extensions), in `files` order: what reloadIntentDir compares. */
  read?: { text: string; keys: string[] }[];
}

/**
 * A file's name as its places record it: relative to `placesRoot` when given (a revision's
 * files as their repository names them, wherever they were exported), else to the working
 * directory when inside it.
 */
export function displayPath(file: string, placesRoot?: string): string {
  if (placesRoot !== undefined) return path.relative(placesRoot, file).split(path.sep).join('/');
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

export interface LoadOptions {
  /** Record file names relative to this directory (see displayPath). */
  placesRoot?: string;
}

/** Values expanded from aliases, per file: past this a document is an alias bomb, not an intent. */
export const MAX_ALIAS_VALUES = 100_000;

/** An alias being expanded: diagnostics inside point at its use, naming the anchor's own place. */
interface AliasUse {
  use: SourceLocation;
  anchor: string;
}

/**
 * YAML nodes to plain values with their places. Aliases are expanded here (a fresh copy per
 * use, so each use has its own places) and merge keys (`<<: *defaults`, `<<: [*a, *b]`) add
 * the keys the mapping does not set itself, earlier sources first, as YAML 1.1 defines them.
 */
class FileConverter {
  private expanded = 0;
  private readonly expanding = new Set<YamlNode>();

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly origins: Origins,
  ) {}

  loc(node: YamlNode | null | undefined, fallback?: SourceLocation, via?: AliasUse): SourceLocation {
    const off = node?.range?.[0];
    let at: SourceLocation;
    if (off === undefined) at = fallback ?? { file: this.file, line: 1, col: 1 };
    else {
      const p = this.lc.linePos(off);
      at = { file: this.file, line: p.line, col: p.col };
    }
    if (!via) return at;
    return { ...via.use, via: { anchor: via.anchor, file: at.file, line: at.line, col: at.col } };
  }

  toValue(node: YamlNode | null | undefined, errors: Diagnostic[], via?: AliasUse): unknown {
    if (!node) return null;
    if (via && ++this.expanded > MAX_ALIAS_VALUES) {
      if (this.expanded === MAX_ALIAS_VALUES + 1) errors.push({ loc: via.use, message: `aliases expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values; refusing (an alias bomb?)` });
      return null;
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as YamlNode | undefined;
      const use = via?.use ?? this.loc(node);
      if (!target) {
        errors.push({ loc: use, message: `alias *${node.source} names no anchor` });
        return null;
      }
      if (this.expanding.has(target)) {
        errors.push({ loc: use, message: `alias *${node.source} refers to a value containing itself` });
        return null;
      }
      this.expanding.add(target);
      try {
        return this.toValue(target, errors, { use, anchor: node.source });
      } finally {
        this.expanding.delete(target);
      }
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      this.origins.setSelf(obj, this.loc(node, undefined, via));
      const merges: YamlNode[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          // The YAML 1.1 merge key `<<` (the parser marks it with a symbol).
          const v = pair.value as YamlNode | null;
          if (isSeq(v)) merges.push(...(v.items as YamlNode[]));
          else if (v) merges.push(v);
          continue;
        }
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyLoc = this.loc(keyNode, undefined, via);
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          errors.push({ loc: keyLoc, message: `duplicate key '${key}'` });
          continue;
        }
        obj[key] = this.toValue(pair.value as YamlNode | null, errors, via);
        this.origins.set(obj, key, { file: this.file, key: keyLoc, value: this.loc(pair.value as YamlNode | null, keyLoc, via) });
      }
      for (const m of merges) {
        const src = this.toValue(m, errors, via);
        if (!isPlainObject(src)) {
          if (src !== null) errors.push({ loc: this.loc(m, undefined, via), message: 'a merge key (<<) takes a mapping or a list of mappings' });
          continue;
        }
        for (const [k, v] of Object.entries(src)) {
          if (Object.prototype.hasOwnProperty.call(obj, k)) continue;
          obj[k] = v;
          this.origins.set(obj, k, this.origins.get(src, k)!);
        }
      }
      return obj;
    }
    if (isSeq(node)) {
      const arr: unknown[] = [];
      this.origins.setSelf(arr, this.loc(node, undefined, via));
      node.items.forEach((item, i) => {
        arr.push(this.toValue(item as YamlNode, errors, via));
        this.origins.set(arr, i, { file: this.file, value: this.loc(item as YamlNode, undefined, via) });
      });
      return arr;
    }
    if (isScalar(node)) return node.value;
    return null;
  }
}

function listYamlFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new EnvironmentError(`intent directory '${dir}' does not exist`);
  }
  if (st.isFile()) return [dir];
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new EnvironmentError(`no *.yaml files in intent directory '${dir}'`);
  return files;
}

/**
 * Merge rules: top-level keys from several files combine; two maps under the same key merge
 * (a key defined twice is an error), two lists concatenate, anything else is an error.
 */
function mergeInto(target: Record<string, unknown>, src: Record<string, unknown>, origins: Origins, errors: Diagnostic[]): void {
  for (const [key, value] of Object.entries(src)) {
    const place = origins.get(src, key)!;
    if (!Object.prototype.hasOwnProperty.call(target, key)) {
      target[key] = value;
      origins.set(target, key, place);
      continue;
    }
    const existing = target[key];
    const first = origins.get(target, key)!;
    if (Array.isArray(existing) && Array.isArray(value)) {
      const base = existing.length;
      value.forEach((item, i) => {
        existing.push(item);
        origins.set(existing, base + i, origins.get(value, i)!);
      });
    } else if (isPlainObject(existing) && isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (Object.prototype.hasOwnProperty.call(existing, k)) {
          const prev = origins.get(existing, k)!;
          errors.push({
            loc: origins.get(value, k)!.key ?? origins.get(value, k)!.value,
            message: `'${key}.${k}' is already defined at ${displayLoc(prev.key ?? prev.value)}`,
          });
          continue;
        }
        existing[k] = v;
        origins.set(existing, k, origins.get(value, k)!);
      }
    } else {
      errors.push({ loc: place.key ?? place.value, message: `top-level key '${key}' is already defined at ${displayLoc(first.key ?? first.value)}` });
    }
  }
}

function displayLoc(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `cache`: files already parsed, by the digest of their text (src/intent/parse-cache.ts); a
 * file parsed without errors into a mapping is added.
 */
export function loadIntentDir(dir: string, cache?: ParseCache, opts: LoadOptions = {}): LoadedIntent {
  const files = listYamlFiles(dir);
  const origins = new Origins();
  const raw: Record<string, unknown> = {};
  const errors: Diagnostic[] = [];
  const hash = createHash('sha256');
  const read: { text: string; keys: string[] }[] = [];
  for (const abs of files) {
    const file = displayPath(abs, opts.placesRoot);
    let text: string;
    try {
      text = readTextBounded(abs, LIMITS.intentFile, 'an intent file');
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      errors.push({ loc: { file, line: 1, col: 1 }, message: e.message.slice(abs.length + 2) });
      continue;
    }
    hash.update(path.basename(abs)).update('\0').update(text).update('\0');
    const key = cache ? createHash('sha256').update(text).digest('hex') : '';
    const value = unpacked(cache?.get(key), origins, file) ?? parseFile(file, text, origins, errors, cache, key);
    if (value === undefined) {
      read.push({ text, keys: [] });
      continue;
    }
    // Top-level `x-...` keys are extensions (the usual home of anchors, as in Compose files).
    for (const k of Object.keys(value)) if (k.startsWith('x-')) delete value[k];
    read.push({ text, keys: Object.keys(value) });
    mergeInto(raw, value, origins, errors);
  }
  if (errors.length) throw new IntentError(errors);
  return { dir, files: files.map((f) => displayPath(f, opts.placesRoot)), raw, origins, revision: hash.digest('hex').slice(0, 16), read };
}

/**
 * `loadIntentDir(dir)` for a directory holding `prev`'s files (the same names, recorded alike)
 * where only files whose sections are all in `sections` changed (before and now), and no
 * section is in both a changed and an unchanged file: the unchanged files' sections are
 * `prev`'s (the same objects and places: a loaded intent is never written to), only the changed
 * files are parsed. A pull request's next push parses its tenants file, not the 5,000 nodes.
 * `redone`: the sections of the changed files, before or now (the others are `prev`'s).
 * Undefined when that does not hold or a changed file does not load (loadIntentDir says why).
 */
export function reloadIntentDir(prev: LoadedIntent, dir: string, sections: ReadonlySet<string>, cache?: ParseCache, opts: LoadOptions = {}): { loaded: LoadedIntent; changed: string[]; redone: string[] } | undefined {
  if (!prev.read) return undefined;
  const files = listYamlFiles(dir);
  const names = files.map((f) => displayPath(f, opts.placesRoot));
  if (names.length !== prev.files.length || names.some((n, i) => n !== prev.files[i])) return undefined;
  const origins = new Origins(prev.origins);
  const errors: Diagnostic[] = [];
  const hash = createHash('sha256');
  const read: { text: string; keys: string[] }[] = [];
  const values: (Record<string, unknown> | undefined)[] = [];
  const changed: string[] = [];
  // Sections of unchanged files and of changed ones (before or now): never both.
  const kept = new Set<string>();
  const redone = new Set<string>();
  for (let i = 0; i < files.length; i++) {
    let text: string;
    try {
      text = readTextBounded(files[i], LIMITS.intentFile, 'an intent file');
    } catch {
      return undefined;
    }
    hash.update(path.basename(files[i])).update('\0').update(text).update('\0');
    const before = prev.read[i];
    if (text === before.text) {
      read.push(before);
      values.push(undefined);
      for (const k of before.keys) kept.add(k);
      continue;
    }
    const key = cache ? createHash('sha256').update(text).digest('hex') : '';
    const value = unpacked(cache?.get(key), origins, names[i]) ?? parseFile(names[i], text, origins, errors, cache, key);
    if (errors.length) return undefined;
    if (value) for (const k of Object.keys(value)) if (k.startsWith('x-')) delete value[k];
    const keys = value ? Object.keys(value) : [];
    for (const k of [...before.keys, ...keys]) {
      if (!sections.has(k)) return undefined;
      redone.add(k);
    }
    changed.push(names[i]);
    read.push({ text, keys });
    values.push(value);
  }
  for (const k of redone) if (kept.has(k)) return undefined;
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < files.length; i++) {
    const value = values[i];
    if (value) {
      mergeInto(raw, value, origins, errors);
      continue;
    }
    // A section several unchanged files merged: prev's merged value, put once.
    for (const k of read[i].keys) {
      if (Object.prototype.hasOwnProperty.call(raw, k)) continue;
      raw[k] = prev.raw[k];
      origins.set(raw, k, prev.origins.get(prev.raw, k)!);
    }
  }
  if (errors.length) return undefined;
  return { loaded: { dir, files: names, raw, origins, revision: hash.digest('hex').slice(0, 16), read }, changed, redone: [...redone] };
}

/** A packed file's value, or undefined when there is none or it does not unpack (parsed instead). */
function unpacked(packed: string | undefined, origins: Origins, file: string): Record<string, unknown> | undefined {
  if (packed === undefined) return undefined;
  try {
    return unpackFile(packed, origins, file);
  } catch {
    return undefined;
  }
}

/**
 * One file's mapping with its places, or undefined (empty, or not a mapping: said in `errors`).
 * The common plain file through js-yaml's events (fast-yaml.ts), the rest through `yaml`
 * (NETLOOM_YAML_FAST_PATH=off: every file, for comparison).
 */
function parseFile(file: string, text: string, origins: Origins, errors: Diagnostic[], cache: ParseCache | undefined, key: string): Record<string, unknown> | undefined {
  const fast = process.env.NETLOOM_YAML_FAST_PATH === 'off' ? undefined : fastParseFile(file, text, origins);
  if (fast) {
    pack(fast, origins, file, cache, key);
    return fast;
  }
  return yamlParseFile(file, text, origins, errors, cache, key);
}

function pack(value: Record<string, unknown>, origins: Origins, file: string, cache: ParseCache | undefined, key: string): void {
  if (!cache) return;
  const packed = packFile(value, origins, file);
  if (packed !== undefined) cache.set(key, packed);
}

/** parseFile through the `yaml` package's document model: every file fastParseFile declines, with the diagnostics. */
export function yamlParseFile(file: string, text: string, origins: Origins, errors: Diagnostic[], cache?: ParseCache, key = ''): Record<string, unknown> | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, merge: true });
  // Later syntax errors in a file are nearly always consequences of the first.
  for (const e of doc.errors.slice(0, 1)) {
    const p = lc.linePos(e.pos[0]);
    errors.push({ loc: { file, line: p.line, col: p.col }, message: `YAML syntax: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` });
  }
  if (doc.errors.length) return undefined;
  const before = errors.length;
  const conv = new FileConverter(file, doc, lc, origins);
  const value = conv.toValue(doc.contents as YamlNode | null, errors);
  if (value === null || value === undefined) return undefined; // empty file
  if (!isPlainObject(value)) {
    errors.push({ loc: conv.loc(doc.contents as YamlNode), message: 'an intent file must be a mapping of top-level sections (fabric, pools, nodes, ...)' });
    return undefined;
  }
  if (errors.length === before) pack(value, origins, file, cache, key);
  return value;
}
