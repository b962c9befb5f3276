/**
 * An intent file's converted value with the places of its keys and items, packed as JSON: the
 * YAML parser takes most of a big intent's load (0.35 s of the 5,000-device shape's files), and
 * `netloom plan` reads the same unchanged files at both revisions and on every push of a pull
 * request. Packed by content (the caller keys it by the text's digest); file names are left out
 * and put back on unpacking, so a file read from another directory gets its own. A value JSON
 * cannot carry exactly (an infinite or negative-zero number, a `__proto__` key, a place in
 * another file) is not packed: that file is parsed each time.
 */
import type { SourceLocation } from '../util/errors.ts';
import type { LoadedIntent, Origins } from './load.ts';
import type { Intent } from './schema.ts';

/** Packed files by key; `get` misses are parsed and `set`. */
export interface ParseCache {
  get(key: string): string | undefined;
  set(key: string, packed: string): void;
  /**
   * The last intent loaded and validated through this cache (read-only, as every loaded
   * intent): the next load of the same files with only tenant files changed takes the rest
   * from it (reloadIntentDir, src/plan/incremental-head.ts).
   */
  lastIntent?: { loaded: LoadedIntent; intent: Intent };
}

/** [line, col] or, for a place inside an expanded alias, [line, col, anchor, line, col] of the anchor's own place. */
type PackedLoc = [number, number] | [number, number, string, number, number];
/** Per container in depth-first order: its own place, then per key (or item) the key's place (0: none) and the value's. */
type PackedContainer = [PackedLoc | 0, ...(PackedLoc | 0)[]];

class NotPackable extends Error {}

function packLoc(loc: SourceLocation | undefined, file: string): PackedLoc | 0 {
  if (!loc) return 0;
  if (loc.file !== file) throw new NotPackable();
  const via = (loc as SourceLocation & { via?: { anchor: string; file: string; line: number; col: number } }).via;
  if (!via) return [loc.line, loc.col];
  if (via.file !== file) throw new NotPackable();
  return [loc.line, loc.col, via.anchor, via.line, via.col];
}

function unpackLoc(p: PackedLoc | 0, file: string): SourceLocation | undefined {
  if (p === 0) return undefined;
  if (p.length === 2) return { file, line: p[0], col: p[1] };
  return { file, line: p[0], col: p[1], via: { anchor: p[2], file, line: p[3], col: p[4] } } as SourceLocation;
}

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;
const entries = (c: Record<string, unknown> | unknown[]): [string | number, unknown][] => (Array.isArray(c) ? c.map((v, i) => [i, v]) : Object.entries(c));

/** The file's value and places as one JSON text, or undefined when JSON would not give them back exactly. */
export function packFile(value: Record<string, unknown>, origins: Origins, file: string): string | undefined {
  const places: PackedContainer[] = [];
  const walk = (c: Record<string, unknown> | unknown[]) => {
    const row: PackedContainer = [packLoc(origins.selfOf(c), file)];
    places.push(row);
    for (const [k, v] of entries(c)) {
      if (k === '__proto__') throw new NotPackable();
      const place = origins.get(c, k);
      if (!place || place.file !== file) throw new NotPackable();
      row.push(packLoc(place.key, file), packLoc(place.value, file));
      if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) throw new NotPackable();
      if (isContainer(v)) walk(v);
      else if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new NotPackable();
    }
  };
  try {
    walk(value);
  } catch (e) {
    if (e instanceof NotPackable) return undefined;
    throw e;
  }
  return JSON.stringify({ value, places });
}

/** The value of a packed file, its places recorded in `origins` under `file`. */
export function unpackFile(packed: string, origins: Origins, file: string): Record<string, unknown> {
  const { value, places } = JSON.parse(packed) as { value: Record<string, unknown>; places: PackedContainer[] };
  let next = 0;
  const walk = (c: Record<string, unknown> | unknown[]) => {
    const row = places[next++];
    const self = unpackLoc(row[0], file);
    if (self) origins.setSelf(c, self);
    let i = 1;
    for (const [k, v] of entries(c)) {
      const key = unpackLoc(row[i++], file);
      origins.set(c, k, { file, ...(key ? { key } : {}), value: unpackLoc(row[i++], file)! });
      if (isContainer(v)) walk(v);
    }
  };
  walk(value);
  return value;
}
