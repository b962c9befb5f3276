import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { renderModel, finishArtifact, type RenderResult } from '../../src/render/index.ts';
import { loadArtifactSets } from '../../src/render/templates.ts';
import { IntentError } from '../../src/util/errors.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { dc2AsFrr, editedIntent, examples, have, repoRoot, yangModuleFiles } from './fixtures.ts';
import { inCI } from '../support/ci.ts';
import { filesUnder } from '../support/files.ts';

const goldenDir = path.join(repoRoot, 'test/render/golden');
const update = process.env.UPDATE_GOLDEN === '1';

const rendered = new Map<string, RenderResult>();
beforeAll(() => {
  for (const ex of examples) rendered.set(ex.name, renderModel(ex.model(), { setsOnly: ex.setsOnly }));
});

function artifactsOf(name: string, filter: (a: RenderResult['artifacts'][number]) => boolean) {
  return rendered.get(name)!.artifacts.filter(filter);
}

/** frr.conf, network.sh, daemons and netconf-ietf.xml: the files of this area. */
const isMine = (a: RenderResult['artifacts'][number]) => a.platform === 'frr' || a.artifact === 'netconf-ietf.xml';

describe('golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  for (const ex of examples) {
    it(`${ex.name}: every frr and netconf-ietf file matches test/render/golden/${ex.name}`, () => {
      const list = artifactsOf(ex.name, isMine);
      expect(list.length).toBeGreaterThan(0);
      for (const a of list) {
        const file = path.join(goldenDir, ex.name, a.path);
        if (update) {
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, a.content);
        }
        expect(existsSync(file), `${file} missing (run with UPDATE_GOLDEN=1)`).toBe(true);
        expect(a.content, a.path).toBe(readFileSync(file, 'utf8'));
      }
      // No stale golden files of this area.
      const dir = path.join(goldenDir, ex.name);
      const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
        .filter((p) => ['frr.conf', 'network.sh', 'daemons', 'netconf-ietf.xml'].includes(path.basename(p)));
      expect(onDisk.sort()).toEqual(list.map((a) => a.path).sort());
    });
  }

  it('two fresh processes render byte-identical output, equal to this (warm) one', () => {
    /** Every file under dir with its content. */
    const tree = (dir: string) => filesUnder(dir).map((f) => [path.relative(dir, f), readFileSync(f, 'utf8')]);
    for (const intent of ['dc1', 'dc2']) {
      // Different time zone, locale and working directory in each process: none may leak into a file.
      const envs = [
        { TZ: 'UTC', LC_ALL: 'C', LANG: 'C', cwd: repoRoot },
        { TZ: 'Pacific/Chatham', LC_ALL: 'de_DE.UTF-8', LANG: 'tr_TR.UTF-8', cwd: tmpdir() },
      ];
      const outs = envs.map(({ cwd, ...env }) => {
        const out = mkdtempSync(path.join(tmpdir(), `netloom-fresh-render-${intent}-`));
        const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'render', path.join(repoRoot, 'intents', intent), '--out', out], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return out;
      });
      try {
        const first = tree(outs[0]);
        expect(first.length).toBeGreaterThan(5);
        expect(tree(outs[1])).toEqual(first);
        if (intent === 'dc1') {
          const manifest = JSON.parse(readFileSync(path.join(outs[0], 'manifest.json'), 'utf8')) as { artifacts: { path: string; sha256: string }[] };
          const warm = renderModel(loadModelSync(path.join(repoRoot, 'intents/dc1')));
          expect(warm.artifacts.map((a) => [a.path, a.sha256])).toEqual(manifest.artifacts.map((a) => [a.path, a.sha256]));
        }
      } finally {
        for (const o of outs) rmSync(o, { recursive: true, force: true });
      }
    }
  }, 120_000); // four process starts: room on a loaded machine
});

describe.skipIf(!have('vtysh') && !inCI)('FRR parser accepts every frr.conf (vtysh -C -f) [needs vtysh]', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-render-vtysh-'));
  for (const ex of examples.filter((e) => !e.setsOnly)) {
    it(`${ex.name}`, () => {
      const list = artifactsOf(ex.name, (a) => a.artifact === 'frr.conf');
      expect(list.length).toBeGreaterThan(0);
      for (const a of list) {
        const file = path.join(dir, `${ex.name}-${a.device}.conf`);
        writeFileSync(file, a.content);
        const r = spawnSync('vtysh', ['-C', '-f', file], { encoding: 'utf8' });
        expect(r.status, `${a.path}: ${r.stdout}${r.stderr}`).toBe(0);
      }
    });
  }
  it('the check can fail: a misspelt command is rejected', () => {
    const file = path.join(dir, 'bad.conf');
    writeFileSync(file, rendered.get('dc1')!.artifacts.find((a) => a.artifact === 'frr.conf')!.content.replace('advertise-all-vni', 'advertise-all-vnis'));
    expect(spawnSync('vtysh', ['-C', '-f', file]).status).not.toBe(0);
  });
});

