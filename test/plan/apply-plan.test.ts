// `apply --plan`: the saved plan file's checks, the staleness reasons and the apply lock, without
// a lab (test/lab/apply-plan.test.ts applies and refuses plans against a running fabric).
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from './ci-runner.ts';
import { APPLY_PLAN_SCHEMA, artifactChanges, artifactDigests, driftReason, pushedArtifacts, readApplyPlan, snapshotDigest, staleReasons, targetId, type ApplyPlan } from '../../src/plan/apply-plan.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { acquireApplyLock, applyLockFile, withApplyLock } from '../../src/push/apply-lock.ts';
import { IntentError, CheckFailed } from '../../src/util/errors.ts';

const bin = path.join(repoRoot, 'src/cli/bin.mjs');
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-apply-plan-'));
const restoreCache = privateModelCache();
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  restoreCache();
});

const D = (c: string) => c.repeat(64);
const plan = (over: Partial<ApplyPlan> = {}): ApplyPlan => ({
  schema: APPLY_PLAN_SCHEMA,
  createdAt: '2026-12-03T12:00:00.000Z',
  netloom: '0.1.0',
  fabric: 'dc1',
  intentDir: 'intents/dc1',
  intent: { rev: 'working tree', revision: '0123456789abcdef' },
  artifacts: { leaf1: { 'frr.conf': D('a'), 'network.sh': D('b') }, leaf2: { 'frr.conf': D('c') } },
  target: 'lab:dc1',
  running: { leaf1: D('1'), leaf2: D('2') },
  ...over,
});

function planFile(name: string, content: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, content);
  return f;
}

// An inventory nothing is ever pushed to: these applies stop before connecting.
const inventory = planFile('inv.yaml', 'devices:\n  leaf1: { address: 127.0.0.1, port: 1, transport: ssh, credentials: { key_file: /nonexistent }, host_key: { fingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } }\n');

function readError(f: string): string {
  try {
    readApplyPlan(f);
  } catch (e) {
    expect(e).toBeInstanceOf(IntentError);
    return (e as Error).message;
  }
  throw new Error(`${f} was accepted`);
}

describe('the plan file', () => {
  it('a valid plan reads back as written', () => {
    const f = planFile('ok.json', JSON.stringify(plan()));
    expect(readApplyPlan(f)).toEqual(plan());
  });

  it('defects are FILE:line:col: messages', () => {
    expect(readError(path.join(tmp, 'none.json'))).toBe(`${tmp}/none.json:1:1: plan file not found (write one with netloom plan --save FILE)`);
    expect(readError(planFile('syntax.json', '{\n  "schema": "netloom-apply-plan/1",\n  oops\n}'))).toMatch(/syntax\.json:3:3: not JSON: /);
    expect(readError(planFile('report.json', JSON.stringify({ schema: 'netloom-plan/1' })))).toBe(
      `${tmp}/report.json:1:1: a plan report (netloom plan --format json), not a saved plan: write one with netloom plan --save FILE`,
    );
    expect(readError(planFile('foreign.json', JSON.stringify({ format_version: '1.2', planned_values: {} })))).toBe(`${tmp}/foreign.json:1:1: not a netloom plan (schema null, expected netloom-apply-plan/1)`);
    expect(readError(planFile('array.json', '[1,2]'))).toMatch(/array\.json:1:1: not a netloom plan/);
    expect(readError(planFile('digest.json', JSON.stringify(plan({ artifacts: { leaf1: { 'frr.conf': 'abc' } } }))))).toBe(
      `${tmp}/digest.json:1:1: not a valid netloom-apply-plan/1: artifacts.leaf1.frr.conf: a sha256 digest (64 hex digits)`,
    );
    expect(readError(planFile('extra.json', JSON.stringify({ ...plan(), apply: 'rm -rf /' })))).toMatch(/extra\.json:1:1: not a valid netloom-apply-plan\/1: \(top\): Unrecognized key.*apply/);
    const { target: _t, ...noTarget } = plan();
    expect(readError(planFile('notarget.json', JSON.stringify(noTarget)))).toBe(`${tmp}/notarget.json:1:1: not a valid netloom-apply-plan/1: running: running-state digests without the target they were read from`);
    expect(readError(tmp)).toBe(`${tmp}:1:1: not a file`);
  });

  it('its size is bounded before it is read', () => {
    const f = path.join(tmp, 'huge.json');
    writeFileSync(f, Buffer.alloc(33 * 1024 * 1024, 0x20));
    expect(readError(f)).toBe(`${f}:1:1: a plan file is 34,603,008 bytes, more than the 32 MiB netloom accepts`);
  });
});

