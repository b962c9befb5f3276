/**
 * Rollouts of the rendered netconf-ietf payloads to real yuma123 netconfd servers (one per
 * device, test/support/netconfd.ts): confirmed commits, idempotence, and the faults: commit
 * rejected, candidate lock held elsewhere, authentication failure, confirm timeout (the server
 * reverts by itself), the apply process killed between commit and confirm, a device gone mid-wave.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { NetconfSession } from '../../src/push/netconf/index.ts';
import { loadInventory } from '../../src/push/inventory.ts';
import { runRollout, type RolloutResult } from '../../src/push/rollout.ts';
import { readJournal } from '../../src/push/journal.ts';
import { netconfRunningCheck } from '../../src/push/postcheck.ts';
import type { PostCheck } from '../../src/push/driver.ts';
import { lineReporter } from '../../src/push/progress.ts';
import { netconfdMissing, startNetconfd, type NetconfdServer } from '../support/netconfd.ts';
import { intentCopy } from './fixtures/rollout/intent.ts';
import { inCI } from '../support/ci.ts';

const missing = netconfdMissing();
if (missing && !inCI) console.log(`rollout-netconf tests skipped: ${missing}`);
const BIN = path.resolve('src/cli/bin.mjs');
const IF_FILTER = '<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"/>';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!!missing && !inCI)('apply to NETCONF devices (netconfd)', () => {
  const intent = intentCopy('nlpushnc', '172.31.92.0/24');
  const work = mkdtempSync(path.join(tmpdir(), 'netloom-pushnc-'));
  const prevState = process.env.NETLOOM_STATE_DIR;
  const srv: Record<string, NetconfdServer> = {};

  const inventory = (devices: string[], override: Record<string, Record<string, unknown>> = {}): string => {
    const file = path.join(work, `inv-${Math.random().toString(36).slice(2)}.yaml`);
    const doc = {
      defaults: { username: 'root' },
      devices: Object.fromEntries(
        devices.map((d) => [d, { address: '127.0.0.1', port: srv[d].port, transport: 'netconf', credentials: { key_file: srv[d].privateKeyFile }, host_key: { known_hosts: srv[d].knownHostsFile }, ...(override[d] ?? {}) }]),
      ),
    };
    writeFileSync(file, stringify(doc));
    return file;
  };
  const apply = (devices: string[], extra: Partial<Parameters<typeof runRollout>[0]> = {}, override = {}): Promise<RolloutResult> =>
    runRollout({ model: loadModelSync(intent.dir), inventory: loadInventory(inventory(devices, override)), confirmTimeoutS: 30, ...extra });
  const runningOf = async (d: string): Promise<string> => {
    const s = await NetconfSession.connect({ host: '127.0.0.1', port: srv[d].port, credentials: srv[d].credentials, hostKey: { knownHostsFile: srv[d].knownHostsFile } });
    try {
      return await s.getConfig({ source: 'running', filter: { subtree: IF_FILTER } });
    } finally {
      await s.close();
    }
  };
  const actions = (r: RolloutResult) => Object.fromEntries(r.results.map((x) => [x.device, x.action]));

  beforeAll(async () => {
    process.env.NETLOOM_STATE_DIR = path.join(work, 'state');
    const names = ['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1'];
    const started = await Promise.all(names.map((n) => startNetconfd({ name: `pushnc-${n}`, ...(n === 'spine1' ? { modules: ['ietf-interfaces', 'ietf-ip'] } : {}) })));
    names.forEach((n, i) => (srv[n] = started[i]));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(srv).map((s) => s.stop()));
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    rmSync(work, { recursive: true, force: true });
    intent.cleanup();
  });

  it('applies the payloads with confirmed commits; a second run has nothing to change', async () => {
    const r = await apply(['leaf1', 'leaf2', 'leaf3'], { canary: 1, waveSize: 2 });
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    expect(actions(r)).toEqual({ leaf1: 'applied', leaf2: 'applied', leaf3: 'applied' });
    const run1 = await runningOf('leaf1');
    expect(run1).toContain('<name>eth1</name>');
    expect(run1).toContain('<ip>10.0.0.1</ip>');
    expect(run1).toContain('<mtu>9216</mtu>');
    const j = readJournal(path.join(r.journalDir!, 'journal.jsonl'));
    expect(j.filter((e) => e.t === 'confirmed').map((e) => (e as { device: string }).device).sort()).toEqual(['leaf1', 'leaf2', 'leaf3']);
    const again = await apply(['leaf1', 'leaf2', 'leaf3']);
    expect(again.ok).toBe(true);
    expect(again.changed).toBe(0);
    expect(Object.values(actions(again))).toEqual(['unchanged', 'unchanged', 'unchanged']);
  }, 90_000);

  it('a rejected commit stops the rollout and rolls back the earlier (confirmed) wave', async () => {
    // spine1's server lacks iana-if-type: the payload's interface types are invalid values there.
    const before = await runningOf('leaf1');
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9216', 'mtu: 9100'));
    const r = await apply(['leaf1', 'spine1'], { canary: 1 });
    expect(r.ok).toBe(false);
    expect(actions(r)).toEqual({ leaf1: 'rolled back', spine1: 'rolled back' });
    expect(r.results.find((x) => x.device === 'spine1')!.reason).toMatch(/rejected: .*(validate|edit-config).*invalid-value|rejected: .*unknown/i);
    expect(await runningOf('leaf1')).toBe(before);
    expect(await runningOf('spine1')).not.toContain('<interface>');
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9100', 'mtu: 9216'));
  }, 90_000);

  it('a candidate lock held by another session: clear error, nothing changed', async () => {
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9216', 'mtu: 9100'));
    const before = { leaf1: await runningOf('leaf1'), leaf2: await runningOf('leaf2') };
    const holder = await NetconfSession.connect({ host: '127.0.0.1', port: srv.leaf2.port, credentials: srv.leaf2.credentials, hostKey: { knownHostsFile: srv.leaf2.knownHostsFile } });
    await holder.lock('candidate');
    try {
      const r = await apply(['leaf1', 'leaf2']);
      expect(r.ok).toBe(false);
      expect(actions(r)).toEqual({ leaf1: 'not applied', leaf2: 'failed' });
      expect(r.results.find((x) => x.device === 'leaf2')!.reason).toMatch(new RegExp(`^locked: lock: .*lock-denied.*held by session ${holder.sessionId}`));
      expect({ leaf1: await runningOf('leaf1'), leaf2: await runningOf('leaf2') }).toEqual(before);
    } finally {
      await holder.unlock('candidate');
      await holder.close();
    }
  }, 60_000);

  it('an authentication failure and a wrong host key fail before anything changes', async () => {
    const badKey = path.join(work, 'unauthorised');
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', badKey]);
    const before = await runningOf('leaf1');
    const r = await apply(['leaf1', 'leaf2', 'leaf3'], {}, { leaf3: { credentials: { key_file: badKey } }, leaf2: { host_key: { fingerprint: srv.leaf1.hostKeyFingerprint } } });
    expect(actions(r)).toEqual({ leaf1: 'not applied', leaf2: 'failed', leaf3: 'failed' });
    const why = Object.fromEntries(r.results.map((x) => [x.device, x.reason]));
    expect(why.leaf3).toMatch(/^auth: .*authentication failed for user root/);
    expect(why.leaf2).toMatch(/^hostkey: .*HOST KEY MISMATCH/);
    expect(JSON.stringify(r)).not.toContain(badKey + '\n');
    expect(await runningOf('leaf1')).toBe(before);
  }, 60_000);

  it('confirm timeout: a post-check outlasting it leaves the server to revert by itself', async () => {
    const before = await runningOf('leaf3');
    let seenDuring = '';
    let revertedAlone = '';
    const slow: PostCheck = {
      name: 'slow',
      appliesTo: () => true,
      run: async () => {
        seenDuring = await runningOf('leaf3');
        // netconfd checks its confirm timer only after ~1 s without RPCs: stay quiet past it.
        await sleep(7000);
        revertedAlone = await runningOf('leaf3');
        return [];
      },
    };
    const r = await apply(['leaf3'], { confirmTimeoutS: 5, postChecks: [netconfRunningCheck, slow] });
    expect(seenDuring).toContain('<mtu>9100</mtu>');
    expect(revertedAlone).toBe(before);
    expect(actions(r)).toEqual({ leaf3: 'rolled back' });
    expect(r.results[0].reason).toMatch(/after the confirm timeout/);
    expect(await runningOf('leaf3')).toBe(before);
  }, 60_000);

  it('apply killed with SIGKILL between commit and confirm: the device reverts, --recover closes the rollout', async () => {
    const before = await runningOf('leaf4');
    const inv = inventory(['leaf4']);
    const env = { ...process.env, CI: 'true', NETLOOM_TEST_HOLD_BEFORE_CONFIRM_MS: '60000' };
    const child = spawn(process.execPath, [BIN, 'apply', intent.dir, '--target', inv, '--confirm-timeout', '5'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const journal = await new Promise<string>((resolve, reject) => {
      const t0 = Date.now();
      const tick = setInterval(() => {
        const m = /journal: (\S+)/.exec(out);
        if (m && existsSync(m[1]) && readJournal(m[1]).some((e) => e.t === 'postcheck')) {
          clearInterval(tick);
          resolve(m[1]);
        } else if (Date.now() - t0 > 40_000 || child.exitCode !== null) {
          clearInterval(tick);
          reject(new Error(`no commit seen: ${out}`));
        }
      }, 100);
    });
    expect(await runningOf('leaf4')).toContain('<mtu>9100</mtu>');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Persistent confirmed commit: it outlives the session and reverts at the timeout.
    let now = '';
    for (let i = 0; i < 15 && now !== before; i++) {
      await sleep(1200);
      now = await runningOf('leaf4');
    }
    expect(now).toBe(before);
    expect(readJournal(journal).some((e) => e.t === 'end')).toBe(false);
    const rec = spawn(process.execPath, [BIN, 'apply', '--recover'], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let recOut = '';
    rec.stdout.on('data', (d: Buffer) => (recOut += d.toString()));
    rec.stderr.on('data', (d: Buffer) => (recOut += d.toString()));
    expect(await new Promise((r) => rec.once('exit', r)), recOut).toBe(0);
    expect(recOut).toMatch(/leaf4\s+netconf\s+rolled back/);
    expect(readJournal(journal).at(-1)).toMatchObject({ t: 'end', status: 'recovered' });
    expect(await runningOf('leaf4')).toBe(before);
  }, 90_000);

  it('a device gone mid-wave fails the wave; the earlier wave is rolled back', async () => {
    const before = await runningOf('leaf1');
    const base = lineReporter(() => undefined);
    const r = await apply(['leaf1', 'leaf2'], {
      canary: 1,
      reporter: {
        ...base,
        // Wave 2 starts: leaf2's server dies (its session was opened while preparing).
        wave: (i, total, ds) => {
          if (i === 1) process.kill(srv.leaf2.netconfdPid, 'SIGKILL');
          base.wave(i, total, ds);
        },
      },
    });
    expect(r.ok).toBe(false);
    const a = actions(r);
    expect(a.leaf1).toBe('rolled back');
    expect(a.leaf2).toBe('failed');
    expect(r.results.find((x) => x.device === 'leaf2')!.reason).toMatch(/unreachable|timeout/);
    expect(await runningOf('leaf1')).toBe(before);
  }, 90_000);
});
