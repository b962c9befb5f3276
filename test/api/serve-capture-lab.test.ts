/**
 * `netloom serve` against a real dc1 lab: packet captures attached to incidents. A spine link
 * taken down is one incident whose captures (tcpdump in the lab's namespaces, read by the
 * `pcap analyze` code) say what the wire shows: the leaf's end cannot be captured (down), the
 * spine's end carries no BGP although the model runs a session over it. The same capture
 * on a healthy link sees BGP both ways and no such finding, so the finding is the fault's.
 * The pcap file is served to a read token, by incident id and number only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLabState, labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { IncidentCaptures } from '../../src/service/incident-capture.ts';
import type { IncidentCapture } from '../../src/service/store.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const isRoot = process.getuid?.() === 0;
const hasFrr = existsSync('/usr/lib/frr/bgpd') && spawnSync('which', ['vtysh']).status === 0 && spawnSync('which', ['tcpdump']).status === 0;
const missing = [!isRoot && 'root', !hasFrr && 'FRR and tcpdump'].filter(Boolean);
if (missing.length && !inCI) process.stdout.write(`serve-capture-lab: skipped, missing ${missing.join(', ')}\n`);

const lab = `h20s${process.pid % 1000}`;
const LINK = 'link:leaf1:eth1--spine1:eth1';
const HEALTHY = 'link:leaf2:eth1--spine1:eth2';
const PERIOD_S = 3;
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
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: lab });
    await labUp(topology as never, { name: lab, baseDir });
    expect((await waitConverged(lab, { timeoutMs: 120_000 })).pending).toEqual([]);
    stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-capture-'));
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', `lab:${lab}`, '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--period', String(PERIOD_S), '--no-probes', '--capture-seconds', '4'], {
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
      const caps = new IncidentCaptures(model, buildFabricGraph(model), getLabState(lab), dir, (_i, c) => (got = c), { seconds: 4 });
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
});
