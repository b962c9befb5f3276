// Every faster way `netloom plan` has gives the same bytes as computing everything in one
// thread from nothing (NETLOOM_PLAN_REUSE=off): the head taking the base's control-plane
// tables and fabric checks where they are the same (src/plan/sim-tables.ts, test/plan/plan-reuse.test.ts),
// the head's analysis on a worker thread (src/plan/side-analysis.ts), the base's model, memo
// and table bytes read back from the cache, and both sides cached. Revision pairs: a VLAN
// with an endpoint, a leaf added, the fabric MTU changed (every device's configuration), an
// uplink removed (findings at the head, so the base's checks are asked too), a firewall rule,
// and the working tree as the head.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from './ci-runner.ts';
import { scenarioRepo, type ScenarioRepo } from './scenario-repo.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { startSideAnalysis } from '../../src/plan/side-analysis.ts';
import { runChecks, type PlanSide } from '../../src/plan/plan.ts';
import { intentRepo } from '../../src/plan/git-revision.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { makeContext } from '../../src/verify/checks/index.ts';
import { endpointFlows } from '../../src/verify/flows.ts';
import { allStaticChecks } from '../../src/domains/index.ts';

let r: ScenarioRepo;

async function planJson(args: string[], worker: 'always' | 'never', reuse: 'on' | 'off' = 'on'): Promise<{ code: number; out: string }> {
  const prev = { NETLOOM_PLAN_WORKER: process.env.NETLOOM_PLAN_WORKER, NETLOOM_PLAN_REUSE: process.env.NETLOOM_PLAN_REUSE };
  process.env.NETLOOM_PLAN_WORKER = worker;
  process.env.NETLOOM_PLAN_REUSE = reuse;
  try {
    const out: string[] = [];
    const parsed = parseCommandArgs(planCommand, [...args, '--format', 'json']);
    const code = await planCommand.run({ ...parsed, out: (l) => out.push(l), err: () => undefined });
    return { code, out: out.join('\n') };
  } finally {
    for (const [k, v] of Object.entries(prev)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * The plan computed five ways: every one must be the first's bytes (everything computed on one
 * thread, nothing taken from the base: NETLOOM_PLAN_REUSE=off). One cache directory, emptied
 * between the runs that must start cold.
 */
async function everyWay(args: string[]): Promise<string> {
  const restore = privateModelCache();
  const empty = () => rmSync(path.join(process.env.NETLOOM_CACHE_DIR!, 'plan-models'), { recursive: true, force: true });
  try {
    const full = await planJson(args, 'never', 'off');
    empty();
    // Cold, the head taking the base's tables and fabric checks where they are the same.
    const reused = await planJson(args, 'never');
    empty();
    const worker = await planJson(args, 'always');
    // The same cache again: the base (and a committed head) read back with their memos.
    const baseCached = await planJson(args, 'always');
    const allCached = await planJson(args, 'never');
    for (const other of [reused, worker, baseCached, allCached]) {
      expect(other.code).toBe(full.code);
      expect(other.out).toBe(full.out);
    }
    // Every place is repository-relative, the compared values' own too (an added interface's
    // source), never the cache entry a revision was exported into.
    expect(full.out).not.toMatch(/"file": "\//);
    return full.out;
  } finally {
    restore();
  }
}

const dir = () => path.join(r.root, 'intents/dc1');

beforeAll(() => {
  r = scenarioRepo('netloom-plan-paths-');
  for (const ex of ['dc1', 'fw2']) cpSync(path.join(repoRoot, 'intents', ex), path.join(r.root, 'intents', ex), { recursive: true });
  r.commit('base');
  r.edit('intents/dc1/tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: ops\n            vlan: 40\n            subnet: 10.10.40.0/24\n            gateway: 10.10.40.1\n');
  r.edit('intents/dc1/endpoints.yaml', 'endpoints:\n', 'endpoints:\n  - { name: h6, leaf: leaf2, port: eth11, vlan: 40, ipv4: 10.10.40.16/24 }\n');
  r.commit('vlan');
  r.edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }');
  r.commit('leaf');
  r.edit('intents/dc1/fabric.yaml', '  mtu: 9216', '  mtu: 9100');
  r.commit('mtu');
  r.edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }');
  r.commit('uplink');
  r.edit('intents/fw2/firewall.yaml', '          services: [app-http]', '          services: [app-http, http]');
  r.commit('fw');
}, 60_000);

afterAll(() => rmSync(r.root, { recursive: true, force: true }));

describe('netloom plan: the worker thread and the cache change no byte of the plan', () => {
  it('a VLAN with an endpoint', async () => {
    const out = await everyWay([dir(), '--base', 'base', '--head', 'vlan']);
    expect(out).toContain('"key": "ops"');
    expect(out).toContain('"src": "h6"');
  }, 120_000);

  it('a leaf added', async () => {
    const out = await everyWay([dir(), '--base', 'vlan', '--head', 'leaf']);
    expect(out).toContain('"device": "leaf5"');
  }, 120_000);

  it('the fabric MTU: every device changes', async () => {
    const out = await everyWay([dir(), '--base', 'leaf', '--head', 'mtu']);
    const plan = JSON.parse(out) as { blastRadius: { devices: { device: string }[] } };
    expect(plan.blastRadius.devices.map((d) => d.device).sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'leaf5', 'spine1', 'spine2']);
  }, 120_000);

  it('an uplink removed: new findings at the head, the base asked for its own', async () => {
    const out = await everyWay([dir(), '--base', 'mtu', '--head', 'uplink']);
    const plan = JSON.parse(out) as { verification: { checks: { findings: { new: boolean }[] }[] } };
    expect(plan.verification.checks.flatMap((c) => c.findings).filter((f) => f.new).length).toBeGreaterThan(0);
  }, 120_000);

  it('a firewall rule, and the working tree as the head', async () => {
    const fw = await everyWay([path.join(r.root, 'intents/fw2'), '--base', 'uplink', '--head', 'fw']);
    expect(fw).toContain('"newlyAccepted"');
    r.edit('intents/dc1/fabric.yaml', '  mtu: 9100', '  mtu: 9000');
    try {
      const wt = await everyWay([dir(), '--base', 'fw']);
      expect(wt).toContain('"after": 9000');
    } finally {
      r.git('checkout', '-q', '--', 'intents/dc1/fabric.yaml');
    }
  }, 120_000);
});

