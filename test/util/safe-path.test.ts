// Paths netloom did not choose stay inside their directory: `..`, absolute paths and symlinks
// leading out are refused before anything is read, written or removed.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LIMITS, readTextBounded, resolveInside, UnsafePathError } from '../../src/util/safe-path.ts';
import { EnvironmentError } from '../../src/util/errors.ts';
import { repoRoot } from '../render/fixtures.ts';

const tmp: string[] = [];
const mk = (p: string) => {
  const d = mkdtempSync(path.join(tmpdir(), p));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('resolveInside', () => {
  const root = mk('netloom-safe-');
  const outside = mk('netloom-victim-');
  writeFileSync(path.join(outside, 'precious.txt'), 'keep me\n');
  mkdirSync(path.join(root, 'leaf1'));
  writeFileSync(path.join(root, 'leaf1', 'frr.conf'), 'x\n');
  symlinkSync(outside, path.join(root, 'escape'));
  symlinkSync(path.join(outside, 'precious.txt'), path.join(root, 'leaf1', 'link.conf'));
  symlinkSync(path.join(root, 'leaf1'), path.join(root, 'inner'));

  it('accepts plain relative paths, existing or not', () => {
    expect(resolveInside(root, 'leaf1/frr.conf', 'entry')).toBe(path.join(root, 'leaf1/frr.conf'));
    expect(resolveInside(root, 'new/dir/file', 'entry')).toBe(path.join(root, 'new/dir/file'));
    expect(resolveInside(root, 'leaf1/../leaf1/frr.conf', 'entry')).toBe(path.join(root, 'leaf1/frr.conf'));
    expect(resolveInside(root, 'inner/frr.conf', 'entry')).toBe(path.join(root, 'inner/frr.conf'));
  });

  it.each([
    ['../x', 'leaves its directory'],
    ['leaf1/../../x', 'leaves its directory'],
    ['.', 'leaves its directory'],
    ['/etc/passwd', 'is absolute'],
    ['', 'is empty'],
    ['a\0b', 'NUL'],
    ['escape/precious.txt', 'through a symlink'],
    ['escape/new/file', 'through a symlink'],
    ['leaf1/link.conf', 'through a symlink'],
  ])('refuses %j (%s)', (rel, why) => {
    expect(() => resolveInside(root, rel, 'entry')).toThrow(UnsafePathError);
    expect(() => resolveInside(root, rel, 'entry')).toThrow(why);
  });

  it('lets a final symlink through only when it is the thing removed, not followed', () => {
    expect(resolveInside(root, 'leaf1/link.conf', 'entry', { followFinal: false })).toBe(path.join(root, 'leaf1/link.conf'));
    expect(() => resolveInside(root, 'escape/precious.txt', 'entry', { followFinal: false })).toThrow(UnsafePathError);
  });

  it('is an EnvironmentError (exit 2)', () => {
    expect(() => resolveInside(root, '../x', 'entry')).toThrow(EnvironmentError);
  });
});

describe('readTextBounded', () => {
  it('reads a file under the bound and refuses one over it before reading', () => {
    const d = mk('netloom-bounded-');
    writeFileSync(path.join(d, 'f'), 'a'.repeat(100));
    expect(readTextBounded(path.join(d, 'f'), 100, 'the file')).toBe('a'.repeat(100));
    expect(() => readTextBounded(path.join(d, 'f'), 99, 'the file')).toThrow(/the file is 100 bytes, more than the 0 MiB netloom accepts/);
  });
});

describe('render --out / --diff with a hostile manifest', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), ...args], { encoding: 'utf8', cwd: repoRoot });
  const setup = (entry: (victim: string, out: string) => string) => {
    const victim = mk('netloom-victim-');
    writeFileSync(path.join(victim, 'precious.txt'), 'secret\n');
    const out = mk('netloom-out-');
    expect(cli('render', 'intents/dc1', '--out', out).status).toBe(0);
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    m.artifacts.push({ device: 'gone', platform: 'frr', artifact: 'frr.conf', path: entry(victim, out), sha256: '0', bytes: 1 });
    writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
    return { victim, out };
  };

  it('a ../ entry: render --out deletes nothing and exits 2 with a clear message', () => {
    const { victim, out } = setup((v, o) => path.relative(o, path.join(v, 'precious.txt')));
    const r = cli('render', 'intents/dc1', '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/manifest\.json: entry '\.\.\/[^']*precious\.txt' leaves its directory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(victim, 'precious.txt'))).toBe(true);
    expect(existsSync(path.join(out, 'leaf1', 'frr.conf'))).toBe(true);
  });

  it('a ../ entry: render --diff prints nothing of the file', () => {
    const { out } = setup((v, o) => path.relative(o, path.join(v, 'precious.txt')));
    const r = cli('render', 'intents/dc1', '--diff', out);
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).not.toContain('secret');
  });

  it('an entry through a symlinked device directory: nothing deleted, nothing printed', () => {
    const { victim, out } = setup((v, o) => {
      symlinkSync(v, path.join(o, 'gone'));
      return 'gone/precious.txt';
    });
    const r = cli('render', 'intents/dc1', '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("entry 'gone/precious.txt' leaves its directory through a symlink");
    expect(existsSync(path.join(victim, 'precious.txt'))).toBe(true);
    const d = cli('render', 'intents/dc1', '--diff', out);
    expect(d.status).toBe(2);
    expect(d.stdout + d.stderr).not.toContain('secret');
  });

  it('a manifest.json that is a symlink out of the directory is neither read nor overwritten', () => {
    const victim = mk('netloom-victim-');
    writeFileSync(path.join(victim, 'precious.json'), '{"secret": true}\n');
    const out = mk('netloom-out-');
    symlinkSync(path.join(victim, 'precious.json'), path.join(out, 'manifest.json'));
    const r = cli('render', 'intents/dc1', '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("manifest 'manifest.json' leaves its directory through a symlink");
    expect(readFileSync(path.join(victim, 'precious.json'), 'utf8')).toBe('{"secret": true}\n');
  });

  it('an absolute entry is refused', () => {
    const { victim, out } = setup((v) => path.join(v, 'precious.txt'));
    expect(cli('render', 'intents/dc1', '--out', out).stderr).toContain('is absolute');
    expect(existsSync(path.join(victim, 'precious.txt'))).toBe(true);
  });
});

