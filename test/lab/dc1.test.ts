/**
 * dc1 from the model, run for real on the namespace lab: BGP unnumbered underlay, EVPN with
 * L2 VNIs and per-VRF L3 VNIs (symmetric IRB, type-5 subnets), tenant isolation, and a clean
 * `lab down`. On kernels without VRF devices (CONFIG_NET_VRF) the VRFs are network namespaces
 * inside each leaf and zebra runs with -n; the assertions are the same either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labExec, labStatus, labUp, vtysh, waitConverged, type LabState } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { hostLinks, labSkipReason, namespaces, processesMentioning, sh } from './helpers.ts';

const skip = labSkipReason();
if (skip) console.warn(`skipping dc1 lab test: ${skip}`);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const stateRoot = mkdtempSync(path.join(tmpdir(), 'nl-dc1test-'));
process.env.NETLOOM_STATE_DIR = stateRoot;
const LAB = `dc${process.pid.toString(36).slice(-4)}`;

/**
 * dc1's management pool (172.20.20.0/24) is fixed by the intent, so two dc1 labs cannot share
 * a host: this test runs an exact copy of intents/dc1 whose only change is a management subnet
 * nothing on the host uses.
 */
function dc1Copy(): string {
  const used = new Set<string>();
  for (const r of JSON.parse(sh('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as { dst: string }[]) used.add(r.dst.split('/')[0]);
  const claims = '/run/netloom/mgmt-claims';
  if (existsSync(claims)) for (const c of readdirSync(claims)) used.add(c.split('_')[0]);
  let third = 0;
  for (let t = 120 + (process.pid % 100); t < 255 + 120; t++) {
    const x = 120 + ((t - 120) % 135);
    if (!used.has(`172.20.${x}.0`)) {
      third = x;
      break;
    }
  }
  if (!third) throw new Error('no free 172.20.x.0/24 management subnet on this host');
  const dir = path.join(stateRoot, 'dc1');
  cpSync(path.join(repo, 'intents/dc1'), dir, { recursive: true });
  const f = path.join(dir, 'fabric.yaml');
  const text = readFileSync(f, 'utf8');
  expect(text).toContain('mgmt: 172.20.20.0/24');
  writeFileSync(f, text.replace('mgmt: 172.20.20.0/24', `mgmt: 172.20.${third}.0/24`));
  return dir;
}

afterAll(() => rmSync(stateRoot, { recursive: true, force: true }));

async function ping(state: LabState, from: string, to: string, count = 1): Promise<boolean> {
  const r = await labExec(state, from, ['ping', '-c', String(count), '-i', '0.2', '-W', '1', to]);
  return r.code === 0;
}

async function pingUntil(state: LabState, from: string, to: string, ms = 15_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) if (await ping(state, from, to)) return true;
  return false;
}

function ipOf(model: FabricModel, endpoint: string): string {
  return model.endpoints.find((e) => e.name === endpoint)!.ipv4!.split('/')[0];
}

/** Inode of a namespace as seen from inside a node (`stat -L` of a /run/netns entry or /proc/self/ns). */
async function nsInodeInside(state: LabState, node: string, file: string): Promise<number> {
  const r = await labExec(state, node, ['stat', '-L', '-c', '%i', file]);
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

/** Every reference to a namespace inode anywhere on the host: processes in it, fds on it, mounts of it. */
function referencesTo(inodes: number[]): string[] {
  const want = new Set(inodes);
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      for (const kind of ['net', 'mnt', 'uts']) {
        if (want.has(statSync(`/proc/${pid}/ns/${kind}`).ino)) out.push(`pid ${pid} in ${kind} ${statSync(`/proc/${pid}/ns/${kind}`).ino}`);
      }
      const mi = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
      for (const ino of want) if (mi.includes(`:[${ino}]`)) out.push(`pid ${pid} mounts ${ino}`);
    } catch {
      /* exited */
    }
  }
  return [...new Set(out)];
}

describe.skipIf(!!skip)('dc1 from the model on the namespace lab: EVPN L2 and L3 VNIs, VRF isolation', () => {
  let state: LabState;
  let model: FabricModel;
  let upToConvergedMs = 0;

  beforeAll(async () => {
    const dir = dc1Copy();
    const t0 = Date.now();
    const src = await topologyFromModel(dir, { name: LAB });
    model = src.model;
    state = await labUp(src.topology, { name: LAB, baseDir: src.baseDir, runtime: 'netns', log: (l) => process.stdout.write(`  lab: ${l}\n`) });
    const r = await waitConverged(state, { timeoutMs: 90_000, pollMs: 200, expected: expectedSessions(model) });
    upToConvergedMs = Date.now() - t0;
    process.stdout.write(`dc1 lab: up -> converged in ${(upToConvergedMs / 1000).toFixed(1)} s (target <= 30 s), VRF backend ${state.nodes.find((n) => n.vrfBackend)?.vrfBackend}\n`);
    expect(r.pending).toEqual([]);
  }, 180_000);

  afterAll(async () => {
    await labDown(LAB).catch(() => {});
  }, 120_000);

  it('the intent copy differs from intents/dc1 only in the management pool', () => {
    expect(model.devices.map((d) => d.name).sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2']);
    expect(model.endpoints.map((e) => e.name).sort()).toEqual(['h1', 'h2', 'h3', 'h4', 'h5']);
    expect(model.fabric.pools.mgmt).not.toBe('172.20.20.0/24');
  });

  it('every BGP session of the model is Established, and there are no others', async () => {
    const st = await labStatus(state);
    const expected = expectedSessions(model).filter((e) => e.protocol === 'bgp').map((e) => `${e.node} ${e.peer}`).sort();
    const seen = st.nodes.flatMap((n) => n.bgp.map((b) => `${n.name} ${b.peer}`)).sort();
    expect(seen).toEqual(expected);
    expect(expected).toHaveLength(16);
    for (const n of st.nodes) for (const b of n.bgp) expect(`${n.name} ${b.peer} ${b.state}`).toBe(`${n.name} ${b.peer} Established`);
  });

  it("each leaf's VNIs have the model's remote VTEPs, and every L3 VNI is up with its router MAC", async () => {
    const leaves = model.devices.filter((d) => d.role === 'leaf');
    const vtep = (d: (typeof leaves)[number]) => d.vtep!.split('/')[0];
    for (const leaf of leaves) {
      const vnis = JSON.parse(await vtysh(state, leaf.name, 'show evpn vni json')) as Record<string, { type?: string; remoteVteps?: string[]; tenantVrf?: string }>;
      const l2 = leaf.vlans.map((v) => v.l2vni).sort();
      const l3 = leaf.vrfs.map((v) => v.l3vni).sort();
      expect(Object.keys(vnis).map(Number).sort(), leaf.name).toEqual([...l2, ...l3].sort());
      for (const v of leaf.vlans) {
        const others = leaves.filter((o) => o !== leaf && o.vlans.some((x) => x.l2vni === v.l2vni)).map(vtep).sort();
        expect(vnis[v.l2vni].type, `${leaf.name} ${v.l2vni}`).toBe('L2');
        expect([...(vnis[v.l2vni].remoteVteps ?? [])].sort(), `${leaf.name} VNI ${v.l2vni}`).toEqual(others);
      }
      for (const v of leaf.vrfs) {
        const d = JSON.parse(await vtysh(state, leaf.name, `show evpn vni ${v.l3vni} json`)) as { type: string; state: string; vrf: string; routerMac: string; vxlanIntf: string };
        expect(d, `${leaf.name} L3 VNI ${v.l3vni}`).toMatchObject({ type: 'L3', state: 'Up', vrf: v.name, vxlanIntf: `vx${v.l3vni}` });
        expect(d.routerMac).toMatch(/^02:4e:/);
      }
    }
  }, 60_000);

  it('endpoints ping within a VLAN across leaves, across VLANs of a VRF, and never into the other VRF', async () => {
    const ip = (e: string) => ipOf(model, e);
    const reach: [string, string][] = [
      ['h1', 'h2'], ['h2', 'h1'], // VLAN 10 across leaf1/leaf2: L2 VNI
      ['h1', 'h3'], ['h3', 'h1'], ['h2', 'h3'], ['h3', 'h2'], // VLAN 10 <-> 20 in BLUE: routed over the L3 VNI
      ['h4', 'h5'], ['h5', 'h4'], // RED, VLAN 30 across leaf4/leaf1
    ];
    const failed: string[] = [];
    for (const [a, b] of reach) if (!(await pingUntil(state, a, ip(b)))) failed.push(`${a} -> ${b}`);
    expect(failed).toEqual([]);
    const leaks: string[] = [];
    for (const a of ['h1', 'h2', 'h3']) {
      for (const b of ['h4', 'h5']) {
        if (await ping(state, a, ip(b), 2)) leaks.push(`${a} -> ${b}`);
        if (await ping(state, b, ip(a), 2)) leaks.push(`${b} -> ${a}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 180_000);

  it('FRR advertises each VRF subnet as EVPN type 5 and installs it in the VRF of the other leaves', async () => {
    const t5 = JSON.parse(await vtysh(state, 'leaf3', 'show bgp l2vpn evpn route type 5 json')) as Record<string, unknown>;
    const prefixes = new Set<string>();
    for (const [rd, body] of Object.entries(t5)) {
      if (!body || typeof body !== 'object') continue;
      for (const k of Object.keys(body as object)) if (k.startsWith('[5]')) prefixes.add(`${rd} ${k}`);
    }
    // BLUE's VLAN 10 subnet from leaf1 and leaf2, VLAN 20 from leaf3 itself, RED's from leaf1 and leaf4.
    expect([...prefixes].filter((p) => p.includes('[10.10.10.0]')).map((p) => p.split(' ')[0]).sort()).toEqual(['10.0.0.1:10001', '10.0.0.2:10001']);
    expect([...prefixes].some((p) => p.includes('[10.10.20.0]'))).toBe(true);
    expect([...prefixes].filter((p) => p.includes('[10.20.30.0]')).map((p) => p.split(' ')[0]).sort()).toEqual(['10.0.0.1:10002', '10.0.0.4:10002']);
    const blue = JSON.parse(await vtysh(state, 'leaf3', 'show ip route vrf BLUE json')) as Record<string, { protocol: string; nexthops: { ip?: string }[] }[]>;
    expect(blue['10.10.10.0/24'][0].protocol).toBe('bgp');
    expect(blue['10.10.10.0/24'][0].nexthops.map((n) => n.ip).sort()).toEqual(['10.0.1.1', '10.0.1.2']);
    expect(blue['10.10.20.0/24'][0].protocol).toBe('connected');
    // RED's subnet never enters BLUE.
    expect(blue['10.20.30.0/24']).toBeUndefined();
    for (const cmd of ['show evpn vni detail', 'show bgp l2vpn evpn route type 5', 'show ip route vrf BLUE']) {
      process.stdout.write(`--- leaf3: ${cmd}\n${await vtysh(state, 'leaf3', cmd)}`);
    }
  }, 60_000);

  it('network.sh run again on a leaf changes nothing', async () => {
    const leaf1 = state.nodes.find((n) => n.name === 'leaf1')!;
    const env = leaf1.vrfBackend === 'netns' ? ['env', 'NETLOOM_VRF_MODE=netns'] : [];
    const r = await labExec(state, 'leaf1', [...env, 'sh', '/etc/netloom/network.sh']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
  }, 60_000);

  it('lab down leaves nothing behind: namespaces (VRF namespaces too), links, processes, mounts, files', async () => {
    const netns = state.nodes.filter((n) => n.vrfBackend === 'netns');
    const inodes: number[] = [];
    for (const n of state.nodes) {
      inodes.push(await nsInodeInside(state, n.name, '/proc/self/ns/mnt'), await nsInodeInside(state, n.name, '/proc/self/ns/net'));
    }
    for (const n of netns) {
      const vrfs = model.devices.find((d) => d.name === n.name)!.vrfs.map((v) => v.name).sort();
      const r = await labExec(state, n.name, ['ls', '/run/netns']);
      expect(r.stdout.split(/\s+/).filter(Boolean).sort(), n.name).toEqual(vrfs);
      for (const v of vrfs) inodes.push(await nsInodeInside(state, n.name, `/run/netns/${v}`));
      // Private to the node: the host's /run/netns has no VRF namespace.
      for (const v of vrfs) expect(namespaces()).not.toContain(v);
    }
    expect(referencesTo(inodes).length).toBeGreaterThan(0);
    const viewRoot = state.viewRoot!;
    expect(await labDown(LAB)).toBe(true);

    const prefix = `nl-${state.name}-`;
    expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(hostLinks().filter((l) => l === `nl-${state.tag}` || l.startsWith(`nl-${state.tag}-`))).toEqual([]);
    expect(processesMentioning(prefix)).toEqual([]);
    expect(processesMentioning(state.stateDir)).toEqual([]);
    // No process, open namespace file or mount anywhere still holds a node's or a VRF's namespace:
    // the kernel has freed them, and every device in them.
    expect(referencesTo(inodes)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(viewRoot);
    expect(existsSync(viewRoot)).toBe(false);
    expect(existsSync(state.stateDir)).toBe(false);
    for (const n of state.nodes) {
      expect(existsSync(`/etc/frr/${n.netns}`)).toBe(false);
      expect(existsSync(`/var/run/frr/${n.netns}`)).toBe(false);
    }
    expect(sh('ip', ['-4', 'route', 'show', 'table', 'all'])).not.toContain(`nl-${state.tag}`);
    expect(await labDown(LAB)).toBe(false);
  }, 120_000);
});
