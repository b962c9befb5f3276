// `netloom plan` on a real temporary git repository with one commit per scenario (a VLAN, a
// leaf, a renumbered pool, a removed uplink, a firewall change), each summary asserted exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import AjvModule from 'ajv';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from './ci-runner.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { UsageError } from '../../src/util/errors.ts';
import { formatPlanMarkdown, formatPlanText } from '../../src/plan/format.ts';
import { mdEscape } from '../../src/verify/report/format.ts';
import { staleFromDiff, type Plan } from '../../src/plan/plan.ts';
import { semanticDiff } from '../../src/plan/semantic-diff.ts';
import { exportIntent, intentRepo, resolveRevision } from '../../src/plan/git-revision.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { Renderer, selectDevices } from '../../src/render/index.ts';
import { inputHashes } from '../../src/render/incremental.ts';
import { allStaticChecks } from '../../src/domains/index.ts';

/** Static checks every plan verifies: every registered domain's, so a new domain's checks count. */
const N = allStaticChecks().length;

let repo: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
const edit = (file: string, from: string, to: string) => {
  const f = path.join(repo, file);
  const text = readFileSync(f, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no '${from}'`);
  writeFileSync(f, text.replace(from, to));
};
const append = (file: string, line: string) => writeFileSync(path.join(repo, file), readFileSync(path.join(repo, file), 'utf8') + line + '\n');
const commit = (tag: string) => {
  git('add', '-A');
  git('-c', 'user.email=plan@test', '-c', 'user.name=plan test', 'commit', '-qm', tag);
  git('tag', tag);
};

async function plan(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(planCommand, args);
  const code = await planCommand.run({ ...parsed, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n') + '\n', err: err.join('\n') };
}
const section = (text: string, title: string) => {
  const lines = text.split('\n');
  const i = lines.indexOf(`${title}:`);
  const end = lines.findIndex((l, j) => j > i && l === '');
  return lines.slice(i + 1, end < 0 ? undefined : end);
};
const summary = (text: string) => text.split('\n').slice(0, 8);

let restoreCache: () => void;
beforeAll(() => {
  restoreCache = privateModelCache();
  repo = mkdtempSync(path.join(tmpdir(), 'netloom-plan-repo-'));
  for (const ex of ['dc1', 'dc3', 'fw2', 'slb1']) cpSync(path.join(repoRoot, 'intents', ex), path.join(repo, 'intents', ex), { recursive: true });
  git('init', '-q');
  commit('base');
  // A VLAN (network ops) with one endpoint on leaf2.
  edit('intents/dc1/tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: ops\n            vlan: 40\n            subnet: 10.10.40.0/24\n            gateway: 10.10.40.1\n');
  append('intents/dc1/endpoints.yaml', '  - { name: h6, leaf: leaf2, port: eth11, vlan: 40, ipv4: 10.10.40.16/24 }');
  commit('vlan');
  // A leaf with an endpoint in RED.
  edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }');
  append('intents/dc1/endpoints.yaml', '  - { name: h7, leaf: leaf5, port: eth10, vlan: 30, ipv4: 10.20.30.17/24 }');
  commit('leaf');
  // The loopback pool moves: every device's router id, none of them edited.
  edit('intents/dc1/fabric.yaml', '  loopback: 10.0.0.0/24', '  loopback: 10.0.9.0/24');
  commit('renumber');
  // leaf4 loses its uplink to spine2: a session gone, the underlay loses redundancy.
  edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }');
  commit('uplink');
  // fw2: web-to-app also accepts http.
  edit('intents/fw2/firewall.yaml', '          services: [app-http]', '          services: [app-http, http]');
  commit('fw');
  // slb1: h1's weight in its pool.
  edit('intents/slb1/slb.yaml', '{ endpoint: h1, port: 8080, weight: 3 }', '{ endpoint: h1, port: 8080, weight: 5 }');
  commit('slb');
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  restoreCache();
});

const dc1 = () => path.join(repo, 'intents/dc1');

describe('netloom plan, scenario by scenario', () => {
  it('a VLAN with an endpoint: the network, its VNI, one leaf, six pairs gaining reachability', async () => {
    const r = await plan([dc1(), '--base', 'base', '--head', 'vlan']);
    expect(r.code).toBe(0);
    const c = git('rev-parse', 'base').slice(0, 12);
    const h = git('rev-parse', 'vlan').slice(0, 12);
    expect(summary(r.out)).toEqual([
      `plan for intents/dc1 (fabric dc1): base (${c}) -> vlan (${h})`,
      'changes: fabric 3 added, 2 changed, 0 removed',
      'configs: 1 device changes (leaf2); 0 BGP session resets; tenants touched: blue',
      'renumbering: none',
      'reachability: 6 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 0 warnings (0 new), 0 info`,
      'rollout: 1 wave (canary 1, wave size 5)',
      'result: ok',
    ]);
    expect(section(r.out, 'changes')).toEqual([
      '  fabric:',
      '    ~ device leaf2 (intents/dc1/nodes.yaml:16:3)',
      '        interfaces[eth11]: added',
      '        vlans[ops]: added',
      '    ~ vrf BLUE (intents/dc1/tenants.yaml:8:9)',
      '        networks: ["web","app"] -> ["web","app","ops"]',
      '    + vni 10040 (intents/dc1/tenants.yaml:21:13)',
      '    + network ops (intents/dc1/tenants.yaml:21:13)',
      '    + endpoint h6 (intents/dc1/endpoints.yaml:11:5)',
    ]);
    expect(section(r.out, 'blast radius').slice(0, 2)).toEqual(['  devices whose configs change:', '    ~ leaf2: frr.conf +5 -0, netconf-ietf.xml +6 -0, network.sh +38 -0; disturbs nothing that carries traffic (adds VNIs 10040; VLANs 40)']);
    expect(section(r.out, 'behaviour').slice(0, 3)).toEqual([
      '  endpoint pairs (prediction, and whether a ping answers), every pair of 6 endpoints:',
      '    h1 -> h6: gains (before: absent; after: routed, answers)',
      '    h2 -> h6: gains (before: absent; after: routed, answers)',
    ]);
    expect(section(r.out, 'rollout')).toEqual(['  wave 1 (canary): leaf2']);
  });

  it('a leaf: its links and sessions added, the spines changed but no session reset, waves of the changed devices, the new leaf after its spines', async () => {
    const r = await plan([dc1(), '--base', 'vlan', '--head', 'leaf', '--wave-size', '1']);
    expect(summary(r.out).slice(1)).toEqual([
      'changes: fabric 6 added, 4 changed, 0 removed',
      'configs: 3 devices change (leaf5, spine1, spine2); 0 BGP session resets; tenants touched: red',
      'renumbering: none',
      'reachability: 4 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 0 warnings (0 new), 0 info`,
      'rollout: 3 waves (canary 1, wave size 1)',
      'result: ok',
    ]);
    expect(section(r.out, 'changes')).toEqual([
      '  fabric:',
      '    + device leaf5 (intents/dc1/nodes.yaml:19:3)',
      '    ~ device spine1 (intents/dc1/nodes.yaml:13:3)',
      '        interfaces[eth5]: added',
      '    ~ device spine2 (intents/dc1/nodes.yaml:14:3)',
      '        interfaces[eth5]: added',
      '    + link leaf5:eth1--spine1:eth5 (intents/dc1/nodes.yaml:19:31)',
      '    + link leaf5:eth2--spine2:eth5 (intents/dc1/nodes.yaml:19:31)',
      '    + bgp-session leaf5:eth1--spine1:eth5 (intents/dc1/nodes.yaml:19:31)',
      '    + bgp-session leaf5:eth2--spine2:eth5 (intents/dc1/nodes.yaml:19:31)',
      '    ~ vrf RED (intents/dc1/tenants.yaml:28:9)',
      '        devices: ["leaf1","leaf4"] -> ["leaf1","leaf4","leaf5"]',
      '    ~ network db (intents/dc1/tenants.yaml:31:13)',
      '        leaves: ["leaf1","leaf4"] -> ["leaf1","leaf4","leaf5"]',
      '    + endpoint h7 (intents/dc1/endpoints.yaml:12:5)',
    ]);
    // The new leaf after the spines that learn it (its sessions come up only then), as apply pushes.
    expect(section(r.out, 'rollout')).toEqual(['  wave 1 (canary): spine1', '  wave 2: spine2', '  wave 3: leaf5']);
  });

  it('a moved pool: the renumbering alarm names every device whose router id moved without its own intent changing', async () => {
    const r = await plan([dc1(), '--base', 'leaf', '--head', 'renumber', '--format', 'json']);
    const p = JSON.parse(r.out) as Plan;
    expect(p.blastRadius.renumbering.map((a) => `${a.kind} ${a.key}: ${a.fields.map((f) => f.field).join(' ')}`)).toEqual(
      ['leaf1', 'leaf2', 'leaf3', 'leaf4', 'leaf5', 'spine1', 'spine2'].map((d) => `device ${d}: interfaces[lo].ipv4 loopback routerId`),
    );
    expect(p.blastRadius.renumbering[0].fields.find((f) => f.field === 'routerId')).toEqual({ field: 'routerId', change: 'changed', before: '10.0.0.1', after: '10.0.9.1' });
    expect(p.changes.filter((c) => c.kind === 'fabric').map((c) => c.fields)).toEqual([[{ field: 'pools.loopback', change: 'changed', before: '10.0.0.0/24', after: '10.0.9.0/24' }]]);
    // A new router id is a new BGP identity: every session of every device.
    expect(p.blastRadius.unpredicted).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'leaf5', 'spine1', 'spine2']);
    expect(new Set(p.blastRadius.sessionsReset.map((s) => s.session)).size).toBe(10);
    // Each end once, said as the identity change (not again by each neighbour line that moved with it).
    expect(p.blastRadius.sessionsReset.filter((s) => s.device === 'leaf1').map((s) => `${s.neighbor}: ${s.session}`)).toEqual([
      'every session (BGP router-id 10.0.0.1 -> 10.0.9.1): leaf1:eth1--spine1:eth1',
      'every session (BGP router-id 10.0.0.1 -> 10.0.9.1): leaf1:eth2--spine2:eth1',
    ]);
    expect(p.blastRadius.sessionsReset).toHaveLength(20);
    expect(p.behaviour.reachability).toEqual([]);
  });

  it('a removed uplink: the session removed (not reset), new single-point-of-failure errors marked new, exit 1', async () => {
    const r = await plan([dc1(), '--base', 'renumber', '--head', 'uplink']);
    expect(r.code).toBe(1);
    expect(summary(r.out).slice(1)).toEqual([
      'changes: fabric 0 added, 2 changed, 2 removed',
      'configs: 2 devices change (leaf4, spine2); 0 BGP session resets; tenants touched: none',
      'renumbering: none',
      'reachability: 0 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N - 2}/${N} checks passed, 4 errors (4 new), 0 warnings (0 new), 0 info`,
      'rollout: 2 waves (canary 1, wave size 5)',
      'result: FAIL, 4 findings at or above the --fail-on level',
    ]);
    expect(section(r.out, 'changes')).toEqual([
      '  fabric:',
      '    ~ device leaf4 (intents/dc1/nodes.yaml:18:3)',
      '        interfaces[eth2]: removed',
      '    ~ device spine2 (intents/dc1/nodes.yaml:14:3)',
      '        interfaces[eth4]: removed',
      '    - link leaf4:eth2--spine2:eth4 (intents/dc1/nodes.yaml:18:31)',
      '    - bgp-session leaf4:eth2--spine2:eth4 (intents/dc1/nodes.yaml:18:31)',
    ]);
    expect(section(r.out, 'static verification of head').filter((l) => l.includes('[new]'))).toEqual([
      '        error [new]: leaf4 <-> leaf1, leaf2, leaf3, leaf5: 1 equal-cost underlay path, the design promises 2 (4 VTEP pairs); no underlay link to spine2',
      '        error [new]: spine1 is an articulation point: losing it cuts 1 VTEP off the rest of the underlay',
      '        error [new]: link leaf4:eth1--spine1:eth4 is a bridge: it is the only underlay path between its two sides',
      '        error [new]: 4 VTEP pairs have a min-cut of 1 link (e.g. leaf1-leaf4)',
    ]);
    expect((await plan([dc1(), '--base', 'renumber', '--head', 'uplink', '--fail-on', 'never'])).code).toBe(0);
  });

  it('a firewall change: the policy field by field, the flows newly accepted with both rules, the enforcing leaves', async () => {
    const r = await plan([path.join(repo, 'intents/fw2'), '--base', 'uplink', '--head', 'fw']);
    expect(r.code).toBe(0);
    expect(summary(r.out).slice(1)).toEqual([
      'changes: firewall 0 added, 1 changed, 0 removed',
      'configs: 3 devices change (leaf1, leaf2, leaf3); 0 BGP session resets; tenants touched: shop',
      'renumbering: none',
      'reachability: 0 pairs gain, 0 lose, 0 change path; firewall: tiers: 1 newly accepted, 0 newly denied, 0 drop/reject changed',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 1 warning (0 new), 1 info`,
      'rollout: 2 waves (canary 1, wave size 5)',
      'result: ok',
    ]);
    expect(section(r.out, 'changes')).toEqual(['  firewall:', '    ~ policy tiers (intents/fw2/firewall.yaml:22:7)', '        rules[web-to-app].services[http]: added']);
    expect(section(r.out, 'behaviour').slice(3)).toEqual([
      '    policy tiers:',
      '      newly accepted: about 4.46e43 packets, e.g. tcp 10.10.10.0:0 -> 10.10.20.0:80 (new)',
      '        before: drop by the default action (policy at intents/fw2/firewall.yaml:22:7)',
      '        after:  accept by rule web-to-app at intents/fw2/firewall.yaml:28:11',
    ]);
  });

  it('a load-balancer change: the pool member field by field', async () => {
    const r = await plan([path.join(repo, 'intents/slb1'), '--base', 'fw', '--head', 'slb']);
    expect(section(r.out, 'changes')).toEqual(['  slb:', '    ~ pool shop-web (intents/slb1/slb.yaml:28:5)', '        members[h1].weight: 3 -> 5']);
    // The load balancers' files in the blast radius, pushed after the devices one node a wave.
    expect(r.out).toContain('configs: 2 devices change (lb1, lb2); 0 BGP session resets; tenants touched: none\n');
    expect(r.out).toContain('  devices whose configs change:\n    ~ lb1: as3-blue.json +1 -1, haproxy.cfg +1 -1\n    ~ lb2: as3-blue.json +1 -1, haproxy.cfg +1 -1\n');
    expect(section(r.out, 'rollout')).toEqual(['  wave 1 (canary): lb1', '  wave 2: lb2']);
  });

  it("an endpoint moved to another VLAN: its port's VLAN on the leaf moves with it, no renumbering alarm", async () => {
    edit('intents/dc1/endpoints.yaml', '{ name: h5, leaf: leaf1, port: eth11, vlan: 30, ipv4: 10.20.30.15/24 }', '{ name: h5, leaf: leaf1, port: eth11, vlan: 20, ipv4: 10.10.20.15/24 }');
    try {
      const r = await plan([dc1(), '--base', 'slb', '--format', 'json']);
      const p = JSON.parse(r.out) as Plan;
      expect(p.blastRadius.renumbering).toEqual([]);
      const fields = (kind: string, key: string) => p.changes.find((c) => c.kind === kind && c.key === key)?.fields.filter((f) => f.change === 'changed').map((f) => f.field);
      expect(fields('device', 'leaf1')).toContain('interfaces[eth11].accessVlan');
      expect(fields('endpoint', 'h5')).toEqual(expect.arrayContaining(['ipv4', 'vlan', 'vrf']));
    } finally {
      git('checkout', '-q', '--', 'intents/dc1/endpoints.yaml');
    }
  });

  it("the fabric MTU under OSPF: each adjacency's reset said per device, and the waves apply would refuse; under eBGP, neither", async () => {
    edit('intents/dc3/fabric.yaml', 'mtu: 9216', 'mtu: 9100');
    edit('intents/dc1/fabric.yaml', 'mtu: 9216', 'mtu: 9100');
    try {
      const r = await plan([path.join(repo, 'intents/dc3'), '--base', 'slb']);
      expect(summary(r.out)[6]).toBe('rollout: 3 waves (canary 1, wave size 5); apply would refuse them: 6 peerings held down until a later wave');
      // The pull request's gate: a merge whose apply would be refused fails its plan (not with --fail-on never).
      expect([r.code, summary(r.out)[7]]).toEqual([1, 'result: FAIL, apply would refuse the waves (6 peerings held down)']);
      expect((await plan([path.join(repo, 'intents/dc3'), '--base', 'slb', '--fail-on', 'never'])).code).toBe(0);
      const junit = (await plan([path.join(repo, 'intents/dc3'), '--base', 'slb', '--format', 'junit'])).out;
      expect(junit).toContain('<failure message="6 findings at or above error" type="fail-on">rollout: apply would refuse the waves: leaf1 eth1: MTU 9216 -&gt; 9100 in wave 1');
      const md = (await plan([path.join(repo, 'intents/dc3'), '--base', 'slb', '--format', 'markdown'])).out;
      expect(md.split('\n')[0]).toBe('## netloom plan: :x: apply would refuse the waves (6 peerings held down)');
      expect(md).toContain('- **error** (new) `rollout`: apply would refuse the waves: leaf1 eth1: MTU 9216 -> 9100');
      expect(r.out).toContain("    ~ leaf1: netconf-ietf.xml +2 -2, network.sh +2 -2; disturbs BGP 10.3.0.101 (reset: underlay: every OSPF adjacency resets), 10.3.0.102 (reset: underlay: every OSPF adjacency resets); underlay on eth1, eth2 (MTU 9216 -> 9100: OSPF adjacencies reset, down until each peer's MTU is the same)\n");
      // Every device's adjacencies at once: each session between loopbacks resets (measured in the zero-downtime test).
      expect(summary(r.out)[2]).toBe('configs: 7 devices change (leaf1, leaf2, leaf3, leaf4, border1, spine1, spine2); 22 BGP session resets; tenants touched: none');
      expect(section(r.out, 'rollout')).toEqual([
        '  wave 1 (canary): leaf1',
        '  wave 2: leaf2, leaf3, leaf4, border1, spine1',
        '  wave 3: spine2',
        '  apply would refuse these waves: each holds peerings down until a later wave (both ends of such a peering must change in one wave):',
        '    leaf1 eth1: MTU 9216 -> 9100 in wave 1 resets its OSPF adjacency with spine1 eth1, down until spine1 has the same MTU (wave 2)',
        '    leaf1 eth2: MTU 9216 -> 9100 in wave 1 resets its OSPF adjacency with spine2 eth1, down until spine2 has the same MTU (wave 3)',
        ...['leaf2 eth2', 'leaf3 eth2', 'leaf4 eth2', 'border1 eth2'].map((x, i) => `    ${x}: MTU 9216 -> 9100 in wave 2 resets its OSPF adjacency with spine2 eth${i + 2}, down until spine2 has the same MTU (wave 3)`),
      ]);
      const bgp = JSON.parse((await plan([dc1(), '--base', 'slb', '--format', 'json'])).out) as Plan;
      expect(bgp.blastRadius.devices.length).toBeGreaterThan(0);
      expect([bgp.rollout.unsafe, bgp.blastRadius.devices.filter((d) => d.disturbs !== 'nothing that carries traffic').map((d) => d.device)]).toEqual([undefined, []]);
    } finally {
      git('checkout', '-q', '--', 'intents/dc3/fabric.yaml', 'intents/dc1/fabric.yaml');
    }
  });

  it('the working tree is the default head, and a directory absent at base is all added', async () => {
    edit('intents/dc1/tenants.yaml', 'description: isolated tenant', 'description: the isolated tenant');
    try {
      const r = await plan([dc1(), '--base', 'uplink']);
      expect(summary(r.out)[0]).toBe(`plan for intents/dc1 (fabric dc1): uplink (${git('rev-parse', 'uplink').slice(0, 12)}) -> working tree`);
      expect(section(r.out, 'changes')).toEqual(['  fabric:', '    ~ tenant red (intents/dc1/tenants.yaml:25:5)', '        description: isolated tenant -> the isolated tenant']);
      expect(git('status', '--porcelain')).toBe('M intents/dc1/tenants.yaml');
    } finally {
      git('checkout', '-q', '--', 'intents/dc1/tenants.yaml');
    }
    git('mv', 'intents/fw2', 'intents/fw3');
    commit('moved');
    const r = await plan([path.join(repo, 'intents/fw3'), '--base', 'fw', '--head', 'moved', '--format', 'json']);
    const p = JSON.parse(r.out) as Plan;
    expect(p.base.exists).toBe(false);
    expect(new Set(p.changes.map((c) => c.change))).toEqual(new Set(['added']));
    expect(p.rollout.waves).toEqual([['leaf1'], ['leaf2', 'leaf3', 'spine1', 'spine2']]);
    const text = await plan([path.join(repo, 'intents/fw3'), '--base', 'fw', '--head', 'moved']);
    expect(summary(text.out).slice(0, 2)).toEqual([
      `plan for intents/fw3 (fabric fw2): fw (${git('rev-parse', 'fw').slice(0, 12)}) where intents/fw3 did not exist -> moved (${git('rev-parse', 'moved').slice(0, 12)})`,
      'changes: fabric 32 added, 0 changed, 0 removed; firewall 1 added, 0 changed, 0 removed',
    ]);
  });
});

describe('netloom plan: mistakes are usage errors', () => {
  it('names a missing --base, an unknown revision and a directory outside any repository', async () => {
    await expect(plan([dc1()])).rejects.toThrow(/--base REV is required/);
    await expect(plan([dc1(), '--base', 'no-such-branch'])).rejects.toThrow(new UsageError(`--base 'no-such-branch' is no revision of the repository at ${repo} (git rev-parse found no commit by that name)`));
    await expect(plan([dc1(), '--base', 'base', '--head', '--x'])).rejects.toThrow(/--head expects REV/);
    const outside = mkdtempSync(path.join(tmpdir(), 'netloom-plan-norepo-'));
    try {
      await expect(plan([outside, '--base', 'base'])).rejects.toThrow(/is not inside a git work tree/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('an invalid intent at a revision is reported at REV:file:line', async () => {
    edit('intents/dc1/nodes.yaml', '  leaf1: { group: leaves, id: 1 }', '  leaf1: { group: leaves, id: 1, bogus: 1 }');
    commit('invalid');
    await expect(plan([dc1(), '--base', 'invalid', '--head', 'base'])).rejects.toThrow(/^invalid:intents\/dc1\/nodes\.yaml:15:\d+: /);
    // In the working tree (the head), as the repository names the file.
    git('checkout', '-q', 'base', '--', 'intents/dc1');
    try {
      edit('intents/dc1/nodes.yaml', '  leaf2: { group: leaves, id: 2 }', '  leaf2: { group: leaves, id: 2, bogus: 1 }');
      await expect(plan([dc1(), '--base', 'base'])).rejects.toThrow(/^intents\/dc1\/nodes\.yaml:16:\d+: /);
    } finally {
      git('checkout', '-q', 'HEAD', '--', 'intents/dc1');
    }
  });
});

describe('netloom plan report formats', () => {
  it('SARIF validates against the SARIF 2.1.0 schema and locates findings at repository-relative intent lines', async () => {
    const out = path.join(repo, 'plan.sarif');
    const r = await plan([dc1(), '--base', 'renumber', '--head', 'uplink', '--format', 'sarif', '--out', out, '--fail-on', 'never']);
    expect(r.code).toBe(0);
    const sarif = JSON.parse(readFileSync(out, 'utf8'));
    const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/sarif-2.1.0-rtm.5.json'), 'utf8'));
    // A draft-04 schema: its `$schema` and `id` are draft-04 spelling; the rest is common to draft-07.
    delete schema.$schema;
    delete schema.id;
    // ajv's default export is the class or, under plain Node ESM, the CommonJS module holding it.
    const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule.default }).default ?? AjvModule) as unknown as typeof AjvModule.default;
    // The schema's language-tag pattern is not valid with the u flag; URI formats are not checked (no ajv-formats offline).
    const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateFormats: false }).compile(schema);
    expect(validate(sarif) ? [] : validate.errors).toEqual([]);
    const results = sarif.runs[0].results as { ruleId: string; level: string; baselineState: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[];
    expect(results.filter((x) => x.baselineState === 'new').map((x) => [x.ruleId, x.level, x.locations[0].physicalLocation.artifactLocation.uri, x.locations[0].physicalLocation.region.startLine])).toEqual([
      ['underlay-ecmp', 'error', 'intents/dc1/nodes.yaml', 18],
      ['single-points-of-failure', 'error', 'intents/dc1/nodes.yaml', 13],
      ['single-points-of-failure', 'error', 'intents/dc1/nodes.yaml', 18],
      // No location of its own: at the fabric's definition.
      ['single-points-of-failure', 'error', 'intents/dc1/fabric.yaml', 3],
    ]);
  });

  it('JUnit has one testcase per static check and the --fail-on gate', async () => {
    const r = await plan([dc1(), '--base', 'renumber', '--head', 'uplink', '--format', 'junit']);
    expect(r.code).toBe(1);
    const names = [...r.out.matchAll(/<testcase classname="([^"]+)" name="([^"]+)">\n\s+<(failure|system-out)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(names.filter((n) => n.endsWith('failure'))).toEqual(['netloom.plan.static underlay-ecmp failure', 'netloom.plan.static single-points-of-failure failure', 'netloom.plan.gate fail-on-error failure']);
    expect(names).toHaveLength(N + 1);
    expect(r.out).toMatch(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\n<testsuites name="netloom plan" tests="${N + 1}" failures="3">`));
  });

  it('Markdown: summary, then failures and new findings, details folded; cut to the limit with the full report beside --out', async () => {
    const out = path.join(repo, 'plan.md');
    const r = await plan([dc1(), '--base', 'renumber', '--head', 'uplink', '--format', 'markdown', '--out', out]);
    const md = readFileSync(out, 'utf8');
    expect(md.split('\n').slice(0, 3)).toEqual(['## netloom plan: :x: 4 findings at or above the fail level', '', `- plan for intents/dc1 (fabric dc1): renumber (${git('rev-parse', 'renumber').slice(0, 12)}) -> uplink (${git('rev-parse', 'uplink').slice(0, 12)})`]);
    expect(md.indexOf('### Failures and new findings')).toBeLessThan(md.indexOf('<details><summary>Changes</summary>'));
    expect(md.match(/<details>/g)).toHaveLength(5);
    expect(existsSync(path.join(repo, 'plan.full.md'))).toBe(false);
    expect(r.out.split('\n')[0]).toMatch(/^plan for intents\/dc1/);
    // The same plan cut to 3,000 characters keeps the head and says where the rest is.
    const p = JSON.parse((await plan([dc1(), '--base', 'renumber', '--head', 'uplink', '--format', 'json'])).out) as Plan;
    const failing = p.verification.checks.flatMap((c) => c.findings).filter((f) => f.severity === 'error');
    const cut = formatPlanMarkdown(p, failing, 'plan.full.md', 3000);
    expect(cut.cut).toBe(true);
    expect(cut.text.length).toBeLessThanOrEqual(3000);
    expect(cut.text).toContain('### Failures and new findings');
    expect(cut.text.trimEnd().split('\n').at(-1)).toMatch(/^_This comment was cut to fit: \d sections? left out; the full report is in `plan\.full\.md`\._$/);
    expect(cut.full.length).toBeGreaterThan(3000);
  });

  it('counts of one read in the singular, in the text and the Markdown summaries', async () => {
    // The VLAN plan (six pairs gain, one device) cut down to one pair of each change and one
    // failing check with one error and one warning.
    const p = JSON.parse((await plan([dc1(), '--base', 'base', '--head', 'vlan', '--format', 'json'])).out) as Plan;
    const [a, b, c] = p.behaviour.reachability;
    p.behaviour.reachability = [a, { ...b, change: 'loses' }, { ...c, change: 'changes' }];
    const check = p.verification.checks[0];
    const at = check.findings[0] ?? { check: check.id, message: 'x', new: true };
    p.verification.checks = [{ ...check, passed: false, findings: [{ ...at, severity: 'error', new: true }, { ...at, severity: 'warning', new: false }] }];
    const lines = ['configs: 1 device changes (leaf2); 0 BGP session resets; tenants touched: blue', 'reachability: 1 pair gains, 1 loses, 1 changes path; firewall: no flow decided differently', 'verification of head: 0/1 check passed, 1 error (1 new), 1 warning (0 new), 0 info'];
    const text = formatPlanText(p, []).split('\n');
    for (const l of lines) expect(text).toContain(l);
    const md = formatPlanMarkdown(p, [], 'plan.full.md').text.split('\n');
    for (const l of lines) expect(md).toContain(`- ${mdEscape(l)}`);
    // And the plural, where the counts are two or none.
    p.behaviour.reachability = [a, b, { ...c, change: 'loses' }, { ...a, change: 'loses' }];
    expect(formatPlanText(p, []).split('\n')).toContain('reachability: 2 pairs gain, 2 lose, 0 change path; firewall: no flow decided differently');
  });
});

