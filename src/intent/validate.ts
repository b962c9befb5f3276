/**
 * Schema validation of a loaded intent, and the locator every later check uses to turn a
 * path in the merged document into file:line:col.
 */
import type { z } from 'zod';
import { intentSchema, type Intent } from './schema.ts';
import { isPlainObject, type LoadedIntent } from './load.ts';
import { IntentError, type Diagnostic, type SourceLocation } from '../util/errors.ts';

export type Path = readonly (string | number)[];

export interface Locator {
  /** Location of the value at path (the key itself when `key` is true). */
  at(path: Path, key?: boolean): SourceLocation;
}

export function makeLocator(loaded: LoadedIntent): Locator {
  const { raw, origins, files } = loaded;
  return {
    at(path: Path, key = false): SourceLocation {
      let container: unknown = raw;
      let best: SourceLocation = { file: files[0], line: 1, col: 1 };
      for (let i = 0; i < path.length; i++) {
        if (typeof container !== 'object' || container === null) break;
        const place = origins.get(container, path[i]);
        if (!place) {
          best = origins.selfOf(container) ?? best;
          break;
        }
        best = key && i === path.length - 1 && place.key ? place.key : place.value;
        container = (container as Record<string | number, unknown>)[path[i]];
      }
      return best;
    },
  };
}

function describePath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s || '(top level)';
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function valueAt(raw: unknown, path: Path): unknown {
  let v = raw;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** Rewrites zod's issues into messages a network engineer reads without knowing zod. */
function issueToDiagnostics(issue: z.core.$ZodIssue, raw: unknown, loc: Locator): Diagnostic[] {
  const path = issue.path as (string | number)[];
  const where = describePath(path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ loc: loc.at([...path, k], true), message: `${describePath([...path, k])}: unknown key '${k}'` }));
    case 'invalid_type': {
      const got = valueAt(raw, path);
      if (got === undefined) {
        const parent = path.slice(0, -1);
        return [{ loc: loc.at(parent, true), message: `${describePath(parent)}: required key '${path[path.length - 1]}' is missing` }];
      }
      const expected = issue.expected === 'record' ? 'mapping' : issue.expected === 'array' || issue.expected === 'tuple' ? 'list' : issue.expected;
      return [{ loc: loc.at(path), message: `${where}: expected ${expected === 'int' ? 'an integer' : `a ${expected}`}, got ${typeName(got)}` }];
    }
    case 'invalid_value':
      return [
        {
          loc: loc.at(path),
          message: `${where}: expected ${issue.values.length === 1 ? String(issue.values[0]) : 'one of ' + issue.values.join(', ')}, got ${typeName(valueAt(raw, path))}`,
        },
      ];
    case 'invalid_union': {
      // Report the alternative that got furthest (deepest path) - usually the intended one.
      const alternatives = 'errors' in issue ? issue.errors : [];
      const single = alternatives.find((a) => a.length > 0);
      if (single && alternatives.length > 0) {
        const msgs = alternatives.map((a) => a.map((i) => i.message)).flat();
        return [{ loc: loc.at(path), message: `${where}: ${[...new Set(msgs)].join('; or ')}` }];
      }
      return [{ loc: loc.at(path), message: `${where}: invalid value ${typeName(valueAt(raw, path))}` }];
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    default: {
      const msg = issue.message.startsWith('Too ') || issue.message.startsWith('Invalid') ? issue.message.toLowerCase() : issue.message;
      return [{ loc: loc.at(path), message: `${where}: ${msg}` }];
    }
  }
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return ds.sort((a, b) => a.loc.file.localeCompare(b.loc.file) || a.loc.line - b.loc.line || a.loc.col - b.loc.col || a.message.localeCompare(b.message));
}

export function validateSchema(loaded: LoadedIntent): { intent: Intent; locator: Locator } {
  const { value, locator } = validateWith(intentSchema, loaded);
  return { intent: value, locator };
}

/** Any loaded YAML against a zod schema, with the same file:line:col diagnostics. */
export function validateWith<S extends z.ZodType>(schema: S, loaded: LoadedIntent): { value: z.infer<S>; locator: Locator } {
  const locator = makeLocator(loaded);
  const res = schema.safeParse(loaded.raw);
  if (!res.success) {
    const diags = res.error.issues.flatMap((i) => issueToDiagnostics(i, loaded.raw, locator));
    throw new IntentError(sortDiagnostics(dedupe(diags)));
  }
  return { value: res.data, locator };
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.loc.file}:${d.loc.line}:${d.loc.col}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
