// The plan's secret scanner over inventory files on a real git repository: a password pasted
// into an inventory the change modifies, a token in an added one, an untracked one in the
// working tree; each finding at its file:line:col, new only when the base lacked it, the gate
// failing, and the value in no report format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from './ci-runner.ts';
import { scenarioRepo, type ScenarioRepo } from './scenario-repo.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { looksLikeInventory } from '../../src/plan/inventory-secrets.ts';

let repo: string;
let r: ScenarioRepo;
const git = (...args: string[]) => r.git(...args);
const write = (file: string, text: string) => r.write(file, text);
const PASSWORD = 'Tr0ub4dor-and-3';
const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
const INVENTORY = [
  'defaults: { username: root, credentials: { key_file: ~/.ssh/id_ed25519 } }',
  'devices:',
  '  leaf1: { address: 192.0.2.1, transport: ssh }',
  '  leaf2:',
  '    address: 192.0.2.2',
  '    transport: netconf',
  '    credentials: { password_env: LEAF2_PW }',
  '',
].join('\n');

async function plan(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const parsed = parseCommandArgs(planCommand, [path.join(repo, 'intents/dc1'), ...args]);
  const code = await planCommand.run({ ...parsed, out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out: out.join('\n') };
}
type Check = { id: string; passed: boolean; examined: string; findings: { severity: string; message: string; location: { file: string; line: number; col: number }; new: boolean }[] };
const inventoryCheck = (json: string) => (JSON.parse(json).verification.checks as Check[]).find((c) => c.id === 'compliance-inventory-secrets');

let restoreCache: () => void;
beforeAll(() => {
  restoreCache = privateModelCache();
  r = scenarioRepo('netloom-plan-inventory-');
  repo = r.root;
  const { commit } = r;
  cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
  write('inventories/prod.yaml', INVENTORY);
  write('docs/notes.yaml', 'password: not-an-inventory-value\n');
  commit('base');
  // leaf2's password written in, not referenced; a notes file that is no inventory changes too.
  write('inventories/prod.yaml', INVENTORY.replace('credentials: { password_env: LEAF2_PW }', `credentials: { password: "${PASSWORD}" }`));
  write('docs/notes.yaml', 'password: another-value-here\n');
  commit('password');
  // An added file named as an inventory, in another shape, holding a token.
  write('ops/lab-inventory.yml', `hosts:\n  - name: leaf1\n    api: ${TOKEN}\n`);
  commit('token');
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  restoreCache();
});

describe('secrets in inventory files', () => {
  it('a password written into an inventory the change modifies: file:line:col, new, the gate fails, the value in no format', async () => {
    const r = await plan(['--base', 'base', '--head', 'password', '--format', 'json']);
    expect(r.code).toBe(1);
    const c = inventoryCheck(r.out)!;
    expect(c.examined).toBe('1 inventory file (inventories/prod.yaml)');
    expect(c.passed).toBe(false);
    expect(c.findings).toEqual([
      { check: 'compliance-inventory-secrets', severity: 'error', message: "a literal value for 'password' in inventory inventories/prod.yaml (15 characters)", location: { file: 'inventories/prod.yaml', line: 7, col: 30 }, new: true },
    ]);
    for (const format of ['text', 'markdown', 'json', 'junit', 'sarif']) {
      const o = await plan(['--base', 'base', '--head', 'password', '--format', format]);
      expect(o.out).toContain('inventories/prod.yaml');
      expect(o.out).not.toContain(PASSWORD.slice(0, 4));
    }
    const text = (await plan(['--base', 'base', '--head', 'password'])).out;
    expect(text).toContain("  FAIL  compliance-inventory-secrets 1 inventory file (inventories/prod.yaml)\n        error [new]: a literal value for 'password' in inventory inventories/prod.yaml (15 characters)\n          at inventories/prod.yaml:7:30");
  });

  it('an added file named as an inventory with a token; the password of the base no longer new', async () => {
    const r = await plan(['--base', 'password', '--head', 'token', '--format', 'json']);
    const c = inventoryCheck(r.out)!;
    expect(c.examined).toBe('1 inventory file (ops/lab-inventory.yml)');
    expect(c.findings.map((f) => [f.message, `${f.location.file}:${f.location.line}:${f.location.col}`, f.new])).toEqual([['a GitHub token in inventory ops/lab-inventory.yml (44 characters)', 'ops/lab-inventory.yml:3:10', true]]);
    expect(r.out).not.toContain(TOKEN.slice(0, 6));
    // The working tree as head: an edit that keeps the password is scanned, and not new.
    write('inventories/prod.yaml', readFileSync(path.join(repo, 'inventories/prod.yaml'), 'utf8') + '  leaf3: { address: 192.0.2.3, transport: ssh }\n');
    const w = inventoryCheck((await plan(['--base', 'token', '--format', 'json'])).out)!;
    expect(w.findings.map((f) => [f.location.line, f.new])).toEqual([[7, false]]);
    git('checkout', '-q', '--', 'inventories/prod.yaml');
  });

  it('an untracked inventory in the working tree is scanned; a change touching no inventory reports no such check', async () => {
    expect(inventoryCheck((await plan(['--base', 'token', '--format', 'json'])).out)).toBeUndefined();
    write('inventories/new.yaml', `devices:\n  spine1: { address: 192.0.2.9, transport: ssh, credentials: { password: hunter2hunter2 } }\n`);
    const c = inventoryCheck((await plan(['--base', 'token', '--format', 'json'])).out)!;
    expect(c.findings.map((f) => [f.message, f.location])).toEqual([["a literal value for 'password' in inventory inventories/new.yaml (14 characters)", { file: 'inventories/new.yaml', line: 2, col: 74 }]]);
    rmSync(path.join(repo, 'inventories/new.yaml'));
  });

  it('recognises inventories by shape or name, not any YAML', () => {
    expect(looksLikeInventory('x/prod.yaml', INVENTORY)).toBe(true);
    expect(looksLikeInventory('x/lab-inventory.yml', 'hosts: []\n')).toBe(true);
    expect(looksLikeInventory('docs/notes.yaml', 'password: x\n')).toBe(false);
    expect(looksLikeInventory('x/prod.json', INVENTORY)).toBe(false);
    expect(looksLikeInventory('x/fabric.yaml', 'devices: [a, b]\n')).toBe(false);
  });
});