describe('staleness', () => {
  const now = { fabric: 'dc1', revision: '0123456789abcdef', artifacts: plan().artifacts, target: 'lab:dc1' };

  it('a plan of what apply sees now is not stale', () => {
    expect(staleReasons(plan(), now)).toEqual([]);
  });

  it('names the intent revision, the target, and every device and file rendered differently', () => {
    const artifacts = { leaf1: { 'frr.conf': D('a'), 'network.sh': D('e'), 'nftables.conf': D('f') }, leaf3: { 'frr.conf': D('c') } };
    expect(staleReasons(plan({ intent: { rev: 'feature', commit: 'f'.repeat(40), revision: 'fedcba9876543210' } }), { ...now, artifacts, target: '/srv/prod.yaml' })).toEqual([
      'the plan was made for target lab:dc1, not /srv/prod.yaml',
      'the intent changed since the plan: revision 0123456789abcdef, planned fedcba9876543210 (feature, commit ffffffffffff)',
      'rendered output differs from the plan: leaf1: network.sh, nftables.conf (new); leaf2: in the plan, no longer in the intent; leaf3: not in the plan (a new device)',
    ]);
    expect(artifactChanges({ a: { x: D('1'), y: D('2') } }, { a: { x: D('1') } })).toEqual(['a: y (gone)']);
  });

  it('the same intent rendered differently (another netloom, other templates) is stale on its own', () => {
    expect(staleReasons(plan(), { ...now, artifacts: { ...now.artifacts, leaf2: { 'frr.conf': D('d') } } })).toEqual(['rendered output differs from the plan: leaf2: frr.conf']);
  });

  it('a plan of another fabric is refused for that alone', () => {
    expect(staleReasons(plan({ fabric: 'dc3' }), now)).toEqual(['the plan is for fabric dc3, the intent is fabric dc1']);
  });

  it('a plan made without a target applies to any target (and has no drift check)', () => {
    const { target: _t, running: _r, ...p } = plan();
    expect(staleReasons(p, { ...now, target: '/srv/prod.yaml' })).toEqual([]);
  });

  it('targets are compared as lab names and absolute inventory paths', () => {
    expect(targetId('lab', 'dc1')).toBe('lab:dc1');
    expect(targetId('lab:x', 'dc1')).toBe('lab:x');
    expect(targetId('inv.yaml', 'dc1')).toBe(path.resolve('inv.yaml'));
  });

  it('drift: a device whose snapshot digest differs, or was never read, is named', () => {
    const snap = { transport: 'ssh', running: 'frr version 8.4\n', frrConf: 'x' };
    const p = plan({ running: { leaf1: snapshotDigest(snap), leaf2: D('2') } });
    // Key order does not matter; content does.
    expect(driftReason(p, 'leaf1', { frrConf: 'x', running: 'frr version 8.4\n', transport: 'ssh' })).toBeUndefined();
    expect(driftReason(p, 'leaf1', { ...snap, running: 'frr version 8.4\nip prefix-list X seq 5 permit any\n' })).toBe('leaf1: running state changed since the plan');
    expect(driftReason(p, 'leaf9', snap)).toBe('leaf9: its running state was not read when the plan was made');
  });
});

