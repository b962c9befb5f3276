/**
 * `apply --plan` against a real FRR lab (a trimmed dc1: spine1, leaf1, leaf2; h1 and h2 bridged
 * in VLAN 10), the intent in a real git repository:
 *  - a plan saved with the lab as target applies (every device, the lab being fresh);
 *  - after the intent changed (a network "ops", VLAN 40 of VRF BLUE, laid on leaf2 with no
 *    endpoint yet: a change the running lab carries, every endpoint flow still answering), the
 *    old plan is refused naming leaf2 and its files, and leaf2's running config is untouched;
 *  - a plan of the new intent, then a hand change on leaf1: refused by the drift check naming
 *    leaf1, nothing pushed;
 *  - a second apply while one runs (held between commit and confirm) is refused naming the
 *    first one's pid, host, user, command and since when; the first applies (VLAN 40's bridge
 *    then on leaf2);
 *  - the apply jobs of the pipeline examples (examples/ci), as written, on merges: GitHub's
 *    removes the network again, GitLab's puts it back, each planning against the lab and
 *    applying that plan.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, vtysh, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { stripBanner } from '../../src/push/frr-driver.ts';
import { readApplyPlan } from '../../src/plan/apply-plan.ts';
import { inCI } from '../support/ci.ts';
import { netloomShim, privateModelCache, runGithubJob, runGitlabJob } from '../plan/ci-runner.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing =
  process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/zebra') ? 'frr' : !existsSync('/usr/lib/frr/frr-reload.py') ? 'frr-pythontools' : !existsSync('/usr/sbin/sshd') ? 'openssh-server' : undefined;
if (missing && !inCI) console.log(`apply-plan lab tests skipped: needs ${missing}`);

const LAB = 'happly';
const TARGET = `lab:${LAB}`;
const BIN = path.join(repoRoot, 'src/cli/bin.mjs');

const NODES = `groups:
  spines: { role: spine, platform: frr }
  leaves: { role: leaf, platform: frr }
nodes:
  spine1: { group: spines, id: 101 }
  leaf1: { group: leaves, id: 1 }
  leaf2: { group: leaves, id: 2 }
`;
const ENDPOINTS = `endpoints:
  - { name: h1, leaf: leaf1, port: eth10, vlan: 10, ipv4: 10.10.10.11/24 }
  - { name: h2, leaf: leaf2, port: eth10, vlan: 10, ipv4: 10.10.10.12/24 }
`;
/** Appended to VRF BLUE's networks (the last list of dc1's tenants.yaml is RED's: inserted after app). */
const OPS = '          - { name: ops, vlan: 40, subnet: 10.10.40.0/24, gateway: 10.10.40.1, leaves: [leaf2] }\n';
const withOpsNetwork = (tenants: string) => {
  const anchor = '            gateway: 10.10.20.1\n';
  if (!tenants.includes(anchor)) throw new Error('dc1 tenants.yaml: the app network moved; update the test');
  return tenants.replace(anchor, anchor + OPS);
};