describe('size bounds of files netloom reads whole', () => {
  const padded = (dir: string, file: string, head: string, bytes: number) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, file), head + '#'.repeat(bytes) + '\n');
    return path.join(dir, file);
  };

  it('an intent file past 16 MiB is a diagnostic at its first line', async () => {
    const { loadIntentDir } = await import('../../src/intent/load.ts');
    const { IntentError, formatDiagnostic } = await import('../../src/util/errors.ts');
    const d = mk('netloom-big-intent-');
    const f = padded(d, 'fabric.yaml', readFileSync(path.join(repoRoot, 'intents/dc1/fabric.yaml'), 'utf8'), LIMITS.intentFile);
    let diags: string[] = [];
    try {
      loadIntentDir(d);
    } catch (e) {
      if (!(e instanceof IntentError)) throw e;
      diags = e.diagnostics.map(formatDiagnostic);
    }
    expect(diags).toEqual([`${path.relative(process.cwd(), f).startsWith('..') ? f : path.relative(process.cwd(), f)}:1:1: an intent file is ${(statSync(f).size).toLocaleString('en-US')} bytes, more than the 16 MiB netloom accepts`]);
  });

  it('an inventory past 16 MiB is refused before it is parsed', async () => {
    const { loadInventory } = await import('../../src/push/inventory.ts');
    const f = padded(mk('netloom-big-inv-'), 'inv.yaml', 'devices: {}\n', LIMITS.inventory);
    expect(() => loadInventory(f)).toThrow(/the inventory is [\d,]+ bytes, more than the 16 MiB netloom accepts/);
  });

  it('a manifest past 64 MiB is refused before it is parsed', () => {
    const d = mk('netloom-big-manifest-');
    padded(d, 'manifest.json', '', LIMITS.manifest);
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'render', 'intents/dc1', '--diff', d], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/manifest\.json: the manifest is 67,108,865 bytes, more than the 64 MiB netloom accepts/);
  });
});

describe('lab names are names, not paths', () => {
  it('lab down/status/apply with a lab name holding .. or / are usage errors, nothing read outside the state root', async () => {
    const { getLabState, labDir, runDir } = await import('../../src/lab/state.ts');
    const { UsageError } = await import('../../src/util/errors.ts');
    for (const bad of ['../../etc', 'a/b', '..', '.hidden']) {
      expect(() => getLabState(bad)).toThrow(UsageError);
      expect(() => labDir(bad)).toThrow(`lab name '${bad}' must be letters`);
      expect(() => runDir(bad)).toThrow(UsageError);
    }
    expect(labDir('h11a-ok')).toMatch(/\/labs\/h11a-ok$/);
  });

  it('lab down --name ../../victim removes nothing outside the state directory', () => {
    const root = mk('netloom-state-');
    const victim = path.join(root, 'victim');
    mkdirSync(victim);
    writeFileSync(path.join(victim, 'precious.txt'), 'keep\n');
    const state = path.join(root, 'state');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'lab', 'down', '--name', '../../victim'], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, NETLOOM_STATE_DIR: state } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("lab name '../../victim' must be letters");
    expect(existsSync(path.join(victim, 'precious.txt'))).toBe(true);
  });
});