describe('the apply lock', () => {
  const env = { ...process.env, NETLOOM_STATE_DIR: path.join(tmp, 'state'), NETLOOM_DEBUG: '' };
  const withState = <T>(f: () => T): T => {
    const prev = process.env.NETLOOM_STATE_DIR;
    process.env.NETLOOM_STATE_DIR = env.NETLOOM_STATE_DIR;
    try {
      return f();
    } finally {
      if (prev === undefined) delete process.env.NETLOOM_STATE_DIR;
      else process.env.NETLOOM_STATE_DIR = prev;
    }
  };

  it('a second apply while one holds the lock is refused, naming pid, host, user, command and since', () => {
    const release = withState(() => acquireApplyLock('netloom apply intents/dc1 --target lab', () => undefined));
    try {
      const held = JSON.parse(readFileSync(withState(applyLockFile), 'utf8'));
      expect(held).toMatchObject({ pid: process.pid, host: hostname(), user: userInfo().username, command: 'netloom apply intents/dc1 --target lab' });
      const r = spawnSync(process.execPath, [bin, 'apply', path.join(repoRoot, 'intents/dc1'), '--target', inventory, '--yes'], { encoding: 'utf8', env });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`netloom apply: another apply is running: the lock ${env.NETLOOM_STATE_DIR}/apply.lock is held by pid ${process.pid} on ${hostname()}, user ${userInfo().username}, since ${held.since}: netloom apply intents/dc1 --target lab`);
      // A dry run pushes nothing and takes no lock.
      const dry = spawnSync(process.execPath, [bin, 'apply', path.join(repoRoot, 'intents/dc1'), '--target', inventory, '--dry-run'], { encoding: 'utf8', env });
      expect(dry.stderr).not.toMatch(/another apply/);
    } finally {
      release();
    }
    expect(existsSync(withState(applyLockFile))).toBe(false);
  });

  it("the service's re-apply takes the same lock: held by an operator's apply, it does not run and says why; free, it runs and releases", async () => {
    const prev = process.env.NETLOOM_STATE_DIR;
    process.env.NETLOOM_STATE_DIR = env.NETLOOM_STATE_DIR;
    try {
      const release = acquireApplyLock('netloom apply intents/dc1 --target lab', () => undefined);
      const why: string[] = [];
      let ran = false;
      expect(await withApplyLock('netloom serve: drift reapply on leaf2 (incident i1)', async () => (ran = true), (w) => why.push(w))).toBeUndefined();
      expect(ran).toBe(false);
      expect(why).toEqual([expect.stringMatching(/^another apply is running: the lock .*apply\.lock is held by pid \d+ on .*: netloom apply intents\/dc1 --target lab$/)]);
      release();
      expect(await withApplyLock('netloom serve: drift reapply on leaf2 (incident i1)', async () => {
        expect(JSON.parse(readFileSync(applyLockFile(), 'utf8')).command).toBe('netloom serve: drift reapply on leaf2 (incident i1)');
        return 'applied';
      }, (w) => why.push(w))).toBe('applied');
      expect(existsSync(applyLockFile())).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.NETLOOM_STATE_DIR;
      else process.env.NETLOOM_STATE_DIR = prev;
    }
  });

  it('a lock whose holder died on this host is taken over with a note; one of another host is not', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const file = withState(applyLockFile);
    const stale = { pid: deadPid, host: hostname(), user: 'ci', command: 'netloom apply --target lab', since: '2026-12-03T10:00:00.000Z' };
    writeFileSync(file, JSON.stringify(stale));
    const notes: string[] = [];
    const release = withState(() => acquireApplyLock('netloom apply --target lab', (l) => notes.push(l)));
    expect(notes).toEqual([`note: took over the apply lock of pid ${deadPid} on ${hostname()}, user ci, since 2026-12-03T10:00:00.000Z: netloom apply --target lab (that process is gone)`]);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    release();

    writeFileSync(file, JSON.stringify({ ...stale, host: 'elsewhere' }));
    expect(() => withState(() => acquireApplyLock('x', () => undefined))).toThrow(CheckFailed);
    expect(() => withState(() => acquireApplyLock('x', () => undefined))).toThrow(`held by pid ${deadPid} on elsewhere, user ci`);
    writeFileSync(file, 'garbage');
    expect(() => withState(() => acquireApplyLock('x', () => undefined))).toThrow('its holder cannot be read; remove the file if no apply runs');
    rmSync(file);
  });
});

