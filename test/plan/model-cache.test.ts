// The model cache of `netloom plan` on a real git repository: an entry per intent tree, read
// back equal to the resolved model with its source files in place; saved only once asked;
// removed when not saved or when resolving fails; the newest CACHE_ENTRIES kept; the plan's
// report the same with and without the cache.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { exportIntent, intentRepo, resolveRevision, type IntentRepo } from '../../src/plan/git-revision.ts';
import { asciiJson, CACHE_ENTRIES, cachedModel, isCached, modelCacheDir, sameJson } from '../../src/plan/model-cache.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { IntentError } from '../../src/util/errors.ts';
import { repoRoot } from '../support/intent-copy.ts';

let repo: string;
let ir: IntentRepo;
const prevCache = process.env.NETLOOM_CACHE_DIR;
const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=c@t', '-c', 'user.name=c', ...a], { cwd: repo, encoding: 'utf8' }).trim();
const nodesFile = () => path.join(repo, 'intents/dc1/nodes.yaml');
/** A commit whose intent differs from every other (a comment line). */
function commitVariant(n: number): string {
  writeFileSync(nodesFile(), readFileSync(nodesFile(), 'utf8').replace(/(# variant \d+\n)?$/, `# variant ${n}\n`));
  git('commit', '-qam', `variant ${n}`);
  return git('rev-parse', 'HEAD');
}
const entries = () => (existsSync(modelCacheDir()) ? readdirSync(modelCacheDir()).sort() : []);
const load = (commit: string) => cachedModel(ir, commit, (d) => loadModelSync(d), () => exportIntent(ir, commit));
/** `netloom plan DIR --base HEAD~1 --head HEAD` as JSON. */
async function planJson(dir: string): Promise<string> {
  const out: string[] = [];
  const parsed = parseCommandArgs(planCommand, [dir, '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json', '--fail-on', 'never']);
  expect(await planCommand.run({ ...parsed, out: (l) => out.push(l), err: () => undefined })).toBe(0);
  return out.join('\n');
}
/** The cache entry of the intent at a revision. */
const entryOf = (rev: string) => entries().find((e) => e.startsWith(git('rev-parse', `${rev}:intents/dc1`)))!;
/** A text replacement in one of the repository's dc1 files. */
const editFile = (file: string, from: string, to: string) => writeFileSync(path.join(repo, 'intents/dc1', file), readFileSync(path.join(repo, 'intents/dc1', file), 'utf8').replace(from, to));

beforeAll(() => {
  repo = mkdtempSync(path.join(tmpdir(), 'netloom-model-cache-'));
  process.env.NETLOOM_CACHE_DIR = path.join(repo, '.cache');
  cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
  writeFileSync(path.join(repo, '.gitignore'), '.cache/\n');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
  ir = intentRepo(path.join(repo, 'intents/dc1'));
});
afterAll(() => {
  if (prevCache === undefined) delete process.env.NETLOOM_CACHE_DIR;
  else process.env.NETLOOM_CACHE_DIR = prevCache;
  rmSync(repo, { recursive: true, force: true });
});

describe('the plan\'s model cache', () => {
  it('stores a resolved model only when saved, and reads it back equal, its intent files in place', () => {
    const commit = resolveRevision(ir, 'HEAD', '--base');
    const tree = git('rev-parse', 'HEAD:intents/dc1');
    const first = load(commit);
    expect(first.cached).toBe(false);
    expect(entries()).toEqual([expect.stringMatching(new RegExp(`^${tree}-[0-9a-f]{8}-[0-9a-f]{16}$`))]);
    first.save();
    first.cleanup();
    const second = load(commit);
    expect(second.cached).toBe(true);
    expect(second.model).toEqual(first.model);
    expect(second.root).toBe(path.join(modelCacheDir(), entries()[0], 'export'));
    expect(readFileSync(second.model!.fabric.source.file, 'utf8')).toContain('fabric:');
    second.cleanup();
    expect(entries()).toHaveLength(1);
  });

  it('an entry not saved is removed by cleanup; an intent that does not resolve leaves none', () => {
    const before = entries();
    const c = load(commitVariant(1));
    expect(entries()).toHaveLength(before.length + 1);
    c.cleanup();
    expect(entries()).toEqual(before);
    writeFileSync(nodesFile(), readFileSync(nodesFile(), 'utf8') + 'nodes: {}\n');
    git('commit', '-qam', 'broken');
    expect(() => load(git('rev-parse', 'HEAD'))).toThrow(IntentError);
    expect(entries()).toEqual(before);
    git('reset', '-q', '--hard', 'HEAD~2');
  });

  it(`keeps the newest ${CACHE_ENTRIES} entries`, () => {
    for (let i = 0; i < CACHE_ENTRIES + 2; i++) {
      const c = load(commitVariant(10 + i));
      c.save();
      c.cleanup();
    }
    expect(entries()).toHaveLength(CACHE_ENTRIES);
    expect(entries()).toContain(`${git('rev-parse', 'HEAD:intents/dc1')}-${entries()[0].split('-')[1]}-${entries()[0].split('-')[2]}`);
  });

  it('netloom plan reports the same from the cache as resolved', async () => {
    const dir = path.join(repo, 'intents/dc1');
    rmSync(modelCacheDir(), { recursive: true, force: true });
    const resolved = await planJson(dir);
    expect(entries()).toHaveLength(2);
    const cached = await planJson(dir);
    expect(cached).toBe(resolved);
    expect(JSON.parse(cached).changes).toEqual([]);
  });

  it('a real change plans the same cold, with both revisions cached, with only the base cached, and with a torn memo', async () => {
    // (the torn memo below is of the base, where it holds checks and flows)
    const dir = path.join(repo, 'intents/dc1');
    // A VLAN with an endpoint (flows compared on both sides) and leaf4 without its uplink to
    // spine2 (findings new at head: the base's checks are asked).
    editFile('tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: ops\n            vlan: 40\n            subnet: 10.10.40.0/24\n            gateway: 10.10.40.1\n');
    writeFileSync(path.join(dir, 'endpoints.yaml'), readFileSync(path.join(dir, 'endpoints.yaml'), 'utf8') + '  - { name: h6, leaf: leaf2, port: eth11, vlan: 40, ipv4: 10.10.40.16/24 }\n');
    editFile('nodes.yaml', '  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4, uplinks: [spine1] }');
    git('commit', '-qam', 'a VLAN, and leaf4 loses an uplink');
    rmSync(modelCacheDir(), { recursive: true, force: true });
    const cold = await planJson(dir);
    const p = JSON.parse(cold);
    // Not a trivial plan: reachability gained, findings new at head.
    expect(p.behaviour.reachability.filter((r: { change: string }) => r.change === 'gains').length).toBeGreaterThan(0);
    expect(p.verification.checks.flatMap((c: { findings: { new: boolean }[] }) => c.findings).filter((f: { new: boolean }) => f.new).length).toBeGreaterThan(0);
    const memo = JSON.parse(readFileSync(path.join(modelCacheDir(), entryOf('HEAD~1'), 'memo.json'), 'utf8'));
    // Checks asked at the base and the flows of its scope; no render-input hashes (the devices
    // to render are read off the semantic diff when the fabric-wide part is the same).
    expect(Object.keys(memo).sort()).toEqual(['check:single-points-of-failure', 'check:underlay-ecmp', expect.stringMatching(/^flows:[0-9a-f]{16}$/)]);
    expect(await planJson(dir)).toBe(cold);
    rmSync(path.join(modelCacheDir(), entryOf('HEAD')), { recursive: true, force: true });
    expect(await planJson(dir)).toBe(cold);
    writeFileSync(path.join(modelCacheDir(), entryOf('HEAD~1'), 'memo.json'), '{"check:underlay-ecmp": {"title"');
    expect(await planJson(dir)).toBe(cold);
  });
});

describe('a head built from its base', () => {
  it('is stored as how it differs from the base entry, read back as the model resolved in full, and a miss once the base is gone', async () => {
    const dir = path.join(repo, 'intents/dc1');
    git('commit', '-q', '--allow-empty', '-m', 'base of the tenant change');
    // Tenants and endpoints only: the head is built from the base (src/plan/incremental-head.ts).
    editFile('tenants.yaml', '            gateway: 10.10.20.1\n', '            gateway: 10.10.20.1\n          - name: backup\n            vlan: 45\n            subnet: 10.10.45.0/24\n            gateway: 10.10.45.1\n');
    writeFileSync(path.join(dir, 'endpoints.yaml'), readFileSync(path.join(dir, 'endpoints.yaml'), 'utf8') + '  - { name: h9, leaf: leaf3, port: eth12, vlan: 45, ipv4: 10.10.45.19/24 }\n');
    git('commit', '-qam', 'a VLAN and a host');
    const headCommit = git('rev-parse', 'HEAD');
    rmSync(modelCacheDir(), { recursive: true, force: true });
    const cold = await planJson(dir);
    expect(JSON.parse(cold).changes.length).toBeGreaterThan(0);
    const [baseEntry, headEntry] = [entryOf('HEAD~1'), entryOf('HEAD')].map((e) => path.join(modelCacheDir(), e));
    expect(existsSync(path.join(baseEntry, 'model.json'))).toBe(true);
    expect(existsSync(path.join(headEntry, 'model.json'))).toBe(false);
    const delta = readFileSync(path.join(headEntry, 'delta.json'), 'latin1');
    expect(JSON.parse(delta)).toMatchObject({ format: 'model-delta/1', base: entryOf('HEAD~1') });
    // The fabric's lists are the base's: not written again.
    const how = Object.fromEntries((JSON.parse(delta).keys as [string, string][]).map(([k, h]) => [k, h]));
    expect(how).toMatchObject({ links: 'base', bgpSessions: 'base', fabric: 'base', endpoints: expect.stringMatching(/^(value|items)$/) });
    expect(isCached(ir, headCommit)).toBe(true);
    // The control-plane tables (blobs keyed by what they are computed from) are the base's: not
    // written twice, and read through the base by the head's memo.
    const blobs = (e: string) => (existsSync(path.join(e, 'blobs')) ? readdirSync(path.join(e, 'blobs')) : []);
    expect(blobs(baseEntry).filter((b) => b.startsWith('table-')).length).toBeGreaterThan(0);
    expect(blobs(headEntry).filter((b) => blobs(baseEntry).includes(b))).toEqual([]);
    // Read back, it is the head's model as a full resolution of its export gives it.
    const read = load(headCommit);
    expect(read.cached).toBe(true);
    const table = blobs(baseEntry).find((b) => b.startsWith('table-'))!.replace(/\.bin$/, '');
    expect(read.memo!.blob!(table)).toEqual(readFileSync(path.join(baseEntry, 'blobs', `${table}.bin`)));
    const full = loadModelSync(read.dir!, { placesRoot: read.root });
    expect(asciiJson(read.model)).toBe(asciiJson(full));
    // Plans from it are the plans resolved.
    expect(await planJson(dir)).toBe(cold);
    // Without its base it is a miss: resolved again (and stored again), the plan the same.
    rmSync(baseEntry, { recursive: true, force: true });
    expect(isCached(ir, headCommit)).toBe(false);
    expect(await planJson(dir)).toBe(cold);
    expect(existsSync(path.join(modelCacheDir(), entryOf('HEAD'), 'delta.json'))).toBe(true);
  });

  it('keeps the entry a kept delta entry is stated against, however old', () => {
    const delta = entries().find((e) => existsSync(path.join(modelCacheDir(), e, 'delta.json')))!;
    const base = JSON.parse(readFileSync(path.join(modelCacheDir(), delta, 'delta.json'), 'latin1')).base as string;
    expect(entries()).toContain(base);
    // The base the older of the two (entries saved in the same millisecond tie).
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(modelCacheDir(), base), hourAgo, hourAgo);
    // CACHE_ENTRIES - 1 newer entries: the delta entry is still among the newest, its base is not.
    for (let i = 0; i < CACHE_ENTRIES - 1; i++) {
      const c = load(commitVariant(40 + i));
      c.save();
      c.cleanup();
    }
    expect(entries()).toContain(delta);
    expect(entries()).toContain(base);
    expect(entries()).toHaveLength(CACHE_ENTRIES + 1);
    // One more: the delta entry is old too, and both go.
    const c = load(commitVariant(60));
    c.save();
    c.cleanup();
    expect(entries()).not.toContain(delta);
    expect(entries()).not.toContain(base);
    expect(entries()).toHaveLength(CACHE_ENTRIES);
  });

  it('sameJson is never true where the JSON texts differ', () => {
    const values: unknown[] = [0, -0, 1, NaN, Infinity, null, undefined, '', 'a', true, false, [], [undefined], [null], [1, 2], {}, { a: undefined }, { a: 1, b: 2 }, { b: 2, a: 1 }, { a: [1, { c: NaN }] }, { a: [1, { c: null }] }, { f: () => 1 }, new Date(0), { toJSON: () => 'x' }, 'x'];
    let equalPairs = 0;
    for (const a of values) {
      for (const b of values) {
        const same = sameJson(a, b);
        if (same) equalPairs++;
        if (same) expect(JSON.stringify(a), `${String(a)} ~ ${String(b)}`).toBe(JSON.stringify(b));
      }
      expect(sameJson(a, a)).toBe(true);
    }
    // Some distinct values do share their text (0 and -0, [] and [undefined] do not): the comparison finds those too.
    expect(sameJson(0, -0)).toBe(true);
    expect(sameJson({ a: undefined }, {})).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(equalPairs).toBeGreaterThan(values.length);
  });
});

describe('the model file', () => {
  it('is ASCII, and read as latin1 it is the same value (accents, a dash, an emoji, a line separator)', () => {
    const value = { name: 'fabrique-é', description: 'leaf – rack 😀 \u2028 end\u007f', 'clé': ['ü', 'plain'] };
    const text = asciiJson(value);
    expect(/^[\x20-\x7e]*$/.test(text)).toBe(true);
    expect(JSON.parse(Buffer.from(text).toString('latin1'))).toEqual(value);
  });
});
