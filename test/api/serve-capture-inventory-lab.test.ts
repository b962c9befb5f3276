/**
 * Captures on an inventory target: `netloom serve --target INVENTORY.yaml`, where the inventory
 * addresses a dc1 lab's nodes as devices (their management addresses, their own sshd, pinned
 * host keys, a key file): nothing of the lab is used but SSH. A spine link taken down is an
 * incident whose captures ran on the devices over SSH (tcpdump there, bounded, the file fetched
 * back): the down end refused by tcpdump (administratively down), the other end captured with
 * no BGP message, and the pcap served by the API is the one the device wrote.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLabState, labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { analyzeFile } from '../../src/pcap/analyze.ts';
import { CaptureReader, fileSource } from '../../src/pcap/reader.ts';
import { loadInventory } from '../../src/push/inventory.ts';
import { sshCapture } from '../../src/push/ssh-capture.ts';
import type { IncidentCapture } from '../../src/service/store.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const hasTools = existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/sbin/sshd') && spawnSync('which', ['tcpdump']).status === 0;
const missing = process.getuid?.() !== 0 ? 'root' : !hasTools ? 'FRR, sshd and tcpdump' : undefined;
if (missing && !inCI) console.log(`serve-capture-inventory-lab: skipped, needs ${missing}`);

const LAB = 'h21sinv';
const LINK = 'link:leaf1:eth1--spine1:eth1';
const READ = 'h21s-inv-read-token-0123456789ab';
const headers = { authorization: `Bearer ${READ}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-serve-inv-'));
process.env.NETLOOM_STATE_DIR = path.join(stateDir, 'state');

interface Incident { id: string; element: string; captures?: IncidentCapture[] }

describe.skipIf(!!missing && !inCI)('netloom serve: incident captures over SSH on an inventory target (dc1 lab nodes as devices)', () => {
  const copy = intentCopy('intents/dc1', 4, '172.27');
  let serve: ChildProcess | undefined;
  let output = '';
  let base = '';
  const inventory = path.join(stateDir, 'inventory.yaml');
  const get = async <T>(url: string): Promise<T> => {
    const r = await fetch(`${base}${url}`, { headers });
    if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
    return (await r.json()) as T;
  };
  const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await f().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nserve output:\n${output}`);
      await sleep(250);
    }
  };

  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: LAB });
    await labUp(topology as never, { name: LAB, baseDir });
    expect((await waitConverged(LAB, { timeoutMs: 120_000 })).pending).toEqual([]);
    // The lab's routers as an operator's inventory: address, port, user, key, pinned host key.
    const st = getLabState(LAB);
    const routers = st.nodes.filter((n) => n.role === 'router');
    const lines = ['defaults:', `  username: ${routers[0].sshUser}`, `  credentials: { key_file: ${JSON.stringify(st.ssh.privateKey)} }`, 'devices:'];
    for (const n of routers) lines.push(`  ${n.name}: { address: ${n.mgmtIpv4}, port: ${n.sshPort}, transport: ssh, host_key: ${n.hostKeyFingerprint ? `{ fingerprint: "${n.hostKeyFingerprint}" }` : `{ known_hosts: ${JSON.stringify(st.ssh.knownHosts)} }`} }`);
    writeFileSync(inventory, lines.join('\n') + '\n');
    serve = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', copy.dir, '--target', inventory, '--listen', '127.0.0.1:0', '--state-dir', path.join(stateDir, 'serve'), '--period', '3', '--no-probes', '--capture-seconds', '4'], { env: { ...process.env, NETLOOM_READ_TOKEN: READ, NETLOOM_ADMIN_TOKEN: 'h21s-inv-admin-token-0123456789a' }, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d) => (output += String(d)));
    serve.stderr!.on('data', (d) => (output += String(d)));
    base = await until('the API address', async () => /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 30_000);
    expect(output).toMatch(/inventory .*inventory\.yaml/);
  }, 240_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve!.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    await labDown(LAB).catch(() => false);
    copy.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('a spine link down: captures taken on both devices over SSH, attached with their findings; the pcap served', async () => {
    await until('a clean poll', async () => {
      const s = await get<{ lastPoll: { failing: number } | null }>('/status');
      return s.lastPoll && s.lastPoll.failing === 0 ? s : undefined;
    }, 90_000);
    const t0 = Date.now();
    await labExec(LAB, 'leaf1', ['ip', 'link', 'set', 'eth1', 'down']);
    try {
      const incident = await until('the incident with its captures', async () => {
        const i = (await get<Incident[]>('/incidents?status=open')).find((x) => x.element === LINK);
        return i?.captures ? i : undefined;
      }, 60_000);
      console.log(`serve-capture-inventory: link down -> incident with SSH captures in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${incident.captures!.map((c) => `${c.device}:${c.interface} ${c.error ? 'refused' : `${c.packets} packets, ${c.bytes} bytes`}`).join('; ')}`);
      const [leaf, spine] = incident.captures!;
      expect(`${leaf.device}:${leaf.interface}`).toBe('leaf1:eth1');
      expect(leaf.error).toMatch(/not up/);
      expect(leaf.findings[0].message).toMatch(/^leaf1:eth1 cannot be captured: the interface is administratively down .*the model runs BGP session leaf1:eth1--spine1:eth1/);
      expect(`${spine.device}:${spine.interface}`).toBe('spine1:eth1');
      expect(spine.error).toBeUndefined();
      expect(spine.bgpMessages).toBe(0);
      expect(spine.findings[0].message).toMatch(/^no BGP or OSPF packet on spine1:eth1 in 4 s .*the link carries no control plane$/);
      // The file the device wrote, fetched back intact: a pcap whose every record the reader takes.
      const r = await fetch(`${base}/incidents/${incident.id}/captures/2`, { headers });
      expect(r.status).toBe(200);
      const bytes = Buffer.from(await r.arrayBuffer());
      expect([0xa1b2c3d4, 0xa1b23c4d]).toContain(bytes.readUInt32LE(0));
      const file = path.join(stateDir, 'fetched.pcap');
      writeFileSync(file, bytes);
      const report = analyzeFile(file);
      expect({ packets: report.packets, bytes: report.bytes }).toEqual({ packets: spine.packets, bytes: spine.bytes });
      // Nothing left on the device.
      expect((await labExec(LAB, 'spine1', ['sh', '-c', 'ls /tmp/netloom-capture.* 2>/dev/null | wc -l'])).stdout.trim()).toBe('0');
    } finally {
      await labExec(LAB, 'leaf1', ['ip', 'link', 'set', 'eth1', 'up']);
    }
  }, 180_000);

  it('sshCapture on a healthy link carries its BGP keepalives back; it stops at the packet bound, cuts at the snaplen, and leaves no file on the device', async () => {
    const spine1 = loadInventory(inventory).devices.find((d) => d.name === 'spine1')!;
    const full = path.join(stateDir, 'healthy.pcap');
    await sshCapture(spine1, 'eth2', { seconds: 4, maxPackets: 2000, snaplen: 2048, out: full });
    const report = analyzeFile(full);
    const bgp = report.bgp.reduce((n, x) => n + Object.values(x.messages).reduce((a, b) => a + b, 0), 0);
    console.log(`serve-capture-inventory: 4 s on spine1:eth2 over SSH: ${report.packets} packets, ${bgp} BGP messages`);
    // FRR's datacenter keepalive is 3 s: at least one each way in 4 s.
    expect(bgp).toBeGreaterThanOrEqual(2);
    const small = path.join(stateDir, 'bounded.pcap');
    // A window far longer than the test allows: only the packet bound can end it in time.
    await sshCapture(spine1, 'eth2', { seconds: 3600, maxPackets: 3, snaplen: 64, out: small });
    const reader = new CaptureReader(fileSource(small));
    const lens: number[] = [];
    for (let f = reader.next(); f; f = reader.next()) lens.push(f.capLen);
    reader.close();
    expect(lens).toHaveLength(3);
    for (const l of lens) expect(l).toBeLessThanOrEqual(64);
    await expect(sshCapture(spine1, 'eth9', { seconds: 2, maxPackets: 10, snaplen: 64, out: path.join(stateDir, 'none.pcap') })).rejects.toThrow(/^capture on spine1:eth9 failed: .*(No such device|doesn't exist)/);
    await expect(sshCapture(spine1, 'eth2; reboot', { seconds: 2, maxPackets: 10, snaplen: 64, out: path.join(stateDir, 'none.pcap') })).rejects.toThrow(/not an interface name/);
    // The service may be capturing on spine1 for an incident of its own (bounded to seconds): a
    // file left behind is one still there after them.
    const left = async () => (await labExec(LAB, 'spine1', ['sh', '-c', 'ls /tmp/netloom-capture.* 2>/dev/null | wc -l'])).stdout.trim();
    for (let i = 0; i < 60 && (await left()) !== '0'; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await left()).toBe('0');
  }, 90_000);
});