describe('the devices plan renders, read off the semantic diff', () => {
  // The plan renders the devices whose render inputs differ; it reads them off the semantic
  // diff (every input compared field by field) instead of hashing every device's inputs. Both
  // must name the same devices wherever the diff is used (else it falls back to the hashes).
  const sideAt = (tag: string, dir: string) => {
    const ir = intentRepo(path.join(repo, dir));
    const ex = exportIntent(ir, resolveRevision(ir, tag, '--base'));
    return { side: { rev: tag, model: loadModelSync(ex.dir!), repoPath: (f: string) => f }, cleanup: ex.cleanup };
  };
  const byHash = (b: FabricModel, h: FabricModel) => {
    const hashes = (m: FabricModel) => {
      const r = new Renderer(m);
      const names = selectDevices(m);
      const x = inputHashes(r, names);
      return new Map(names.map((n, i) => [n, x[i]]));
    };
    const hb = hashes(b);
    const hh = hashes(h);
    return [...new Set([...hb.keys(), ...hh.keys()])].filter((n) => hb.get(n) !== hh.get(n)).sort();
  };
  it.each([
    ['base', 'vlan', 'intents/dc1', ['leaf2']],
    ['vlan', 'leaf', 'intents/dc1', ['leaf5', 'spine1', 'spine2']],
    ['leaf', 'renumber', 'intents/dc1', undefined],
    ['renumber', 'uplink', 'intents/dc1', ['leaf4', 'spine2']],
    ['uplink', 'fw', 'intents/fw2', undefined],
    ['fw', 'slb', 'intents/slb1', undefined],
    ['base', 'uplink', 'intents/dc1', undefined],
  ])('%s -> %s (%s)', (from, to, dir, expected) => {
    const a = sideAt(from, dir);
    const b = sideAt(to, dir);
    try {
      const stale = staleFromDiff(a.side, b.side, semanticDiff(a.side.model, b.side.model));
      const hashed = byHash(a.side.model, b.side.model);
      // Undefined: the fabric-wide part (pools, a domain's section) differs, every device is hashed.
      expect(stale && [...stale].sort()).toEqual(expected);
      if (stale) expect([...stale].sort()).toEqual(hashed);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});
