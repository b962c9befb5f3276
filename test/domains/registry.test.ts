import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkIdProblems, domains, orderBy, pushPostChecks, pushWaveChecks, resolveOrder, RESERVED_DOMAINS, type DomainModule } from '../../src/domains/index.ts';
import { loadPlatforms } from '../../src/model/platforms.ts';
import { platformFiles, platformNames, platformYaml } from '../../src/intent/platform-names.ts';
import { parse } from 'yaml';
import { intentSchema, platforms } from '../../src/intent/schema.ts';
import { loadArtifactSets, templatesDir } from '../../src/render/templates.ts';
import { PUSH_DRIVERS } from '../../src/push/drivers.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { verifyStatic } from '../../src/verify/static.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fake = (id: string, over: Partial<DomainModule> = {}): DomainModule =>
  ({ id, title: id, requires: [], capabilities: {}, render: { features: () => [] }, verify: { static: [] }, ...over }) as unknown as DomainModule;

describe('domain registry', () => {
  it('orders domains by requires and rejects cycles and unknown domains', () => {
    const a = fake('a', { requires: ['b' as never] });
    const b = fake('b', { requires: ['c' as never] });
    const c = fake('c');
    expect(resolveOrder([a, b, c]).map((d) => d.id)).toEqual(['c', 'b', 'a']);
    expect(() => resolveOrder([a, b, fake('c', { requires: ['a' as never] })])).toThrow('domain requires cycle: a -> b -> c -> a');
    expect(() => resolveOrder([a, c])).toThrow("domain a: requires names unknown domain 'b'");
    // Push order is its own relation: b may resolve first and still be pushed after a.
    expect(orderBy([a, b, c], (d) => ((d.id as string) === 'b' ? ['a'] : []), 'pushAfter').map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(domains().map((d) => d.id)).toContain('fabric');
  });

  it('check ids are unique across domains and prefixed by their domain', () => {
    expect(checkIdProblems(domains())).toEqual([]);
    const check = (id: string) => ({ id, title: id, kind: 'static', layer: 'underlay', severity: 'error', description: '', run: () => ({ findings: [], examined: '' }) });
    const fw = fake('firewall', { verify: { static: [check('firewall-zones'), check('zones'), check('bgp-session-compat')] } as never });
    expect(checkIdProblems([...domains(), fw])).toEqual([
      "check id 'zones' of domain firewall must start with 'firewall-' or 'live-firewall-'",
      "check id 'bgp-session-compat' is used by domains fabric and firewall",
      "check id 'bgp-session-compat' of domain firewall must start with 'firewall-' or 'live-firewall-'",
    ]);
    // verify --static runs every registered domain's questions, in registry order.
    const ids = verifyStatic(loadModelSync(path.join(root, 'intents/dc1'))).results.map((r) => r.check.id);
    expect(ids).toEqual(domains().flatMap((d) => d.verify.static.map((c) => c.id)));
  });

  it('every capability of a domain is claimed by some platform, and every claim is a known capability', () => {
    const defs = [...loadPlatforms().values()];
    for (const d of domains()) {
      for (const [kind, names] of Object.entries(d.capabilities)) {
        for (const n of names) expect(defs.some((p) => p.capabilities[d.id]?.[kind]?.includes(n)), `${d.id}.${kind}.${n}`).toBe(true);
      }
    }
    for (const p of defs) {
      for (const [dom, kinds] of Object.entries(p.capabilities)) {
        const d = domains().find((x) => x.id === dom);
        expect(d, `models/platforms/${p.name}.yaml claims capabilities of unknown domain '${dom}'`).toBeDefined();
        for (const [kind, names] of Object.entries(kinds)) for (const n of names) expect(d!.capabilities[kind] ?? [], `${p.name}: ${dom}.${kind}`).toContain(n);
      }
    }
  });

  it('every platform claiming a domain has its templates', () => {
    let checked = 0;
    for (const p of loadPlatforms().values()) {
      for (const d of domains()) {
        if (!Object.values(p.capabilities[d.id] ?? {}).some((l) => l.length)) continue;
        const dir = path.join(templatesDir, p.render?.templates ?? p.name);
        const files = d.render.templates ? d.render.templates(p) : [`partials/${d.id}/main.hbs`];
        expect(files.length, `${p.name}: ${d.id} templates`).toBeGreaterThan(0);
        for (const f of files) {
          expect(existsSync(path.join(dir, f)), `${p.name} claims ${d.id} but lacks ${path.relative(root, path.join(dir, f))}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(loadPlatforms().size);
  });
});

describe('platform facts are data', () => {
  it('the intent schema enum is the list of models/platforms/*.yaml', () => {
    const files = readdirSync(path.join(root, 'models/platforms')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    expect([...platforms]).toEqual(files);
    const dir = mkdtempSync(path.join(tmpdir(), 'h11c-platforms-'));
    try {
      writeFileSync(path.join(dir, 'vyos.yaml'), 'name: vyos\n');
      writeFileSync(path.join(dir, 'acme.yaml'), 'name: acme\n');
      expect(platformNames(dir)).toEqual(['acme', 'vyos']);
      writeFileSync(path.join(dir, 'bad.yaml'), 'name: other\n');
      expect(() => platformNames(dir)).toThrow("name must equal its file name (bad)");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('each platform push driver exists and its artifacts are rendered for that platform', () => {
    const sets = loadArtifactSets();
    for (const p of loadPlatforms().values()) {
      for (const [transport, spec] of Object.entries(p.push)) {
        expect(Object.keys(PUSH_DRIVERS), `${p.name} ${transport}`).toContain(spec!.driver);
        const rendered = [
          ...(p.render?.artifacts ?? []).map((a) => a.name),
          ...sets.filter((s) => s.applies_to === 'all' || p.transport === 'netconf').flatMap((s) => s.render.artifacts.map((a) => a.name)),
        ];
        for (const a of spec!.artifacts) expect(rendered, `${p.name} push over ${transport}`).toContain(a);
      }
    }
  });

  it('reserved domain sections are accepted and kept in model.domains until their domain lands', () => {
    for (const id of RESERVED_DOMAINS) expect(Object.keys(intentSchema.shape)).toContain(id);
    const m = loadModelSync(path.join(root, 'intents/dc1'));
    expect(m.domains).toEqual({});
    expect(pushPostChecks(m).map((c) => c.name)).toEqual(['bgp-sessions', 'ospf-neighbors', 'forwarding-state', 'netconf-running']);
    expect(pushPostChecks(m, { live: true }).map((c) => c.name)).toEqual(['bgp-sessions', 'ospf-neighbors', 'forwarding-state', 'netconf-running', 'live-verification']);
    // Wave checks need somewhere to probe from: a lab's endpoint namespaces.
    expect(pushWaveChecks(m, {}).map((c) => c.name)).toEqual([]);
    expect(pushWaveChecks(m, { lab: { nodes: [] } as never }).map((c) => c.name)).toEqual(['flow-probes']);
  });
});

describe('role names live in one place', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  it('no stage compares or assigns role names outside src/domains/fabric/roles.ts', () => {
    const role = `'(super-spine|spine|leaf|border-leaf|wan)'`;
    const patterns = [new RegExp(`role\\s*[!=]==?\\s*${role}`), new RegExp(`WithRole\\([^)]*${role}`), new RegExp(`role:\\s*${role}`), new RegExp(`\\[\\s*${role}\\s*,\\s*${role}`)];
    const offenders: string[] = [];
    const list = files(path.join(root, 'src')).filter((f) => !f.endsWith(path.join('domains', 'fabric', 'roles.ts')));
    for (const f of list) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (patterns.some((p) => p.test(line))) offenders.push(`${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(list.length).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
  });
});

describe('platform definitions read once', () => {
  it('give what the yaml package parses from each file, the same value on every read', () => {
    const files = platformFiles();
    expect(files.length).toBeGreaterThan(3);
    for (const { file } of files) {
      expect(platformYaml(file), file).toEqual(parse(readFileSync(file, 'utf8')));
      expect(platformYaml(file)).toBe(platformYaml(file));
    }
  });
});
