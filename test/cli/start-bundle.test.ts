// The CLI's compiled start is a cache of its sources, never a stale build: a changed input makes
// a new bundle, each module still sees its own import.meta.url, and what cannot be compiled is
// left to tsx (undefined), which reports it in its own words.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { repoRoot } from '../support/intent-copy.ts';
import { bundled } from '../../src/cli/start-bundle.mjs';

function project() {
  const root = mkdtempSync(path.join(tmpdir(), 'netloom-bundle-'));
  mkdirSync(path.join(root, 'src/deep'), { recursive: true });
  writeFileSync(path.join(root, 'src/main.ts'), "import { where } from './deep/where.ts';\nexport const here: string = import.meta.url;\nexport const there: string = where();\nexport const value: number = 1;\n");
  writeFileSync(path.join(root, 'src/deep/where.ts'), 'export function where(): string {\n  return new URL(".", import.meta.url).pathname;\n}\n');
  return { root, entry: path.join(root, 'src/main.ts'), cache: path.join(root, 'cache') };
}

describe('the CLI start bundle', () => {
  it('is reused while its inputs are unchanged and rebuilt, the old one removed, when one changes', async () => {
    const p = project();
    try {
      const first = await bundled(p.root, p.entry, p.cache);
      expect(first).toMatch(/^file:.*\/cache\/main-.*\.mjs$/);
      const m = (await import(first!)) as { here: string; there: string; value: number };
      // Each module keeps the URL of its own source file, not the bundle's.
      expect(m.here).toBe(pathToFileURL(p.entry).href);
      expect(m.there).toBe(path.join(p.root, 'src/deep') + '/');
      expect(m.value).toBe(1);
      expect(await bundled(p.root, p.entry, p.cache)).toBe(first);

      writeFileSync(path.join(p.root, 'src/deep/where.ts'), 'export function where(): string {\n  return "moved";\n}\n');
      const second = await bundled(p.root, p.entry, p.cache);
      expect(second).not.toBe(first);
      expect(((await import(second!)) as { there: string }).there).toBe('moved');
      expect(existsSync(fileURLToPath(first!))).toBe(false);
      expect(readdirSync(p.cache).sort()).toEqual(['manifest.json', path.basename(fileURLToPath(second!)), path.basename(fileURLToPath(second!)) + '.map'].sort());

      // A copy of the project (same files, another root) sharing the cache gets its own bundle,
      // whose modules know where they are.
      const copy = path.join(p.root, 'copy');
      cpSync(path.join(p.root, 'src'), path.join(copy, 'src'), { recursive: true });
      const other = await bundled(copy, path.join(copy, 'src/main.ts'), p.cache);
      expect(other).not.toBe(second);
      expect(((await import(other!)) as { here: string }).here).toBe(pathToFileURL(path.join(copy, 'src/main.ts')).href);
    } finally {
      rmSync(p.root, { recursive: true, force: true });
    }
  });

  it('leaves sources that do not compile to tsx', async () => {
    const p = project();
    try {
      writeFileSync(path.join(p.root, 'src/deep/where.ts'), 'export function where(: string {\n');
      expect(await bundled(p.root, p.entry, p.cache)).toBeUndefined();
      expect(existsSync(path.join(p.cache, 'manifest.json'))).toBe(false);
    } finally {
      rmSync(p.root, { recursive: true, force: true });
    }
  });

  it("runs netloom's own sources: the same answers with and without it", () => {
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'validate', 'intents/dc1'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
    const viaBundle = run({});
    const viaTsx = run({ NETLOOM_NO_BUNDLE: '1' });
    expect(viaBundle.status).toBe(0);
    expect(viaBundle.stdout).toContain('dc1');
    expect(viaBundle.stdout).toBe(viaTsx.stdout);
    expect(viaBundle.stderr).toBe(viaTsx.stderr);
  });
});
