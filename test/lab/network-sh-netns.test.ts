/**
 * The FRR network.sh with VRFs as network namespaces (NETLOOM_VRF_MODE=netns), really run in
 * a fresh network namespace with a private /run/netns, as inside a lab node: the VRF
 * namespaces and their devices, a second run that changes nothing, and a VRF removed from the
 * model: its devices deleted, its namespace retired (kept empty) and reused when it comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderModel } from '../../src/render/index.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { labSkipReason } from './helpers.ts';

const skip = labSkipReason();
const repo = fileURLToPath(new URL('../../', import.meta.url));
const ns = `nlvns${process.pid}`;
const tmp = mkdtempSync(path.join(tmpdir(), 'nl-vrfns-'));
const netnsDir = path.join(tmp, 'netns');

function leaf1Script(intentDir: string, tag: string): string {
  const r = renderModel(loadModelSync(intentDir), { devices: ['leaf1'] });
  const file = path.join(tmp, `leaf1-${tag}.sh`);
  writeFileSync(file, r.artifacts.find((a) => a.artifact === 'network.sh')!.content);
  return file;
}

/** Runs `cmd` in the namespace, inside the node-like mount namespace made in beforeAll. */
function inNode(cmd: string) {
  return spawnSync('nsenter', [`--net=/run/netns/${ns}`, `--mount=${path.join(tmp, 'mnt')}`, 'sh', '-c', cmd], { encoding: 'utf8', env: { ...process.env, NETLOOM_VRF_MODE: 'netns' } });
}

describe.skipIf(!!skip)('network.sh with VRFs as network namespaces', () => {
  beforeAll(() => {
    // A private tmp mount to hold the mount namespace file, like the lab's view root.
    expect(spawnSync('mount', ['-t', 'tmpfs', 'nlvns', tmp]).status).toBe(0);
    expect(spawnSync('mount', ['--make-private', tmp]).status).toBe(0);
    mkdirSync(netnsDir);
    writeFileSync(path.join(tmp, 'mnt'), '');
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    for (const p of ['eth1', 'eth2', 'eth10', 'eth11']) expect(spawnSync('ip', ['-n', ns, 'link', 'add', p, 'type', 'veth', 'peer', 'name', `x${p}`]).status).toBe(0);
    // A mount namespace that outlives each command, with its own /run/netns (as a lab node's
    // view): the namespaces `ip netns add` makes inside live as long as it does.
    const view = [
      `while awk '$5 == "/run/netns" { f = 1 } END { exit !f }' /proc/self/mountinfo; do umount -l /run/netns; done`,
      `mount --bind ${netnsDir} /run/netns`,
    ].join('\n');
    const r = spawnSync('unshare', [`--mount=${path.join(tmp, 'mnt')}`, '--propagation', 'private', 'sh', '-c', view]);
    expect(r.status, r.stderr?.toString()).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', [path.join(tmp, 'mnt')]);
    spawnSync('umount', ['-l', tmp]);
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('builds each VRF as a namespace with its L3 VNI and gateways; a second run changes nothing', () => {
    const script = leaf1Script(path.join(repo, 'intents/dc1'), 'full');
    const first = inNode(`sh ${script}`);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('netloom: create VRF namespace BLUE');
    const s = inNode(
      'ip netns list; echo ==; ip -n BLUE -j -d link show; echo ==; ip -n BLUE -o -4 addr show dev gw10; echo ==; ' +
        'ip netns exec BLUE sysctl -n net.ipv4.ip_forward; echo ==; bridge fdb show br br10 | grep 00:00:5e:00:01:01; echo ==; ip -j link show dev br10',
    );
    expect(s.status, s.stderr).toBe(0);
    const [list, blueLinks, gwAddr, fwd, fdb, br10] = s.stdout.split('==\n');
    expect(list.split('\n').map((l) => l.split(' ')[0]).filter(Boolean).sort()).toEqual(['BLUE', 'RED']);
    const links = JSON.parse(blueLinks) as { ifname: string; master?: string; address: string; linkinfo?: { info_kind: string; info_data?: Record<string, unknown> } }[];
    const l = (n: string) => links.find((x) => x.ifname === n)!;
    expect(l('l3br1')).toMatchObject({ address: '02:4e:00:01:00:01', linkinfo: { info_kind: 'bridge' } });
    expect(l('vx50001')).toMatchObject({ master: 'l3br1', linkinfo: { info_kind: 'vxlan', info_data: { id: 50001, local: '10.0.1.1', port: 4789, learning: false } } });
    expect(l('gw10')).toMatchObject({ address: '00:00:5e:00:01:01', linkinfo: { info_kind: 'macvlan' } });
    expect(gwAddr).toContain('10.10.10.1/24');
    expect(fwd.trim()).toBe('1');
    // The anycast MAC is the bridge's own (local) entry, so it is never flooded or advertised.
    expect(fdb).toContain('master br10 permanent');
    expect((JSON.parse(br10) as { address: string }[])[0].address).not.toBe('00:00:5e:00:01:01');

    const second = inNode(`sh ${script}`);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
  });

  it('retires a VRF that left the model: devices and VNIs gone, its namespace emptied and kept; a VRF coming back reuses it', () => {
    const dir = path.join(tmp, 'dc1-nored');
    cpSync(path.join(repo, 'intents/dc1'), dir, { recursive: true });
    const ep = path.join(dir, 'endpoints.yaml');
    writeFileSync(ep, readFileSync(ep, 'utf8').replace(/^.*name: h[45].*\n/gm, ''));
    const tn = path.join(dir, 'tenants.yaml');
    const t = readFileSync(tn, 'utf8');
    writeFileSync(tn, t.slice(0, t.indexOf('  - name: red')));
    const script = leaf1Script(dir, 'nored');
    // The run before FRR's reload leaves the namespace alone and says so.
    const deferred = inNode(`NETLOOM_DEFER_STALE=1 sh ${script}`);
    expect(deferred.status, deferred.stderr).toBe(0);
    expect(deferred.stdout).toContain('netloom: deferred: delete VRF namespace RED');
    expect(deferred.stdout).toContain('netloom: delete br30');
    expect(inNode('ip -n RED -o link show').stdout).toContain('vx50002');
    // The run after it empties and retires the namespace: zebra 8.4 aborts when one is deleted (lab/README.md 6).
    const r = inNode(`sh ${script}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('netloom: delete RED/vx50002');
    expect(r.stdout).toContain('netloom: retire VRF namespace RED (emptied, kept)');
    const after = inNode('ip netns list; echo ==; ip -n RED -o link show; echo ==; ip -n RED -j link show dev lo; echo ==; ip -o link show');
    const [list, redLinks, redLo, main] = after.stdout.split('==\n');
    expect(list).toMatch(/^RED/m);
    expect(redLinks.trim().split('\n').map((l) => l.split(': ')[1])).toEqual(['lo']);
    expect((JSON.parse(redLo) as { ifalias?: string }[])[0].ifalias).toBe('netloom:vrf-retired');
    expect(main).not.toContain('br30');
    expect(main).toMatch(/br10/);
    expect(inNode(`sh ${script}`).stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
    // RED back in the model: the retired namespace is reused and filled again.
    const back = inNode(`sh ${leaf1Script(path.join(repo, 'intents/dc1'), 'back')}`);
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout).toContain('netloom: reuse retired VRF namespace RED');
    expect(inNode('ip -n RED -o link show').stdout).toContain('vx50002');
    expect(inNode(`sh ${leaf1Script(path.join(repo, 'intents/dc1'), 'again')}`).stdout.trim()).toBe('netloom: leaf1: 0 change(s)');
  });
});
