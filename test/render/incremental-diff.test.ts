import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderModel } from '../../src/render/index.ts';
import { IncrementalRenderer } from '../../src/render/incremental.ts';
import { unifiedDiff } from '../../src/render/diff.ts';
import { writeOutput } from '../../src/render/write.ts';
import { compareWithDir, summaryLine } from '../../src/render/compare.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { editedIntent, have, repoRoot } from './fixtures.ts';
import { inCI } from '../support/ci.ts';

const dc1 = path.join(repoRoot, 'intents/dc1');
// Tenant red gets an MTU: only the leaves carrying VLAN 30 (leaf1, leaf4) change.
const redMtu = () => editedIntent('dc1', (f, t) => (f === 'tenants.yaml' ? t.replace('            vlan: 30\n', '            vlan: 30\n            mtu: 9000\n') : t));
// Moving lines (a comment at the top) shifts every source position and changes no config.
const shifted = () => editedIntent('dc1', (f, t) => (f === 'tenants.yaml' ? `# moved\n# down\n${t}` : t));

describe('incremental render', () => {
  it('re-renders only devices whose inputs changed, with the same output as a full render', () => {
    const inc = new IncrementalRenderer();
    expect(inc.render(loadModelSync(dc1)).rerendered).toHaveLength(6);
    expect(inc.render(loadModelSync(shifted())).rerendered).toEqual([]);
    const changed = loadModelSync(redMtu());
    const r = inc.render(changed);
    expect(r.rerendered.sort()).toEqual(['leaf1', 'leaf4']);
    expect(r.artifacts).toEqual(renderModel(changed).artifacts);
    expect(r.artifacts.find((a) => a.path === 'leaf4/network.sh')!.content).toContain('set_mtu br30 9000\n');
  });
});

describe('render --diff', () => {
  it('reports changed/unchanged/added/removed devices and diffs that patch(1) applies', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'netloom-render-diff-'));
    writeOutput(renderModel(loadModelSync(dc1)), out);
    const c = compareWithDir(renderModel(loadModelSync(redMtu())), out);
    expect(summaryLine(c)).toBe('2 changed, 4 unchanged, 0 added, 0 removed');
    expect(c.diffs.join('')).toContain('-set_mtu br30 1500\n+set_mtu br30 9000\n');
    expect(compareWithDir(renderModel(loadModelSync(dc1)), out).diffs).toEqual([]);
    // Removing leaf4 (and what only it carries) shows as removed.
    const noLeaf4 = editedIntent('dc1', (f, t) =>
      f === 'nodes.yaml' ? t.replace(/^\s*leaf4:.*\n/m, '') : f === 'endpoints.yaml' ? t.replace(/^.*name: h4.*\n/m, '') : t);
    expect(summaryLine(compareWithDir(renderModel(loadModelSync(noLeaf4)), out))).toMatch(/, 1 removed$/);
  });

  it.skipIf(!have('patch') && !inCI)('unified diffs of random texts apply with patch(1) [needs patch]', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-render-patch-'));
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let t = 0; t < 150; t++) {
      const text = () => Array.from({ length: rnd(25) }, () => `l${rnd(5)}`).join('\n') + '\n';
      const a = text();
      const b = text();
      writeFileSync(path.join(dir, 'f'), a);
      const d = unifiedDiff(a, b, 'a/f', 'b/f');
      if (a === b) {
        expect(d).toBe('');
        continue;
      }
      writeFileSync(path.join(dir, 'p'), d);
      const r = spawnSync('patch', ['-s', path.join(dir, 'f'), path.join(dir, 'p')], { encoding: 'utf8' });
      expect(r.status, r.stderr + r.stdout + d).toBe(0);
      expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe(b);
    }
  });
});

describe('line diff at scale', () => {
  // The previous O((N+M)D)-memory Myers needed 3.3 GB for 10,000 changed lines; these ran it out of memory.
  const big = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';
  const shuffled = (t: string) => {
    const l = t.split('\n').slice(0, -1);
    let s = 3;
    for (let i = l.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const j = s % (i + 1);
      [l[i], l[j]] = [l[j], l[i]];
    }
    return l.join('\n') + '\n';
  };
  const old = big(30_000, (i) => `line ${i}`);
  const cases: [string, string][] = [
    ['fully changed', big(30_000, (i) => `row ${i}`)],
    ['reversed', old.split('\n').slice(0, -1).reverse().join('\n') + '\n'],
    ['shuffled', shuffled(old)],
    ['every 7th line changed', big(30_000, (i) => (i % 7 ? `line ${i}` : `line ${i} changed`))],
  ];
  it.skipIf(!have('patch')).each(cases)('30,000 lines, %s: a diff patch(1) applies [needs patch]', (_name, now) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-diff-big-'));
    try {
      writeFileSync(path.join(dir, 'f'), old);
      const d = unifiedDiff(old, now, 'a/f', 'b/f');
      writeFileSync(path.join(dir, 'p'), d);
      const r = spawnSync('patch', ['-s', path.join(dir, 'f'), path.join(dir, 'p')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe(now);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the minimal script on small edits (same output as diff -u)', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const b = 'a\nB\nc\nd\ne\nf\ng\nh\nz\n';
    expect(unifiedDiff(a, b, 'a/f', 'b/f')).toBe('--- a/f\n+++ b/f\n@@ -1,8 +1,9 @@\n a\n-b\n+B\n c\n d\n e\n f\n g\n h\n+z\n');
  });
});

describe('netloom render CLI', () => {
  const outs: string[] = [];
  const tmpOut = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'netloom-render-cli-'));
    outs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of outs) rmSync(d, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), ...args], { encoding: 'utf8', cwd: repoRoot });
  it('writes OUT/<device>/<file> and manifest.json, byte-identical on re-run', () => {
    const out = tmpOut();
    const r1 = cli('render', 'intents/dc1', '--out', out);
    expect(r1.status, r1.stderr).toBe(0);
    const m1 = readFileSync(path.join(out, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(m1);
    expect(manifest.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest.artifacts.map((a: { path: string }) => a.path)).toContain('leaf1/frr.conf');
    const r2 = cli('render', 'intents/dc1', '--out', out);
    expect(r2.stdout).toContain('(0 written, 0 removed)');
    expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(m1);
    const r3 = cli('render', 'intents/dc1', '--diff', out);
    expect(r3.stdout.trim()).toBe(`render: 0 changed, 6 unchanged, 0 added, 0 removed (against ${out})`);
  });
  it('exits 1 with every diagnostic for an unsupported feature, 2 for an unknown device', () => {
    const dir = editedIntent('dc1', (f, t) => (f === 'tenants.yaml' ? t.replace('name: BLUE', 'name: BLUE_IS_A_LONG_NAME') : t));
    const r = cli('render', dir, '--out', tmpOut());
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/tenants\.yaml:\d+:\d+: device leaf1: platform frr limits VRF names to 15 characters/);
    expect(cli('render', 'intents/dc1', '--diff', '/nonexistent', '--device', 'nosuch').status).toBe(2);
  });
});
