/**
 * `netloom serve` on a dc1 lab (its own name and management subnet), two proofs of issue 15:
 *  - quiet: the anomaly detector raises nothing on a steady fabric. Ten minutes at the default
 *    period of 10 s are 60 polls, and a baseline's state depends on its samples alone (EWMA per
 *    sample, no clock), so the service polls as fast as it can (--period 1) until it has made
 *    QUIET_POLLS real polls (probes included) and not one `anomaly` event may appear; then a
 *    real deviation (20 kernel routes appear in leaf1's VRF RED and travel as EVPN type-5
 *    routes) raises anomalies on the prefix and route series that moved;
 *  - recovery: a service killed with `kill -9` in the middle of a POST /rollouts (one device
 *    committed, the next not yet) leaves a half-applied fabric; the next start finishes the
 *    rollout from its journal before its first poll: every device's running config is the one
 *    before the rollout again (read from FRR), GET /rollouts shows it recovered by the
 *    service, with events and an audit entry, and no device lock is left behind; the same
 *    in the middle of a drift re-apply by policy: the next start rolls the device back to
 *    the (drifted) config the re-apply found, then the policy re-applies it to the end, and
 *    the events stored before the kill are still there;
 *  - no event lost: killed with `kill -9` at random moments (mostly mid-poll) four times while a
 *    link is down, then once after it is back: every finding of the fault is raised, each
 *    raised and cleared exactly once, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { getLabState, labDown, labExec, labUp, vtysh, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { stripBanner } from '../../src/push/frr-driver.ts';
import { readJournal } from '../../src/push/journal.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';
import { addApiNetwork } from '../push/fixtures/rollout/intent.ts';
import { eventKind, findingKey } from '../../src/service/finding-key.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/lib/frr/frr-reload.py') ? 'frr-pythontools' : undefined;
if (missing && !inCI) console.log(`serve-quiet-recover-lab: skipped, needs ${missing}`);

const LAB = 'h21srec';
/** Ten minutes at the default poll period of 10 s. */
const QUIET_POLLS = 60;
const READ = 'h21s-quiet-read-token-0123456789';
const OPERATE = 'h21s-quiet-operate-token-012345';
const ADMIN = 'h21s-quiet-admin-token-012345678';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The lab, the journals and the apply lock of this test file only.
const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-recover-'));
process.env.NETLOOM_STATE_DIR = path.join(stateDir, 'state');

