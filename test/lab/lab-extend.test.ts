/**
 * A running lab given a change that adds nodes and links (a leaf with its host, a host on a
 * running leaf): `lab up` cables them in without touching what runs (no session resets, the
 * running devices' configuration left to apply), `apply` pushes the running devices' changes,
 * and `verify --live` finds the lab as the new intent predicts. A change that is not only an
 * addition is refused, naming what differs, and leaves the lab and its model as they were.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown, labExec, readLabState } from '../../src/lab/index.ts';
import { readLabModel } from '../../src/lab/expected-from-model.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : undefined;
if (missing && !inCI) console.log(`lab-extend: skipped, needs ${missing}`);
const LAB = 'lext';

function netloom(...args: string[]): { status: number | null; text: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, text: r.stdout + r.stderr };
}

async function uptimes(node: string): Promise<Record<string, number>> {
  const state = readLabState(LAB)!;
  const r = await labExec(state, node, ['vtysh', '-c', 'show bgp summary json']);
  const peers = (JSON.parse(r.stdout) as { ipv4Unicast?: { peers: Record<string, { peerUptimeMsec: number; state: string }> } }).ipv4Unicast?.peers ?? {};
  return Object.fromEntries(Object.entries(peers).filter(([, p]) => p.state === 'Established').map(([k, p]) => [k, p.peerUptimeMsec]));
}

describe.skipIf(!!missing && !inCI)('a running lab extended by a change that adds a leaf and hosts', () => {
  const copy = intentCopy('intents/dc1', 223, '172.27');
  afterAll(async () => {
    await labDown(LAB).catch(() => false);
    copy.cleanup();
  }, 120_000);

  it('cables in the new nodes without disturbing the running ones; apply and verify --live follow the new intent', async () => {
    const up = netloom('lab', 'up', copy.dir, '--name', LAB, '-q');
    expect(up.status, up.text).toBe(0);
    const before = await uptimes('spine1');
    expect(Object.keys(before)).toHaveLength(4);
    const leaf2Config = (await labExec(readLabState(LAB)!, 'leaf2', ['vtysh', '-c', 'show running-config'])).stdout;

    appendFileSync(path.join(copy.dir, 'nodes.yaml'), '  leaf5: { group: leaves, id: 5 }\n');
    appendFileSync(path.join(copy.dir, 'endpoints.yaml'), '  - { name: h6, leaf: leaf5, port: eth10, vlan: 20, ipv4: 10.10.20.16/24 }\n  - { name: h7, leaf: leaf2, port: eth11, vlan: 10, ipv4: 10.10.10.17/24 }\n');
    const ext = netloom('lab', 'up', copy.dir, '--name', LAB);
    expect(ext.status, ext.text).toBe(0);
    expect(ext.text).toMatch(/lab lext extended: 3 node\(s\) \(leaf5, h6, h7\), 4 link\(s\)/);
    const state = readLabState(LAB)!;
    expect(state.nodes.map((n) => n.name)).toEqual(expect.arrayContaining(['leaf5', 'h6', 'h7']));
    expect(state.nodes.find((n) => n.name === 'leaf2')!.interfaces).toContain('eth11');
    // Nothing that ran was restarted or reconfigured: spine1's sessions kept their uptime, leaf2 its config.
    const after = await uptimes('spine1');
    for (const [peer, ms] of Object.entries(before)) expect(after[peer], peer).toBeGreaterThan(ms);
    expect((await labExec(state, 'leaf2', ['vtysh', '-c', 'show running-config'])).stdout).toBe(leaf2Config);
    // The lab's model is still the one it runs, until apply.
    expect(readLabModel(LAB)!.devices.map((d) => d.name)).not.toContain('leaf5');

    const apply = netloom('apply', copy.dir, '--target', `lab:${LAB}`, '--yes');
    expect(apply.status, apply.text).toBe(0);
    expect(apply.text).toMatch(/spine1\s+ssh\s+applied/);
    expect(readLabModel(LAB)!.devices.map((d) => d.name)).toContain('leaf5');
    const live = netloom('verify', copy.dir, '--live', '--target', `lab:${LAB}`);
    expect(live.status, live.text).toBe(0);
    expect(live.text).toMatch(/PASS\s+live-bgp-sessions\s+10 sessions/);
    expect(live.text).toMatch(/PASS\s+live-probes\s+\d+ probes/);

    // Removing a host is not an addition: refused, naming it; the lab and its model stay.
    const endpoints = path.join(copy.dir, 'endpoints.yaml');
    writeFileSync(endpoints, readFileSync(endpoints, 'utf8').replace(/^.*name: h7,.*\n/m, ''));
    const refused = netloom('lab', 'up', copy.dir, '--name', LAB);
    expect(refused.status).toBe(2);
    expect(refused.text).toContain("lab 'lext' is already up with a different topology (node h7 is not in it): run 'netloom lab down --name lext' first");
    expect(readLabState(LAB)!.nodes.map((n) => n.name)).toContain('h7');
    expect(readLabModel(LAB)!.endpoints.map((e) => e.name)).toContain('h7');
  }, 600_000);
});

describe.skipIf(!!missing && !inCI)('netloom pipeline on a running lab (OSPF underlay, iBGP overlay through route-reflector spines) given a leaf', () => {
  const copy = intentCopy('intents/dc3', 224, '172.27');
  const fabric = path.join(copy.dir, 'fabric.yaml');
  writeFileSync(fabric, readFileSync(fabric, 'utf8').replace(/^  name: dc3$/m, '  name: lext3'));
  const out = path.join(copy.dir, 'out');
  afterAll(async () => {
    await labDown('lext3').catch(() => false);
    copy.cleanup();
  }, 120_000);

  it('extends the lab, pushes the spines before the new leaf, and verifies green', () => {
    const first = netloom('pipeline', copy.dir, '--out', out);
    expect(first.status, first.text.slice(-3000)).toBe(0);
    const nodes = path.join(copy.dir, 'nodes.yaml');
    writeFileSync(nodes, readFileSync(nodes, 'utf8').replace('  leaf4: { group: leaves, id: 4 }\n', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 7 }\n'));
    appendFileSync(path.join(copy.dir, 'endpoints.yaml'), '  - { name: h9, leaf: leaf5, port: eth10, vlan: 30, ipv4: 10.40.30.19/24 }\n');
    const second = netloom('pipeline', copy.dir, '--out', out);
    expect(second.status, second.text.slice(-3000)).toBe(0);
    expect(second.text).toMatch(/lab lext3 extended: 2 node\(s\) \(leaf5, h9\), 3 link\(s\)/);
    // Before the apply, only what the lab runs is awaited: the new leaf's sessions come with the spines' push.
    expect(second.text).toMatch(/converged [\d.]+ s later: \d+ BGP sessions and \d+ OSPF adjacencies as the configuration it runs expects/);
    expect(second.text).toMatch(/^ {2}leaf5 +ssh +applied/m);
    expect(second.text).toMatch(/^ {2}spine1 +ssh +applied/m);
    expect(second.text).not.toMatch(/rolled back/);
    expect(second.text).toMatch(/PASS\s+live-bgp-sessions/);
    expect(second.text).toMatch(/pipeline lext3: ok/);
  }, 600_000);
});
