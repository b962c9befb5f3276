// What `netloom plan` takes from the base for the head (PlanOptions.reuse) changes no byte of
// the report, and is taken only where it is proven the same: the checks reading only the
// fabric's part (`reads: 'fabric'`) at a head built from its base, and control-plane tables over
// equal inputs. Each revision pair is planned with nothing reused (the reference), then as a
// first plan (memos empty: the head's tables are the base's runs in memory) and as a pull
// request's next push (the base's model read back from JSON with its memo and table bytes, the
// head built from it anew). Pairs where the shortcut must not apply: a leaf added, an uplink
// removed, an ASN changed (the underlay differs), the fabric MTU (not built from the base), a
// firewall rule (a domain section).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { loadHeadModel } from '../../src/plan/incremental-head.ts';
import { buildPlan, type BlobData, type PlanSide, type SideMemo } from '../../src/plan/plan.ts';
import { formatPlanJson } from '../../src/plan/format.ts';
import { allStaticChecks } from '../../src/domains/index.ts';
import { revisionPairs } from '../support/revision-pair.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'netloom-plan-reuse-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A cache entry's memo as the model cache keeps it: values through JSON, bytes as written. */
class StoredMemo implements SideMemo {
  constructor(
    readonly data = new Map<string, string>(),
    readonly blobs = new Map<string, Buffer>(),
  ) {}
  get<T>(key: string): T | undefined {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  set(key: string, value: unknown): void {
    this.data.set(key, JSON.stringify(value));
  }
  /** Blobs given as functions, asked when the entry is written (reread). */
  private readonly later = new Map<string, () => Buffer | undefined>();
  blob(key: string): Buffer | undefined {
    return this.blobs.get(key);
  }
  hasBlob(key: string): boolean {
    return this.blobs.has(key) || this.later.has(key);
  }
  setBlob(key: string, data: BlobData): void {
    if (Buffer.isBuffer(data)) this.blobs.set(key, Buffer.from(data));
    else this.later.set(key, data);
  }
  /** The entry as the next plan reads it (a blob given as a function is asked now, as the cache writes it). */
  reread(): StoredMemo {
    const blobs = new Map(this.blobs);
    for (const [k, f] of this.later) {
      const data = f();
      if (data) blobs.set(k, Buffer.from(data));
    }
    return new StoredMemo(new Map(this.data), blobs);
  }
}

const pair = revisionPairs(() => tmp);
const editText = (dir: string, file: string, from: string, to: string) => {
  const f = path.join(dir, file);
  const text = readFileSync(f, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no '${from}'`);
  writeFileSync(f, text.replace(from, to));
};

const side = (rev: string, dir: string, model: FabricModel, memo?: SideMemo): PlanSide => ({ rev, model, ...(memo ? { memo } : {}), repoPath: (f) => path.relative(path.dirname(dir), path.resolve(f)) });

const small = generateFabricIntent({ name: 'reuse', superSpines: 2, pods: 2, spinesPerPod: 2, leavesPerPod: 4, tenants: 3, vrfsPerTenant: 2, networksPerVrf: 2, endpointsPerLeaf: 2 });
const tenantAdded = ['  - name: tenant-new', '    vrfs:', '      - name: TNEW', '        id: 99', '        networks:', '          - name: new-n1', '            vlan: 300', '            subnet: 172.30.0.0/20', '            gateway: 172.30.0.1', '            leaves: [p1-leaf1, p1-leaf2]', ''].join('\n');
const fabricChecks = allStaticChecks()
  .filter((c) => c.reads === 'fabric')
  .map((c) => c.id);

interface Scenario {
  name: string;
  src: Parameters<typeof pair>[0];
  edit: (dir: string) => void;
  /** The head is built from the base: its fabric checks are the base's. */
  checks: boolean;
  /** The underlay's inputs are the same: its table is the base's. */
  underlay: boolean;
}

const scenarios: Scenario[] = [
  { name: 'a tenant added (the bench)', src: { files: small }, edit: (d) => writeFileSync(path.join(d, 'tenants.yaml'), readFileSync(path.join(d, 'tenants.yaml'), 'utf8') + tenantAdded), checks: true, underlay: true },
  { name: 'an endpoint added', src: { example: 'intents/dc1' }, edit: (d) => editText(d, 'endpoints.yaml', 'endpoints:\n', 'endpoints:\n  - { name: h9, leaf: leaf2, port: eth11, vlan: 10, ipv4: 10.10.10.19/24 }\n'), checks: true, underlay: true },
  { name: 'a leaf added', src: { example: 'intents/dc1' }, edit: (d) => editText(d, 'nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }'), checks: false, underlay: false },
  { name: 'an uplink removed (findings at the head)', src: { example: 'intents/dc1' }, edit: (d) => editText(d, 'nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }'), checks: false, underlay: false },
  { name: 'an ASN changed', src: { example: 'intents/dc1' }, edit: (d) => editText(d, 'fabric.yaml', 'spine: 65100', 'spine: 65000'), checks: false, underlay: false },
  // Every device's configuration changes, the routing does not: the tables are the base's, the checks are not taken.
  { name: 'the fabric MTU', src: { example: 'intents/dc1' }, edit: (d) => editText(d, 'fabric.yaml', '  mtu: 9216', '  mtu: 9100'), checks: false, underlay: true },
  { name: 'a firewall rule', src: { example: 'intents/fw2' }, edit: (d) => editText(d, 'firewall.yaml', '          services: [app-http]', '          services: [app-http, http]'), checks: false, underlay: true },
];

describe('netloom plan takes from the base only what is proven the same', () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const { baseDir, headDir } = pair(s.src, s.edit);
      const plan = (base: PlanSide, head: PlanSide, reuse: boolean) => {
        const reused: string[] = [];
        const json = formatPlanJson(buildPlan('fab', base, head, { canary: 1, waveSize: 5, reuse, reused }), []);
        return { json, reused };
      };
      const load = (base: FabricModel) => loadHeadModel(headDir, undefined, { model: base, dir: baseDir });
      const base0 = loadModelSync(baseDir);
      const reference = plan(side('base', baseDir, base0), side('head', headDir, load(base0)), false);
      expect(reference.reused).toEqual([]);

      // The first plan: every memo empty.
      const baseMemo = new StoredMemo();
      const first = plan(side('base', baseDir, base0, baseMemo), side('head', headDir, load(base0), new StoredMemo()), true);
      expect(first.json).toBe(reference.json);

      // The next push: the base's model and memo read back, a new head built from it.
      const base1 = JSON.parse(JSON.stringify(base0)) as FabricModel;
      const next = plan(side('base', baseDir, base1, baseMemo.reread()), side('head', headDir, load(base1), new StoredMemo()), true);
      expect(next.json).toBe(reference.json);

      const checks = next.reused.filter((r) => r.includes(': check '));
      if (s.checks) expect(checks).toEqual(fabricChecks.map((id) => `head: check ${id} from base`));
      else expect(checks).toEqual([]);
      const underlay = [...first.reused, ...next.reused].filter((r) => r.includes('underlay table'));
      if (s.underlay) expect(underlay).toEqual(['head: underlay table simulated for base', 'head: underlay table simulated for base']);
      else expect(underlay).toEqual([]);
    }, 60_000);
  }
});
