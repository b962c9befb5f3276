import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Every file below dir (recursively) whose path passes `keep`, sorted. */
export function filesUnder(dir: string, keep: (file: string) => boolean = () => true): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .filter(keep)
    .sort();
}
