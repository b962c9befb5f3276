/**
 * Rollouts of the full dc1 (two tenants, L2 + L3 VNIs, endpoints h1..h5) to a real FRR lab
 * (network namespaces, VRFs as namespaces under zebra -n, each node's own sshd):
 *  - a fresh lab: every device applied (netloom never recorded an apply), then nothing to change;
 *  - a new VLAN/VNI (VLAN 40, VNI 10040 in VRF BLUE on leaf2 + leaf3) applied in waves: the VNI
 *    is up on both leaves with the other as remote VTEP and the gateway exists; then nothing
 *    to change;
 *  - a breaking change (underlay MTU on every device + leaf2 moved to its own new AS while leaf2
 *    refuses new BGP connections, a device fault no valid intent can express): the wave with
 *    leaf2 fails, every touched device is rolled back to its running config, the fabric
 *    converges again and `verify --live` is all green on the previous model;
 *  - an apply process killed between commit and confirm, finished by `apply --recover`.
 * Tests share the lab and run in order; each leaves the lab in its last good intent.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp, getLabState, waitConverged, vtysh } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { inventoryFromLab } from '../../src/push/inventory.ts';
import { runRollout, type RolloutResult } from '../../src/push/rollout.ts';
import { stripBanner } from '../../src/push/frr-driver.ts';
import { readJournal } from '../../src/push/journal.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import type { CheckResult } from '../../src/verify/findings.ts';
import { addApiNetwork, API_NETWORK, dc1Copy } from './fixtures/rollout/intent.ts';
import { inCI } from '../support/ci.ts';

const missing =
  process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/zebra') ? 'frr' : !existsSync('/usr/lib/frr/frr-reload.py') ? 'frr-pythontools' : !existsSync('/usr/sbin/sshd') ? 'openssh-server' : undefined;
if (missing && !inCI) console.log(`rollout-frr tests skipped: needs ${missing}`);

const LAB = 'nlpushfrr';
const MGMT_THIRD = 41;
const BIN = path.resolve('src/cli/bin.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// FRR 8.4's `show evpn vni VNI json` lists the remote VTEPs under "numRemoteVteps" (an array);
// later releases use "remoteVteps" (objects with ip).
type VniJson = { vni?: number; type?: string; tenantVrf?: string; numRemoteVteps?: number | string[]; remoteVteps?: Array<{ ip: string } | string> };
const remoteVteps = (v: VniJson): string[] =>
  (v.remoteVteps ?? (Array.isArray(v.numRemoteVteps) ? v.numRemoteVteps : [])).map((x) => (typeof x === 'string' ? x : x.ip)).sort();

describe.skipIf(!!missing && !inCI)('apply the full dc1 to an FRR lab over ssh', () => {
  const intent = dc1Copy(MGMT_THIRD);
  const stateDir = mkdtempSync(path.join(tmpdir(), 'netloom-pushfrr-state-'));
  const prevState = process.env.NETLOOM_STATE_DIR;
  const model = (): FabricModel => loadModelSync(intent.dir);

  const running = async (): Promise<Record<string, string>> => {
    const st = getLabState(LAB);
    const out: Record<string, string> = {};
    for (const n of st.nodes.filter((x) => x.role === 'router')) out[n.name] = stripBanner(await vtysh(st, n.name, 'show running-config'));
    return out;
  };
  const apply = (extra: Partial<Parameters<typeof runRollout>[0]> = {}): Promise<RolloutResult> =>
    runRollout({ model: model(), inventory: inventoryFromLab(getLabState(LAB)), confirmTimeoutS: 40, ...extra });
  const actions = (r: RolloutResult) => Object.fromEntries(r.results.map((x) => [x.device, x.action]));
  const converged = async (m: FabricModel): Promise<void> => {
    const c = await waitConverged(LAB, { timeoutMs: 90_000, expected: expectedSessions(m) });
    expect(c.pending, JSON.stringify(c.pending)).toEqual([]);
  };
  /** verify --live (probes included) until every check passes or the time is up; EVPN routes and MACs take seconds to settle. */
  const verifyAllPassed = async (m: FabricModel, timeoutMs = 90_000): Promise<CheckResult[]> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { results } = await verifyLive(m, `lab:${LAB}`, { probes: true });
      if (results.every((r) => r.passed) || Date.now() > until) return results;
      await sleep(2000);
    }
  };
  const failedChecks = (rs: CheckResult[]) => rs.filter((r) => !r.passed).map((r) => `${r.check.id}: ${r.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('; ')}`);

  beforeAll(async () => {
    process.env.NETLOOM_STATE_DIR = stateDir;
    const { topology, baseDir } = await topologyFromModel(intent.dir, { name: LAB });
    await labUp(topology, { name: LAB, baseDir, runtime: 'netns' });
    await converged(model());
  }, 240_000);

  afterAll(async () => {
    await labDown(LAB).catch(() => undefined);
    if (prevState === undefined) delete process.env.NETLOOM_STATE_DIR;
    else process.env.NETLOOM_STATE_DIR = prevState;
    rmSync(stateDir, { recursive: true, force: true });
    intent.cleanup();
  }, 120_000);

  it('applies dc1 to a fresh lab (every device), then a second apply changes nothing', async () => {
    const first = await apply({ canary: 2, waveSize: 4 });
    expect(first.ok, JSON.stringify(first.results)).toBe(true);
    // A fresh lab runs the rendered files, but netloom has never recorded an apply: all re-applied.
    expect(actions(first)).toEqual({ leaf1: 'applied', leaf2: 'applied', leaf3: 'applied', leaf4: 'applied', spine1: 'applied', spine2: 'applied' });
    const j = readJournal(path.join(first.journalDir!, 'journal.jsonl'));
    expect(j.filter((e) => e.t === 'wave').length).toBe(2);
    expect(j.filter((e) => e.t === 'confirmed').length).toBe(6);
    expect(j.at(-1)).toMatchObject({ t: 'end', status: 'ok' });
    const second = await apply();
    expect(second.ok).toBe(true);
    expect(second.changed).toBe(0);
    expect(Object.values(actions(second)).every((a) => a === 'unchanged')).toBe(true);
    // Re-applying the tenants' config (VRF namespaces, L3 VNIs) left the overlay working.
    const rs = await verifyAllPassed(model());
    expect(failedChecks(rs)).toEqual([]);
  }, 240_000);

  it('a new VLAN/VNI in VRF BLUE on leaf2 and leaf3, applied in waves: the VNI is up between them', async () => {
    intent.edit('tenants.yaml', addApiNetwork);
    const m = model();
    const [l2, l3] = API_NETWORK.leaves.map((n) => m.devices.find((d) => d.name === n)!);
    const dry = await apply({ dryRun: true });
    // Only the network's leaves change; the spines carry no VNI.
    expect(Object.entries(actions(dry)).filter(([, a]) => a === 'would change').map(([d]) => d)).toEqual(['leaf2', 'leaf3']);
    expect(dry.results.find((r) => r.device === 'leaf2')!.diff).toMatch(/^\+.*vx10040 type vxlan id 10040/m);
    const r = await apply({ canary: 1, waveSize: 2 });
    expect(r.ok, JSON.stringify(r.results)).toBe(true);
    expect(actions(r)).toMatchObject({ leaf1: 'unchanged', leaf2: 'applied', leaf3: 'applied', leaf4: 'unchanged', spine1: 'unchanged', spine2: 'unchanged' });
    const waves = readJournal(path.join(r.journalDir!, 'journal.jsonl')).filter((e) => e.t === 'wave') as Array<{ devices: string[] }>;
    expect(waves.map((w) => w.devices)).toEqual([['leaf2'], ['leaf3']]);

    // EVPN: each leaf has VNI 10040 (L2, in BLUE) with the other's VTEP as its only remote VTEP.
    const st = getLabState(LAB);
    for (const [me, other] of [[l2, l3], [l3, l2]] as const) {
      let vni: VniJson = {};
      const until = Date.now() + 60_000;
      do {
        const all = JSON.parse(await vtysh(st, me.name, 'show evpn vni json')) as Record<string, VniJson>;
        // Same tenant VRF as the leaf's other BLUE VLAN (zebra says "default" for L2 VNIs whose
        // bridge stays in the underlay namespace with the netns VRF backend, "BLUE" with VRF devices).
        const sibling = m.networks.find((n) => n.vrf === 'BLUE' && n.l2vni !== API_NETWORK.vni && n.leaves.includes(me.name))!;
        expect(all[String(sibling.l2vni)]?.tenantVrf).toBeDefined();
        expect(all[String(API_NETWORK.vni)], `${me.name}: VNIs ${Object.keys(all).join(',')}`).toMatchObject({ type: 'L2', tenantVrf: all[String(sibling.l2vni)].tenantVrf });
        vni = JSON.parse(await vtysh(st, me.name, `show evpn vni ${API_NETWORK.vni} json`)) as VniJson;
        if (remoteVteps(vni).length) break;
        await sleep(1000);
      } while (Date.now() < until);
      expect(remoteVteps(vni), `${me.name} VNI ${API_NETWORK.vni}`).toEqual([other.vtep!.split('/')[0]]);
      // The anycast gateway exists on the leaf (in the VRF's namespace with the netns backend).
      const addrs = await labExec(st, me.name, ['sh', '-c', 'ip -o addr show; ip -n BLUE -o addr show 2>/dev/null; true']);
      expect(addrs.stdout).toContain(`inet ${API_NETWORK.gateway}/24`);
    }
    // Leaves outside the network do not carry the VNI.
    expect(Object.keys(JSON.parse(await vtysh(st, 'leaf1', 'show evpn vni json')) as object)).not.toContain(String(API_NETWORK.vni));

    const third = await apply();
    expect(third.ok).toBe(true);
    expect(third.changed).toBe(0);
  }, 240_000);

  // A valid change of leaf2 alone (its own new AS: the spines peer with `remote-as external`, so
  // only leaf2's config changes, and moving AS resets its sessions).
  const LEAF2_NEW_AS: [string, string] = ['leaf2: { group: leaves, id: 2 }', 'leaf2: { group: leaves, id: 2, asn: 65333 }'];
  // No valid intent breaks BGP any more (validation refuses one ASN on both ends of a link), so
  // the fault is the device's: leaf2 drops new BGP connections, its sessions cannot come back.
  const FIREWALL_BGP = 'nft add table inet nltest && nft add chain inet nltest in "{ type filter hook input priority 0; }" && nft add chain inet nltest out "{ type filter hook output priority 0; }" && nft add rule inet nltest in tcp dport 179 ct state new drop && nft add rule inet nltest out tcp dport 179 ct state new drop';

  it('a change whose BGP sessions cannot come up (leaf2 firewalled) is rolled back on every device it touched', async () => {
    const good = model();
    const before = await running();
    // Two changes: the underlay MTU on every device (the canary leaf1 passes), and leaf2 in a new
    // AS, whose sessions leaf2's firewall keeps down: the wave with leaf2 fails.
    intent.edit('fabric.yaml', (s) => s.replace('mtu: 9216', 'mtu: 9100'));
    intent.edit('nodes.yaml', (s) => s.replace(...LEAF2_NEW_AS));
    const st0 = getLabState(LAB);
    const fw = await labExec(st0, 'leaf2', ['sh', '-c', FIREWALL_BGP]);
    expect(fw.code, fw.stderr).toBe(0);
    try {
      const r = await apply({ canary: 1, waveSize: 2, confirmTimeoutS: 20 });
      expect(r.ok).toBe(false);
      // Model order: leaf1 (canary), then leaf2+leaf3 (fails on leaf2); leaf4 and the spines never pushed.
      expect(actions(r), JSON.stringify(r.results)).toEqual({ leaf1: 'rolled back', leaf2: 'rolled back', leaf3: 'rolled back', leaf4: 'not applied', spine1: 'not applied', spine2: 'not applied' });
      // The push itself succeeds (the FRR driver unhooks VRF instances before moving AS); the
      // post-check finds the sessions down.
      expect(r.results.find((x) => x.device === 'leaf2')!.reason).toMatch(/^postcheck: .*BGP session to spine\d \(eth\d\) is (?!Established)/);
      const j = readJournal(path.join(r.journalDir!, 'journal.jsonl'));
      expect(j.filter((e) => e.t === 'rolled-back').map((e) => (e as { device: string }).device).sort()).toEqual(['leaf1', 'leaf2', 'leaf3']);
      expect(j.at(-1)).toMatchObject({ t: 'end', status: 'rolled-back' });
      expect(await running()).toEqual(before);
      const st = getLabState(LAB);
      for (const leaf of ['leaf1', 'leaf2', 'leaf3']) {
        const link = await labExec(st, leaf, ['ip', '-j', 'link', 'show', 'eth1']);
        expect(link.stdout, `${leaf} eth1 MTU after rollback`).toMatch(/"mtu":9216/);
      }
    } finally {
      await labExec(st0, 'leaf2', ['nft', 'delete', 'table', 'inet', 'nltest']);
      intent.edit('nodes.yaml', (s) => s.replace(LEAF2_NEW_AS[1], LEAF2_NEW_AS[0]));
      intent.edit('fabric.yaml', (s) => s.replace('mtu: 9100', 'mtu: 9216'));
    }
    await converged(good);
    const rs = await verifyAllPassed(good);
    expect(failedChecks(rs)).toEqual([]);
    expect(rs.length).toBeGreaterThan(0);
    // Back on the last good intent: nothing to change.
    const again = await apply();
    expect(again.changed, JSON.stringify(again.results.filter((x) => x.action !== 'unchanged').map((x) => [x.device, x.reason]))).toBe(0);
  }, 300_000);

  it('an apply killed between commit and confirm is rolled back by apply --recover', async () => {
    const good = model();
    const before = await running();
    intent.edit('nodes.yaml', (s) => s.replace(...LEAF2_NEW_AS));
    try {
      const env = { ...process.env, NETLOOM_STATE_DIR: stateDir, CI: 'true' };
      const child = spawn(process.execPath, [BIN, 'apply', intent.dir, '--target', `lab:${LAB}`, '--confirm-timeout', '60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
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
      // leaf2 now runs the new config and nobody will confirm or revert it.
      expect((await running()).leaf2).not.toEqual(before.leaf2);
      expect(readJournal(journal).some((e) => e.t === 'end')).toBe(false);
      const rec = spawn(process.execPath, [BIN, 'apply', '--recover'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let recOut = '';
      rec.stdout.on('data', (d: Buffer) => (recOut += d.toString()));
      rec.stderr.on('data', (d: Buffer) => (recOut += d.toString()));
      const code = await new Promise((r) => rec.once('exit', r));
      expect(code, recOut).toBe(0);
      expect(recOut).toMatch(/leaf2\s+ssh\s+rolled back/);
      expect(await running()).toEqual(before);
      expect(readJournal(journal).at(-1)).toMatchObject({ t: 'end', status: 'recovered' });
    } finally {
      intent.edit('nodes.yaml', (s) => s.replace(LEAF2_NEW_AS[1], LEAF2_NEW_AS[0]));
    }
    await converged(good);
    expect((await apply()).changed).toBe(0);
  }, 240_000);
});
