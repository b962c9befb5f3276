/** Copies of intents/gslb1 whose gslb section a test changes, and their load errors as file:line:col lines. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadModelSync } from '../../../src/model/index.ts';
import { IntentError, formatDiagnostic } from '../../../src/util/errors.ts';
import { repoRoot } from '../../support/intent-copy.ts';

export { repoRoot };
export const gslb1 = path.join(repoRoot, 'intents/gslb1');

const made: string[] = [];
export function cleanupCopies(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function gslb1Copy(edit: (gslb: any) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hgs-gslb1-'));
  made.push(dir);
  cpSync(gslb1, dir, { recursive: true });
  const p = path.join(dir, 'gslb.yaml');
  const doc = parse(readFileSync(p, 'utf8'));
  edit(doc.gslb);
  writeFileSync(p, stringify(doc));
  return dir;
}

/** The load errors of `dir`, as the CLI prints them (file:line:col: message), file names relative to `dir`. */
export function loadErrors(dir: string): string[] {
  try {
    loadModelSync(dir);
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map((d) => formatDiagnostic(d).replace(`${dir}/`, ''));
    throw e;
  }
  return [];
}
