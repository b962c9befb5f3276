/**
 * A session that stops answering is abandoned and its step retried on a fresh session, with
 * the retry journalled; a device that never answers fails after a bounded number of tries.
 * Real yuma123 netconfd servers (test/support/netconfd.ts); the hang is injected by SIGSTOP
 * of the session's netconf-subsystem process (SSH keeps answering, NETCONF does not), or of
 * netconfd itself (no session answers).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { NetconfSession } from '../../src/push/netconf/index.ts';
import type { Inventory } from '../../src/push/inventory.ts';
import { runRollout } from '../../src/push/rollout.ts';
import { readJournal, type Stamped } from '../../src/push/journal.ts';
import { netconfdMissing, startNetconfd, type NetconfdServer } from '../support/netconfd.ts';
import { intentCopy } from './fixtures/rollout/intent.ts';
import { inCI } from '../support/ci.ts';

const missing = netconfdMissing();
if (missing && !inCI) console.log(`push-resilience tests skipped: ${missing}`);
const RPC_TIMEOUT_S = 3;

describe.skipIf(!!missing && !inCI)('push resilience: sessions that stop answering (netconfd)', () => {
  const intent = intentCopy('h10bres', '172.25.40.0/24');
  const work = mkdtempSync(path.join(tmpdir(), 'netloom-h10b-res-'));
  const prevState = process.env.NETLOOM_STATE_DIR;
  const srv: Record<string, NetconfdServer> = {};
  const stopped: number[] = [];

  const inventory = (devices: string[]): Inventory => ({
    origin: 'test',
    devices: devices.map((d) => ({
      name: d,
      address: '127.0.0.1',
      port: srv[d].port,
      transport: 'netconf',
      username: 'root',
      credentials: { keyFile: srv[d].privateKeyFile },
      hostKey: { knownHostsFile: srv[d].knownHostsFile },
    })),
  });
  const journal = (dir: string | undefined): Stamped[] => readJournal(path.join(dir!, 'journal.jsonl'));

  /** Makes the first session to `device` stop answering right after `after` (connect or the lock reply). */
  function hangFirstSession(device: string, after: 'connect' | 'lock'): void {
    const port = srv[device].port;
    let done = false;
    const stop = () => {
      done = true;
      stopped.push(...srv[device].pauseNetconfSubsystems());
    };
    if (after === 'connect') {
      const orig = NetconfSession.connect.bind(NetconfSession);
      vi.spyOn(NetconfSession, 'connect').mockImplementation(async (o) => {
        const s = await orig(o);
        if (!done && o.port === port) stop();
        return s;
      });
    } else {
      const orig = NetconfSession.prototype.lock;
      vi.spyOn(NetconfSession.prototype, 'lock').mockImplementation(async function (this: NetconfSession, ...a) {
        const r = await orig.apply(this, a);
        if (!done && this.port === port) stop();
        return r;
      });
    }
  }

  beforeAll(async () => {
    process.env.NETLOOM_STATE_DIR = path.join(work, 'state');
    const names = ['leaf1', 'leaf2', 'leaf3'];
    const started = await Promise.all(names.map((n) => startNetconfd({ name: `h10b-res-${n}`, logLevel: 'warn' })));
    names.forEach((n, i) => (srv[n] = started[i]));
    // Bring every device to the model once, so the runs below are no-op applies.
    const r = await runRollout({ model: loadModelSync(intent.dir), inventory: inventory(names), confirmTimeoutS: 30, waveSize: 3 });
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
  }, 120_000);

  afterEach(() => {
    vi.restoreAllMocks();
    for (const s of Object.values(srv)) s.resumeNetconfd();
    for (const s of Object.values(srv)) s.resumeSshSessions(stopped.splice(0));
  });

  afterAll(async () => {
    await Promise.all(Object.values(srv).map((s) => s.stop()));
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    rmSync(work, { recursive: true, force: true });
    intent.cleanup();
  });

  it('a session that never answers lock is abandoned; lock is retried on a fresh session and the apply succeeds', async () => {
    hangFirstSession('leaf2', 'connect');
    const r = await runRollout({ model: loadModelSync(intent.dir), inventory: inventory(['leaf1', 'leaf2', 'leaf3']), rpcTimeoutS: RPC_TIMEOUT_S });
    expect(stopped.length).toBeGreaterThan(0);
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    expect(r.results.map((x) => x.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const retries = journal(r.journalDir).filter((e) => e.t === 'retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ t: 'retry', device: 'leaf2', step: 'lock', attempt: 1, tries: 3 });
    expect((retries[0] as { error: string }).error).toMatch(/lock \(message-id \d+\) got no reply within 3000 ms/);
  }, 60_000);

  it('a session that hangs while holding the lock: the fresh session frees it with kill-session and goes on', async () => {
    hangFirstSession('leaf3', 'lock');
    const kill = vi.spyOn(NetconfSession.prototype, 'killSession');
    const r = await runRollout({ model: loadModelSync(intent.dir), inventory: inventory(['leaf1', 'leaf3']), rpcTimeoutS: RPC_TIMEOUT_S });
    expect(stopped.length).toBeGreaterThan(0);
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    const retries = journal(r.journalDir).filter((e) => e.t === 'retry');
    expect(retries.map((e) => [e.t === 'retry' && e.device, e.t === 'retry' && e.step])).toEqual([['leaf3', 'get-config']]);
    // netconfd still counts the stopped session as alive, holding the candidate lock.
    expect(kill).toHaveBeenCalledTimes(1);
    // The lock was really taken again (a second apply finds it free).
    const again = await runRollout({ model: loadModelSync(intent.dir), inventory: inventory(['leaf3']), rpcTimeoutS: RPC_TIMEOUT_S });
    expect(again.ok, JSON.stringify(again.results)).toBe(true);
  }, 60_000);

  it('a device that never answers fails after three tries, each journalled; nothing is changed anywhere', async () => {
    srv.leaf1.pauseNetconfd();
    const r = await runRollout({ model: loadModelSync(intent.dir), inventory: inventory(['leaf1', 'leaf2']), rpcTimeoutS: RPC_TIMEOUT_S });
    const leaf1 = r.results.find((x) => x.device === 'leaf1')!;
    expect(leaf1.action).toBe('failed');
    expect(leaf1.reason).toMatch(/^(unreachable|timeout):/);
    const entries = journal(r.journalDir);
    const retries = entries.filter((e) => e.t === 'retry');
    expect(retries.map((e) => e.t === 'retry' && [e.device, e.attempt])).toEqual([['leaf1', 1], ['leaf1', 2]]);
    expect(entries.some((e) => e.t === 'commit-start')).toBe(false);
    expect(r.results.find((x) => x.device === 'leaf2')!.action).toBe('unchanged');
  }, 150_000);
});
