/**
 * `netloom pipeline DIR --out OUT --down` on an intent copy, as a user runs it (a child
 * process): its exit status and everything it printed, and the cleanup a test's afterAll runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labDown } from '../../src/lab/index.ts';
import { repoRoot } from './intent-copy.ts';

export function pipelineOn(copy: { dir: string; cleanup: () => void }, lab: string) {
  const out = mkdtempSync(path.join(tmpdir(), `netloom-${lab}-out-`));
  return {
    out,
    run(): { status: number | null; text: string } {
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'pipeline', copy.dir, '--out', out, '--down'], { encoding: 'utf8', timeout: 600_000 });
      return { status: r.status, text: r.stdout + r.stderr };
    },
    async cleanup(): Promise<void> {
      await labDown(lab).catch(() => false);
      copy.cleanup();
      rmSync(out, { recursive: true, force: true });
    },
  };
}
