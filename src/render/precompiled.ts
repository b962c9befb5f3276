/**
 * Handlebars templates compiled once, not in every process: compiling the FRR templates and
 * the partials a device's files use costs about 0.13 s of each process that renders (a plan
 * renders two devices), instantiating their precompiled form a few milliseconds. The
 * precompiled JavaScript is what `precompile` gives (Handlebars' own way of shipping
 * templates), kept beside the CLI's start bundle (node_modules/.cache, the same trust as the
 * code) by the digest of the Handlebars version, the compile options and the template text: an
 * edited template is another entry. Whatever the cache cannot do (a read-only directory, a torn
 * file) compiles as Handlebars does.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import type Handlebars from 'handlebars';

type Env = typeof Handlebars;
type Template = Handlebars.TemplateDelegate & {
  _setup(o: unknown): unknown;
  _child(i: number, data?: unknown, blockParams?: unknown, depths?: unknown): unknown;
};

/** Precompiled templates kept (the newest by write): a few versions of every platform's templates. */
export const PRECOMPILED_KEPT = 1024;

export const precompiledDir = fileURLToPath(new URL('../../node_modules/.cache/netloom-templates', import.meta.url));

/** A precompiled template as kept: the spec's JavaScript and the options the compile left (its partials are compiled with them). */
interface Kept {
  options: Record<string, unknown>;
  spec: string;
}

function precompiled(env: Env, key: string, input: string, options: CompileOptions): Kept {
  const file = path.join(precompiledDir, `${key}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Kept;
  } catch {
    // not compiled before
  }
  // Handlebars completes the options it is given (data, knownHelpers) as its compile does.
  const opts = { ...options } as Record<string, unknown>;
  // Its typings say a spec object: at run time it is the spec's JavaScript text.
  const kept: Kept = { spec: env.precompile(input, opts) as unknown as string, options: opts };
  try {
    mkdirSync(precompiledDir, { recursive: true });
    // Test workers of one process write the same entries: a temporary file each.
    const tmp = `${file}.tmp-${process.pid}-${threadId}`;
    writeFileSync(tmp, JSON.stringify(kept));
    renameSync(tmp, file);
    const files = readdirSync(precompiledDir);
    if (files.length > PRECOMPILED_KEPT) {
      const byAge = files.map((f) => ({ f, t: statSync(path.join(precompiledDir, f)).mtimeMs })).sort((a, b) => b.t - a.t);
      for (const { f } of byAge.slice(PRECOMPILED_KEPT)) rmSync(path.join(precompiledDir, f), { force: true });
    }
  } catch {
    // a read-only install: compiled again next time
  }
  return kept;
}

/** The template Handlebars' compile gives: the spec with the compile's options (knownHelpers without a prototype, as Handlebars makes it). */
function instantiate(env: Env, kept: Kept): Template {
  const spec = new Function(`return ${kept.spec}`)() as Record<string, unknown>;
  const options = { ...kept.options };
  if (options.knownHelpers) options.knownHelpers = Object.assign(Object.create(null) as object, options.knownHelpers);
  spec.compilerOptions = options;
  return env.template(spec as Parameters<Env['template']>[0]) as Template;
}

/** Options that JSON carries exactly: scalars, arrays of them (blockParams) and objects of booleans (knownHelpers). */
const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v);
const plain = (options: object) =>
  Object.values(options).every((v) => scalar(v) || (Array.isArray(v) ? v.every((x) => scalar(x) && x !== undefined) : typeof v === 'object' && Object.values(v as object).every((x) => typeof x === 'boolean')));

type CompileOptions = Parameters<Env['compile']>[1];

/**
 * `env.compile` made to read templates precompiled before. Partials registered as text are
 * compiled through `env.compile` when first used (with the options of the template using
 * them), so they are taken from the cache too. Lazy, as Handlebars' own compile is: a template
 * never used is never read.
 */
export function usePrecompiled(env: Env): void {
  const compile = env.compile.bind(env);
  const made = new Map<string, Template>();
  env.compile = ((input: unknown, options: CompileOptions = {}) => {
    // An AST (not text), or options JSON does not carry, are Handlebars' to compile.
    if (typeof input !== 'string' || !plain(options ?? {})) return compile(input as string, options);
    const key = createHash('sha256').update(`${env.VERSION}\0${JSON.stringify(options ?? {})}\0${input}`).digest('hex');
    const load = (): Template => {
      let t = made.get(key);
      if (!t) {
        try {
          t = instantiate(env, precompiled(env, key, input, options));
        } catch {
          // A template that does not compile (Handlebars says why, in its words) or a torn cache file.
          t = compile(input, options) as Template;
        }
        made.set(key, t);
      }
      return t;
    };
    const ret = function (this: unknown, context: unknown, execOptions?: Handlebars.RuntimeOptions) {
      return load().call(this, context, execOptions);
    } as Template;
    ret._setup = (o) => load()._setup(o);
    ret._child = (i, data, blockParams, depths) => load()._child(i, data, blockParams, depths);
    return ret;
  }) as Env['compile'];
}
