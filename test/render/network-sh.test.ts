/**
 * The FRR network.sh really run, twice, in a fresh network namespace: the devices it creates,
 * a second run that changes nothing, and a VNI removed from the model removed from Linux.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderModel } from '../../src/render/index.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { editedIntent, isRoot, have, repoRoot } from './fixtures.ts';
import { inCI } from '../support/ci.ts';

const ns = `nlrsh${process.pid}`;
const tmp = mkdtempSync(path.join(tmpdir(), 'netloom-render-sh-'));
const canRun = isRoot && have('ip');

function sh(cmd: string, env: Record<string, string> = {}) {
  return spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', env: { ...process.env, ...env } });
}
function nsJson(args: string): any[] {
  const r = sh(`ip -j ${args}`);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** What the script manages, without counters and carrier states that move by themselves. */
function snapshot() {
  const links = nsJson('-d link show').map((l) => ({
    ifname: l.ifname,
    master: l.master,
    mtu: l.mtu,
    address: l.address,
    ifalias: l.ifalias,
    up: (l.flags as string[]).includes('UP'),
    kind: l.linkinfo?.info_kind,
    addrgen: l.inet6_addr_gen_mode,
  }));
  const addrs = nsJson('addr show').map((a) => ({
    ifname: a.ifname,
    addrs: (a.addr_info as any[]).filter((x) => x.scope === 'global' || a.ifname === 'lo').map((x) => `${x.local}/${x.prefixlen}`).sort(),
  }));
  return { links, addrs };
}

function leaf1Script(intentDir: string): string {
  const r = renderModel(loadModelSync(intentDir), { devices: ['leaf1'] });
  const file = path.join(tmp, `leaf1-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, r.artifacts.find((a) => a.artifact === 'network.sh')!.content);
  return file;
}

describe.skipIf(!canRun && !inCI)('network.sh in a network namespace [needs root and iproute2]', () => {
  let vrf = false;
  let env: Record<string, string> = {};
  beforeAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    // The ports the lab would create: fabric eth1/eth2, access eth10/eth11 (veth peers stay here).
    for (const p of ['eth1', 'eth2', 'eth10', 'eth11']) expect(sh(`ip link add ${p} type veth peer name x${p}`).status).toBe(0);
    vrf = sh('ip link add nlprobe type vrf table 7 && ip link del nlprobe').status === 0;
    if (!vrf) {
      process.stdout.write('network.sh test: this kernel has no VRF devices (CONFIG_NET_VRF): checking the L2 part with NETLOOM_NO_VRF=1\n');
      env = { NETLOOM_NO_VRF: '1' };
    }
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('creates the devices, then a second run changes nothing', () => {
    const script = leaf1Script(path.join(repoRoot, 'intents/dc1'));
    const first = sh(`sh ${script}`, env);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/leaf1: [1-9]\d* change\(s\)/);
    const s1 = snapshot();
    const link = (n: string) => s1.links.find((l) => l.ifname === n);
    expect(link('br10')).toMatchObject({ kind: 'bridge', address: '00:00:5e:00:01:01', up: true, mtu: 1500, addrgen: 'none' });
    expect(link('vx10010')).toMatchObject({ kind: 'vxlan', master: 'br10', up: true });
    expect(link('vx10030')).toMatchObject({ kind: 'vxlan', master: 'br30' });
    expect(link('eth10')).toMatchObject({ master: 'br10', up: true });
    expect(link('eth11')).toMatchObject({ master: 'br30' });
    expect(link('eth1')).toMatchObject({ mtu: 9216, up: true });
    expect(s1.addrs.find((a) => a.ifname === 'lo')!.addrs).toEqual(expect.arrayContaining(['10.0.0.1/32', '10.0.1.1/32']));
    const vx = nsJson('-d link show dev vx10010')[0].linkinfo.info_data;
    expect(vx).toMatchObject({ id: 10010, local: '10.0.1.1', port: 4789, learning: false });
    if (vrf) {
      expect(link('BLUE')).toMatchObject({ kind: 'vrf', up: true });
      expect(link('br10')!.master).toBe('BLUE');
      expect(link('l3br1')).toMatchObject({ master: 'BLUE', address: '02:4e:00:01:00:01' });
      expect(link('vx50001')).toMatchObject({ master: 'l3br1' });
      expect(s1.addrs.find((a) => a.ifname === 'br10')!.addrs).toEqual(['10.10.10.1/24', 'fd00:10:10::1/64']);
    } else {
      expect(link('BLUE')).toBeUndefined();
      // Without VRFs the gateways stay off: tenants must not be routed into each other.
      expect(s1.addrs.find((a) => a.ifname === 'br10')?.addrs ?? []).toEqual([]);
    }
    expect(sh('sysctl -n net.ipv4.ip_forward').stdout.trim()).toBe('1');

    const second = sh(`sh ${script}`, env);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
    expect(snapshot()).toEqual(s1);
  });

  it('removes the devices of a VNI that left the model', () => {
    // Drop tenant red (VLAN 30, L2 VNI 10030, L3 VNI 50002) and its endpoint h5.
    const dir = editedIntent('dc1', (f, t) => {
      if (f === 'endpoints.yaml') return t.replace(/^.*name: h5.*\n/m, '').replace(/^.*name: h4.*\n/m, '');
      if (f === 'tenants.yaml') return t.slice(0, t.indexOf('  - name: red'));
      return t;
    });
    const script = leaf1Script(dir);
    const r = sh(`sh ${script}`, env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('netloom: delete vx10030');
    expect(r.stdout).toContain('netloom: delete br30');
    const names = snapshot().links.map((l) => l.ifname);
    expect(names).not.toContain('vx10030');
    expect(names).not.toContain('br30');
    expect(names).not.toContain('RED');
    expect(names).not.toContain('vx50002');
    expect(names).toEqual(expect.arrayContaining(['br10', 'vx10010', 'eth11']));
    expect(sh(`sh ${script}`, env).stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
  });

  // Runs before the test below leaves a foreign vx10010 behind: the full script can run here.
  it('without NETLOOM_NO_VRF the script runs only on a kernel with VRF devices', () => {
    const r = sh(`sh ${leaf1Script(path.join(repoRoot, 'intents/dc1'))}`);
    if (vrf) {
      expect(r.status, r.stderr).toBe(0);
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('this kernel has no VRF devices (CONFIG_NET_VRF)');
    }
  });

  it('leaves a same-named device it did not create alone and stops', () => {
    expect(sh('ip link del vx10010 && ip link add vx10010 type bridge').status).toBe(0);
    const r = sh(`sh ${leaf1Script(path.join(repoRoot, 'intents/dc1'))}`, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('vx10010 exists and is not managed by netloom');
    expect(nsJson('-d link show dev vx10010')[0].linkinfo.info_kind).toBe('bridge');
  });
});
