// The head's model built from its base's (src/plan/incremental-head.ts) is the model a full
// resolution gives, byte for byte, and so is the plan built on it; changes beyond the tenants
// are resolved in full. Revision pairs on generated fabrics (two directories, as two exported
// revisions are): a VLAN added, a tenant added, a tenant removed, an endpoint added, a
// network's gateway changed, a leaf added, an ASN changed, a firewall change, a broken tenant;
// the base read back from JSON as the model cache gives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { incrementalHead, loadHeadModel } from '../../src/plan/incremental-head.ts';
import { buildPlan, type PlanSide } from '../../src/plan/plan.ts';
import { formatPlanJson } from '../../src/plan/format.ts';
import { IntentFileCache } from '../../src/plan/model-cache.ts';
import { revisionPaths } from '../../src/plan/git-revision.ts';
import { revisionPairs } from '../support/revision-pair.ts';
import { buildFabricGraph, type FabricGraph } from '../../src/verify/graph.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'netloom-incremental-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Tenants {
  tenants: { name: string; vrfs: { name: string; id: number; networks: { name: string; vlan: number; subnet: string; gateway: string; leaves?: string[] }[] }[] }[];
}
interface Endpoints {
  endpoints: Record<string, unknown>[];
}

const pair = revisionPairs(() => tmp);

const editYaml = <T>(dir: string, file: string, fn: (v: T) => void, header = '') => {
  const f = path.join(dir, file);
  const v = parse(readFileSync(f, 'utf8')) as T;
  fn(v);
  writeFileSync(f, header + stringify(v, { lineWidth: 0 }));
};
const editText = (dir: string, file: string, fn: (t: string) => string) => writeFileSync(path.join(dir, file), fn(readFileSync(path.join(dir, file), 'utf8')));

const small = generateFabricIntent({ name: 'inc', superSpines: 2, pods: 2, spinesPerPod: 2, leavesPerPod: 4, tenants: 3, vrfsPerTenant: 2, networksPerVrf: 2, endpointsPerLeaf: 2 });
const ospf = generateFabricIntent({ name: 'inc-ospf', pods: 1, spinesPerPod: 2, leavesPerPod: 4, tenants: 2, vrfsPerTenant: 1, networksPerVrf: 3, endpointsPerLeaf: 1, underlay: 'ospf', leafPlatform: 'eos' });

