/**
 * `netloom serve` with its ping probes on a dc1 lab (its own name and management subnet):
 *  - GET /reachability puts the intent, the prediction and the last poll's real pings side by
 *    side for all 20 endpoint pairs, and they agree (routed and bridged pairs answer, isolated
 *    ones do not);
 *  - POST /rollouts (operate token) runs the rollout engine on the lab: a dry run, then an
 *    apply with post-checks, both in the journal GET /rollouts lists; a read token is refused;
 *    while the CLI's apply lock is held elsewhere the API's apply is refused with its holder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { acquireApplyLock } from '../../src/push/apply-lock.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : undefined;
if (missing && !inCI) console.log(`serve-rollouts-lab: skipped, needs ${missing}`);

const lab = 'svroll';
const READ = 'serve-roll-read-token-0123456789';
const WRITE = 'serve-roll-write-token-0123456789';

// The lab, the journal and the apply lock of this test file only (as test/lab/lab.test.ts does).
const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-roll-'));
process.env.NETLOOM_STATE_DIR = path.join(stateDir, 'state');

describe.skipIf(!!missing && !inCI)('netloom serve: reachability with real pings, rollouts over the API (dc1 lab)', () => {
  const copy = intentCopy('intents/dc1', 133, '172.27');
  const env = { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_WRITE_TOKEN: WRITE };
  let serve: ChildProcess | undefined;
  let output = '';
  let base = '';
  const call = async <T>(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const r = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, json: (await r.json()) as T };
  };

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: lab });
    await labUp(topology as never, { name: lab, baseDir });
    expect((await waitConverged(lab, { timeoutMs: 120_000 })).pending).toEqual([]);
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', `lab:${lab}`, '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--period', '5'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    for (let i = 0; i < 120 && !base; i++) {
      base = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      if (!base) await new Promise((r) => setTimeout(r, 250));
    }
    expect(base, output).not.toBe('');
  }, 240_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((r) => serve!.once('exit', r));
    }
    await labDown(lab).catch(() => false);
    copy.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('reachability: every pair observed by a real ping, as predicted', async () => {
    type Reach = { poll: { seq: number } | null; pairs: number; disagreeing: number; rows: { src: string; dst: string; predicted: string; observed: string; agrees: boolean | null }[] };
    let r: Reach | undefined;
    for (let i = 0; i < 120; i++) {
      r = (await call<Reach>('GET', '/reachability', READ)).json;
      if (r.poll && r.rows.every((x) => x.observed !== 'not probed')) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(r!.pairs).toBe(20);
    expect(r!.rows.filter((x) => x.agrees !== true).map((x) => `${x.src}>${x.dst} ${x.predicted} ${x.observed}`)).toEqual([]);
    expect(r!.rows.find((x) => x.src === 'h1' && x.dst === 'h3')).toMatchObject({ predicted: 'routed', observed: 'answered' });
    expect(r!.rows.find((x) => x.src === 'h1' && x.dst === 'h2')).toMatchObject({ predicted: 'bridged', observed: 'answered' });
    expect(r!.rows.find((x) => x.src === 'h1' && x.dst === 'h4')).toMatchObject({ predicted: 'isolated', observed: 'unanswered' });
  }, 90_000);

  it('rollouts: a dry run, an apply through the engine with post-checks, both journalled; refused to a read token and while the apply lock is held', async () => {
    expect((await call('POST', '/rollouts', READ, { dryRun: true })).status).toBe(403);
    type Reply = { id: string | null; ok: boolean; changed: number; results: { device: string; action: string; reason: string }[] };
    const dry = await call<Reply>('POST', '/rollouts', WRITE, { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json.results).toHaveLength(6);
    // Never applied by netloom: every device would change (its running config recorded after).
    expect(dry.json.results.every((x) => x.action === 'would change')).toBe(true);
    const release = acquireApplyLock('netloom apply (held by the test)', () => undefined);
    try {
      const refused = await call<{ message: string }>('POST', '/rollouts', WRITE, {});
      expect(refused.status).toBe(409);
      expect(refused.json.message).toMatch(/another apply is running: .* netloom apply \(held by the test\)$/);
    } finally {
      release();
    }
    const applied = await call<Reply>('POST', '/rollouts', WRITE, {});
    expect(applied.status, JSON.stringify(applied.json)).toBe(200);
    expect(applied.json.ok, JSON.stringify(applied.json.results)).toBe(true);
    expect(applied.json.results.filter((x) => x.action === 'applied')).toHaveLength(6);
    const list = (await call<{ id: string; status: string; applied: string[] }[]>('GET', '/rollouts', READ)).json;
    expect(list[0]).toMatchObject({ id: applied.json.id, status: 'ok' });
    expect(list[0].applied.sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2']);
    // A second apply has nothing to do.
    expect((await call<Reply>('POST', '/rollouts', WRITE, {})).json.results.every((x) => x.action === 'unchanged')).toBe(true);
  }, 240_000);
});
