/**
 * nftables and iptables files of the firewall domain, checked by the real tools in scratch
 * network namespaces (hfb-scratch-*): `nft -c -f` and `iptables-restore --test` for every
 * enforcing device of fw1 and of a policy using every feature, then loaded for real (twice,
 * beside a table netloom does not own) to see the ruleset the kernel keeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import { renderModel, type RenderedArtifact } from '../../../src/render/index.ts';
import { inCI } from '../../support/ci.ts';
import { cleanupCopies, fw1Copy, repoRoot } from './fixtures.ts';

const isRoot = process.getuid?.() === 0;
const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const tools = ['nft', 'iptables-restore', 'ip6tables-restore', 'ip'].filter((t) => !have(t));
const FW_ARTIFACTS = ['nftables.conf', 'iptables.rules', 'ip6tables.rules'];

const render = (dir: string) => renderModel(loadModelSync(dir), { artifactSets: [] }).artifacts;
const fw1 = render(path.join(repoRoot, 'intents/fw1'));
const allFeatures = render(fw1Copy({ firewall: 'all-features.yaml' }));
afterAll(cleanupCopies);

const fwFiles = (list: RenderedArtifact[]) => list.filter((a) => FW_ARTIFACTS.includes(a.artifact));

describe('which devices get firewall files', () => {
  it('only the leaves enforcing a policy, three files each; dc1 (no firewall) none', () => {
    expect(fwFiles(fw1).map((a) => a.path).sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4'].flatMap((d) => FW_ARTIFACTS.map((f) => `${d}/${f}`)).sort());
    expect(fwFiles(render(path.join(repoRoot, 'intents/dc1')))).toEqual([]);
  });

  it('fw1 matches test/render/golden/fw1 (UPDATE_GOLDEN=1 rewrites it)', () => {
    const dir = path.join(repoRoot, 'test/render/golden/fw1');
    for (const a of fwFiles(fw1)) {
      const file = path.join(dir, a.path);
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, a.content);
      }
      expect(a.content, a.path).toBe(readFileSync(file, 'utf8'));
    }
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
    expect(onDisk.sort()).toEqual(fwFiles(fw1).map((a) => a.path).sort());
  });

  it('the CLI writes them into the manifest, byte-identical from another working directory and time zone', () => {
    const outs = [repoRoot, tmpdir()].map((cwd, i) => {
      const out = mkdtempSync(path.join(tmpdir(), 'hfb-fw-render-'));
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'render', path.join(repoRoot, 'intents/fw1'), '--out', out], { cwd, encoding: 'utf8', env: { ...process.env, TZ: i ? 'Pacific/Chatham' : 'UTC' } });
      expect(r.status, r.stderr).toBe(0);
      return out;
    });
    try {
      const manifest = JSON.parse(readFileSync(path.join(outs[0], 'manifest.json'), 'utf8')) as { artifacts: { path: string; sha256: string }[] };
      const listed = manifest.artifacts.filter((a) => FW_ARTIFACTS.includes(path.basename(a.path)));
      expect(listed.map((a) => a.path).sort()).toEqual(fwFiles(fw1).map((a) => a.path).sort());
      for (const a of fwFiles(fw1)) {
        expect(readFileSync(path.join(outs[0], a.path), 'utf8')).toBe(a.content);
        expect(readFileSync(path.join(outs[1], a.path), 'utf8')).toBe(a.content);
      }
    } finally {
      for (const o of outs) rmSync(o, { recursive: true, force: true });
    }
  });

  it('states every policy, jump and NAT rule fw1 asks for', () => {
    const nft = fw1.find((a) => a.path === 'leaf1/nftables.conf')!.content;
    expect(nft.split('\n').filter((l) => /^table |^delete table /.test(l))).toEqual(['table inet netloom {}', 'delete table inet netloom', 'table inet netloom {']);
    expect(nft).not.toMatch(/flush ruleset/);
    expect(nft).toContain('\t\tip saddr 10.10.10.0/24 ip daddr 10.10.20.0/24 tcp dport 8080 counter accept comment "web-to-app: the web tier calls the app API (owner team-web)"');
    expect(nft).toContain('\t\tip daddr 10.20.30.0/24 tcp dport 5432 counter log prefix "nl tenants/db-deny: " reject with tcp reset comment "db-deny: nobody else reaches the database port"');
    expect(nft).toContain('\t\tip daddr 10.10.20.100/32 tcp dport 80 dnat ip to 10.10.20.13:8080 comment "tenants/app-forward"');
    expect(nft).toContain('\t\tct state established,related accept');
  });
});

describe.skipIf((!isRoot || tools.length > 0) && !inCI)(`the real tools accept every file [needs root, ${['nft', 'iptables-restore', 'ip6tables-restore', 'ip'].join(', ')}]`, () => {
  const namespaces: string[] = [];
  let work = '';
  let n = 0;
  /** A fresh scratch namespace, removed in afterAll. */
  const scratch = (): string => {
    const ns = `hfb-scratch-${process.pid}-${n++}`;
    execFileSync('ip', ['netns', 'add', ns]);
    namespaces.push(ns);
    return ns;
  };
  const inNs = (ns: string, cmd: string[], input?: string) => spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', input });
  const fileOf = (a: RenderedArtifact) => {
    const f = path.join(work, a.path.replace('/', '-') + `-${n}`);
    writeFileSync(f, a.content);
    return f;
  };

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'hfb-fw-oracle-'));
  });
  afterAll(() => {
    for (const ns of namespaces) spawnSync('ip', ['netns', 'delete', ns]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const cases = { fw1, 'all-features': allFeatures };
  for (const [name, list] of Object.entries(cases)) {
    it(`${name}: nft -c, iptables-restore --test and ip6tables-restore --test pass for every device`, () => {
      const ns = scratch();
      const files = fwFiles(list);
      expect(files.length).toBe(12);
      for (const a of files) {
        const cmd = a.artifact === 'nftables.conf' ? ['nft', '-c', '-f'] : a.artifact === 'iptables.rules' ? ['iptables-restore', '--test'] : ['ip6tables-restore', '--test'];
        const r = inNs(ns, [...cmd, fileOf(a)]);
        expect(r.status, `${a.path}: ${r.stderr}`).toBe(0);
      }
    });
  }

  it('the firewall node\'s ruleset with an IPv6 port forward (fixtures/node-v6): nft -c passes', () => {
    const node = render(path.join(repoRoot, 'test/domains/firewall/fixtures/node-v6')).filter((a) => a.path.startsWith('fw1/') && a.artifact === 'nftables.conf');
    expect(node.length).toBe(1);
    expect(node[0]!.content).toContain('ip6 saddr fd00:30:10::/64 ip6 daddr fd00:30:99::80/128 tcp dport 80 dnat ip6 to [fd00:30:20::12]:8080 comment "tenants/app-forward6"');
    const r = inNs(scratch(), ['nft', '-c', '-f', fileOf(node[0]!)]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('the oracles bite: a broken file is refused with its line', () => {
    const ns = scratch();
    const a = allFeatures.find((x) => x.path === 'leaf1/nftables.conf')!;
    const broken = { ...a, content: a.content.replace('ct state established,related accept', 'ct state established,related acept') };
    const r = inNs(ns, ['nft', '-c', '-f', fileOf(broken)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/:\d+:\d+-\d+: Error/);
    const i = allFeatures.find((x) => x.path === 'leaf1/iptables.rules')!;
    const r2 = inNs(ns, ['iptables-restore', '--test', fileOf({ ...i, content: i.content.replace('--dport 443', '--dport 99999') })]);
    expect(r2.status).not.toBe(0);
  });

  it('loads atomically and idempotently, leaving other tables alone; comments stay text', () => {
    const ns = scratch();
    const a = allFeatures.find((x) => x.path === 'leaf1/nftables.conf')!;
    const f = fileOf(a);
    expect(inNs(ns, ['nft', '-f', '-'], 'table inet other {\n\tchain c {\n\t\ttype filter hook forward priority 10; policy accept;\n\t}\n}\n').status).toBe(0);
    for (let k = 0; k < 2; k++) {
      const r = inNs(ns, ['nft', '-f', f]);
      expect(r.status, r.stderr).toBe(0);
    }
    const tables = inNs(ns, ['nft', 'list', 'tables']).stdout.trim().split('\n').sort();
    expect(tables).toEqual(['table bridge netloom', 'table inet netloom', 'table inet other']);
    const listed = inNs(ns, ['nft', 'list', 'table', 'inet', 'netloom']).stdout;
    // Loaded twice, each rule is there once: the file replaces the table, it does not append.
    const rules = a.content.split('\n').filter((l) => /^\t\t(ip|ip6|meta|tcp|ct|counter) /.test(l) && !l.includes(' jump ') && !l.startsWith('\t\tct state established'));
    const inBridge = a.content.slice(a.content.indexOf('table bridge netloom {\n')).split('\n').filter((l) => rules.includes(l)).length;
    expect(listed.split('\n').filter((l) => / comment "/.test(l)).length).toBe(rules.length - inBridge);
    expect(listed).toContain('comment "outer-https: it\'s \'quoted\' $(reboot) `id` ; # \\ ünïcode (owner team \'web\', expires 2027-01-31)"');
    expect(listed).toContain('dnat ip6 to [fd00:10:20::13]:8080');
    expect(listed).toContain('masquerade');
    // iptables: the comment keeps its quotes and backslash through iptables-restore.
    const ipt = allFeatures.find((x) => x.path === 'leaf1/iptables.rules')!;
    expect(inNs(ns, ['iptables-restore', fileOf(ipt)]).status).toBe(0);
    const saved = inNs(ns, ['iptables-save']).stdout;
    expect(saved).toContain('--comment "outer-https: it\\\'s \\"quoted\\" $(reboot) `id` ; # \\\\ ünïcode (owner team \\"web\\", expires 2027-01-31)"');
    const count = (s: string) => s.split('\n').filter((l) => l.startsWith('-A ')).length;
    expect(count(saved)).toBe(count(ipt.content));
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});
