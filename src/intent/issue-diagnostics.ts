/**
 * zod's issues as messages a network engineer reads without knowing zod, located through a
 * Locator: shared by the intent and every other YAML file netloom reads (inventories). It
 * imports no schema, so any loader can use it.
 */
import type { z } from 'zod';
import { isPlainObject } from './load.ts';
import type { Diagnostic } from '../util/errors.ts';
import type { Locator, Path } from './validate.ts';

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

/** One zod issue as diagnostics. */
export function issueToDiagnostics(issue: z.core.$ZodIssue, raw: unknown, loc: Locator): Diagnostic[] {
  const path = issue.path as (string | number)[];
  const where = describePath(path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ loc: loc.at([...path, k], true), message: `${describePath([...path, k])}: unknown key '${k}'` }));
    case 'invalid_type': {
      // A key that must not be there (z.never) says why in its own message, and never echoes
      // the value (a password written where only its variable's name belongs).
      if (issue.expected === 'never') return [{ loc: loc.at(path), message: `${where}: ${issue.message}` }];
      const got = valueAt(raw, path);
      if (got === undefined) {
        const parent = path.slice(0, -1);
        return [{ loc: loc.at(parent, true), message: `${describePath(parent)}: required key '${path[path.length - 1]}' is missing` }];
      }
      const expected = issue.expected === 'record' ? 'mapping' : issue.expected === 'array' || issue.expected === 'tuple' ? 'list' : issue.expected;
      return [{ loc: loc.at(path), message: `${where}: expected ${expected === 'int' ? 'an integer' : `a ${expected}`}, got ${typeName(got)}` }];
    }
    case 'invalid_value':
      if (valueAt(raw, path) === undefined && path.length && valueAt(raw, path.slice(0, -1)) !== undefined) {
        const parent = path.slice(0, -1);
        return [{ loc: loc.at(parent, true), message: `${describePath(parent)}: required key '${path[path.length - 1]}' is missing (one of ${issue.values.join(', ')})` }];
      }
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
