// Every program a test runs comes from a package that lab/install-deps.sh installs (or that
// Debian always has): a green run must not depend on what happened to be on the machine.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { filesUnder } from '../support/files.ts';

/** Programs the tests start by name (spawn, spawnSync, execFile, execFileSync, run, have). */
function programsTestsRun(): string[] {
  const names = new Set<string>();
  for (const f of filesUnder(path.join(repoRoot, 'test'), (p) => p.endsWith('.ts') && !p.includes('/bench/'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync|run|have)\(\s*'([\w./-]+)'/g)) names.add(path.basename(m[1]));
  }
  return [...names].sort();
}

/** The Debian package that ships a program on the PATH (usrmerge: the dpkg database may list /bin or /usr/bin). */
function packageOf(program: string): string | undefined {
  const onPath = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
  // The program itself, or what an alternatives symlink (which -> which.debianutils) points to.
  const real = onPath ? [path.basename(realpathSync(onPath))] : [];
  for (const file of [...new Set([program, ...real])].flatMap((f) => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${f}`))) {
    const r = spawnSync('dpkg-query', ['-S', file], { encoding: 'utf8' });
    const line = r.stdout.split('\n').find((l) => !l.startsWith('diversion'));
    if (r.status === 0 && line) return line.split(':')[0];
  }
  return undefined;
}

/** Packages a listed package pulls in directly (python3 -> python3-minimal, which ships /usr/bin/python3). */
function dependencies(pkg: string): string[] {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Depends}, ${Pre-Depends}', pkg], { encoding: 'utf8' });
  return r.stdout.split(/[,|]/).map((d) => d.trim().split(/[\s:(]/)[0]).filter(Boolean);
}

function essential(pkg: string): boolean {
  return spawnSync('dpkg-query', ['-W', '-f=${Essential}', pkg], { encoding: 'utf8' }).stdout.trim() === 'yes';
}

describe('lab/install-deps.sh', () => {
  const script = readFileSync(path.join(repoRoot, 'lab/install-deps.sh'), 'utf8');
  const listed = /^pkgs=\(([^)]*)\)/m.exec(script)?.[1].split(/\s+/).filter(Boolean) ?? [];

  it('installs the package of every program a test runs', () => {
    const installed = new Set([...listed, ...listed.flatMap(dependencies)]);
    const programs = programsTestsRun();
    expect(programs).toEqual(expect.arrayContaining(['ip', 'patch', 'tshark', 'vtysh', 'yanglint']));
    const uncovered = programs.flatMap((p) => {
      // npm comes with Node, the prerequisite the README names; it is not a Debian package here.
      if (p === 'npm') return [];
      const pkg = packageOf(p);
      if (pkg === undefined) return [`${p}: not installed by any Debian package`];
      return installed.has(pkg) || essential(pkg) ? [] : [`${p}: package ${pkg}`];
    });
    expect(uncovered).toEqual([]);
  });
});
