/**
 * `netloom serve` against a real dc1 lab, run by the policy of the intent's `operations:`
 * section (drift: reapply at most once an hour; leaves polled every 3 s, spines every 6 s).
 *
 * Packet captures attached to incidents: a spine link
 * taken down is one incident whose captures (tcpdump in the lab's namespaces, read by the
 * `pcap analyze` code) say what the wire shows: the leaf's end cannot be captured (down), the
 * spine's end carries no BGP although the model runs a session over it. The same capture
 * on a healthy link sees BGP both ways and no such finding, so the finding is the fault's.
 * The pcap file is served to a read token, by incident id and number only.
 *
 * Recovery by the intent's policy: a neighbour shut down by hand on leaf2 is re-applied
 * (audited as the intent's policy); the same drift on leaf3 within the hour is held back by
 * max_per_hour (a recovery-skipped event and an audit entry) and left as it is. Spines answer
 * every other tick from their last collection, leaves never.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLabState, labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { IncidentCaptures, labCaptureSource } from '../../src/service/incident-capture.ts';
import type { IncidentCapture } from '../../src/service/store.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';
import { writeFileSync } from 'node:fs';

const OPERATIONS = `operations:
  recovery:
    drift: reapply
    forwarding: resync
    max_per_hour: 1
    min_interval: 10s
  polling:
    default: 3s
    roles:
      spine: 6s
`;

const isRoot = process.getuid?.() === 0;
const hasFrr = existsSync('/usr/lib/frr/bgpd') && spawnSync('which', ['vtysh']).status === 0 && spawnSync('which', ['tcpdump']).status === 0;
const missing = [!isRoot && 'root', !hasFrr && 'FRR and tcpdump'].filter(Boolean);
if (missing.length && !inCI) process.stdout.write(`serve-capture-lab: skipped, missing ${missing.join(', ')}\n`);

const lab = `h20s${process.pid % 1000}`;
const LINK = 'link:leaf1:eth1--spine1:eth1';
const HEALTHY = 'link:leaf2:eth1--spine1:eth2';
const READ = 'serve-capture-read-token-0123456789';
const WRITE = 'serve-capture-write-token-0123456789';
const headers = { authorization: `Bearer ${READ}` };

let copy: { dir: string; cleanup: () => void } | undefined;
let stateDir: string | undefined;
let serve: ChildProcess | undefined;
let base = '';
let output = '';

interface Incident { id: string; status: string; element: string; findings: string[]; captures?: IncidentCapture[] }
interface Ev { id: number; kind: string; subject: string; message: string; incident?: string; evidence: Record<string, unknown> }

async function get<T>(url: string): Promise<T> {
  const r = await fetch(`${base}${url}`, { headers });
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nserve output:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(missing.length > 0 && !inCI)('netloom serve: captures attached to incidents (dc1 lab)', () => {
  beforeAll(async () => {
    copy = intentCopy('intents/dc1', 20, '172.26');
    writeFileSync(path.join(copy.dir, 'operations.yaml'), OPERATIONS);
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: lab });
    await labUp(topology as never, { name: lab, baseDir });
    expect((await waitConverged(lab, { timeoutMs: 120_000 })).pending).toEqual([]);
    // A first `netloom apply` gives every device the baseline that drift is measured against.
    const apply = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'apply', copy.dir, '--target', `lab:${lab}`, '--yes'], { encoding: 'utf8', timeout: 120_000 });
    expect(apply.stdout.trim().split('\n').pop(), apply.stdout + apply.stderr).toBe('6 device(s) applied');
    stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-capture-'));
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', `lab:${lab}`, '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--no-probes', '--capture-seconds', '4'], {
      env: { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_WRITE_TOKEN: WRITE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    base = await until('the API address', async () => /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 30_000);
  }, 240_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill('SIGTERM');
      await new Promise((r) => serve!.once('exit', r));
    }
    await labDown(lab);
    copy?.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('a capture on a healthy link sees BGP both ways and raises no control-plane finding', async () => {
    const model = loadModelSync(copy!.dir);
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-capture-'));
    try {
      let got: IncidentCapture[] | undefined;
      const caps = new IncidentCaptures(model, buildFabricGraph(model), labCaptureSource(getLabState(lab)), dir, (_i, c) => (got = c), { seconds: 4 });
      caps.start({ id: 'inc-000000000001', status: 'open', element: HEALTHY, summary: '', severity: 'error', opened: new Date().toISOString(), findings: [], devices: ['leaf2', 'spine1'] });
      await caps.idle();
      expect(got!.map((c) => `${c.device}:${c.interface}`)).toEqual(['leaf2:eth1', 'spine1:eth2']);
      for (const c of got!) {
        expect(c.error).toBeUndefined();
        // FRR's datacenter defaults: a keepalive every 3 s from each side within 4 s.
        expect(c.bgpMessages).toBeGreaterThanOrEqual(2);
        expect(c.findings.filter((f) => f.category === 'capture')).toEqual([]);
        expect(existsSync(path.join(dir, c.file!))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a spine link down is an incident with captures of both ends and their findings, over the API and as an event', async () => {
    await until('a clean poll', async () => {
      const s = await get<{ lastPoll: { failing: number } | null }>('/status');
      return s.lastPoll && s.lastPoll.failing === 0 ? s : undefined;
    }, 90_000);
    const t0 = Date.now();
    await labExec(lab, 'leaf1', ['ip', 'link', 'set', 'eth1', 'down']);
    try {
      const incident = await until('the incident with its captures', async () => {
        const i = (await get<Incident[]>('/incidents?status=open')).find((x) => x.element === LINK);
        return i?.captures ? i : undefined;
      }, 60_000);
      process.stdout.write(`serve-capture-lab: link down -> incident with captures in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      const [leaf, spine] = incident.captures!;
      expect(`${leaf.device}:${leaf.interface}`).toBe('leaf1:eth1');
      expect(leaf.error).toMatch(/not up/);
      expect(leaf.findings[0].message).toMatch(/^leaf1:eth1 cannot be captured: the interface is administratively down .*the model runs BGP session leaf1:eth1--spine1:eth1/);
      expect(`${spine.device}:${spine.interface}`).toBe('spine1:eth1');
      expect(spine.error).toBeUndefined();
      expect(spine.bgpMessages).toBe(0);
      expect(spine.findings[0]).toMatchObject({ severity: 'error', category: 'capture' });
      expect(spine.findings[0].message).toMatch(/^no BGP or OSPF packet on spine1:eth1 in 4 s .*the link carries no control plane$/);

      const ev = (await get<Ev[]>('/events?kind=capture-attached')).find((e) => e.incident === incident.id);
      expect(ev?.message).toMatch(/^capture on leaf1:eth1 \(not captured\), spine1:eth1 \(\d+ packets\): 2 findings/);

      // why: the capture's findings are evidence at the first device that diverges.
      const why = await get<{ firstDivergence: string; captureEvidence: { incident: string; device: string; interface: string; message: string }[] }>('/why?src=h1&dst=h2');
      expect(why.firstDivergence).toBe('leaf1');
      expect(why.captureEvidence.map((e) => `${e.incident} ${e.device}:${e.interface}`)).toEqual([`${incident.id} leaf1:eth1`, `${incident.id} spine1:eth1`]);

      const pcap = await fetch(`${base}/incidents/${incident.id}/captures/2`, { headers });
      expect(pcap.status).toBe(200);
      expect(pcap.headers.get('content-type')).toBe('application/vnd.tcpdump.pcap');
      const magic = Buffer.from(await pcap.arrayBuffer()).readUInt32LE(0);
      expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(magic);
      // The down end wrote no file; names never make paths.
      expect((await fetch(`${base}/incidents/${incident.id}/captures/1`, { headers })).status).toBe(404);
      expect((await fetch(`${base}/incidents/..%2F..%2Fetc/captures/1`, { headers })).status).toBe(404);
      expect((await fetch(`${base}/incidents/${incident.id}/captures/2`)).status).toBe(401);
    } finally {
      await labExec(lab, 'leaf1', ['ip', 'link', 'set', 'eth1', 'up']);
    }
    await until('the incident resolved', async () => ((await get<Incident[]>('/incidents?status=open')).some((x) => x.element === LINK) ? undefined : true), 90_000);
  }, 240_000);

  it('runs with the intent\'s policy, says where it came from, and audits it at start', async () => {
    const st = await get<{ periodMs: number; polling: { defaultMs: number; roles: Record<string, number>; source: string }; recovery: { drift: string; maxPerHour: number; source: Record<string, string> } }>('/status');
    expect(st.periodMs).toBe(3000);
    expect(st.polling).toMatchObject({ defaultMs: 3000, roles: { spine: 6000 } });
    expect(st.polling.source).toMatch(/^intent .*operations\.yaml:8:\d+$/);
    expect(st.recovery).toMatchObject({ drift: 'reapply', maxPerHour: 1 });
    expect(st.recovery.source.drift).toMatch(/^intent .*operations\.yaml:3:\d+$/);
    expect(output).toMatch(/polling every 3 s \(spine 6 s\) \(intent .*\), drift: reapply \(intent .*\), forwarding: resync \(intent .*\), at most 1 re-applies an hour \(intent .*\) and 30 resyncs an hour \(intent .*\)/);
    const audit = (await (await fetch(`${base}/audit`, { headers: { authorization: `Bearer ${WRITE}` } })).json()) as { actor: string; action: string; outcome: string }[];
    expect(audit.find((a) => a.action === 'start')?.outcome).toMatch(/^drift: reapply \(intent .*operations\.yaml:3:\d+\), forwarding: resync \(intent .*operations\.yaml:3:\d+\), at most 1 re-applies an hour \(intent .*operations\.yaml:3:\d+\) and 30 resyncs an hour/);
  });

  it('spines answer every other tick from their last collection, leaves every tick from the device', async () => {
    const text = await (await fetch(`${base}/metrics`, { headers })).text();
    const count = (role: string, source: string) => Number(new RegExp(`^netloom_device_commands_total\\{role="${role}",source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const spine = { device: count('spine', 'device'), cached: count('spine', 'cached') };
    process.stdout.write(`serve-capture-lab: spine commands sent ${spine.device}, answered from the last collection ${spine.cached}; leaf commands sent ${count('leaf', 'device')}, cached ${count('leaf', 'cached')}\n`);
    expect(spine.cached).toBeGreaterThan(0);
    // Half the ticks each (a poll slower than 3 s shifts the odd one).
    expect(Math.abs(spine.device - spine.cached)).toBeLessThanOrEqual(spine.device / 2 + 4);
    expect(count('leaf', 'device')).toBeGreaterThan(0);
    expect(count('leaf', 'cached')).toBe(0);
  });

  it('drift: reapply by the intent restores a neighbour shut down by hand; the next drift within the hour is held back, audited', async () => {
    await until('no open incident', async () => ((await get<Incident[]>('/incidents?status=open')).length === 0 ? true : undefined), 90_000);
    const shut = async (leaf: string, on: boolean) => {
      const asn = /^router bgp (\d+)/m.exec((await labExec(lab, leaf, ['vtysh', '-c', 'show running-config'])).stdout)![1];
      await labExec(lab, leaf, ['vtysh', '-c', 'conf t', '-c', `router bgp ${asn}`, '-c', `${on ? '' : 'no '}neighbor eth2 shutdown`]);
    };
    const after = (await get<Ev[]>('/events?limit=1'))[0]?.id ?? 0;
    // Drift's recoveries only: the forwarding resyncs that FRR 8.4's dropped kernel entries need
    // after a session comes back (live-fabric-forwarding) are the policy's other half.
    const recovery = async () => (await get<Ev[]>(`/events?after=${after}&limit=1000`)).filter((e) => /^recovery-|^config-drift$/.test(e.kind) && !e.message.startsWith('forwarding: resync'));
    await shut('leaf2', true);
    const done = await until('the recovery of leaf2', async () => (await recovery()).find((e) => e.kind === 'recovery-succeeded' || e.kind === 'recovery-failed'), 90_000);
    expect(done.kind, done.message).toBe('recovery-succeeded');
    expect(done.evidence.devices).toEqual(['leaf2']);
    expect((await labExec(lab, 'leaf2', ['vtysh', '-c', 'show running-config'])).stdout).not.toMatch(/neighbor eth2 shutdown/);

    await shut('leaf3', true);
    try {
      const skipped = await until('leaf3 held back', async () => (await recovery()).find((e) => e.kind === 'recovery-skipped'), 90_000);
      expect(skipped.message).toMatch(/^drift: reapply on leaf3 held back: 1 re-applies in the last hour, the most allowed \(intent .*operations\.yaml:3:\d+\); next possible in \d+ s$/);
      const kinds = (await recovery()).map((e) => `${e.kind}${e.kind === 'config-drift' || e.kind === 'recovery-skipped' ? ` ${(e.evidence.devices as string[] | undefined)?.join(',') ?? e.message.split(':')[0]}` : ''}`);
      expect(kinds).toEqual(['config-drift leaf2', 'recovery-started', 'recovery-succeeded', 'config-drift leaf3', 'recovery-skipped leaf3']);
      expect((await labExec(lab, 'leaf3', ['vtysh', '-c', 'show running-config'])).stdout).toMatch(/neighbor eth2 shutdown/);
      const audit = (await (await fetch(`${base}/audit`, { headers: { authorization: `Bearer ${WRITE}` } })).json()) as { actor: string; action: string; target: string; outcome: string }[];
      const reapplies = audit.filter((a) => a.action === 'reapply');
      expect(reapplies.map((a) => `${a.target} ${a.outcome.split(':')[0]}`)).toEqual(['leaf3 skipped', 'leaf2 ok']);
      expect(reapplies[1].actor).toMatch(/^policy drift: reapply \(intent .*operations\.yaml:3:\d+\)$/);
    } finally {
      await shut('leaf3', false);
    }
  }, 240_000);

  it('--drift alert over the intent\'s reapply: drift is reported with its diff and left alone', async () => {
    // The first service stops; a second one runs the same intent with the command line over it.
    serve!.kill('SIGTERM');
    await new Promise((r) => serve!.once('exit', r));
    const state2 = mkdtempSync(path.join(tmpdir(), 'netloom-serve-alert-'));
    output = '';
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy!.dir, '--target', `lab:${lab}`, '--listen', '127.0.0.1:0', '--state-dir', state2, '--no-probes', '--capture-seconds', '0', '--drift', 'alert'], {
      env: { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_WRITE_TOKEN: WRITE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    const asn = async () => /^router bgp (\d+)/m.exec((await labExec(lab, 'leaf4', ['vtysh', '-c', 'show running-config'])).stdout)![1];
    try {
      base = await until('the second API address', async () => /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 30_000);
      const st = await get<{ recovery: { drift: string; source: Record<string, string> } }>('/status');
      expect(st.recovery.drift).toBe('alert');
      expect(st.recovery.source.drift).toBe('--drift');
      await until('a clean poll', async () => {
        const s = await get<{ lastPoll: { failing: number } | null }>('/status');
        return s.lastPoll && s.lastPoll.failing === 0 ? s : undefined;
      }, 60_000);
      await labExec(lab, 'leaf4', ['vtysh', '-c', 'conf t', '-c', `router bgp ${await asn()}`, '-c', 'neighbor eth2 shutdown']);
      const drift = await until('the drift alert', async () => (await get<Ev[]>('/events?kind=config-drift')).find((e) => e.message.startsWith('leaf4:')), 60_000);
      expect(drift.message).toBe('leaf4: running config drifted (policy drift: alert, not re-applied)');
      expect(String(drift.evidence.diff)).toMatch(/neighbor eth2 shutdown/);
      // Two more polls: nothing re-applied, the drift stays.
      const seq = (await get<{ lastPoll: { seq: number } }>('/status')).lastPoll.seq;
      await until('two more polls', async () => ((await get<{ lastPoll: { seq: number } }>('/status')).lastPoll.seq >= seq + 2 ? true : undefined), 30_000);
      // Nothing re-applied (the intent's forwarding resyncs, which change no configuration, aside).
      expect((await get<Ev[]>('/events?limit=1000')).filter((e) => e.kind.startsWith('recovery-') && !e.message.startsWith('forwarding: resync'))).toEqual([]);
      expect((await labExec(lab, 'leaf4', ['vtysh', '-c', 'show running-config'])).stdout).toMatch(/neighbor eth2 shutdown/);
    } finally {
      await labExec(lab, 'leaf4', ['vtysh', '-c', 'conf t', '-c', `router bgp ${await asn()}`, '-c', 'no neighbor eth2 shutdown']);
      rmSync(state2, { recursive: true, force: true });
    }
  }, 180_000);
});