describe('netloom plan --save, then apply --plan after the intent changed', () => {
  it('refuses with exit 1, naming the devices and files that render differently, nothing pushed', () => {
    const repo = path.join(tmp, 'repo');
    cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'dc1'), { recursive: true });
    const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'dc1');
    const env = { ...process.env, NETLOOM_STATE_DIR: path.join(tmp, 'state2'), NETLOOM_DEBUG: '' };
    const cli = (...a: string[]) => spawnSync(process.execPath, [bin, ...a], { encoding: 'utf8', env, cwd: repo });
    const saved = cli('plan', 'dc1', '--base', 'HEAD', '--save', 'p.json');
    expect(saved.stderr).toBe('saved plan: p.json (apply it with netloom apply dc1 --plan p.json --target ...)\n');
    expect(saved.status).toBe(0);
    const p = readApplyPlan(path.join(repo, 'p.json'));
    expect(p).toMatchObject({ fabric: 'dc1', intentDir: 'dc1', intent: { rev: 'working tree' } });
    expect(Object.keys(p.artifacts)).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2']);
    expect(p.target).toBeUndefined();

    const t = path.join(repo, 'dc1/tenants.yaml');
    writeFileSync(t, readFileSync(t, 'utf8').replace('            gateway: 10.20.30.1\n', '            gateway: 10.20.30.1\n          - { name: backup, vlan: 31, subnet: 10.20.31.0/24, gateway: 10.20.31.1, leaves: [leaf4] }\n'));
    const r = cli('apply', 'dc1', '--plan', 'p.json', '--target', inventory, '--yes');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^netloom apply: refusing to apply p\\.json: it no longer describes this change \\(nothing pushed\\):\\n  - the intent changed since the plan: revision [0-9a-f]{16}, planned ${p.intent.revision}\\n  - rendered output differs from the plan: leaf4: frr\\.conf, network\\.sh\\n`,
      ),
    );
    expect(existsSync(path.join(env.NETLOOM_STATE_DIR, 'rollouts'))).toBe(false);
  });
});

describe('what a plan pins: service nodes too, configuration not observations', () => {
  it("a plan's artifacts include the load-balancer nodes' files, which apply pushes", () => {
    const model = loadModelSync(path.join(repoRoot, 'intents/slb1'));
    const digests = artifactDigests(pushedArtifacts(model));
    expect(Object.keys(digests.lb1 ?? {}).sort()).toEqual(expect.arrayContaining(['announce.sh', 'frr.conf', 'haproxy.cfg', 'node.sh']));
    expect(Object.keys(digests)).toEqual(expect.arrayContaining(['leaf1', 'lb2']));
  });

  it('a snapshot digest ignores what is only observed (a service health read for post-checks)', () => {
    const a = { transport: 'ssh', files: { 'haproxy.cfg': 'x' }, transient: { serversState: { 'haproxy.cfg': 'up 3 s' } } };
    expect(snapshotDigest(a)).toBe(snapshotDigest({ ...a, transient: { serversState: { 'haproxy.cfg': 'up 4 s' } } }));
    expect(snapshotDigest(a)).not.toBe(snapshotDigest({ ...a, files: { 'haproxy.cfg': 'y' } }));
  });
});
