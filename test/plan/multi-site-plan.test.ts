/**
 * `netloom plan` on a multi-site intent (intents/mdc in a real git repository): site-level
 * objects (sites, VRFs joined and networks stretched across the DCI) in the semantic diff, the
 * devices a DCI change touches, and verification that knows per-site route targets.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/intent-copy.ts';
import { scenarioRepo } from './scenario-repo.ts';

describe('plan between revisions of a multi-site intent', () => {
  const repo = scenarioRepo('netloom-plan-sites-');
  cpSync(path.join(repoRoot, 'intents/mdc'), path.join(repo.root, 'net'), { recursive: true });
  repo.commit('base');
  repo.edit('net/sites.yaml', '  vrfs: [BLUE, RED]', '  vrfs: [BLUE]');
  repo.commit('unjoin-red');
  repo.edit('net/dc2/endpoints.yaml', '  - { name: h23,', '  - { name: h24, leaf: leaf21, port: eth11, vlan: 30, ipv4: 10.21.30.24/24 }\n  - { name: h23,');
  repo.commit('add-h24');
  afterAll(() => rmSync(repo.root, { recursive: true, force: true }));

  const plan = (base: string, head: string) => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'plan', 'net', '--base', base, '--head', head], { cwd: repo.root, encoding: 'utf8', env: { ...process.env, NETLOOM_STATE_DIR: path.join(repo.root, '.state') } });
    return { status: r.status, text: r.stdout + r.stderr };
  };

  it('a VRF no longer joined across the DCI: the DCI object removed, the six devices carrying it re-rendered, nothing renumbered, verification green', () => {
    const { status, text } = plan('base', 'unjoin-red');
    expect(status, text).toBe(0);
    expect(text).toContain('changes: fabric 0 added, 6 changed, 0 removed; sites 0 added, 0 changed, 1 removed');
    expect(text).toContain('configs: 6 devices change (leaf12, border11, border12, leaf22, border21, border22); 0 BGP session resets; tenants touched: red');
    expect(text).toContain('renumbering: none');
    expect(text).toMatch(/- dci-vrf RED \(net\/sites\.yaml:\d+:\d+\)/);
    expect(text).toContain('vrfs[RED].routeTargets.import: ["65010:50002","65020:50002"] -> ["65010:50002"]');
    expect(text).toContain('verification of head: 30/30 checks passed, 0 errors (0 new)');
  });

  it('an endpoint on the stretched network in the other site: bridged to both sites\' db hosts', () => {
    const { status, text } = plan('unjoin-red', 'add-h24');
    expect(status, text).toBe(0);
    expect(text).toContain('configs: 1 device changes (leaf21)');
    for (const pair of ['h13 -> h24', 'h22 -> h24', 'h24 -> h13', 'h24 -> h22']) expect(text).toContain(`${pair}: gains (before: absent; after: bridged, answers)`);
  });
});
