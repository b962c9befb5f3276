/**
 * Models of committed revisions, cached by the git tree of the intent directory: a pull
 * request's base is planned again on every push, and resolving the 5,000-device shape costs
 * seconds. An entry holds the exported intent (the model's source locations point into it,
 * so reports and the renumbering alarm read the same files), the model as JSON (JSON.parse
 * reads the 5,000-device model back in half the time of V8's deserializer), and the memo of
 * what plans computed from it (render-input hashes, static check results, endpoint flows by
 * their scope), so the next plan against the same base computes none of it again. A model built
 * from another entry's (a head from its base) is stored as how it differs (delta.json), its
 * memo reading the base's table blobs. The key
 * also covers the code (src/, templates/, models/, the Node version): another netloom never
 * reads an old entry. Entries live in $NETLOOM_CACHE_DIR (default $XDG_CACHE_HOME/netloom, else
 * ~/.cache/netloom) under plan-models/, private to the user; the newest few are kept.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FabricModel } from '../model/types.ts';
import type { BlobData, SideMemo } from './plan.ts';
import type { ParseCache } from '../intent/parse-cache.ts';
import { exportIntentInto, intentTree, type ExportedIntent, type IntentRepo } from './git-revision.ts';

/** Entries kept (the newest by use). */
export const CACHE_ENTRIES = 8;
/** An entry without its model after this long was left by a process that died: removed. */
const ABANDONED_MS = 10 * 60_000;

export function modelCacheDir(): string {
  const base = process.env.NETLOOM_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'netloom');
  return path.join(base, 'plan-models');
}

const root = fileURLToPath(new URL('../../', import.meta.url));
let fingerprint: string | undefined;

/** Flow sets (one per endpoint scope) kept in an entry's memo, the newest. */
export const MEMO_FLOW_SCOPES = 8;

/** A digest of the code and data that build a model and what plans derive from it: any change there is another cache. */
export function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(`${path.relative(root, p)}\0`).update(readFileSync(p)).update('\0');
    }
  };
  for (const d of ['src', 'templates', 'models']) if (existsSync(path.join(root, d))) walk(path.join(root, d));
  h.update(process.version);
  return (fingerprint = h.digest('hex').slice(0, 16));
}

/** The cache entry's name for the intent at `commit` (its tree, the directory, the code); undefined when it did not exist there. */
export function entryKey(repo: IntentRepo, commit: string): string | undefined {
  const tree = intentTree(repo, commit);
  return tree && `${tree}-${createHash('sha256').update(repo.dir).digest('hex').slice(0, 8)}-${codeFingerprint()}`;
}

/** True when the model of the intent at `commit` is in the cache (a plan would read it back). */
export function isCached(repo: IntentRepo, commit: string): boolean {
  const key = entryKey(repo, commit);
  if (!key) return false;
  const entry = path.join(modelCacheDir(), key);
  if (existsSync(path.join(entry, 'model.json'))) return true;
  const base = deltaBase(path.join(entry, 'delta.json'));
  return !!base && existsSync(path.join(modelCacheDir(), base, 'model.json'));
}

