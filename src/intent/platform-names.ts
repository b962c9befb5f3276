/**
 * The platform names the intent schema accepts, read from the platform definitions
 * (models/platforms/<name>.yaml): adding a platform is adding its file, never editing the
 * schema. Only the names are read here; src/model/platforms.ts validates the definitions.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';
import { fastParseFile } from './fast-yaml.ts';
import { Origins } from './load.ts';

export const platformsDir = fileURLToPath(new URL('../../models/platforms', import.meta.url));

const parsed = new Map<string, unknown>();

/**
 * A platform file's value, parsed once a process: its name is read when the intent schema is
 * built and its definition when a model is resolved (each was a parse by `yaml` of every file).
 * Through the intent files' fast path where it takes the text (plain YAML), else `yaml`.
 */
export function platformYaml(file: string): unknown {
  const own = path.dirname(file) === platformsDir;
  if (own && parsed.has(file)) return parsed.get(file);
  const text = readFileSync(file, 'utf8');
  const value = fastParseFile(file, text, new Origins()) ?? parse(text);
  // Only the project's own definitions are kept: another directory may be written between reads.
  if (own) parsed.set(file, value);
  return value;
}

/** Every `*.yaml` of the directory with its declared `name`, in file-name order. */
export function platformFiles(dir = platformsDir): { file: string; name: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const name = (platformYaml(file) as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name !== f.slice(0, -'.yaml'.length)) throw new Error(`${file}: a platform definition's name must equal its file name (${f.slice(0, -5)})`);
      return { file, name };
    });
}

export function platformNames(dir = platformsDir): [string, ...string[]] {
  const names = platformFiles(dir).map((p) => p.name);
  if (!names.length) throw new Error(`${dir}: no platform definitions`);
  return names as [string, ...string[]];
}
