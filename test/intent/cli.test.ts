// The CLI as users run it: exit codes, summaries, messages without stack traces.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, ['src/cli/bin.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('netloom CLI', () => {
  it('validates the default example (dc1) with a summary', () => {
    const r = netloom('validate');
    expect(r.code).toBe(0);
    expect(r.out).toContain('fabric dc1 (site ams1): valid');
    expect(r.out).toMatch(/devices\s+6: 2 spine, 4 leaf/);
    expect(r.out).toMatch(/bgp\s+8 sessions: 8 ebgp underlay\+overlay/);
    expect(r.out).toContain('BLUE L3VNI 50001 on 3 leaves');
  });

  it('validates dc2 (mixed platforms, OSPF + iBGP)', () => {
    const r = netloom('validate', 'intents/dc2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/platforms\s+1 nxos, 1 junos, 1 srlinux, 5 eos/);
    expect(r.out).toMatch(/ospf\s+12 adjacencies/);
    expect(r.out).toContain('route reflectors: spine1, spine2');
  });

  it('prints every error with file:line:col, exit 1, no stack trace', () => {
    const r = netloom('validate', 'test/intent/broken/62-several-errors-at-once.yaml');
    expect(r.code).toBe(1);
    const expected = readFileSync('test/intent/broken/62-several-errors-at-once.yaml', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => l.slice(10));
    expect(r.err.trim().split('\n')).toEqual([...expected, '3 errors']);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exit 2 for usage and environment errors', () => {
    expect(netloom('validate', '/nonexistent/dir').code).toBe(2);
    expect(netloom('validate', '/nonexistent/dir').err).toContain("intent directory '/nonexistent/dir' does not exist");
    expect(netloom('validate', '--bogus').code).toBe(2);
    expect(netloom('frobnicate').code).toBe(2);
  });

  it('--help and --version', () => {
    expect(netloom('--help').out).toContain('validate');
    expect(netloom('--version').out.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(netloom('validate', '--help').out).toContain('usage: netloom validate');
  });

  it('model --json prints the resolved model', () => {
    const r = netloom('model', 'intents/dc1', '--json');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.out);
    expect(m.devices.map((d: { name: string }) => d.name)).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2']);
  });
});
