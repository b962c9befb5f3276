/**
 * Schema validation of a loaded intent, and the locator every later check uses to turn a
 * path in the merged document into file:line:col.
 */
import type { z } from 'zod';
import { intentSchema, type Intent } from './schema.ts';
import type { LoadedIntent } from './load.ts';
import { issueToDiagnostics, sortDiagnostics } from './issue-diagnostics.ts';

export { sortDiagnostics };
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
