// The dependency list is honest: every runtime dependency is imported by the sources, and
// every package the lock file installs accepts the Node version netloom supports (20).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { filesUnder } from '../support/files.ts';

describe('dependencies', () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('every runtime dependency is imported by src/', () => {
    const text = filesUnder(path.join(repoRoot, 'src'), (f) => /\.(ts|mjs)$/.test(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = Object.keys(pkg.dependencies).filter((d) => !new RegExp(`(from |import\\()'${d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[^']*)?'`).test(text));
    expect(unused).toEqual([]);
  });

  it('npm ci on Node 20 reports no unsupported engine', () => {
    expect(process.versions.node.split('.')[0]).toBe('20');
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-engines-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(repoRoot, f), path.join(dir, f));
      const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr + r.stdout).not.toContain('EBADENGINE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
