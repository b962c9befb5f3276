/**
 * Containerlab files written by others (lab/examples/frr-*), run the way containerlab runs
 * them: `lab up` creates the nodes and returns without waiting for any protocol; the steps
 * each lab's README runs after deploy are run with `lab exec` (docker exec); then the checks
 * the README describes (sessions, routes, pings) must pass against the real FRR and kernel.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp } from '../../src/lab/index.ts';
import type { LabState } from '../../src/lab/state.ts';
import { repoRoot } from '../support/intent-copy.ts';
import { inCI } from '../support/ci.ts';

const canRun = process.getuid?.() === 0 && existsSync('/usr/lib/frr/zebra') && existsSync('/usr/sbin/sshd');
if (!canRun && !inCI) console.log('foreign lab tests skipped: need root, frr and openssh-server');
const examples = path.join(repoRoot, 'lab/examples');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (which throws while not yet true) until it passes or `ms` elapse. */
async function eventually<T>(check: () => Promise<T>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1000);
    }
  }
}

async function sh(state: LabState, node: string, argv: string[]): Promise<string> {
  const r = await labExec(state, node, argv, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${node}: ${argv.join(' ')}: exit ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}
const vtyJson = async (state: LabState, node: string, cmd: string) => JSON.parse(await sh(state, node, ['vtysh', '-c', cmd])) as Record<string, any>;
const ping = (state: LabState, from: string, to: string) => sh(state, from, ['ping', '-c', '2', '-W', '1', to]);

async function up(lab: string, name: string, log: string[]): Promise<LabState> {
  return labUp(path.join(examples, lab, `${lab}.clab.yml`), { name, runtime: 'netns', log: (l) => log.push(l) });
}

// Needs root, FRR and sshd (lab/install-deps.sh); outside CI a developer machine without them skips, in CI it never does.
describe.skipIf(!canRun && !inCI)('foreign containerlab labs', () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const n of names) await labDown(n).catch(() => undefined);
  });

  it('frr-ospf-multiarea: directory binds, pinned mgmt addresses, startup-delay; ABR adjacencies Full, inter-area routes, hosts ping', async () => {
    const log: string[] = [];
    const state = await up('frr-ospf-multiarea', 'h10b-ospf', log);
    names.push(state.name);
    expect(log).toContain('r3: startup-delay 2 s');
    expect(state.nodes.find((n) => n.name === 'r1')!.mgmtIpv4).toBe('172.25.11.11');
    expect(await sh(state, 'r1', ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).toContain('172.25.11.11/24');
    // README check 1
    await eventually(async () => {
      const nbrs = (await vtyJson(state, 'r2', 'show ip ospf neighbor json')).neighbors as Record<string, { nbrState?: string; state?: string }[]>;
      for (const id of ['10.255.0.1', '10.255.0.3']) expect(String(nbrs[id]?.[0]?.nbrState ?? nbrs[id]?.[0]?.state)).toMatch(/^Full/);
    });
    // README check 2: area 0.0.0.1 seen from the backbone as inter-area routes via r2.
    await eventually(async () => {
      const routes = await vtyJson(state, 'r1', 'show ip route ospf json');
      for (const p of ['192.168.3.0/24', '10.255.0.3/32']) {
        const r = routes[p]?.find((x: { selected?: boolean }) => x.selected);
        expect(r, p).toBeDefined();
        expect(r.nexthops[0].ip).toBe('10.0.12.2');
      }
    });
    // README check 3
    await eventually(() => ping(state, 'pc1', '192.168.3.10'), 20_000);
  }, 180_000);

  it('frr-ebgp: hosts configured by their cmd from env; transit AS sessions Established, AS path, hosts ping', async () => {
    const state = await up('frr-ebgp', 'h10b-ebgp', []);
    names.push(state.name);
    // The hosts' command (entrypoint /bin/sh + cmd /config/pc.sh) configured them from ADDR/GW.
    await eventually(async () => expect(await sh(state, 'pc1', ['ip', '-4', '-o', 'addr', 'show', 'eth1'])).toContain('198.51.100.10/24'), 10_000);
    // `lab exec` sees the node's environment, as docker exec does.
    expect((await sh(state, 'pc3', ['sh', '-c', 'echo $ADDR'])).trim()).toBe('203.0.113.10/24');
    // README check 1
    await eventually(async () => {
      const peers = (await vtyJson(state, 'as2', 'show bgp summary json')).ipv4Unicast.peers as Record<string, { state: string; remoteAs: number; pfxRcd: number }>;
      expect(peers['10.1.12.1']).toMatchObject({ state: 'Established', remoteAs: 65001, pfxRcd: 1 });
      expect(peers['10.1.23.2']).toMatchObject({ state: 'Established', remoteAs: 65003, pfxRcd: 1 });
    });
    // README check 2
    await eventually(async () => {
      const r = await vtyJson(state, 'as1', 'show bgp ipv4 unicast 203.0.113.0/24 json');
      expect(r.paths?.[0]?.aspath?.string).toBe('65002 65003');
    });
    // README check 3
    await eventually(() => ping(state, 'pc1', '203.0.113.10'), 20_000);
  }, 180_000);

  it('frr-ibgp-rr: clients Established on the reflector; a client learns the other LAN by reflection; hosts ping', async () => {
    const state = await up('frr-ibgp-rr', 'h10b-ibgprr', []);
    names.push(state.name);
    // README check 1
    await eventually(async () => {
      const peers = (await vtyJson(state, 'rr', 'show bgp summary json')).ipv4Unicast.peers as Record<string, { state: string }>;
      expect(peers['10.255.0.11']?.state).toBe('Established');
      expect(peers['10.255.0.12']?.state).toBe('Established');
    }, 90_000);
    // README check 2
    await eventually(async () => {
      const path0 = (await vtyJson(state, 'client2', 'show bgp ipv4 unicast 10.10.1.0/24 json')).paths?.[0];
      expect(path0?.nexthops?.[0]?.ip).toBe('10.255.0.11');
      expect(path0?.originatorId).toBe('10.255.0.11');
      expect(path0?.clusterList?.list).toEqual(['10.255.0.1']);
    });
    // README check 3
    await eventually(() => ping(state, 'host1', '10.10.2.100'), 20_000);
  }, 180_000);

  it('frr-evpn-l2: up returns before any EVPN state; the README setup scripts via lab exec; missing VRF devices said once; EVPN sessions, remote VTEPs, hosts ping over VNI 110', async () => {
    const state = await up('frr-evpn-l2', 'h10b-evpnl2', []);
    names.push(state.name);
    // Nothing of the fabric's Linux side exists until the README's scripts run.
    expect(await sh(state, 'leaf1', ['ip', '-o', 'link', 'show'])).not.toContain('vni110');
    const said: Record<string, string[]> = {};
    for (const node of ['spine', 'leaf1', 'leaf2']) {
      const r = await labExec(state, node, ['bash', '/setup.sh'], { timeoutMs: 60_000 });
      expect(r.code, `${node}: ${r.stderr}`).toBe(0);
      said[node] = r.stderr.split('\n').filter((l) => l.startsWith('netloom:'));
      // The rest of the script's stderr is empty: commands naming the missing VRF were skipped quietly.
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('netloom:'))).toEqual([]);
    }
    const hasVrf = (await labExec(state, 'leaf1', ['ip', '-o', 'link', 'show', 'red'])).code === 0;
    if (!hasVrf) {
      expect(said.spine).toEqual([]);
      for (const leaf of ['leaf1', 'leaf2']) {
        expect(said[leaf]).toEqual([`netloom: node ${leaf}: this kernel has no VRF devices: skipped 'ip link add red type vrf table 1100' (VRF red does not exist; commands naming it are skipped, interfaces stay in the default table)`]);
      }
    }
    // The rest of each script ran: the bridge kept its other settings (addrgenmode none, MAC).
    expect(await sh(state, 'leaf1', ['ip', '-d', 'link', 'show', 'br100'])).toMatch(/aa:bb:cc:00:01:64[\s\S]*addrgenmode none/);
    // README check 1
    await eventually(async () => {
      const peers = (await vtyJson(state, 'spine', 'show bgp l2vpn evpn summary json')).peers as Record<string, { state: string }>;
      expect(peers['192.168.1.1']?.state).toBe('Established');
      expect(peers['192.168.2.1']?.state).toBe('Established');
    });
    // README check 2
    await eventually(async () => {
      const vni = await vtyJson(state, 'leaf1', 'show evpn vni 110 json');
      expect(JSON.stringify(vni)).toContain('100.64.0.2');
    });
    // README check 3
    await eventually(() => ping(state, 'host1', '192.168.10.3'), 30_000);
    const macs = await sh(state, 'leaf1', ['vtysh', '-c', 'show evpn mac vni 110']);
    const host2Mac = (await sh(state, 'host2', ['cat', '/sys/class/net/eth1/address'])).trim();
    expect(macs).toMatch(new RegExp(`${host2Mac}\\s+remote`));
  }, 180_000);
});
