/**
 * The pipeline examples (examples/ci) run as the CI systems would, on a real git repository:
 * an "origin" holding main, and a runner's clone checking out each pull request's branch (a
 * VLAN, a leaf, a broken session, a firewall change in intents/fw1). The GitHub job's and the
 * GitLab job's netloom commands run as written in the examples; their summaries, gate results,
 * SARIF and Markdown are asserted exactly. The apply jobs run against an FRR lab in
 * test/lab/apply-plan.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/intent-copy.ts';
import { allStaticChecks } from '../../src/domains/index.ts';
import { netloomShim, privateModelCache, runGithubJob, runGitlabJob, type StepResult } from './ci-runner.ts';

/** Every registered domain's static checks (the summary counts them). */
const N = allStaticChecks().length;
let root: string;
let work: string;
let shim: string;
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=ci@test', '-c', 'user.name=ci test', ...args], { cwd, encoding: 'utf8' }).trim();
const edit = (file: string, from: string, to: string) => {
  const f = path.join(work, file);
  const text = readFileSync(f, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no '${from}'`);
  writeFileSync(f, text.replace(from, to));
};
const append = (file: string, line: string) => writeFileSync(path.join(work, file), readFileSync(path.join(work, file), 'utf8') + line + '\n');

/** A pull request: a branch off main with one commit, pushed to origin. */
function pullRequest(branch: string, change: () => void) {
  git(work, 'checkout', '-q', '-b', branch, 'main');
  change();
  git(work, 'commit', '-qam', branch);
  git(work, 'push', '-q', 'origin', branch);
}

let restoreCache: () => void;
beforeAll(() => {
  restoreCache = privateModelCache();
  root = mkdtempSync(path.join(tmpdir(), 'netloom-ci-'));
  shim = netloomShim();
  const origin = path.join(root, 'origin.git');
  work = path.join(root, 'work');
  git(root, 'init', '-q', '--bare', '-b', 'main', origin);
  git(root, 'init', '-q', '-b', 'main', work);
  for (const ex of ['dc1', 'fw1']) cpSync(path.join(repoRoot, 'intents', ex), path.join(work, 'intents', ex), { recursive: true });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'intents');
  git(work, 'remote', 'add', 'origin', origin);
  git(work, 'push', '-q', '-u', 'origin', 'main');
  pullRequest('vlan', () => {
    edit('intents/dc1/tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: ops\n            vlan: 40\n            subnet: 10.10.40.0/24\n            gateway: 10.10.40.1\n');
    append('intents/dc1/endpoints.yaml', '  - { name: h6, leaf: leaf2, port: eth11, vlan: 40, ipv4: 10.10.40.16/24 }');
  });
  pullRequest('leaf', () => {
    edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }');
    append('intents/dc1/endpoints.yaml', '  - { name: h7, leaf: leaf5, port: eth10, vlan: 30, ipv4: 10.20.30.17/24 }');
  });
  pullRequest('session', () => edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }'));
  pullRequest('fw', () => edit('intents/fw1/firewall.yaml', '          services: [app-http]', '          services: [app-http, http]'));
  git(work, 'checkout', '-q', 'main');
}, 60_000);
afterAll(() => {
  restoreCache();
  rmSync(root, { recursive: true, force: true });
  rmSync(shim, { recursive: true, force: true });
});

/** The runner's checkout of the pull request's head, the run's files cleaned. */
function checkout(branch: string) {
  git(work, 'checkout', '-q', '-f', branch);
  git(work, 'clean', '-qfdx');
}
const github = (branch: string, env: Record<string, string> = {}) => {
  checkout(branch);
  return runGithubJob('plan', { cwd: work, shim, context: { 'github.base_ref': 'main' }, env });
};
const gitlab = (branch: string, variables: Record<string, string> = {}) => {
  checkout(branch);
  return runGitlabJob('plan', { cwd: work, shim, variables: { CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main', ...variables } });
};
const names = (r: StepResult[]) => r.map((s) => `${s.name}: ${s.code}`);
const commitOf = (rev: string) => git(work, 'rev-parse', rev).slice(0, 12);
const sarifResults = () =>
  (JSON.parse(readFileSync(path.join(work, 'plan.sarif'), 'utf8')) as { runs: { results: { ruleId: string; level: string; baselineState: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] }).runs[0].results.map(
    (r) => `${r.ruleId} ${r.level} ${r.baselineState} ${r.locations[0].physicalLocation.artifactLocation.uri}:${r.locations[0].physicalLocation.region.startLine}`,
  );
const md = () => readFileSync(path.join(work, 'plan.md'), 'utf8');

/** The lines of a folded section of the comment (its fenced block). */
function folded(text: string, title: string): string[] {
  const start = text.indexOf(`<details><summary>${title}</summary>`);
  if (start < 0) return [];
  const lines = text.slice(start).split('\n');
  const open = lines.findIndex((l) => /^`{3,}text$/.test(l));
  const close = lines.findIndex((l, i) => i > open && /^`{3,}$/.test(l));
  return lines.slice(open + 1, close);
}
const newFindings = (text: string) => text.split('\n').filter((l) => l.startsWith('- **') && l.includes('(new)'));

const summary = (branch: string, lines: string[]) => [`plan for ${branch === 'fw' ? 'intents/fw1 (fabric fw1)' : 'intents/dc1 (fabric dc1)'}: origin/main (${commitOf('main')}) -> working tree`, ...lines];

const SCENARIOS = {
  vlan: {
    env: {},
    summary: [
      'changes: fabric 3 added, 2 changed, 0 removed',
      'configs: 1 device changes (leaf2); 0 BGP session resets; tenants touched: blue',
      'renumbering: none',
      'reachability: 6 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 0 warnings (0 new), 0 info`,
      'rollout: 1 wave (canary 1, wave size 5)',
      'result: ok',
    ],
  },
  leaf: {
    env: {},
    summary: [
      'changes: fabric 6 added, 4 changed, 0 removed',
      'configs: 3 devices change (leaf5, spine1, spine2); 0 BGP session resets; tenants touched: red',
      'renumbering: none',
      'reachability: 4 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 0 warnings (0 new), 0 info`,
      'rollout: 2 waves (canary 1, wave size 5)',
      'result: ok',
    ],
  },
  session: {
    env: {},
    summary: [
      'changes: fabric 0 added, 2 changed, 2 removed',
      'configs: 2 devices change (leaf4, spine2); 0 BGP session resets; tenants touched: none',
      'renumbering: none',
      'reachability: 0 pairs gain, 0 lose, 0 change path; firewall: no flow decided differently',
      `verification of head: ${N - 2}/${N} checks passed, 4 errors (4 new), 0 warnings (0 new), 0 info`,
      'rollout: 2 waves (canary 1, wave size 5)',
      'result: FAIL, 4 findings at or above the --fail-on level',
    ],
  },
  fw: {
    env: { INTENT: 'intents/fw1' },
    summary: [
      'changes: firewall 0 added, 1 changed, 0 removed',
      'configs: 4 devices change (leaf1, leaf2, leaf3, leaf4); 0 BGP session resets; tenants touched: blue, green, red',
      'renumbering: none',
      'reachability: 0 pairs gain, 0 lose, 0 change path; firewall: tenants: 1 newly accepted, 0 newly denied, 0 drop/reject changed',
      `verification of head: ${N}/${N} checks passed, 0 errors (0 new), 3 warnings (1 new), 1 info`,
      'rollout: 2 waves (canary 1, wave size 5)',
      'result: ok',
    ],
  },
} as const;

