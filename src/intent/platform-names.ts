/**
 * The platform names the intent schema accepts, read from the platform definitions
 * (models/platforms/<name>.yaml): adding a platform is adding its file, never editing the
 * schema. Only the names are read here; src/model/platforms.ts validates the definitions.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';

export const platformsDir = fileURLToPath(new URL('../../models/platforms', import.meta.url));

/** Every `*.yaml` of the directory with its declared `name`, in file-name order. */
export function platformFiles(dir = platformsDir): { file: string; name: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const name = (parse(readFileSync(file, 'utf8')) as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name !== f.slice(0, -'.yaml'.length)) throw new Error(`${file}: a platform definition's name must equal its file name (${f.slice(0, -5)})`);
      return { file, name };
    });
}

export function platformNames(dir = platformsDir): [string, ...string[]] {
  const names = platformFiles(dir).map((p) => p.name);
  if (!names.length) throw new Error(`${dir}: no platform definitions`);
  return names as [string, ...string[]];
}
