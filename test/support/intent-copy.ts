/**
 * A copy of an example intent whose only change is its management subnet. A lab's management
 * subnet lives on the host, so labs of the same fabric run side by side only when each test
 * file gives its copy its own subnet (<net>.<third>.0/24, one constant per test file; `net`
 * defaults to 172.21, helpers with a range of their own pass theirs).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function intentCopy(example: string, third: number, net = '172.21'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-${path.basename(example)}-`));
  cpSync(path.join(repoRoot, example), dir, { recursive: true });
  const f = path.join(dir, 'fabric.yaml');
  const text = readFileSync(f, 'utf8');
  const replaced = text.replace(/^(\s+mgmt:\s+)\S+/m, `$1${net}.${third}.0/24`);
  if (replaced === text) throw new Error(`${example}/fabric.yaml has no pools.mgmt line to change`);
  writeFileSync(f, replaced);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
