// The fabric picture of `netloom plan --format markdown --out`: mermaid in the comment and an
// SVG file beside it, with the elements a real change touches marked (a leaf added, an uplink
// removed and the session over it broken), and a big fabric drawn in part within one comment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from './ci-runner.ts';
import { scenarioRepo, type ScenarioRepo } from './scenario-repo.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { COMMENT_LIMIT } from '../../src/plan/format.ts';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';

let repo: string;
let r: ScenarioRepo;

/** The Markdown comment, the mermaid block in it, and the SVG beside it. */
async function picture(dir: string, base: string, head: string): Promise<{ md: string; mermaid: string[]; svg: string }> {
  const out = path.join(repo, `${base}-${head}.md`);
  const parsed = parseCommandArgs(planCommand, [path.join(repo, dir), '--base', base, '--head', head, '--format', 'markdown', '--out', out, '--fail-on', 'never']);
  expect(await planCommand.run({ ...parsed, out: () => undefined, err: () => undefined })).toBe(0);
  const md = readFileSync(out, 'utf8');
  const block = /```mermaid\n([\s\S]*?)\n```/.exec(md);
  expect(block).not.toBeNull();
  return { md, mermaid: block![1].split('\n'), svg: readFileSync(out.replace(/\.md$/, '.svg'), 'utf8') };
}

/** Mermaid node labels by device name, and each device's class. */
function nodes(mermaid: string[]): Map<string, { label: string; cls?: string }> {
  const byId = new Map<string, { name: string; label: string; cls?: string }>();
  for (const l of mermaid) {
    const m = /^ {2}(d\d+)\["([^"]+)"\]$/.exec(l);
    if (m) byId.set(m[1], { name: m[2].split(' ')[0], label: m[2] });
    const c = /^ {2}class (d\d+) (\w+)$/.exec(l);
    if (c) byId.get(c[1])!.cls = c[2];
  }
  return new Map([...byId.values()].map((v) => [v.name, { label: v.label, ...(v.cls ? { cls: v.cls } : {}) }]));
}

/** SVG devices and links with their classes (data-device / data-link attributes). */
const svgDevices = (svg: string) => new Map([...svg.matchAll(/<g class="device ?([a-z]*)" data-device="([^"]+)">/g)].map((m) => [m[2], m[1]]));
const svgLinks = (svg: string) => new Map([...svg.matchAll(/<line(?: class="([a-z]+)")? data-link="([^"]+)"/g)].map((m) => [m[2], m[1] ?? '']));

let restoreCache: () => void;
beforeAll(() => {
  restoreCache = privateModelCache();
  r = scenarioRepo('netloom-plan-picture-');
  repo = r.root;
  const { edit, commit } = r;
  cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
  writeGeneratedIntent(path.join(repo, 'big'), generateFabricIntent({ name: 'big', superSpines: 2, pods: 2, spinesPerPod: 4, leavesPerPod: 60, tenants: 2, networksPerVrf: 2, endpointsPerLeaf: 1 }));
  commit('base');
  edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }');
  commit('leaf');
  edit('intents/dc1/nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }');
  commit('uplink');
  appendFileSync(path.join(repo, 'big/tenants.yaml'), ['  - name: tenant-new', '    vrfs:', '      - name: TNEW', '        id: 99', '        networks:', '          - name: new-n1', '            vlan: 300', '            subnet: 172.30.0.0/20', '            gateway: 172.30.0.1', '            leaves: [p1-leaf1, p1-leaf2]', ''].join('\n'));
  commit('tenant');
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  restoreCache();
});

describe('the fabric picture of a plan', () => {
  it('a leaf added: the leaf and its uplinks marked added, the spines whose configs change marked changed', async () => {
    const p = await picture('intents/dc1', 'base', 'leaf');
    const n = nodes(p.mermaid);
    expect(n.get('leaf5')).toEqual({ label: 'leaf5 (added)', cls: 'added' });
    expect(n.get('spine1')).toEqual({ label: 'spine1 (changed)', cls: 'changed' });
    expect(n.get('spine2')).toEqual({ label: 'spine2 (changed)', cls: 'changed' });
    expect(n.get('leaf1')).toEqual({ label: 'leaf1' });
    expect([...n.keys()].sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4', 'leaf5', 'spine1', 'spine2']);
    // leaf5's two uplinks, drawn with the mark as the edge's text and styled.
    const added = p.mermaid.filter((l) => l.includes('---|added|'));
    expect(added).toHaveLength(2);
    expect(p.mermaid.filter((l) => /^ {2}linkStyle \d+ stroke:#080/.test(l))).toHaveLength(2);
    expect(svgDevices(p.svg).get('leaf5')).toBe('added');
    expect(svgDevices(p.svg).get('spine1')).toBe('changed');
    expect(svgDevices(p.svg).get('leaf1')).toBe('');
    expect([...svgLinks(p.svg)].filter(([, c]) => c === 'added').map(([l]) => l).sort()).toEqual(['leaf5:eth1--spine1:eth5', 'leaf5:eth2--spine2:eth5']);
    expect(p.md).toContain('The whole picture as SVG: `base-leaf.svg`.');
  });

  it('an uplink removed: the link drawn dashed as removed, the devices its broken session and lost redundancy fail on marked failing', async () => {
    const p = await picture('intents/dc1', 'leaf', 'uplink');
    const n = nodes(p.mermaid);
    expect(n.get('leaf4')).toEqual({ label: 'leaf4 (changed, failing)', cls: 'failing' });
    expect(n.get('spine2')).toEqual({ label: 'spine2 (changed)', cls: 'changed' });
    expect(p.mermaid.filter((l) => l.includes('-.-|removed|'))).toHaveLength(1);
    const links = svgLinks(p.svg);
    expect([...links].filter(([, c]) => c === 'removed').map(([l]) => l)).toEqual(['leaf4:eth2--spine2:eth4']);
    // The one uplink left carries leaf4's traffic alone: the finding names it.
    expect(links.get('leaf4:eth1--spine1:eth4')).toBe('failing');
    expect(svgDevices(p.svg).get('leaf4')).toBe('failing');
  });

  it('a big fabric is drawn in part (the changed leaves and their neighbours), with a note, within one comment', async () => {
    const p = await picture('big', 'uplink', 'tenant');
    const n = nodes(p.mermaid);
    // The two leaves and the four spines of their pod: nothing else is near the change.
    expect([...n.keys()].sort()).toEqual(['p1-leaf1', 'p1-leaf2', 'p1-spine1', 'p1-spine2', 'p1-spine3', 'p1-spine4']);
    expect(n.get('p1-leaf1')).toEqual({ label: 'p1-leaf1 (changed)', cls: 'changed' });
    expect(n.get('p1-leaf2')).toEqual({ label: 'p1-leaf2 (changed)', cls: 'changed' });
    expect(p.md).toContain('_6 of 130 devices drawn (the changed and failing ones and their neighbours)._');
    expect(p.md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    // The SVG holds more (up to SVG_DEVICES): the whole of this fabric.
    expect(svgDevices(p.svg).size).toBe(130);
    expect(svgDevices(p.svg).get('p1-leaf2')).toBe('changed');
  });
});