describe.skipIf(!!missing && !inCI)('netloom serve: quiet fabric, no anomaly; a rollout killed mid-way is recovered at start (dc1 lab)', () => {
  const copy = intentCopy('intents/dc1', 2, '172.27');
  const env = { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_OPERATE_TOKEN: OPERATE, NETLOOM_ADMIN_TOKEN: ADMIN, CI: 'true' };
  const serveDir = path.join(stateDir, 'serve');
  let serve: ChildProcess | undefined;
  let output = '';
  let base = '';

  const start = async (...extra: string[]): Promise<void> => {
    output = '';
    base = '';
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', `lab:${LAB}`, '--listen', '127.0.0.1:0', '--state-dir', serveDir, '--period', '1', '--capture-seconds', '0', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    for (let i = 0; i < 480 && !base; i++) {
      base = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      if (!base) await sleep(250);
    }
    expect(base, output).not.toBe('');
  };
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (!serve || serve.exitCode !== null || serve.signalCode !== null) return;
    const exited = new Promise((r) => serve!.once('exit', r));
    serve.kill(signal);
    await exited;
  };
  const get = async <T>(url: string, token = READ): Promise<T> => {
    const r = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status, url).toBe(200);
    return (url === '/metrics' ? await r.text() : await r.json()) as T;
  };
  const metric = (text: string, name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  type Ev = { id: number; kind: string; device?: string; check?: string; subject: string; message: string; evidence: Record<string, unknown> };
  const events = (kind: string) => get<Ev[]>(`/events?kind=${kind}&limit=1000`);
  const running = async (): Promise<Record<string, string>> => {
    const st = getLabState(LAB);
    const out: Record<string, string> = {};
    for (const n of st.nodes.filter((x) => x.role === 'router')) out[n.name] = stripBanner(await vtysh(st, n.name, 'show running-config'));
    return out;
  };

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    expect((await waitConverged(LAB, { timeoutMs: 120_000 })).pending).toEqual([]);
    // Steady means verified: every live check green, probes included (MACs learned).
    const model = loadModelSync(copy.dir);
    for (let i = 0; ; i++) {
      const { results } = await verifyLive(model, `lab:${LAB}`, { probes: true });
      if (results.every((r) => r.passed)) break;
      if (i > 30) throw new Error(`the lab does not verify green: ${results.filter((r) => !r.passed).map((r) => r.check.id).join(', ')}`);
      await sleep(2000);
    }
  }, 300_000);

  afterAll(async () => {
    await stop('SIGTERM');
    await labDown(LAB).catch(() => false);
    copy.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it(`quiet: ${QUIET_POLLS} real polls (ten minutes at the default period) without an anomaly event; 20 routes appearing in a VRF raise anomalies`, async () => {
    await start();
    const t0 = Date.now();
    let text = '';
    for (;;) {
      text = await get<string>('/metrics');
      if (metric(text, 'netloom_polls_total') >= QUIET_POLLS) break;
      expect(Date.now() - t0, 'polls too slow').toBeLessThan(600_000);
      await sleep(1000);
    }
    const polls = metric(text, 'netloom_polls_total');
    const series = metric(text, 'netloom_baseline_series');
    const judged = metric(text, 'netloom_baseline_samples_judged_total');
    const anomalies = await events('anomaly');
    console.log(`serve-quiet: ${polls} polls in ${((Date.now() - t0) / 1000).toFixed(0)} s (mean poll ${((metric(text, 'netloom_poll_duration_seconds_sum') / metric(text, 'netloom_poll_duration_seconds_count')) * 1000).toFixed(0)} ms), ${series} baseline series, ${judged} samples judged past the warm-up, ${anomalies.length} anomaly events`);
    expect(anomalies.map((e) => e.message)).toEqual([]);
    // The detector did judge: every series past its 20-sample warm-up, on every later poll.
    expect(series).toBeGreaterThan(40);
    expect(judged).toBeGreaterThanOrEqual(series * (QUIET_POLLS - 20) * 0.9);
    // Nothing else happened either: a steady fabric has no finding events at all.
    expect((await get<Ev[]>('/events?limit=1000')).map((e) => `${e.kind} ${e.message}`)).toEqual([]);

    // A real deviation: leaf1's VRF RED gets 20 kernel routes, redistributed as EVPN type-5.
    const last = (await get<Ev[]>('/events?limit=1'))[0]?.id ?? 0;
    await labExec(LAB, 'leaf1', ['sh', '-c', 'for i in $(seq 1 20); do ip -n RED route add blackhole 192.0.2.$i/32; done']);
    let raised: Ev[] = [];
    for (let i = 0; i < 60 && !raised.some((e) => e.subject.startsWith('netloom_routes{"device":"leaf4","vrf":"RED"}')); i++) {
      await sleep(1000);
      raised = (await events('anomaly')).filter((e) => e.id > last);
    }
    console.log(`serve-quiet: 20 routes in leaf1's VRF RED -> ${raised.length} anomaly events: ${raised.map((e) => e.subject).slice(0, 4).join(', ')}...`);
    expect(raised.map((e) => e.subject)).toEqual(expect.arrayContaining(['netloom_routes{"device":"leaf1","vrf":"RED"}', 'netloom_routes{"device":"leaf4","vrf":"RED"}']));
    expect(raised.some((e) => e.subject.startsWith('netloom_bgp_prefixes_received{"device":"leaf2"'))).toBe(true);
    const leaf4 = raised.find((e) => e.subject === 'netloom_routes{"device":"leaf4","vrf":"RED"}')!;
    expect(leaf4.evidence.value as number).toBeGreaterThanOrEqual((leaf4.evidence.mean as number) + 20);
    await labExec(LAB, 'leaf1', ['sh', '-c', 'for i in $(seq 1 20); do ip -n RED route del blackhole 192.0.2.$i/32; done']);
    await stop('SIGTERM');
  }, 900_000);

  it('kill -9 mid-poll, again and again during a fault: no event lost, none doubled; each finding raised once, cleared once when it is gone', async () => {
    const model = loadModelSync(copy.dir);
    await start();
    onTestFinished(() => stop('SIGKILL'));
    const since = (await get<Ev[]>('/events?limit=1'))[0]?.id ?? 0;
    // The fault: leaf1's link to spine1 down. What the live checks find is what must be raised.
    await labExec(LAB, 'leaf1', ['ip', 'link', 'set', 'eth1', 'down']);
    // Whatever happens, the next tests get the link back and a converged lab.
    onTestFinished(async () => {
      await labExec(LAB, 'leaf1', ['ip', 'link', 'set', 'eth1', 'up']);
      await waitConverged(LAB, { timeoutMs: 90_000 });
    });
    await sleep(3_000);
    const expected = new Set((await verifyLive(model, `lab:${LAB}`, { probes: true })).results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').map((f) => findingKey(f))));
    expect(expected.size).toBeGreaterThan(0);
    // Killed at random moments: a poll takes about 2.6 s at --period 1, so most land mid-poll.
    const offsets: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = 300 + Math.floor(Math.random() * 2500);
      offsets.push(at);
      await sleep(at);
      await stop('SIGKILL');
      await start();
    }
    // Three more polls of the running service (its counter appears with its first poll).
    const polls = async () => metric(await get<string>('/metrics'), 'netloom_polls_total') || 0;
    const settle = async () => {
      const from = await polls();
      const t0 = Date.now();
      while ((await polls()) < from + 3) {
        expect(Date.now() - t0, `three polls after ${from}`).toBeLessThan(60_000);
        await sleep(500);
      }
    };
    await settle();
    await labExec(LAB, 'leaf1', ['ip', 'link', 'set', 'eth1', 'up']);
    expect((await waitConverged(LAB, { timeoutMs: 90_000 })).pending).toEqual([]);
    await sleep(3_000);
    await settle();
    await stop('SIGKILL');
    await start();
    await settle();
    const evs = await get<Ev[]>(`/events?after=${since}&limit=10000`);
    // What is still wrong now (the lab may keep a fault after the flap): its last event must be a raise.
    const still = new Set((await verifyLive(model, `lab:${LAB}`, { probes: true })).results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').map((f) => findingKey(f))));
    // Per finding: raise, clear, raise, clear... never two raises or two clears in a row.
    const bySubject = new Map<string, string[]>();
    for (const e of evs) {
      const what = !e.check ? undefined : e.kind === eventKind(e.check, true) ? 'raise' : e.kind === eventKind(e.check, false) ? 'clear' : e.kind === 'flapping' ? 'flapping' : e.kind === 'flap-settled' ? 'settled' : undefined;
      if (what) bySubject.set(e.subject, [...(bySubject.get(e.subject) ?? []), what]);
    }
    // A finding that flaps is damped (stated rule: penalty 1,000 per change, suppressed at 2,000,
    // half-life 60 s): while suppressed its changes are not events, so it may end suppressed.
    const broken = [...bySubject].filter(([k, all]) => {
      const seq = all.filter((x) => x === 'raise' || x === 'clear');
      const doubled = seq.some((x, i) => (i === 0 ? x !== 'raise' : x === seq[i - 1] && !all.includes('flapping')));
      const last = seq[seq.length - 1];
      const wrongEnd = all[all.length - 1] !== 'flapping' && all[all.length - 1] !== 'settled' && last !== (still.has(k) ? 'raise' : 'clear');
      return doubled || wrongEnd;
    });
    console.log(`serve-kill: killed at ${offsets.join(', ')} ms into polls; ${bySubject.size} findings, ${evs.length} events; still failing after the link came back: ${[...still].join(', ') || 'none'}; sequences: ${[...new Set([...bySubject.values()].map((x) => x.join('>')))].join(' | ')}`);
    expect(broken.map(([k, seq]) => `${k}: ${seq.join(' ')}`)).toEqual([]);
    const missing = [...expected].filter((k) => !bySubject.has(k));
    expect(missing).toEqual([]);
    await stop('SIGTERM');
  }, 600_000);

  it('recovery: kill -9 of the service between two devices of a POST /rollouts; the next start rolls the committed one back, reports and audits it', async () => {
    const before = await running();
    // The service's model gets VLAN 40 (VNI 10040) on leaf2 and leaf3: a real change to push.
    const tenants = path.join(copy.dir, 'tenants.yaml');
    const text = readFileSync(tenants, 'utf8');
    writeFileSync(tenants, addApiNetwork(text));
    expect(readFileSync(tenants, 'utf8')).not.toBe(text);
    await start();
    const post = fetch(`${base}/rollouts`, { method: 'POST', headers: { authorization: `Bearer ${OPERATE}`, 'content-type': 'application/json' }, body: JSON.stringify({ devices: ['leaf2', 'leaf3'], canary: 1, waveSize: 1 }) }).catch((e: Error) => e);
    const root = path.join(process.env.NETLOOM_STATE_DIR!, 'rollouts');
    let journal = '';
    let committed = '';
    for (let i = 0; i < 1200 && !committed; i++) {
      await sleep(50);
      const ids = existsSync(root) ? readdirSync(root).sort() : [];
      journal = ids.length ? path.join(root, ids.at(-1)!, 'journal.jsonl') : '';
      const c = journal && existsSync(journal) ? readJournal(journal).find((e) => e.t === 'committed') : undefined;
      if (c && c.t === 'committed') committed = c.device;
    }
    expect(committed, output).not.toBe('');
    await stop('SIGKILL');
    expect(await post).toBeInstanceOf(Error);
    const other = committed === 'leaf2' ? 'leaf3' : 'leaf2';
    const id = path.basename(path.dirname(journal));
    // Half-applied: the committed device runs the new VLAN, the other does not; the journal has no end.
    const half = await running();
    expect(half[committed]).toMatch(/vni 10040/);
    expect(half[committed]).not.toEqual(before[committed]);
    expect(half[other]).toEqual(before[other]);
    expect(readJournal(journal).some((e) => e.t === 'end')).toBe(false);

    const t0 = Date.now();
    await start();
    console.log(`serve-recover: restarted after kill -9 with ${committed} committed; API up with the rollout recovered in ${Date.now() - t0} ms`);
    expect(output).toMatch(new RegExp(`rollout ${id}: recovered: .*${committed} rolled back`));
    // Previous config everywhere, read from FRR.
    expect(await running()).toEqual(before);
    const rows = await get<{ id: string; status: string; rolledBack: string[]; recoveredBy: string | null }[]>('/rollouts');
    expect(rows.find((r) => r.id === id)).toMatchObject({ status: 'recovered', rolledBack: [committed], recoveredBy: expect.stringMatching(/^netloom serve at start \(pid \d+\)$/) });
    const one = await get<{ steps: { t: string }[] }>(`/rollouts/${id}`);
    expect(one.steps.map((s) => s.t).slice(-4)).toEqual(['recover-start', 'rollback-start', 'rolled-back', 'end']);
    const kinds = (await get<Ev[]>('/events?limit=1000')).filter((e) => e.subject === id).map((e) => e.kind);
    expect(kinds).toEqual(['rollout-recovered', 'rollout-recovery-started']);
    const audit = await get<{ action: string; target: string; outcome: string }[]>('/audit', ADMIN);
    expect(audit.find((a) => a.action === 'recover rollout' && a.target === id)?.outcome).toMatch(new RegExp(`^recovered: .*${committed} rolled back`));
    // No lock left: the same rollout plans cleanly (both leaves would change again).
    const dry = await fetch(`${base}/rollouts`, { method: 'POST', headers: { authorization: `Bearer ${OPERATE}`, 'content-type': 'application/json' }, body: JSON.stringify({ dryRun: true, devices: ['leaf2', 'leaf3'] }) });
    const plan = (await dry.json()) as { ok: boolean; results: { device: string; action: string }[] };
    expect(plan.ok, JSON.stringify(plan)).toBe(true);
    expect(plan.results.map((r) => r.action)).toEqual(['would change', 'would change']);
    // The fabric the service now polls is the one before the rollout, sessions up.
    expect((await waitConverged(LAB, { timeoutMs: 60_000 })).pending).toEqual([]);
  }, 600_000);

  it('recovery: kill -9 in the middle of a drift re-apply; the next start rolls it back to where it found the device, then re-applies by policy to the intended config', async () => {
    // Everything applied once (the baseline drift is measured against), VLAN 40 included.
    const all = await fetch(`${base}/rollouts`, { method: 'POST', headers: { authorization: `Bearer ${OPERATE}`, 'content-type': 'application/json' }, body: JSON.stringify({}) });
    const applied = (await all.json()) as { ok: boolean; results: unknown[] };
    expect(applied.ok, JSON.stringify(applied)).toBe(true);
    const intended = await running();
    await stop('SIGTERM');
    await start('--drift', 'reapply');
    const root = path.join(process.env.NETLOOM_STATE_DIR!, 'rollouts');
    const known = new Set(readdirSync(root));
    // Drift by hand: leaf2 shuts its session to spine2.
    await labExec(LAB, 'leaf2', ['vtysh', '-c', 'conf t', '-c', 'router bgp 65102', '-c', 'neighbor eth2 shutdown']);
    const drifted = (await running()).leaf2;
    expect(drifted).toMatch(/neighbor eth2 shutdown/);
    let journal = '';
    for (let i = 0; i < 1200 && !journal; i++) {
      await sleep(50);
      const fresh = readdirSync(root).filter((id) => !known.has(id)).sort();
      const f = fresh.length ? path.join(root, fresh.at(-1)!, 'journal.jsonl') : '';
      if (f && existsSync(f) && readJournal(f).some((e) => e.t === 'committed' && e.device === 'leaf2')) journal = f;
    }
    expect(journal, output).not.toBe('');
    await stop('SIGKILL');
    const id = path.basename(path.dirname(journal));
    expect(readJournal(journal).some((e) => e.t === 'end')).toBe(false);
    expect((await running()).leaf2).not.toMatch(/neighbor eth2 shutdown/);

    await start('--drift', 'reapply');
    // Rolled back to what the re-apply found (the drifted config), before the first poll.
    expect(output).toMatch(new RegExp(`rollout ${id}: recovered: leaf2 rolled back`));
    const rows = await get<{ id: string; status: string; rolledBack: string[] }[]>('/rollouts');
    expect(rows.find((r) => r.id === id)).toMatchObject({ status: 'recovered', rolledBack: ['leaf2'] });
    // Then the policy re-applies it, this time to the end.
    let ok: Ev | undefined;
    for (let i = 0; i < 240 && !ok; i++) {
      await sleep(500);
      ok = (await events('recovery-succeeded')).find((e) => (e.evidence.devices as string[]).includes('leaf2'));
      expect((await events('recovery-failed')).map((e) => e.message)).toEqual([]);
    }
    expect(ok, output).toBeDefined();
    expect(await running()).toEqual(intended);
    // The events stored before the kill are still there: the drift and the re-apply it started.
    const drift = await events('config-drift');
    expect(drift.filter((e) => e.device === 'leaf2').length).toBeGreaterThanOrEqual(2);
    expect((await events('recovery-started')).length).toBeGreaterThanOrEqual(2);
    const later = (await get<{ id: string; status: string }[]>('/rollouts')).filter((r) => r.id > id);
    expect(later.map((r) => r.status)).toContain('ok');
  }, 600_000);
});
