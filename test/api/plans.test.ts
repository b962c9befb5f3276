/**
 * GET /plans of `netloom serve` on a real temporary git repository: the report equals what
 * `netloom plan` prints for the same revisions, models stay in memory by their git tree (the
 * next push's base is read from memory), and bad revisions, invalid intents and an intent
 * outside git are the caller's errors.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { CheckFailed } from '../../src/util/errors.ts';
import type { Monitor } from '../../src/service/monitor.ts';
import { privateModelCache } from '../plan/ci-runner.ts';
import { refusingService } from '../support/refusing-service.ts';
import { repoRoot } from '../support/intent-copy.ts';
import { scenarioRepo, type ScenarioRepo } from '../plan/scenario-repo.ts';

const READ = 'read-token-for-plan-tests-0123456789';
const auth = { authorization: `Bearer ${READ}` };

let r: ScenarioRepo;
let repo: string;
let app: FastifyInstance;
let monitor: Monitor;
let restoreCache: () => void;
const git = (...args: string[]) => r.git(...args);

async function cliPlan(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await planCommand.run({ ...parseCommandArgs(planCommand, args), out: (l) => out.push(l), err: () => undefined });
  return { code, out: out.join('\n') };
}

beforeAll(async () => {
  restoreCache = privateModelCache();
  r = scenarioRepo('netloom-plans-api-');
  repo = r.root;
  cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
  r.commit('base');
  // First push of a pull request: a VLAN on leaf2.
  r.edit('intents/dc1/tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: ops\n            vlan: 40\n            subnet: 10.10.40.0/24\n            gateway: 10.10.40.1\n');
  r.commit('push1');
  // Its next push: an endpoint in it.
  const endpoints = 'intents/dc1/endpoints.yaml';
  r.write(endpoints, readFileSync(path.join(repo, endpoints), 'utf8') + '  - { name: h6, leaf: leaf2, port: eth11, vlan: 40, ipv4: 10.10.40.16/24 }\n');
  r.commit('push2');
  // A push that breaks the intent: an endpoint on a leaf that does not exist.
  r.write(endpoints, readFileSync(path.join(repo, endpoints), 'utf8') + '  - { name: h9, leaf: leaf9, port: eth11, vlan: 40, ipv4: 10.10.40.19/24 }\n');
  r.commit('broken');
  // The service serves the merged intent.
  git('checkout', '-q', 'push2');
  ({ app, monitor } = await refusingService(path.join(repo, 'intents/dc1'), path.join(repo, 'netloom.db'), { read: READ }));
});
afterAll(async () => {
  await app?.close();
  await monitor?.stop();
  monitor?.store.close();
  rmSync(repo, { recursive: true, force: true });
  restoreCache?.();
});

const get = (query: string, headers: Record<string, string> = auth) => app.inject({ method: 'GET', url: `/plans?${query}`, headers });

describe('GET /plans', () => {
  it('needs a token', async () => {
    expect((await get('base=base&head=push1', {})).statusCode).toBe(401);
  });

  it("reports what netloom plan prints, the base read from memory on the pull request's next push", async () => {
    const first = await get('base=base&head=push1&format=text');
    expect(first.statusCode).toBe(200);
    const a = first.json();
    expect(a).toMatchObject({ fabric: 'dc1', base: { rev: 'base', commit: git('rev-parse', 'base'), resident: false }, head: { rev: 'push1', commit: git('rev-parse', 'push1'), resident: false }, result: 'ok', failing: 0, format: 'text', cut: false });
    const cli1 = await cliPlan([path.join(repo, 'intents/dc1'), '--base', 'base', '--head', 'push1']);
    expect(a.report.replace(/\n$/, '')).toBe(cli1.out);
    expect(a.report).toContain('network ops');

    const second = (await get('base=base&head=push2&format=text')).json();
    expect(second.base).toEqual({ rev: 'base', commit: git('rev-parse', 'base'), resident: true });
    expect(second.head.resident).toBe(false);
    const cli2 = await cliPlan([path.join(repo, 'intents/dc1'), '--base', 'base', '--head', 'push2']);
    expect(second.report.replace(/\n$/, '')).toBe(cli2.out);
    expect(second.report).toContain('endpoint h6');

    // The same plan again: both sides from memory, the same report.
    const again = (await get('base=base&head=push2&format=text')).json();
    expect([again.base.resident, again.head.resident, again.report]).toEqual([true, true, second.report]);
  });

  it('every format of netloom plan: JSON parses to the plan, SARIF 2.1.0, Markdown summary first', async () => {
    const json = (await get('base=base&head=push2&format=json')).json();
    const plan = JSON.parse(json.report);
    expect(plan.schema).toBe('netloom-plan/1');
    expect(plan.changes.map((c: { kind: string; key: string; change: string }) => `${c.change} ${c.kind} ${c.key}`)).toContain('added endpoint h6');
    const sarif = JSON.parse((await get('base=base&head=push2&format=sarif')).json().report);
    expect(sarif.version).toBe('2.1.0');
    const md = (await get('base=base&head=push2&format=markdown')).json();
    expect(md.report.split('\n')[0]).toMatch(/^## netloom plan: /);
    expect(md.report).toContain('```mermaid');
  });

  it("a broken head fails with the intent's file:line:col named at its revision; unknown and option-like revisions are refused", async () => {
    const broken = await get('base=base&head=broken');
    expect([broken.statusCode, broken.json().error]).toEqual([422, 'invalid-intent']);
    expect(broken.json().message).toMatch(/^broken:intents\/dc1\/endpoints\.yaml:\d+:\d+: .*leaf9/m);
    const unknown = await get('base=base&head=nosuchbranch');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toContain("head 'nosuchbranch' is no revision of the repository");
    expect((await get('base=--output=/tmp/x&head=push1')).statusCode).toBe(400);
  });
});

describe('netloom plan --server', () => {
  it('prints the served report, exits as the local plan, and names what went wrong', async () => {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const run = async (args: string[], token: string | null = READ) => {
      const prev = process.env.NETLOOM_TOKEN;
      if (token === null) delete process.env.NETLOOM_TOKEN;
      else process.env.NETLOOM_TOKEN = token;
      const out: string[] = [];
      try {
        return { code: await planCommand.run({ ...parseCommandArgs(planCommand, args), out: (l) => out.push(l), err: () => undefined }), out: out.join('\n') };
      } finally {
        if (prev === undefined) delete process.env.NETLOOM_TOKEN;
        else process.env.NETLOOM_TOKEN = prev;
      }
    };
    const local = await cliPlan([path.join(repo, 'intents/dc1'), '--base', 'base', '--head', 'push2']);
    const served = await run(['--server', url, '--base', 'base', '--head', 'push2']);
    expect(served).toEqual({ code: local.code, out: local.out });
    // Findings at warning or above fail it, as they fail the local plan.
    const strict = await cliPlan([path.join(repo, 'intents/dc1'), '--base', 'base', '--head', 'push2', '--fail-on', 'warning']);
    expect((await run(['--server', url, '--base', 'base', '--head', 'push2', '--fail-on', 'warning'])).code).toBe(strict.code);
    // An invalid intent at the head: exit 1 with its diagnostics; no token or a wrong one: a usage error.
    await expect(run(['--server', url, '--base', 'base', '--head', 'broken'])).rejects.toThrow(/^broken:intents\/dc1\/endpoints\.yaml:\d+:\d+: .*leaf9/m);
    await expect(run(['--server', url, '--base', 'base', '--head', 'broken'])).rejects.toBeInstanceOf(CheckFailed);
    await expect(run(['--server', url, '--base', 'base', '--head', 'push2'], 'not-a-token-not-a-token')).rejects.toThrow(/unknown token/);
    await expect(run(['--server', url, '--base', 'base', '--head', 'push2'], null)).rejects.toThrow(/set NETLOOM_TOKEN or give --token-file/);
    await expect(run(['--server', url, '--base', 'base'])).rejects.toThrow(/give --head REV/);
  });
});

describe('GET /plans of an intent outside git', () => {
  it('says why it cannot plan', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'netloom-plans-nogit-'));
    cpSync(path.join(repoRoot, 'intents/dc1'), path.join(d, 'dc1'), { recursive: true });
    const s = await refusingService(path.join(d, 'dc1'), path.join(d, 'netloom.db'), { read: READ });
    try {
      const r = await s.app.inject({ method: 'GET', url: '/plans?base=main&head=HEAD', headers: auth });
      expect(r.statusCode).toBe(400);
      expect(r.json().message).toMatch(/^the service's intent cannot be planned: .* is not inside a git work tree/);
    } finally {
      await s.app.close();
      await s.monitor.stop();
      s.monitor.store.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