/** The entry a delta entry's model is stated against, read from its first bytes; undefined when it is not one. */
function deltaBase(file: string): string | undefined {
  let fd: number | undefined;
  try {
    // Its first bytes say it: the whole delta is not read for that.
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(512);
    const head = buf.toString('latin1', 0, readSync(fd, buf, 0, 512, 0));
    const m = /^\{"format":"model-delta\/1","base":"([0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{16})"/.exec(head);
    return m?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface CachedSide extends ExportedIntent {
  model?: FabricModel;
  /** Read from the cache (not resolved again). */
  cached: boolean;
  /** What plans derived from the model, kept with it (absent when uncached). */
  memo?: SideMemo;
  /**
   * Stores a newly resolved model in its entry, and the memo when the plan added to it (a
   * no-op otherwise). Called once the plan is out, so writing the entry never delays the
   * report; an entry not saved is removed by cleanup.
   */
  save(): void;
}

/** An entry's memo: read when the entry is, written on save when something was added. */
class EntryMemo implements SideMemo {
  private data: Record<string, unknown> = {};
  private readonly blobs = new Map<string, BlobData>();
  dirty = false;
  /** `baseBlobs`: a delta entry's base entry's blobs, read where the entry has none of its own (a blob is keyed by what it is computed from). */
  constructor(
    private readonly file: string,
    private baseBlobs?: string,
  ) {
    try {
      if (existsSync(file)) this.data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      this.data = {}; // a torn or foreign memo is recomputed
    }
  }
  get<T>(key: string): T | undefined {
    return this.data[key] as T | undefined;
  }
  set(key: string, value: unknown): void {
    if (key.startsWith('flows:')) {
      const scopes = Object.keys(this.data).filter((k) => k.startsWith('flows:'));
      for (const k of scopes.slice(0, Math.max(0, scopes.length - MEMO_FLOW_SCOPES + 1))) delete this.data[k];
    }
    this.data[key] = value;
    this.dirty = true;
  }
  private blobFile(key: string): string {
    return path.join(path.dirname(this.file), 'blobs', `${key.replace(/[^\w.-]/g, '_')}.bin`);
  }
  blob(key: string): Buffer | undefined {
    const own = this.blobs.get(key);
    if (Buffer.isBuffer(own)) return own;
    for (const file of this.blobFiles(key)) {
      try {
        return readFileSync(file);
      } catch {
        // never written there
      }
    }
    return undefined;
  }
  hasBlob(key: string): boolean {
    return this.blobs.has(key) || this.blobFiles(key).some((f) => existsSync(f));
  }
  private blobFiles(key: string): string[] {
    const own = this.blobFile(key);
    return this.baseBlobs ? [own, path.join(this.baseBlobs, path.basename(own))] : [own];
  }
  /** From now on the entry is a delta of the entry holding `dir`: blobs there are not written again. */
  stateAgainst(dir: string): void {
    this.baseBlobs = dir;
    for (const key of [...this.blobs.keys()]) if (existsSync(path.join(dir, path.basename(this.blobFile(key))))) this.blobs.delete(key);
  }
  setBlob(key: string, data: BlobData): void {
    this.blobs.set(key, data);
    if (Buffer.isBuffer(data)) this.dirty = true;
  }
  write(): void {
    for (const [key, blob] of this.blobs) {
      const data = Buffer.isBuffer(blob) ? blob : blob();
      if (!data) continue;
      const file = this.blobFile(key);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(`${file}.tmp-${process.pid}`, data, { mode: 0o600 });
      renameSync(`${file}.tmp-${process.pid}`, file);
    }
    this.blobs.clear();
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}

/**
 * JSON with every character beyond ASCII escaped (\uXXXX, which JSON.parse reads back as the
 * same string): the 5,000-device model is read back as latin1, about half the time of UTF-8.
 */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  // Nearly always ASCII already: looking costs half of replacing (0.13 s of 0.28 s for the 5,000-device model).
  return /[\u007f-\uffff]/.test(json) ? json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

function prune(dir: string, ...keep: (string | undefined)[]): void {
  const entries = readdirSync(dir)
    .map((name) => ({ name, t: statSync(path.join(dir, name)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  const kept = new Set([...entries.slice(0, CACHE_ENTRIES).map((e) => e.name), ...keep.filter((k) => k !== undefined)]);
  // A kept delta entry keeps the entry it is stated against (else it could not be read).
  for (const name of [...kept]) {
    const base = deltaBase(path.join(dir, name, 'delta.json'));
    if (base) kept.add(base);
  }
  for (const e of entries) if (!kept.has(e.name)) rmSync(path.join(dir, e.name), { recursive: true, force: true });
}

export interface CacheOptions {
  /**
   * The model a newly resolved one was built from (src/plan/incremental-head.ts: the head from
   * its base). When that model is held in a full entry, the new entry stores only how it
   * differs (delta.json: 164 KB for a tenant change at 5,000 devices, where the model is 73 MB).
   */
  builtFrom?: (model: FabricModel) => FabricModel | undefined;
}

/** Models read from, or written as, a full entry (model.json) -> that entry's key. */
const fullEntryOf = new WeakMap<FabricModel, string>();

const DELTA_FORMAT = 'model-delta/1';

/** A top-level key of the model: as the base holds it, or its own value, or the base's array with some items its own. */
type DeltaKey = [string, 'base'] | [string, 'value', unknown] | [string, 'items', number, [number, unknown][]];

/** Whether two values have the same JSON text (identity first: the head shares most of the base's objects). Never true where the texts differ. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return JSON.stringify(a) === JSON.stringify(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    const item = (x: unknown) => (x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x);
    for (let i = 0; i < a.length; i++) if (!sameJson(item(a[i]), item(bb[i]))) return false;
    return true;
  }
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(a) === JSON.stringify(b);
  const keys = (o: object) => Object.keys(o).filter((k) => {
    const v = (o as Record<string, unknown>)[k];
    return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
  });
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameJson((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false;
  return true;
}

/** How `head` differs from `base`, key by key in the head's order (an array item by item when few differ). */
export function modelDelta(base: FabricModel, head: FabricModel): DeltaKey[] {
  const b = base as unknown as Record<string, unknown>;
  const out: DeltaKey[] = [];
  for (const [k, v] of Object.entries(head)) {
    if (v === undefined || typeof v === 'function') continue;
    const was = b[k];
    if (Object.prototype.hasOwnProperty.call(b, k) && sameJson(v, was)) {
      out.push([k, 'base']);
      continue;
    }
    if (Array.isArray(v) && Array.isArray(was) && v.length === was.length) {
      const items: [number, unknown][] = [];
      for (let i = 0; i < v.length && items.length * 4 <= v.length; i++) if (!sameJson(v[i] ?? null, was[i] ?? null)) items.push([i, v[i]]);
      if (items.length * 4 <= v.length) {
        out.push([k, 'items', v.length, items]);
        continue;
      }
    }
    out.push([k, 'value', v]);
  }
  return out;
}

/** The model a delta entry states (its base entry's, read afresh, with the delta's keys) and the base's key. Throws when the base is gone (the entry is then removed: a miss). */
function readDelta(dir: string, file: string): { model: FabricModel; base: string } {
  const delta = JSON.parse(readFileSync(file, 'latin1')) as { format: string; base: string; keys: DeltaKey[] };
  if (delta.format !== DELTA_FORMAT) throw new Error('not a model delta');
  const baseEntry = path.join(dir, delta.base);
  const base = JSON.parse(readFileSync(path.join(baseEntry, 'model.json'), 'latin1')) as Record<string, unknown>;
  const now = new Date();
  utimesSync(baseEntry, now, now); // kept as long as what is stated against it
  const model: Record<string, unknown> = {};
  for (const d of delta.keys) {
    if (d[1] === 'base') {
      if (!Object.prototype.hasOwnProperty.call(base, d[0])) throw new Error(`base lacks ${d[0]}`);
      model[d[0]] = base[d[0]];
    } else if (d[1] === 'value') model[d[0]] = d[2];
    else {
      const list = base[d[0]];
      if (!Array.isArray(list) || list.length !== d[2]) throw new Error(`base's ${d[0]} differs`);
      for (const [i, v] of d[3]) list[i] = v;
      model[d[0]] = list;
    }
  }
  return { model: model as unknown as FabricModel, base: delta.base };
}

/**
 * The intent at `commit` with its model: from the cache when an entry exists, else exported
 * into a new entry, resolved with `load`, and stored. Anything the cache cannot do (another
 * process filling the same entry, a full disk) falls back to `fallback` (a temporary export);
 * errors of `load` are the caller's, and leave no entry.
 */
export function cachedModel(repo: IntentRepo, commit: string, load: (dir: string) => FabricModel, fallback: () => ExportedIntent, opts: CacheOptions = {}): CachedSide {
  const uncached = (): CachedSide => ({ ...fallback(), cached: false, save: () => undefined });
  const key = entryKey(repo, commit);
  if (!key) return uncached();
  const dir = modelCacheDir();
  const entry = path.join(dir, key);
  const modelFile = path.join(entry, 'model.json');
  const memoFile = path.join(entry, 'memo.json');
  const exportRoot = path.join(entry, 'export');
  const keep = () => undefined; // a stored entry outlives the plan
  const deltaFile = path.join(entry, 'delta.json');
  if (existsSync(modelFile) || existsSync(deltaFile)) {
    try {
      // ASCII (asciiJson): one byte per character, read without UTF-8 decoding.
      const full = existsSync(modelFile);
      const read = full ? { model: JSON.parse(readFileSync(modelFile, 'latin1')) as FabricModel, base: undefined } : readDelta(dir, deltaFile);
      const model = read.model;
      if (full) fullEntryOf.set(model, key);
      const now = new Date();
      utimesSync(entry, now, now); // the newest entries are kept
      const memo = new EntryMemo(memoFile, read.base && path.join(dir, read.base, 'blobs'));
      const save = () => {
        try {
          memo.write();
        } catch {
          // a full disk: the next plan computes it again
        }
      };
      return { root: exportRoot, dir: path.join(exportRoot, repo.dir), model, cached: true, memo, cleanup: keep, save };
    } catch {
      rmSync(entry, { recursive: true, force: true });
    }
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (existsSync(entry)) {
      // Being filled by another plan right now, or left by one that died.
      if (Date.now() - statSync(entry).mtimeMs < ABANDONED_MS) return uncached();
      rmSync(entry, { recursive: true, force: true });
    }
    mkdirSync(entry, { mode: 0o700 });
  } catch {
    return uncached();
  }
  const drop = () => rmSync(entry, { recursive: true, force: true });
  let model: FabricModel;
  let ex: ExportedIntent;
  try {
    ex = exportIntentInto(repo, commit, exportRoot);
    model = load(ex.dir!);
  } catch (e) {
    drop();
    throw e;
  }
  let saved = false;
  const memo = new EntryMemo(memoFile);
  return {
    ...ex,
    model,
    cached: false,
    memo,
    cleanup: () => {
      if (!saved) drop();
    },
    save: () => {
      if (saved) return;
      try {
        const from = opts.builtFrom?.(model);
        const baseKey = from && fullEntryOf.get(from);
        const delta = baseKey !== undefined && baseKey !== key && existsSync(path.join(dir, baseKey, 'model.json')) ? modelDelta(from!, model) : undefined;
        const file = delta ? deltaFile : modelFile;
        const tmp = `${file}.tmp-${process.pid}`;
        writeFileSync(tmp, delta ? asciiJson({ format: DELTA_FORMAT, base: baseKey, keys: delta }) : asciiJson(model), { mode: 0o600 });
        if (delta) memo.stateAgainst(path.join(dir, baseKey!, 'blobs'));
        // The memo first: an entry with a model is complete.
        memo.write();
        renameSync(tmp, file);
        if (!delta) fullEntryOf.set(model, key);
        saved = true;
        prune(dir, key, baseKey);
      } catch {
        // a full disk or a cache directory gone: the next plan resolves the model again
      }
    },
  };
}

/** Parsed intent files kept (the newest by write): the files of a few revisions of a big intent. */
export const PARSED_FILES_KEPT = 64;

/**
 * Intent files parsed before, by the digest of their text (src/intent/parse-cache.ts): both
 * revisions of a plan share their unchanged files in memory, and the next plan reads them from
 * plan-files/ beside the models (written by `save`, after the report).
 */
export class IntentFileCache implements ParseCache {
  lastIntent?: ParseCache['lastIntent'];
  private readonly mem = new Map<string, string>();
  private readonly fresh = new Map<string, string>();
  private readonly dir = path.join(path.dirname(modelCacheDir()), 'plan-files');
  private file(key: string): string {
    return path.join(this.dir, `${codeFingerprint()}-${key}.json`);
  }
  /** Parsed files held in memory. */
  get held(): number {
    return this.mem.size;
  }
  get(key: string): string | undefined {
    let packed = this.mem.get(key);
    if (packed === undefined) {
      try {
        packed = readFileSync(this.file(key), 'utf8');
        this.mem.set(key, packed);
      } catch {
        return undefined; // not parsed before
      }
    }
    return packed;
  }
  set(key: string, packed: string): void {
    this.mem.set(key, packed);
    this.fresh.set(key, packed);
  }
  save(): void {
    if (!this.fresh.size) return;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      for (const [key, packed] of this.fresh) {
        const tmp = `${this.file(key)}.tmp-${process.pid}`;
        writeFileSync(tmp, packed, { mode: 0o600 });
        renameSync(tmp, this.file(key));
      }
      this.fresh.clear();
      const files = readdirSync(this.dir)
        .map((name) => ({ name, t: statSync(path.join(this.dir, name)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
      for (const f of files.slice(PARSED_FILES_KEPT)) rmSync(path.join(this.dir, f.name), { force: true });
    } catch {
      // a full disk: the next plan parses them again
    }
  }
}
