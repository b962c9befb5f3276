/**
 * Template loading: one Handlebars environment per templates directory (its partials, the
 * shared helpers), artifact templates compiled once per process and cached (and precompiled
 * once for every process: precompiled.ts).
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { z } from 'zod';
import { modelsDir, renderSpecSchema, type RenderSpec } from '../model/platforms.ts';
import { helpers } from './helpers.ts';
import { usePrecompiled } from './precompiled.ts';
import { EnvironmentError } from '../util/errors.ts';

export const templatesDir = fileURLToPath(new URL('../../templates', import.meta.url));

const artifactSetSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  applies_to: z.enum(['all', 'netconf']),
  yang_modules: z.array(z.string()).default([]),
  render: renderSpecSchema,
});
export type ArtifactSet = z.output<typeof artifactSetSchema>;

let setsCache: ArtifactSet[] | undefined;

export function loadArtifactSets(dir = path.join(modelsDir, 'artifact-sets')): ArtifactSet[] {
  if (setsCache) return setsCache;
  const out: ArtifactSet[] = [];
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
      const file = path.join(dir, f);
      const res = artifactSetSchema.safeParse(parse(readFileSync(file, 'utf8')));
      if (!res.success) throw new Error(`${file}: invalid artifact set: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      out.push(res.data);
    }
  }
  return (setsCache = out);
}

export interface CompiledArtifact {
  spec: RenderSpec['artifacts'][number];
  dir: string;
  template: Handlebars.TemplateDelegate;
}

const envs = new Map<string, typeof Handlebars>();
const compiled = new Map<string, CompiledArtifact[]>();

function walk(dir: string, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) out.push(...walk(p, `${prefix}${f}/`));
    else if (f.endsWith('.hbs')) out.push([`${prefix}${f.slice(0, -4)}`, p]);
  }
  return out;
}

/** The Handlebars environment of templates/<dir>: helpers plus partials/**.hbs. */
export function environment(dir: string): typeof Handlebars {
  let env = envs.get(dir);
  if (env) return env;
  env = Handlebars.create();
  usePrecompiled(env);
  for (const [name, fn] of Object.entries(helpers)) env.registerHelper(name, fn);
  const partials = path.join(templatesDir, dir, 'partials');
  if (existsSync(partials)) {
    for (const [name, file] of walk(partials)) env.registerPartial(name, readFileSync(file, 'utf8'));
  }
  envs.set(dir, env);
  return env;
}

/** The compiled artifacts of a platform or artifact set (cached by set name). */
export function compiledArtifacts(set: string, spec: RenderSpec): CompiledArtifact[] {
  let list = compiled.get(set);
  if (list) return list;
  const dir = spec.templates ?? set;
  const env = environment(dir);
  list = spec.artifacts.map((a) => {
    const file = path.join(templatesDir, dir, a.template);
    if (!existsSync(file)) throw new EnvironmentError(`template ${path.relative(process.cwd(), file)} (artifact ${a.name} of ${set}) does not exist`);
    return {
      spec: a,
      dir,
      template: env.compile(readFileSync(file, 'utf8'), { noEscape: a.format === 'text', preventIndent: false }),
    };
  });
  compiled.set(set, list);
  return list;
}

/** Forget compiled templates (tests that write templates; watch mode). */
export function clearTemplateCache(): void {
  envs.clear();
  compiled.clear();
  setsCache = undefined;
}
