/** Two revisions of an intent, base and edited head, each in a directory of its own under `root()`. */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { writeGeneratedIntent, type generateFabricIntent } from '../../src/intent/generate.ts';
import { repoRoot } from './intent-copy.ts';

export type PairSource = { files: ReturnType<typeof generateFabricIntent> } | { example: string };

/** A pair maker numbering its pairs; `root` is read at each call (a suite's temporary directory made in beforeAll). */
export function revisionPairs(root: () => string) {
  let n = 0;
  return (src: PairSource, edit: (dir: string) => void): { baseDir: string; headDir: string } => {
    const at = path.join(root(), String(n++));
    const baseDir = path.join(at, 'base', 'fab');
    const headDir = path.join(at, 'head', 'fab');
    for (const d of [baseDir, headDir]) {
      if ('files' in src) writeGeneratedIntent(d, src.files);
      else cpSync(path.join(repoRoot, src.example), d, { recursive: true });
    }
    edit(headDir);
    return { baseDir, headDir };
  };
}