describe.skipIf(!have('yanglint') && !inCI)('yanglint validates every netconf-ietf payload [needs yanglint]', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-render-yang-'));
  const set = loadArtifactSets().find((s) => s.name === 'netconf-ietf')!;
  const yanglint = (file: string) =>
    spawnSync('yanglint', ['-p', '/usr/share/yuma/modules/ietf', '-t', 'config', ...yangModuleFiles(set.yang_modules), file], { encoding: 'utf8' });
  for (const ex of examples) {
    it(`${ex.name}`, () => {
      const list = artifactsOf(ex.name, (a) => a.artifact === 'netconf-ietf.xml');
      expect(list.length).toBe(ex.model().devices.length);
      for (const a of list) {
        const file = path.join(dir, `${ex.name}-${a.device}.xml`);
        writeFileSync(file, a.content);
        const r = yanglint(file);
        expect(r.status, `${a.path}: ${r.stdout}${r.stderr}`).toBe(0);
      }
    });
  }
  it('dc2 payloads carry the management default route (ietf-routing static)', () => {
    const a = artifactsOf('dc2', (x) => x.device === 'leaf1' && x.artifact === 'netconf-ietf.xml')[0];
    expect(a.content).toContain('<destination-prefix>0.0.0.0/0</destination-prefix>');
    expect(a.content).toContain('<next-hop-address>172.20.22.254</next-hop-address>');
    expect(a.content).toContain('<name>Ethernet1/1</name>');
  });
  it('the check can fail: an out-of-range MTU is rejected', () => {
    const file = path.join(dir, 'bad.xml');
    writeFileSync(file, rendered.get('dc1')!.artifacts.find((a) => a.artifact === 'netconf-ietf.xml')!.content.replace('<mtu>1500</mtu>', '<mtu>12</mtu>'));
    expect(yanglint(file).status).not.toBe(0);
  });
});

