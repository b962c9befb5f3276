/** `netloom serve` refuses bad arguments and a missing target before creating anything. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/intent-copy.ts';

const parent = mkdtempSync(path.join(tmpdir(), 'netloom-serve-cli-'));
const state = path.join(parent, 'state');
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const serve = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', path.join(repoRoot, 'intents/dc1'), '--state-dir', state, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('netloom serve arguments', () => {
  it.each([
    [['--listen', 'nonsense'], "netloom serve: --listen expects HOST:PORT (127.0.0.1:8080, [::1]:8080), got 'nonsense'"],
    [['--listen', '127.0.0.1:99999'], "netloom serve: --listen expects HOST:PORT (127.0.0.1:8080, [::1]:8080), got '127.0.0.1:99999'"],
    [['--webhook', 'ftp://user:pw@example.org/x'], "netloom serve: --webhook expects an http(s) URL, got 'ftp://example.org/x'"],
    [['--drift', 'maybe'], "netloom serve: --drift must be one of off, alert, reapply, got 'maybe'"],
    [['--poll', 'spines=30'], "netloom serve: --poll expects ROLE=SECONDS with ROLE one of super-spine, spine, leaf, border-leaf, got 'spines=30'"],
    [['--poll', 'leaf=0.5'], 'netloom serve: --poll leaf=0.5: a poll period is between 1 and 3600 seconds'],
    [['--period', '0'], 'netloom serve: --period must be at least 1, got 0'],
    [['--table-reads', 'moved=10'], "netloom serve: --table-reads expects admit=N, refresh=N or changed=N (a whole number), got 'moved=10'"],
    [['--table-reads', 'changed=0'], 'netloom serve: --table-reads changed=0: must be at least 1'],
    [['--target', 'lab:hsv-no-such-lab'], /^netloom serve: no lab named 'hsv-no-such-lab' is up/],
  ])('%j: exit 2, one line, nothing created', (args, message) => {
    const r = serve(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof message === 'string') expect(lines[0]).toBe(message);
    else expect(lines[0]).toMatch(message);
    expect(existsSync(state)).toBe(false);
  });
});