describe('the head analysed on a worker thread', () => {
  const withWorker = <T>(fn: () => T): T => {
    const prev = process.env.NETLOOM_PLAN_WORKER;
    process.env.NETLOOM_PLAN_WORKER = 'always';
    try {
      return fn();
    } finally {
      if (prev === undefined) delete process.env.NETLOOM_PLAN_WORKER;
      else process.env.NETLOOM_PLAN_WORKER = prev;
    }
  };

  it('answers with the checks and flows this thread computes for the same revision', () => {
    const repo = intentRepo(dir());
    const commit = r.git('rev-parse', 'uplink');
    const w = withWorker(() => startSideAnalysis(repo, commit));
    expect(w).toBeDefined();
    try {
      // This thread's own answer, from the working tree (the same intent as the commit).
      const model = loadModelSync(dir());
      const side: PlanSide = { rev: 'uplink', model, repoPath: (f) => path.relative(r.root, f) };
      const ctx = makeContext(buildFabricGraph(model));
      const endpoints = new Set(['h1', 'h2', 'h3', 'h4']);
      expect(w!.flows(endpoints)).toEqual(endpointFlows(model, endpoints, ctx.fg, ctx));
      const ids = allStaticChecks().map((c) => c.id);
      const mine = runChecks(side, ctx, ids);
      const theirs = w!.checks(ids)!;
      expect([...theirs.keys()]).toEqual(ids);
      for (const { id, ...m } of mine) expect(theirs.get(id)).toEqual(m);
      // leaf4's lost uplink is a finding both name, at the repository-relative line.
      expect(mine.flatMap((c) => c.findings).some((f) => f.location?.file === 'intents/dc1/nodes.yaml')).toBe(true);
    } finally {
      w!.close();
    }
  }, 60_000);

  it('a revision it cannot load is no answer (the plan computes it), not a wait', () => {
    r.edit('intents/dc1/nodes.yaml', '  leaf1: { group: leaves, id: 1 }', '  leaf1: { group: leaves, id: 1, bogus: 1 }');
    try {
      const w = withWorker(() => startSideAnalysis(intentRepo(dir()), undefined))!;
      const t0 = Date.now();
      expect(w.checks(['underlay-ecmp'])).toBeUndefined();
      expect(w.flows(new Set(['h1', 'h2']))).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(60_000);
      w.close();
    } finally {
      r.git('checkout', '-q', '--', 'intents/dc1/nodes.yaml');
    }
  }, 90_000);
});