describe.skipIf(!!missing && !inCI)('apply exactly what was reviewed (apply --plan) to an FRR lab', () => {
  const copy = intentCopy('intents/dc1', 110, '172.27');
  const state = mkdtempSync(path.join(tmpdir(), 'netloom-happly-state-'));
  const env = { ...process.env, NETLOOM_STATE_DIR: state, NETLOOM_DEBUG: '' };
  const prevState = process.env.NETLOOM_STATE_DIR;
  const git = (...a: string[]) => execFileSync('git', a, { cwd: copy.dir, encoding: 'utf8' });

  /** The CLI as a pipeline runs it; `started` resolves with the process once its output matches. */
  function netloom(args: string[], opts: { env?: NodeJS.ProcessEnv; until?: RegExp } = {}) {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: copy.dir, env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen: () => void = () => undefined;
    const started = new Promise<void>((r) => (seen = r));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (opts.until?.test(out)) seen();
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
    return { pid: child.pid!, started, done };
  }
  const cli = (...args: string[]) => netloom(args).done;
  const running = async (node: string) => stripBanner(await vtysh(LAB, node, 'show running-config'));

  let restoreCache: () => void = () => undefined;
  beforeAll(async () => {
    restoreCache = privateModelCache();
    // The lab's state, the journals and the apply lock all live in the test's own state directory.
    process.env.NETLOOM_STATE_DIR = state;
    writeFileSync(path.join(copy.dir, 'nodes.yaml'), NODES);
    writeFileSync(path.join(copy.dir, 'endpoints.yaml'), ENDPOINTS);
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'trimmed dc1');
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    const c = await waitConverged(LAB, { timeoutMs: 120_000 });
    expect(c.converged).toBe(true);
  }, 240_000);

  afterAll(async () => {
    await labDown(LAB).catch(() => undefined);
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    copy.cleanup();
    rmSync(state, { recursive: true, force: true });
    restoreCache();
  }, 120_000);

  it('a plan saved with the lab as target records every device\'s running state, and applies', async () => {
    const saved = await cli('plan', '.', '--base', 'HEAD', '--save', 'p1.json', '--target', TARGET, '--fail-on', 'never');
    expect(saved.err).toBe(`saved plan: p1.json (apply it with netloom apply . --plan p1.json --target ${TARGET})\n`);
    expect(saved.code).toBe(0);
    const p1 = readApplyPlan(path.join(copy.dir, 'p1.json'));
    expect(p1.target).toBe(TARGET);
    expect(Object.keys(p1.running ?? {})).toEqual(['leaf1', 'leaf2', 'spine1']);
    // No --target: the plan's own.
    const r = await cli('apply', '.', '--plan', 'p1.json', '--yes');
    expect(r.err).toBe('');
    expect(r.out).toMatch(new RegExp(`^target ${TARGET} \\(from p1\\.json\\)$`, 'm'));
    expect(r.out).toMatch(/^plan p1\.json: intent revision [0-9a-f]{16}, 3 device\(s\) rendered as reviewed; drift check of the running state follows$/m);
    expect(r.out).toMatch(/3 device\(s\) applied\n$/);
    expect(r.code).toBe(0);
  }, 120_000);

  it('after the intent changed, the old plan is refused naming the device and files, nothing pushed', async () => {
    const tenants = path.join(copy.dir, 'tenants.yaml');
    writeFileSync(tenants, withOpsNetwork(readFileSync(tenants, 'utf8')));
    const before = await running('leaf2');
    const r = await cli('apply', '.', '--plan', 'p1.json', '--target', TARGET, '--yes');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const p1 = readApplyPlan(path.join(copy.dir, 'p1.json'));
    expect(r.err).toMatch(
      new RegExp(
        `^netloom apply: refusing to apply p1\\.json: it no longer describes this change \\(nothing pushed\\):\\n` +
          `  - the intent changed since the plan: revision [0-9a-f]{16}, planned ${p1.intent.revision}\\n` +
          `  - rendered output differs from the plan: leaf2: frr\\.conf, network\\.sh\\n`,
      ),
    );
    expect(await running('leaf2')).toBe(before);
  }, 60_000);

  it('a hand change on a device after planning is refused by the drift check, naming the device', async () => {
    expect((await cli('plan', '.', '--base', 'HEAD', '--save', 'p2.json', '--target', TARGET, '--fail-on', 'never')).code).toBe(0);
    await vtysh(LAB, 'leaf1', "configure terminal\nip prefix-list HAPPLY seq 5 permit 10.99.0.0/16");
    try {
      expect(await running('leaf1')).toMatch(/ip prefix-list HAPPLY seq 5 permit 10\.99\.0\.0\/16/);
      const before = await running('leaf2');
      const r = await cli('apply', '.', '--plan', 'p2.json', '--target', TARGET, '--yes');
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        'netloom apply: refusing to apply p2.json: the running state changed since the plan (drift check; nothing pushed):\n' +
          '  - leaf1: running state changed since the plan\n' +
          'plan again (netloom plan --save --target ...) and review the new plan\n',
      );
      expect(r.out).toMatch(/^leaf1 +ssh +failed +drift: running state changed since the plan$/m);
      expect(r.out).toMatch(/^leaf2 +ssh +not applied +refused: another device drifted since the plan$/m);
      expect(await running('leaf2')).toBe(before);
    } finally {
      await vtysh(LAB, 'leaf1', "configure terminal\nno ip prefix-list HAPPLY seq 5 permit 10.99.0.0/16");
    }
  }, 60_000);

  it('a second apply while one runs is refused, naming who holds the lock; the first applies', async () => {
    expect((await cli('plan', '.', '--base', 'HEAD', '--save', 'p3.json', '--target', TARGET, '--fail-on', 'never')).code).toBe(0);
    // Held between commit and confirm, so the lock is held for certain while the second runs.
    const startedAt = Date.now();
    const first = netloom(['apply', '.', '--plan', 'p3.json', '--target', TARGET, '--yes'], { env: { NETLOOM_TEST_HOLD_BEFORE_CONFIRM_MS: '4000' }, until: /^wave 1/m });
    await Promise.race([first.started, first.done]);
    const second = await cli('apply', '.', '--plan', 'p3.json', '--target', TARGET, '--yes');
    expect(second.code).toBe(1);
    const held = new RegExp(
      `^netloom apply: another apply is running: the lock ${state}/apply\\.lock is held by pid ${first.pid} on ${hostname()}, user root, since (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z): netloom apply \\. --plan p3\\.json --target ${TARGET} --yes\\n$`,
    ).exec(second.err);
    expect(held, second.err).not.toBeNull();
    // Since when: the moment the first apply took the lock, after it was started and before the second asked.
    const since = Date.parse(held![1]);
    expect(since).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000);
    expect(since).toBeLessThanOrEqual(Date.now());
    const r = await first.done;
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^leaf2 +ssh +applied /m);
    expect(r.code).toBe(0);
    expect(existsSync(path.join(state, 'apply.lock'))).toBe(false);
    // The reviewed change is live: VLAN 40's VXLAN device on its bridge, its VNI in FRR's EVPN.
    expect(execFileSync('ip', ['-n', `nl-${LAB}-leaf2`, '-o', 'link', 'show', 'dev', 'vx10040'], { encoding: 'utf8' })).toMatch(/ master br40 /);
    expect(await running('leaf2')).toMatch(/^ {2}vni 10040\n {3}rd 10\.0\.0\.2:40$/m);
  }, 90_000);

  it('the examples\' apply jobs (examples/ci) plan each merge against the lab and apply that plan', async () => {
    const shim = netloomShim();
    const commit = (msg: string) => {
      git('add', '-A');
      git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', msg);
      return git('rev-parse', 'HEAD').trim();
    };
    try {
      const withOps = commit('ops network on leaf2');
      const tenants = path.join(copy.dir, 'tenants.yaml');
      writeFileSync(tenants, readFileSync(tenants, 'utf8').replace(OPS, ''));
      const without = commit('no ops network');
      const gh = runGithubJob('apply', { cwd: copy.dir, shim, context: { 'github.event.before': withOps, 'github.sha': without }, env: { INTENT: '.', TARGET } });
      expect(gh.map((s) => `${s.name}: ${s.code}`)).toEqual(['cable in what the change adds (a lab target only): 0', 'plan against the running network: 0', 'apply the plan: 0']);
      gh.shift();
      expect(gh[0].out.split('\n')[0]).toBe(`plan for . (fabric dc1): ${withOps} (${withOps.slice(0, 12)}) -> ${without} (${without.slice(0, 12)})`);
      expect(gh[1].out).toMatch(/^plan plan\.json: intent revision [0-9a-f]{16} \(commit [0-9a-f]{12}\), 3 device\(s\) rendered as reviewed; drift check of the running state follows$/m);
      expect(gh[1].out).toMatch(/^leaf2 +ssh +applied /m);
      expect(await running('leaf2')).not.toMatch(/vni 10040/);

      writeFileSync(tenants, withOpsNetwork(readFileSync(tenants, 'utf8')));
      const back = commit('ops network again');
      const gl = runGitlabJob('apply', { cwd: copy.dir, shim, variables: { CI_COMMIT_BEFORE_SHA: without, CI_COMMIT_SHA: back, INTENT: '.', TARGET } });
      expect(gl.err).toBe(`saved plan: plan.json (apply it with netloom apply . --plan plan.json --target ${TARGET})\n`);
      expect(gl.out).toMatch(/^leaf2 +ssh +applied /m);
      expect(gl.code).toBe(0);
      expect(await running('leaf2')).toMatch(/^ {2}vni 10040\n {3}rd 10\.0\.0\.2:40$/m);
    } finally {
      rmSync(shim, { recursive: true, force: true });
    }
  }, 120_000);
});