describe('examples/ci/github-actions.yml: the pull request job on each change', () => {
  it('a VLAN with an endpoint: the network, its VNI and leaf2 changed, six pairs gain; the gate passes', () => {
    const r = github('vlan');
    expect(names(r)).toEqual(['plan: 0', 'findings as SARIF: 0', 'gate: 0']);
    expect(r[0].out).toBe(summary('vlan', [...SCENARIOS.vlan.summary]).join('\n') + '\n');
    expect(md().split('\n')[0]).toBe('## netloom plan: :white_check_mark: ok');
    expect(folded(md(), 'Changes')).toEqual([
      'fabric:',
      '  ~ device leaf2 (intents/dc1/nodes.yaml:16:3)',
      '      interfaces[eth11]: added',
      '      vlans[ops]: added',
      '  ~ vrf BLUE (intents/dc1/tenants.yaml:8:9)',
      '      networks: ["web","app"] -> ["web","app","ops"]',
      '  + vni 10040 (intents/dc1/tenants.yaml:21:13)',
      '  + network ops (intents/dc1/tenants.yaml:21:13)',
      '  + endpoint h6 (intents/dc1/endpoints.yaml:11:5)',
    ]);
    expect(folded(md(), 'Blast radius').slice(0, 4)).toEqual([
      'devices whose configs change:',
      '  ~ leaf2: frr.conf +5 -0, netconf-ietf.xml +6 -0, network.sh +38 -0; disturbs nothing that carries traffic (adds VNIs 10040; VLANs 40)',
      'BGP sessions reset:',
      '  none',
    ]);
    expect(folded(md(), 'Behaviour')).toEqual([
      'endpoint pairs (prediction, and whether a ping answers), every pair of 6 endpoints:',
      ...['h1 -> h6', 'h2 -> h6', 'h3 -> h6', 'h6 -> h1', 'h6 -> h2', 'h6 -> h3'].map((p) => `  ${p}: gains (before: absent; after: routed, answers)`),
      'firewall:',
      '  no flow decided differently',
    ]);
    expect(newFindings(md())).toEqual([]);
    expect(sarifResults()).toEqual([]);
  });

  it('a leaf: its links and sessions added, the spines changed without a reset, four pairs gain', () => {
    const r = github('leaf');
    expect(names(r)).toEqual(['plan: 0', 'findings as SARIF: 0', 'gate: 0']);
    expect(r[0].out).toBe(summary('leaf', [...SCENARIOS.leaf.summary]).join('\n') + '\n');
    expect(folded(md(), 'Changes').filter((l) => /^ {2}[+~-] /.test(l))).toEqual([
      '  + device leaf5 (intents/dc1/nodes.yaml:19:3)',
      '  ~ device spine1 (intents/dc1/nodes.yaml:13:3)',
      '  ~ device spine2 (intents/dc1/nodes.yaml:14:3)',
      '  + link leaf5:eth1--spine1:eth5 (intents/dc1/nodes.yaml:19:31)',
      '  + link leaf5:eth2--spine2:eth5 (intents/dc1/nodes.yaml:19:31)',
      '  + bgp-session leaf5:eth1--spine1:eth5 (intents/dc1/nodes.yaml:19:31)',
      '  + bgp-session leaf5:eth2--spine2:eth5 (intents/dc1/nodes.yaml:19:31)',
      '  ~ vrf RED (intents/dc1/tenants.yaml:24:9)',
      '  ~ network db (intents/dc1/tenants.yaml:27:13)',
      '  + endpoint h7 (intents/dc1/endpoints.yaml:11:5)',
    ]);
    expect(folded(md(), 'Blast radius').slice(0, 6)).toEqual([
      'devices whose configs change:',
      '  + leaf5: daemons +27 -0, frr.conf +72 -0, netconf-ietf.xml +73 -0, network.sh +352 -0',
      '  ~ spine1: frr.conf +12 -0, netconf-ietf.xml +13 -0, network.sh +4 -0; disturbs nothing that carries traffic',
      '  ~ spine2: frr.conf +12 -0, netconf-ietf.xml +13 -0, network.sh +4 -0; disturbs nothing that carries traffic',
      'BGP sessions reset:',
      '  none',
    ]);
    expect(folded(md(), 'Behaviour').slice(1, 5)).toEqual(['h4 -> h7', 'h5 -> h7', 'h7 -> h4', 'h7 -> h5'].map((p) => `  ${p}: gains (before: absent; after: bridged, answers)`));
    expect(folded(md(), 'Rollout')).toEqual(['wave 1 (canary): spine1', 'wave 2: spine2, leaf5']);
  });

  it('a broken session (leaf4 loses its uplink to spine2): the comment and SARIF carry the four new errors, the gate fails', () => {
    const r = github('session');
    expect(names(r)).toEqual(['plan: 0', 'findings as SARIF: 0', 'gate: 1']);
    expect(r[2].out).toBe('netloom plan: findings at or above error (see the comment)\n');
    expect(r[0].out).toBe(summary('session', [...SCENARIOS.session.summary]).join('\n') + '\n');
    expect(md().split('\n')[0]).toBe('## netloom plan: :x: 4 findings at or above the fail level');
    expect(folded(md(), 'Changes')).toEqual([
      'fabric:',
      '  ~ device leaf4 (intents/dc1/nodes.yaml:18:3)',
      '      interfaces[eth2]: removed',
      '  ~ device spine2 (intents/dc1/nodes.yaml:14:3)',
      '      interfaces[eth4]: removed',
      '  - link leaf4:eth2--spine2:eth4 (intents/dc1/nodes.yaml:18:31)',
      '  - bgp-session leaf4:eth2--spine2:eth4 (intents/dc1/nodes.yaml:18:31)',
    ]);
    expect(folded(md(), 'Blast radius').slice(0, 3)).toEqual([
      'devices whose configs change:',
      '  ~ leaf4: frr.conf +0 -11, netconf-ietf.xml +0 -13, network.sh +0 -4; disturbs BGP eth2 (reset: interface, activate)',
      '  ~ spine2: frr.conf +0 -12, netconf-ietf.xml +0 -13, network.sh +0 -4; disturbs BGP eth4 (reset: interface, activate)',
    ]);
    expect(folded(md(), 'Blast radius')).toContain('flows disturbed while the rollout runs: 14');
    expect(newFindings(md())).toEqual([
      '- **error** (new) `underlay-ecmp`: leaf4 &lt;-> leaf1, leaf2, leaf3: 1 equal-cost underlay path, the design promises 2 (3 VTEP pairs); no underlay link to spine2 at `intents/dc1/nodes.yaml:18:3`',
      '- **error** (new) `single-points-of-failure`: spine1 is an articulation point: losing it cuts 1 VTEP off the rest of the underlay at `intents/dc1/nodes.yaml:13:3`',
      '- **error** (new) `single-points-of-failure`: link leaf4:eth1--spine1:eth4 is a bridge: it is the only underlay path between its two sides at `intents/dc1/nodes.yaml:18:31`',
      '- **error** (new) `single-points-of-failure`: 3 VTEP pairs have a min-cut of 1 link (e.g. leaf1-leaf4)',
    ]);
    expect(sarifResults()).toEqual([
      'underlay-ecmp error new intents/dc1/nodes.yaml:18',
      'single-points-of-failure error new intents/dc1/nodes.yaml:13',
      'single-points-of-failure error new intents/dc1/nodes.yaml:18',
      'single-points-of-failure error new intents/dc1/fabric.yaml:3',
    ]);
  });

  it('a firewall change (intents/fw1: web-to-app also accepts http): the newly accepted flows with both rules, one new warning', () => {
    const r = github('fw', SCENARIOS.fw.env);
    expect(names(r)).toEqual(['plan: 0', 'findings as SARIF: 0', 'gate: 0']);
    expect(r[0].out).toBe(summary('fw', [...SCENARIOS.fw.summary]).join('\n') + '\n');
    expect(folded(md(), 'Changes')).toEqual(['firewall:', '  ~ policy tenants (intents/fw1/firewall.yaml:24:7)', '      rules[web-to-app].services[http]: added']);
    expect(folded(md(), 'Behaviour').slice(3)).toEqual([
      '  policy tenants:',
      '    newly accepted: about 4.46e43 packets, e.g. tcp 10.10.10.0:0 -> 10.10.20.0:80 (new)',
      '      before: drop by the default action (policy at intents/fw1/firewall.yaml:24:7)',
      '      after:  accept by rule web-to-app at intents/fw1/firewall.yaml:30:11',
    ]);
    expect(newFindings(md())).toEqual([
      "- **warning** (new) `firewall-endpoint-services`: policy 'tenants': rule 'web-to-app' accepts tcp/80, tcp/8080 from h1 -> h3 (and 1 more pair), which the fabric does not forward (isolated), and no pair the fabric forwards: the rule can never be exercised between endpoints at `intents/fw1/firewall.yaml:30:11`",
    ]);
    expect(sarifResults()).toEqual([
      'firewall-rule-conflicts note unchanged intents/fw1/firewall.yaml:45',
      'firewall-endpoint-services warning new intents/fw1/firewall.yaml:30',
      'firewall-endpoint-services warning unchanged intents/fw1/firewall.yaml:52',
      'firewall-endpoint-services warning unchanged intents/fw1/firewall.yaml:38',
    ]);
  });

  it('an unknown base branch is a broken run, not a gate result: the plan step fails with the usage error', () => {
    checkout('vlan');
    const r = runGithubJob('plan', { cwd: work, shim, context: { 'github.base_ref': 'no-such-branch' } });
    expect(names(r)).toEqual(['plan: 1']);
    expect(r[0].err).toMatch(/^netloom plan: --base 'origin\/no-such-branch' is no revision of the repository at /);
  });
});

describe('examples/ci/gitlab-ci.yml: the merge request job on each change', () => {
  it.each(Object.keys(SCENARIOS) as (keyof typeof SCENARIOS)[])('%s: the same summary; JUnit and SARIF kept; the job fails only on the broken session', (branch) => {
    const r = gitlab(branch, SCENARIOS[branch].env);
    expect(r.code).toBe(branch === 'session' ? 1 : 0);
    // Three plans (SARIF, JUnit, Markdown), each printing the summary; the last one's gate decides.
    const s = summary(branch, [...SCENARIOS[branch].summary]);
    const relaxed = [...s.slice(0, -1), 'result: ok'];
    expect(r.out).toBe([relaxed, relaxed, s].map((x) => x.join('\n') + '\n').join(''));
    expect(existsSync(path.join(work, 'plan.sarif'))).toBe(true);
    const junit = readFileSync(path.join(work, 'plan.junit.xml'), 'utf8');
    expect(junit.startsWith('<?xml')).toBe(true);
    expect(md().split('\n')[0]).toBe(branch === 'session' ? '## netloom plan: :x: 4 findings at or above the fail level' : '## netloom plan: :white_check_mark: ok');
  });
});