const scenarios: { name: string; src: Parameters<typeof pair>[0]; edit: (dir: string) => void; incremental: boolean }[] = [
  {
    name: 'a VLAN added to a VRF',
    src: { files: small },
    incremental: true,
    edit: (d) => editYaml<Tenants>(d, 'tenants.yaml', (v) => v.tenants[1].vrfs[0].networks.push({ name: 'added', vlan: 350, subnet: '172.31.0.0/24', gateway: '172.31.0.1', leaves: ['p1-leaf2', 'p2-leaf3'] })),
  },
  {
    name: 'a tenant added (the bench: its files appended to)',
    src: { files: small },
    incremental: true,
    edit: (d) =>
      editText(d, 'tenants.yaml', (t) => t + ['  - name: tenant-new', '    vrfs:', '      - name: TNEW', '        id: 99', '        networks:', '          - name: new-n1', '            vlan: 300', '            subnet: 172.30.0.0/20', '            gateway: 172.30.0.1', '            leaves: [p1-leaf1, p1-leaf2]', ''].join('\n')),
  },
  {
    name: 'a tenant removed, with its endpoints',
    src: { files: small },
    incremental: true,
    edit: (d) => {
      let vlans = new Set<number>();
      editYaml<Tenants>(d, 'tenants.yaml', (v) => {
        const gone = v.tenants.pop()!;
        vlans = new Set(gone.vrfs.flatMap((x) => x.networks.map((nw) => nw.vlan)));
      });
      editYaml<Endpoints>(d, 'endpoints.yaml', (v) => {
        v.endpoints = v.endpoints.filter((e) => !vlans.has(e.vlan as number));
      });
    },
  },
  {
    name: 'an endpoint added',
    src: { files: ospf },
    incremental: true,
    edit: (d) => editText(d, 'endpoints.yaml', (t) => t.replace(/\n$/, '\n  - { name: added-host, leaf: p1-leaf3, port: Ethernet45, vlan: 101, ipv4: 172.16.16.200/20 }\n')),
  },
  {
    name: "a network's gateway moved",
    src: { files: ospf },
    incremental: true,
    edit: (d) => editText(d, 'tenants.yaml', (t) => t.replace('gateway: 172.16.16.1', 'gateway: 172.16.16.254')),
  },
  {
    name: 'a leaf added (nodes: resolved in full)',
    src: { example: 'intents/dc1' },
    incremental: false,
    edit: (d) => editText(d, 'nodes.yaml', (t) => t.replace('  leaf4: { group: leaves, id: 4 }\n', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }\n')),
  },
  {
    name: 'an ASN changed (fabric: resolved in full)',
    src: { example: 'intents/dc1' },
    incremental: false,
    edit: (d) => editText(d, 'fabric.yaml', (t) => t.replace('spine: 65100', 'spine: 65000')),
  },
  {
    name: 'a firewall change (a domain section: resolved in full)',
    src: { example: 'intents/fw1' },
    incremental: false,
    edit: (d) => editText(d, 'firewall.yaml', (t) => t.replace('ports: [8080]', 'ports: [8081]')),
  },
  {
    name: 'a tenant change where a domain exists (resolved in full)',
    src: { example: 'intents/fw1' },
    incremental: false,
    edit: (d) => editText(d, 'endpoints.yaml', (t) => t.replace('ipv4: 10.10.10.12/24', 'ipv4: 10.10.10.22/24')),
  },
];

const side = (rev: string, dir: string, model: FabricModel): PlanSide => ({ rev, model, repoPath: (f) => path.relative(path.dirname(dir), path.resolve(f)) });
const plan = (baseDir: string, base: FabricModel, headDir: string, head: FabricModel) => formatPlanJson(buildPlan('fab', side('base', baseDir, base), side('head', headDir, head), { canary: 1, waveSize: 5 }), []);

describe('the head model built from the base equals the full resolution', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const { baseDir, headDir } = pair(s.src, s.edit);
      const base = loadModelSync(baseDir);
      const full = loadModelSync(headDir);
      // As resolved in this process, and as the model cache reads it back.
      for (const b of [base, JSON.parse(JSON.stringify(base)) as FabricModel]) {
        const inc = incrementalHead({ model: b, dir: baseDir }, headDir);
        expect(inc !== undefined).toBe(s.incremental);
        if (!inc) continue;
        expect(JSON.stringify(inc)).toBe(JSON.stringify(full));
        expect(plan(baseDir, b, headDir, inc)).toBe(plan(baseDir, base, headDir, full));
      }
      // Through the parse cache, as the plan loads it.
      expect(JSON.stringify(loadHeadModel(headDir, new IntentFileCache(), { model: base, dir: baseDir }))).toBe(JSON.stringify(full));
      if (s.incremental) sharedWithBase(baseDir, headDir);
    });
  }

  // As the plan loads revisions: each side's places relative to its own root, so both name an
  // unchanged file alike and the head takes the base's fabric objects themselves.
  function sharedWithBase(baseDir: string, headDir: string): void {
    const [baseRoot, headRoot] = [path.dirname(baseDir), path.dirname(headDir)];
    const base = loadModelSync(baseDir, { placesRoot: baseRoot });
    const full = loadModelSync(headDir, { placesRoot: headRoot });
    expect(full.links[0].source.file).toBe('fab/nodes.yaml');
    const before = JSON.stringify(base);
    const inc = loadHeadModel(headDir, new IntentFileCache(), { model: base, dir: baseDir, placesRoot: baseRoot }, headRoot);
    expect(JSON.stringify(inc)).toBe(JSON.stringify(full));
    expect(inc.links).toBe(base.links);
    expect(inc.bgpSessions).toBe(base.bgpSessions);
    expect(inc.devices[0].interfaces.find((i) => i.kind === 'fabric')).toBe(base.devices[0].interfaces.find((i) => i.kind === 'fabric'));
    // Nothing of the base was changed by building the head on it.
    expect(JSON.stringify(base)).toBe(before);
    // Through one parse cache, as the CLI loads the base and then the head (and a service one
    // push after another): the head's unchanged files are the base's load, the same objects,
    // and only its changed files are parsed and validated.
    const files = new IntentFileCache();
    const cachedBase = loadModelSync(baseDir, { placesRoot: baseRoot, parseCache: files });
    const baseNodes = files.lastIntent!.loaded.raw.nodes;
    const baseIntentNodes = files.lastIntent!.intent.nodes;
    const reloaded = loadHeadModel(headDir, files, { model: cachedBase, dir: baseDir, placesRoot: baseRoot }, headRoot);
    expect(files.lastIntent!.loaded.raw.nodes).toBe(baseNodes);
    expect(files.lastIntent!.intent.nodes).toBe(baseIntentNodes);
    expect(JSON.stringify(reloaded)).toBe(JSON.stringify(full));
    // The base's load is left as it was: its next use (the push after) reads the same intent.
    expect(JSON.stringify(loadModelSync(baseDir, { placesRoot: baseRoot }))).toBe(JSON.stringify(cachedBase));
    // Its graph takes the base graph's routing parts, and is the graph of the full model.
    const [bg, hg, fg] = [buildFabricGraph(base), buildFabricGraph(inc), buildFabricGraph(full)];
    expect(hg.underlay).toBe(bg.underlay);
    expect(hg.linkAt).toBe(bg.linkAt);
    // And what derives from the fabric alone: computed once, for the base, read by the head.
    const ecmp = bg.fabricMemo('test', () => ({ computed: 'for the base' }));
    expect(hg.fabricMemo('test', () => ({ computed: 'for the head' }))).toBe(ecmp);
    expect(fg.fabricMemo('test', () => ({ computed: 'for the full model' }))).not.toBe(ecmp);
    expect(fg.underlay).not.toBe(bg.underlay);
    const graphOf = (g: FabricGraph) => JSON.stringify({ underlay: [...g.underlay.offsets, ...g.underlay.targets], ends: g.model.links.flatMap((l) => [l.a, l.b].map((e) => { const at = g.linkAt(e.device, e.interface); return at && g.linkName(at); })), sessions: [...g.sessionById.keys()], onLink: [...g.underlayOnLink].map(([k, v]) => [k, v.map((x) => x.id)]), vteps: g.vteps, vnis: [...g.vnis], devices: g.devices.map((d) => d.name) });
    expect(graphOf(hg)).toBe(graphOf(fg));
    // And the plan is the plan of the models loaded the other way.
    const rel = (rev: string, root: string, model: FabricModel): PlanSide => ({ rev, model, ...revisionPaths(root) });
    const opts = { canary: 1, waveSize: 5 };
    expect(formatPlanJson(buildPlan('fab', rel('base', baseRoot, base), rel('head', headRoot, inc), opts), [])).toBe(plan(baseDir, loadModelSync(baseDir), headDir, loadModelSync(headDir)));
  }

  it('a broken tenant change is left to the full resolution, which reports it', () => {
    const { baseDir, headDir } = pair({ files: small }, (d) => editYaml<Tenants>(d, 'tenants.yaml', (v) => v.tenants[0].vrfs[0].networks.push({ name: 'dup', vlan: v.tenants[1].vrfs[0].networks[0].vlan, subnet: '172.31.0.0/24', gateway: '172.31.0.1' })));
    const base = loadModelSync(baseDir);
    expect(incrementalHead({ model: base, dir: baseDir }, headDir)).toBeUndefined();
    expect(() => loadHeadModel(headDir, undefined, { model: base, dir: baseDir })).toThrow(/collides with/);
    // With the base's load kept in the parse cache: the same error, in the same words.
    const files = new IntentFileCache();
    const kept = loadModelSync(baseDir, { parseCache: files });
    expect(() => loadHeadModel(headDir, files, { model: kept, dir: baseDir })).toThrow(/collides with/);
    // A tenants file the schema refuses: the full load's file:line:col diagnostic.
    const { baseDir: b2, headDir: h2 } = pair({ files: small }, (d) => editText(d, 'tenants.yaml', (t) => t.replace(/vlan: (\d+)/, 'vlan: 5000')));
    const files2 = new IntentFileCache();
    const kept2 = loadModelSync(b2, { parseCache: files2 });
    let said = '';
    try {
      loadModelSync(h2);
    } catch (e) {
      said = (e as Error).message;
    }
    expect(said).toMatch(/tenants\.yaml:\d+:\d+: /);
    expect(() => loadHeadModel(h2, files2, { model: kept2, dir: b2 })).toThrow(said);
  });

  it('an unchanged intent gives the same model; an intent that is one file is resolved in full', () => {
    const { baseDir, headDir } = pair({ files: small }, () => undefined);
    const base = loadModelSync(baseDir);
    expect(JSON.stringify(incrementalHead({ model: base, dir: baseDir }, headDir))).toBe(JSON.stringify(loadModelSync(headDir)));
    expect(incrementalHead({ model: base, dir: baseDir }, path.join(headDir, 'tenants.yaml'))).toBeUndefined();
  });
});
