/**
 * Rollouts against a real FRR lab (network namespaces, FRR daemons, each node's sshd): apply a
 * fabric, apply a change in waves, apply a change whose post-checks fail (a leaf pinned to the
 * spines' ASN: its eBGP sessions are refused) and check every touched device is rolled back
 * to its previous running config with the fabric converged again; then an apply process
 * killed between commit and confirm, finished by `apply --recover`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, getLabState, waitConverged, vtysh } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { runRollout, type RolloutResult } from '../../src/push/rollout.ts';
import { stripBanner } from '../../src/push/frr-driver.ts';
import { readJournal } from '../../src/push/journal.ts';
import { intentCopy } from './fixtures/rollout/intent.ts';

const missing =
  process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/zebra') ? 'frr' : !existsSync('/usr/lib/frr/frr-reload.py') ? 'frr-pythontools' : !existsSync('/usr/sbin/sshd') ? 'openssh-server' : undefined;
if (missing && process.env.CI !== 'true') console.log(`rollout-frr tests skipped: needs ${missing}`);

const LAB = 'nlpushfrr';
const BIN = path.resolve('src/cli/bin.mjs');

describe.skipIf(!!missing && process.env.CI !== 'true')('apply to an FRR lab over ssh', () => {
  const intent = intentCopy(LAB, '172.31.91.0/24');
  const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-pushfrr-state-'));
  const prevState = process.env.NETLOOM_STATE_DIR;

  const running = async (): Promise<Record<string, string>> => {
    const st = getLabState(LAB);
    const out: Record<string, string> = {};
    for (const n of st.nodes.filter((x) => x.role === 'router')) out[n.name] = stripBanner(await vtysh(st, n.name, 'show running-config'));
    return out;
  };
  const apply = (extra: Partial<Parameters<typeof runRollout>[0]> = {}): Promise<RolloutResult> =>
    runRollout({ model: loadModelSync(intent.dir), inventory: inventoryFromLab(getLabState(LAB)), confirmTimeoutS: 40, ...extra });
  const actions = (r: RolloutResult) => Object.fromEntries(r.results.map((x) => [x.device, x.action]));

  beforeAll(async () => {
    process.env.NETLOOM_STATE_DIR = stateDir;
    const { topology, baseDir } = await topologyFromModel(intent.dir, { name: LAB });
    await labUp(topology, { name: LAB, baseDir, runtime: 'netns' });
    const c = await waitConverged(LAB, { timeoutMs: 60_000 });
    expect(c.converged, JSON.stringify(c)).toBe(true);
  });

  afterAll(async () => {
    await labDown(LAB).catch(() => undefined);
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    rmSync(stateDir, { recursive: true, force: true });
    intent.cleanup();
  });

  it('applies the fabric, then a second apply changes nothing', async () => {
    const first = await apply({ canary: 2, waveSize: 4 });
    expect(first.ok, JSON.stringify(first.results)).toBe(true);
    // A fresh lab runs the rendered files, but netloom has never recorded an apply: all re-applied.
    expect(Object.values(actions(first)).every((a) => a === 'applied')).toBe(true);
    const j = readJournal(path.join(first.journalDir!, 'journal.jsonl'));
    expect(j.filter((e) => e.t === 'wave').length).toBe(2);
    expect(j.filter((e) => e.t === 'confirmed').length).toBe(6);
    expect(j.at(-1)).toMatchObject({ t: 'end', status: 'ok' });
    const second = await apply();
    expect(second.ok).toBe(true);
    expect(second.changed).toBe(0);
    expect(Object.values(actions(second)).every((a) => a === 'unchanged')).toBe(true);
  }, 120_000);

  it('applies a change in waves (underlay MTU on every device); the devices take it', async () => {
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9216', 'mtu: 9000'));
    const dry = await apply({ dryRun: true });
    expect(dry.changed).toBe(6);
    expect(dry.results.find((r) => r.device === 'leaf1')!.diff).toMatch(/^\+set_mtu eth1 9000$/m);
    const r = await apply({ canary: 1, waveSize: 2 });
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    expect(r.changed).toBe(6);
    const st = getLabState(LAB);
    const leaf1 = st.nodes.find((n) => n.name === 'leaf1')!;
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('ip', ['-n', leaf1.netns, '-j', 'link', 'show', 'eth1'], { encoding: 'utf8' })).toMatch(/"mtu":9000/);
    expect((await apply()).changed).toBe(0);
  }, 180_000);

  it('a change that breaks BGP (leaf pinned to the spine ASN) is rolled back on every device it touched', async () => {
    const before = await running();
    // Two changes: the MTU back on every device (waves 1-2 pass), and leaf2 in AS 65100 (its
    // sessions to the AS 65100 spines are refused): the wave with leaf2 fails.
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9000', 'mtu: 9216'));
    intent.edit('nodes.yaml', (s) => s.replace('leaf2: { group: leaves, id: 2 }', 'leaf2: { group: leaves, id: 2, asn: 65100 }'));
    const r = await apply({ canary: 1, waveSize: 2, confirmTimeoutS: 20 });
    expect(r.ok).toBe(false);
    const a = actions(r);
    // Model order: leaf1 (canary), then leaf2+leaf3 (fails on leaf2), leaf4/spines never pushed.
    expect(a).toEqual({ leaf1: 'rolled back', leaf2: 'rolled back', leaf3: 'rolled back', leaf4: 'not applied', spine1: 'not applied', spine2: 'not applied' });
    expect(r.results.find((x) => x.device === 'leaf2')!.reason).toMatch(/postcheck: .*BGP session to spine1 \(eth1\) is (?!Established)/);
    const after = await running();
    expect(after).toEqual(before);
    const c = await waitConverged(LAB, { timeoutMs: 60_000 });
    expect(c.converged, JSON.stringify(c)).toBe(true);
    // Back to the last good intent: nothing to change.
    intent.edit('nodes.yaml', (s) => s.replace(', asn: 65100', ''));
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9216', 'mtu: 9000'));
    expect((await apply()).changed).toBe(0);
  }, 180_000);

  it('an apply killed between commit and confirm is rolled back by apply --recover', async () => {
    const before = await running();
    intent.edit('nodes.yaml', (s) => s.replace('leaf1: { group: leaves, id: 1 }', 'leaf1: { group: leaves, id: 1, asn: 65100 }'));
    const env = { ...process.env, NETLOOM_STATE_DIR: stateDir, CI: 'true' };
    const child = spawn(process.execPath, [BIN, 'apply', intent.dir, '--target', `lab:${LAB}`, '--confirm-timeout', '60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const journal = await new Promise<string>((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        const m = /journal: (\S+)/.exec(out);
        if (m && existsSync(m[1]) && readJournal(m[1]).some((e) => e.t === 'committed')) {
          clearInterval(tick);
          resolve(m[1]);
        } else if (Date.now() - t0 > 60_000 || child.exitCode !== null) {
          clearInterval(tick);
          reject(new Error(`no committed entry: ${out}`));
        }
      }, 100);
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // leaf1 now runs the bad config and nobody will confirm or revert it.
    expect((await running()).leaf1).not.toEqual(before.leaf1);
    expect(readJournal(journal).some((e) => e.t === 'end')).toBe(false);
    const rec = spawn(process.execPath, [BIN, 'apply', '--recover'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let recOut = '';
    rec.stdout.on('data', (d: Buffer) => (recOut += d.toString()));
    rec.stderr.on('data', (d: Buffer) => (recOut += d.toString()));
    const code = await new Promise((r) => rec.once('exit', r));
    expect(code, recOut).toBe(0);
    expect(recOut).toMatch(/leaf1\s+ssh\s+rolled back/);
    expect(await running()).toEqual(before);
    expect(readJournal(journal).at(-1)).toMatchObject({ t: 'end', status: 'recovered' });
    const c = await waitConverged(LAB, { timeoutMs: 60_000 });
    expect(c.converged).toBe(true);
    intent.edit('nodes.yaml', (s) => s.replace(', asn: 65100', ''));
    expect((await apply()).changed).toBe(0);
  }, 180_000);
});
