/**
 * A copy of an example intent whose only change is its management subnet. A lab's management
 * subnet lives on the host, so labs of the same fabric run side by side only when each test
 * file gives its copy its own subnet (<net>.<third>.0/24, one constant per test file; `net`
 * defaults to 172.21, helpers with a range of their own pass theirs).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * A copy of a multi-site example (sites.yaml and its site directories) whose management
 * network moves from 172.20.40.0/23 to <net>.<third>.0/23 (third even): every pool inside it
 * moves with it, addresses keep their offsets.
 */
export function sitesCopy(example: string, third: number, net = '172.31'): { dir: string; cleanup: () => void } {
  if (third % 2) throw new Error(`sitesCopy: the third octet must be even (a /23), got ${third}`);
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-${path.basename(example)}-`));
  cpSync(path.join(repoRoot, example), dir, { recursive: true });
  const rewrite = (f: string) => {
    const text = readFileSync(f, 'utf8');
    writeFileSync(f, text.replaceAll('172.20.40.', `${net}.${third}.`).replaceAll('172.20.41.', `${net}.${third + 1}.`));
  };
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.ya?ml$/.test(e.name)) rewrite(path.join(d, e.name));
    }
  };
  walk(dir);
  if (!readFileSync(path.join(dir, 'sites.yaml'), 'utf8').includes(`${net}.${third}.0/23`)) throw new Error(`${example}/sites.yaml has no 172.20.40.0/23 management network to move`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