describe('frr partials', () => {
  const conf = (ex: string, dev: string, art = 'frr.conf') => artifactsOf(ex, (a) => a.device === dev && a.artifact === art)[0].content;

  it('eBGP unnumbered underlay + EVPN on the same sessions (dc1 leaf)', () => {
    const c = conf('dc1', 'leaf1');
    expect(c).toContain('frr defaults datacenter');
    expect(c).toMatch(/router bgp 65101\n bgp router-id 10\.0\.0\.1\n/);
    expect(c).toContain(' neighbor eth1 interface remote-as external\n');
    expect(c).toContain('  network 10.0.1.1/32\n'); // VTEP reachable through the underlay
    expect(c).toMatch(/address-family l2vpn evpn\n  neighbor eth1 activate\n  neighbor eth2 activate\n  advertise-all-vni\n  vni 10010\n   rd 10\.0\.0\.1:10\n   route-target import 65000:10010\n   route-target export 65000:10010\n  exit-vni/);
  });
  it('VRFs: vni under vrf, advertise ipv4/ipv6 unicast in the VRF l2vpn evpn', () => {
    const c = conf('dc1', 'leaf1');
    expect(c).toContain('vrf BLUE\n vni 50001\nexit-vrf');
    expect(c).toMatch(/router bgp 65101 vrf BLUE\n[^]*?route-target import 65000:50001\n  route-target export 65000:50001\n  advertise ipv4 unicast\n  advertise ipv6 unicast\n/);
    // RED has no IPv6 subnet: no IPv6 family.
    expect(c).toMatch(/router bgp 65101 vrf RED\n(?![^]*?advertise ipv6 unicast\n exit-address-family\nexit\n!\nline)/);
  });
  it('eBGP spine keeps the VTEP next hop and has no VNIs', () => {
    const c = conf('dc1', 'spine1');
    expect(c).toContain('  neighbor eth1 attribute-unchanged next-hop\n');
    expect(c).not.toContain('advertise-all-vni');
    expect(c).not.toContain('vrf ');
  });
  it('OSPF underlay: point-to-point fabric links, passive loopback, BFD', () => {
    const c = conf('dc2-frr', 'leaf2');
    expect(c).toMatch(/interface eth1\n description to spine1 eth2\n ip ospf area 0\.0\.0\.0\n ip ospf network point-to-point\n/);
    // Passive as FRR's running config shows it (on the interface), so a reload re-applies nothing.
    expect(c).toMatch(/interface lo\n description router id\n ip ospf area 0\.0\.0\.0\n ip ospf passive\n/);
    expect(c).toMatch(/router ospf\n ospf router-id 10\.2\.0\.2\nexit\n/);
    expect(c).not.toContain('hello-interval 10');
    expect(conf('dc2-frr', 'leaf2', 'daemons')).toMatch(/^ospfd=yes$/m);
    expect(conf('dc1', 'leaf1', 'daemons')).toMatch(/^ospfd=no$/m);
  });
  it('iBGP overlay: loopback sessions, spines reflect to leaves but not to each other', () => {
    const spine = conf('dc2-frr', 'spine1');
    expect(spine).toContain(' bgp cluster-id 10.2.0.101\n');
    expect(spine).toContain(' neighbor 10.2.0.4 update-source lo\n');
    expect(spine).toContain('  neighbor 10.2.0.4 route-reflector-client\n');
    expect(spine).not.toContain('  neighbor 10.2.0.102 route-reflector-client\n');
    const leaf = conf('dc2-frr', 'leaf4');
    expect(leaf).not.toContain('route-reflector-client');
    expect(leaf).not.toContain('address-family ipv4 unicast\n  network'); // OSPF carries the loopbacks
  });
  it('network.sh: symmetric IRB devices per VNI, tagged ports through sub-interfaces', () => {
    const sh = conf('dc2-frr', 'leaf4', 'network.sh');
    expect(sh).toContain('ensure_link PROD type vrf table 1010\n');
    expect(sh).toContain('ensure_link vx50010 type vxlan id 50010 local 10.2.1.4 dstport 4789 nolearning\n');
    expect(sh).toContain('  ensure_addrs br120 10.120.0.1/24\n');
    expect(conf('dc2-frr', 'leaf1', 'network.sh')).toContain('  ensure_addrs br110 10.110.0.1/24 fd00:110::1/64\n');
    expect(sh).toContain('set_mac br120 00:00:5e:00:01:01\n');
    expect(sh).toContain('ensure_link eth10.120 link eth10 type vlan id 120\nset_master eth10.120 br120\n');
    expect(sh).toContain('set_master eth11 br210\n');
    expect(sh.startsWith('#!/bin/sh\n# leaf4: network.sh')).toBe(true);
  });
});

describe('unsupported features are errors with the intent line', () => {
  it('FRR cannot relay DHCP: dc2 on FRR with dhcp_relay fails naming device, feature and line', () => {
    const model = loadModelSync(dc2AsFrr(true));
    let err: unknown;
    try {
      renderModel(model);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntentError);
    const d = (err as IntentError).diagnostics;
    const lines = readFileSync(path.join(model.intentDir, 'tenants.yaml'), 'utf8').split('\n');
    const frontend = lines.findIndex((l) => l.includes('name: frontend')) + 1;
    expect(d.length).toBeGreaterThan(0);
    for (const x of d) {
      expect(x.message).toMatch(/^device \S+: platform frr does not support feature 'dhcp-relay'$/);
      expect(x.loc.file).toMatch(/tenants\.yaml$/);
      expect(x.loc.line).toBe(frontend);
    }
    // Every leaf carrying the frontend network is named.
    expect(d.map((x) => x.message.split(':')[0]).sort()).toEqual(
      model.devices.filter((dev) => dev.vlans.some((v) => v.dhcpRelay.length)).map((dev) => `device ${dev.name}`).sort(),
    );
  });
  it('VRF names longer than a Linux device name are rejected on FRR', () => {
    const dir = editedIntent('dc1', (f, t) => (f === 'tenants.yaml' ? t.replace('name: BLUE', 'name: BLUE_TENANT_PRODUCTION') : t));
    expect(() => renderModel(loadModelSync(dir))).toThrow(/limits VRF names to 15 characters/);
  });
});

describe('finishArtifact', () => {
  it('puts the header after a shebang, squeezes blank lines, ends with one newline', () => {
    expect(finishArtifact('#!/bin/sh\n\n\nx  \n\n\ny\n\n', '# h')).toBe('#!/bin/sh\n# h\nx\n\ny\n');
    expect(finishArtifact('a\n', '! h')).toBe('! h\na\n');
  });
});
