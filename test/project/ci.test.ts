// "In CI" has one definition, and a CI run fails when any test was skipped.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { filesUnder } from '../support/files.ts';

function inCIWith(value: string | undefined): boolean {
  const env = { ...process.env };
  delete env.CI;
  if (value !== undefined) env.CI = value;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./test/support/ci.ts').then((m) => console.log(m.inCI))"], { cwd: repoRoot, env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim() === 'true';
}

describe('in CI', () => {
  it('means CI set to anything but empty or false', () => {
    expect([inCIWith('true'), inCIWith('1'), inCIWith('yes'), inCIWith('woodpecker')]).toEqual([true, true, true, true]);
    expect([inCIWith(undefined), inCIWith(''), inCIWith('false'), inCIWith('FALSE')]).toEqual([false, false, false, false]);
  });

  it('is decided in test/support/ci.ts only', () => {
    const readers = filesUnder(path.join(repoRoot, 'test'), (f) => f.endsWith('.ts'))
      .filter((f) => !f.endsWith(path.join('support', 'ci.ts')) && f !== import.meta.filename)
      .filter((f) => /process\.env\.CI\b|env\[['"]CI['"]\]/.test(readFileSync(f, 'utf8')));
    expect(readers.map((f) => path.relative(repoRoot, f))).toEqual([]);
  });
});

describe('.ci/summary.mjs (the closing step of .ci/run)', () => {
  /** A real vitest run of one file in a scratch project; returns the summary's exit status and output. */
  function summarize(testSource: string) {
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-ci-summary-'));
    try {
      writeFileSync(path.join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.mjs'] } };\n");
      writeFileSync(path.join(dir, 'x.test.mjs'), testSource);
      const report = path.join(dir, 'report.json');
      spawnSync(path.join(repoRoot, 'node_modules/.bin/vitest'), ['run', '--root', dir, '--reporter=json', `--outputFile.json=${report}`], { cwd: dir, encoding: 'utf8' });
      const r = spawnSync(process.execPath, [path.join(repoRoot, '.ci/summary.mjs'), report], { cwd: dir, encoding: 'utf8' });
      return { code: r.status, out: r.stdout };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('passes a run where every test passed', () => {
    const r = summarize("import { it, expect } from 'vitest';\nit('a', () => expect(1).toBe(1));\n");
    expect(r.out).toContain('1 passed, 0 failed, 0 skipped');
    expect(r.code).toBe(0);
  });

  it('fails a run with a skipped test, naming it', () => {
    const r = summarize("import { it, expect } from 'vitest';\nit('a', () => expect(1).toBe(1));\nit.skipIf(true)('needs a tool', () => expect(1).toBe(1));\n");
    expect(r.out).toContain('1 passed, 0 failed, 1 skipped');
    expect(r.out).toContain('skipped: x.test.mjs > needs a tool');
    expect(r.code).toBe(1);
  });

  it('fails a run with a failed test', () => {
    const r = summarize("import { it, expect } from 'vitest';\nit('a', () => expect(1).toBe(2));\n");
    expect(r.out).toContain('0 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('fails when there is no report (the typecheck stopped the run)', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, '.ci/summary.mjs'), path.join(tmpdir(), 'netloom-no-such-report.json')], { encoding: 'utf8' });
    expect(r.stdout).toContain('no test report');
    expect(r.status).toBe(1);
  });
});
