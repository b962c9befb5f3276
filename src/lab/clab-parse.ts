import { readFileSync } from 'node:fs';
import { LIMITS, readTextBounded } from '../util/safe-path.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { IntentError, type Diagnostic } from '../util/errors.ts';
import type { ClabTopology } from './clab-types.ts';

// ajv is CommonJS: under NodeNext its default export is the module object.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;

export const CLAB_SCHEMA_PATH = fileURLToPath(new URL('../../lab/schemas/clab.schema.json', import.meta.url));

let validator: ValidateFunction | undefined;
function clabValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(CLAB_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    // containerlab's schema carries editor hints (markdownDescription...) that strict mode rejects.
    const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): ValidateFunction })({
      strict: false,
      allErrors: true,
    });
    validator = ajv.compile(schema);
  }
  return validator;
}

export interface ParsedClab {
  topology: ClabTopology;
  /** Absolute path of the file, when it came from one. */
  file?: string;
  /** Directory relative bind paths resolve against. */
  baseDir: string;
  /** Position of a value in the file, for diagnostics (path like ['topology','nodes','r1']). */
  locate?: (path: (string | number)[]) => { line: number; col: number };
}

function locator(doc: ReturnType<typeof parseDocument>, lc: LineCounter) {
  return (segs: (string | number)[]) => {
    for (let n = segs.length; n >= 0; n--) {
      const node = doc.getIn(segs.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && node.range) return lc.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
}

function pointerSegments(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(e: ErrorObject): string {
  const where = pointerSegments(e.instancePath).join('.') || '(top level)';
  const p = e.params as Record<string, unknown>;
  let msg = e.message ?? 'invalid';
  if (e.keyword === 'enum' && Array.isArray(p.allowedValues)) {
    const vals = p.allowedValues as unknown[];
    msg = `must be one of ${vals.slice(0, 8).join(', ')}${vals.length > 8 ? `, ... (${vals.length} values)` : ''}`;
  } else if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') {
    msg = `unknown property '${p.additionalProperty}'`;
  }
  return `${where}: ${msg}`;
}

/**
 * anyOf/oneOf failures report one error per branch; the deepest paths say what is actually
 * wrong, so keep those and drop the branch noise above them.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const concrete = errors.filter((e) => !['anyOf', 'oneOf', 'if', 'not'].includes(e.keyword));
  const pool = concrete.length ? concrete : errors;
  const kept = pool.filter(
    (e) => !pool.some((o) => o !== e && o.instancePath.startsWith(e.instancePath + '/')),
  );
  const seen = new Set<string>();
  return kept.filter((e) => {
    const k = describe(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Validates a parsed topology object against containerlab's schema. Throws IntentError listing
 * every violation (with file positions when `source` gives the YAML text).
 */
export function validateClab(obj: unknown, source?: { file: string; text: string }): ClabTopology {
  const validate = clabValidator();
  if (validate(obj)) return obj as ClabTopology;
  let locate: (ptr: string) => { line: number; col: number } = () => ({ line: 1, col: 1 });
  if (source) {
    const lc = new LineCounter();
    const find = locator(parseDocument(source.text, { lineCounter: lc }), lc);
    locate = (ptr) => find(pointerSegments(ptr));
  }
  const diagnostics: Diagnostic[] = relevantErrors(validate.errors ?? []).map((e) => ({
    loc: { file: source?.file ?? '<topology>', ...locate(e.instancePath) },
    message: `not a valid containerlab topology: ${describe(e)}`,
  }));
  throw new IntentError(diagnostics);
}

/** Parses and schema-validates a containerlab YAML text. */
export function parseClabText(text: string, file = '<topology>', baseDir = process.cwd()): ParsedClab {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) {
    throw new IntentError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return { loc: { file, line: pos.line, col: pos.col }, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const topology = validateClab(doc.toJS(), { file, text });
  return { topology, file: file.startsWith('<') ? undefined : file, baseDir, locate: locator(doc, lc) };
}

/** Reads, parses and schema-validates a `*.clab.yml` file. */
export function parseClabFile(file: string): ParsedClab {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readTextBounded(abs, LIMITS.topology, 'the topology');
  } catch (e) {
    throw new IntentError([{ loc: { file: abs, line: 1, col: 1 }, message: `cannot read topology file: ${(e as Error).message}` }]);
  }
  return parseClabText(text, abs, path.dirname(abs));
}
