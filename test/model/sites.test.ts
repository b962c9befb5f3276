/**
 * Multi-site intents (sites.yaml): resolution of intents/mdc, stability when a site is added,
 * and the errors at file:line:col for what one merged model cannot hold.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { IntentError } from '../../src/util/errors.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { renderModel } from '../../src/render/index.ts';
import { repoRoot } from '../support/intent-copy.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function copy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-sites-'));
  dirs.push(dir);
  cpSync(path.join(repoRoot, 'intents/mdc'), dir, { recursive: true });
  return dir;
}

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: nothing replaced for ${from}`);
  writeFileSync(file, next);
}

function errorsOf(dir: string): string[] {
  try {
    loadModelSync(dir);
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map((d) => `${path.relative(dir, d.loc.file.startsWith('/') ? d.loc.file : path.resolve(d.loc.file))}:${d.loc.line}:${d.loc.col}: ${d.message}`);
    throw e;
  }
  return [];
}

describe('multi-site model (intents/mdc)', () => {
  const model = loadModelSync(path.join(repoRoot, 'intents/mdc'));
  const dev = (n: string) => model.devices.find((d) => d.name === n)!;

  it('merges both sites and the WAN: devices by site, DCI links and sessions', () => {
    expect(model.sites?.map((s) => `${s.name}:${s.fabric}:${s.routeTargetAsn}`)).toEqual(['dc1:mdc-dc1:65010', 'dc2:mdc-dc2:65020']);
    const bySite = new Map<string, string[]>();
    for (const d of model.devices) bySite.set(d.site!, [...(bySite.get(d.site!) ?? []), d.name]);
    expect(bySite.get('wan')).toEqual(['wan1', 'wan2']);
    expect(bySite.get('dc1')?.length).toBe(6);
    expect(bySite.get('dc2')?.length).toBe(6);
    expect(model.dci?.wan).toEqual({ asn: 65500, routers: ['wan1', 'wan2'] });
    expect(model.dci?.links).toHaveLength(8);
    const dci = model.bgpSessions.filter((s) => s.a.device === 'wan1' || s.b.device === 'wan1');
    expect(dci.map((s) => s.id).sort()).toEqual(['border11:eth20--wan1:eth1', 'border12:eth20--wan1:eth2', 'border21:eth20--wan1:eth3', 'border22:eth20--wan1:eth4']);
    expect(dci.every((s) => s.type === 'ebgp' && s.afiSafis.join() === 'ipv4-unicast,l2vpn-evpn')).toBe(true);
    expect(dev('wan1')).toMatchObject({ role: 'wan', asn: 65500, loopback: '10.255.0.91/32', mgmt: { ipv4: '172.20.41.219/23', gateway: '172.20.41.254' } });
    // A site's management address keeps its offset; its prefix is the lab network's.
    expect(dev('leaf21').mgmt.ipv4).toBe('172.20.41.21/23');
    expect(model.fabric.pools.mgmt).toBe('172.20.40.0/23');
  });

  it('imports the other site\'s route targets for joined VRFs and stretched networks only', () => {
    const leaf11 = dev('leaf11');
    expect(leaf11.vrfs.find((v) => v.name === 'BLUE')?.routeTargets).toEqual({ import: ['65010:50001', '65020:50001'], export: ['65010:50001'] });
    expect(leaf11.vlans.find((v) => v.vlan === 10)?.routeTargets).toEqual({ import: ['65010:10010'], export: ['65010:10010'] });
    const leaf22 = dev('leaf22');
    expect(leaf22.vlans.find((v) => v.vlan === 30)?.routeTargets).toEqual({ import: ['65020:10030', '65010:10030'], export: ['65020:10030'] });
    expect(model.dci?.vrfs.map((v) => v.name)).toEqual(['BLUE', 'RED']);
    expect(model.dci?.stretch.map((n) => n.name)).toEqual(['db']);
    expect(model.networks.find((n) => n.name === 'db')?.leaves).toEqual(['leaf12', 'leaf22']);
  });

  it('adding a site renumbers nothing in the others', () => {
    const dir = copy();
    edit(path.join(dir, 'sites.yaml'), 'subnet: 172.20.40.0/23', 'subnet: 172.20.40.0/22');
    edit(path.join(dir, 'sites.yaml'), '  dc2: { id: 2, dir: dc2, description: Frankfurt }', '  dc2: { id: 2, dir: dc2, description: Frankfurt }\n  dc3: { id: 3, dir: dc3 }');
    edit(path.join(dir, 'sites.yaml'), '  vrfs: [BLUE, RED]', '    - { a: border31:eth20, b: wan1:eth5 }\n    - { a: border31:eth21, b: wan2:eth5 }\n  vrfs: [BLUE, RED]');
    mkdirSync(path.join(dir, 'dc3'));
    writeFileSync(
      path.join(dir, 'dc3', 'fabric.yaml'),
      'fabric: { name: mdc-dc3, underlay: ebgp-unnumbered, overlay: { transport: ebgp, route_target_asn: 65030 }, asn: { spine: 65700, leaf: 65701-65749 }, mtu: 9216, host_mtu: 1500 }\npools: { loopback: 10.3.0.0/24, vtep: 10.3.1.0/24, mgmt: 172.20.42.0/24 }\n',
    );
    writeFileSync(path.join(dir, 'dc3', 'nodes.yaml'), 'nodes:\n  spine31: { role: spine, platform: frr, id: 131 }\n  leaf31: { role: leaf, platform: frr, id: 31 }\n  border31: { role: border-leaf, platform: frr, id: 35 }\n');
    writeFileSync(
      path.join(dir, 'dc3', 'tenants.yaml'),
      'tenants:\n  - name: blue\n    vrfs:\n      - name: BLUE\n        id: 1\n        networks:\n          - { name: web3, vlan: 12, subnet: 10.13.10.0/24, gateway: 10.13.10.1 }\nendpoints:\n  - { name: h31, leaf: leaf31, port: eth10, vlan: 12, ipv4: 10.13.10.31/24 }\n',
    );
    const bigger = loadModelSync(dir);
    expect(bigger.devices).toHaveLength(17);
    for (const d of model.devices) {
      const e = bigger.devices.find((x) => x.name === d.name)!;
      expect({ lo: e.loopback, vtep: e.vtep, asn: e.asn, mgmt: e.mgmt.ipv4.split('/')[0], links: e.interfaces.filter((i) => d.interfaces.some((x) => x.name === i.name)).map((i) => `${i.name}:${i.linkId ?? ''}`) }, d.name).toEqual({
        lo: d.loopback,
        vtep: d.vtep,
        asn: d.asn,
        mgmt: d.mgmt.ipv4.split('/')[0],
        links: d.interfaces.map((i) => `${i.name}:${i.linkId ?? ''}`),
      });
      // Only the new site's route target joins the imports of the VRF it shares.
      for (const v of d.vrfs) expect(e.vrfs.find((x) => x.name === v.name)?.routeTargets.import.filter((rt) => rt !== '65030:50001')).toEqual(v.routeTargets.import);
    }
    expect(bigger.devices.find((d) => d.name === 'leaf11')!.vrfs.find((v) => v.name === 'BLUE')!.routeTargets.import).toContain('65030:50001');
  });

  it('says at file:line:col what one merged model cannot hold', () => {
    const dir = copy();
    edit(path.join(dir, 'dc2', 'nodes.yaml'), 'leaf21: { group: leaves, id: 21 }', 'leaf21: { group: leaves, id: 1 }');
    edit(path.join(dir, 'dc2', 'fabric.yaml'), 'route_target_asn: 65020', 'route_target_asn: 65010');
    edit(path.join(dir, 'sites.yaml'), '{ a: border21:eth20, b: wan1:eth3 }', '{ a: spine21:eth20, b: wan1:eth3 }');
    edit(path.join(dir, 'sites.yaml'), '{ a: border22:eth21, b: wan2:eth4 }', '{ a: border22:eth1, b: wan2:eth4 }');
    edit(path.join(dir, 'sites.yaml'), 'vrfs: [BLUE, RED]', 'vrfs: [BLUE, RED, GREEN]');
    expect(errorsOf(dir)).toEqual([
      "dc2/fabric.yaml:3:1: site 'dc2': route target ASN 65010 is also site 'dc1''s: every VNI would be stretched between them; give each site its own fabric.overlay.route_target_asn",
      "dc2/nodes.yaml:11:3: device 'leaf21': id 1 is also 'leaf11''s in site 'dc1': router and system MACs derive from ids, so ids are unique across sites",
    ]);
    // Compatible sites, then the DCI's own errors.
    edit(path.join(dir, 'dc2', 'nodes.yaml'), 'leaf21: { group: leaves, id: 1 }', 'leaf21: { group: leaves, id: 21 }');
    edit(path.join(dir, 'dc2', 'fabric.yaml'), 'route_target_asn: 65010', 'route_target_asn: 65020');
    expect(errorsOf(dir)).toEqual([
      "sites.yaml:25:12: DCI link: 'spine21' is a spine; DCI links attach border leaves and WAN routers",
      "sites.yaml:28:12: DCI link: border22:eth1 is already used (fabric: to spine21 eth26)",
      "sites.yaml:29:21: DCI VRF 'GREEN' is no VRF of any site",
    ]);
  });

  it('refuses a site directory outside the multi-site directory and an OSPF site', () => {
    const dir = copy();
    edit(path.join(dir, 'sites.yaml'), 'dir: dc2,', 'dir: ../dc2,');
    expect(errorsOf(dir)[0]).toMatch(/^sites\.yaml:12:\d+: sites\.dc2\.dir: must be the name of a directory beside sites\.yaml/);
    const ospf = copy();
    edit(path.join(ospf, 'dc2', 'fabric.yaml'), /underlay: ebgp-unnumbered\n  overlay:\n    transport: ebgp/, 'underlay: ospf\n  overlay:\n    transport: ibgp');
    edit(path.join(ospf, 'dc2', 'fabric.yaml'), /  asn:\n    spine: 65200\n    leaf: 65201-65249\n    leaf_scheme: per-leaf/, '  asn:\n    fabric: 65200');
    edit(path.join(ospf, 'dc2', 'fabric.yaml'), 'pools:', 'pools:\n  p2p: 10.2.128.0/20');
    expect(errorsOf(ospf)).toEqual([expect.stringMatching(/^dc2\/fabric\.yaml:3:1: site 'dc2': a DCI needs each site's underlay and EVPN overlay in eBGP \(this fabric runs ospf with ibgp EVPN/)]);
  });

  it('verifies across the sites: cross-site pairs in the matrix, a lone WAN router named as the single point of failure', () => {
    const ok = verifyStatic(model);
    expect(ok.results.filter((r) => !r.passed).map((r) => r.check.id)).toEqual([]);
    expect(ok.results.find((r) => r.check.id === 'endpoint-reachability')?.examined).toBe('15 endpoint pairs: 2 bridged, 5 routed, 8 isolated, 0 wrong');
    const dir = copy();
    const f = path.join(dir, 'sites.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').split('\n').filter((l) => !l.includes('wan2')).join('\n'));
    const one = verifyStatic(loadModelSync(dir));
    const spof = one.results.find((r) => r.check.id === 'single-points-of-failure')!;
    expect(spof.findings.map((x) => `${x.location?.file.endsWith('sites.yaml') ? 'sites.yaml' : x.location?.file}:${x.location?.line}: ${x.message}`)).toEqual(['sites.yaml:17: wan1 is an articulation point: losing it cuts 4 VTEPs off the rest of the underlay']);
    expect(one.results.filter((r) => !r.passed).map((r) => r.check.id)).toEqual(['single-points-of-failure']);
  });

  it('joins border leaves directly, without WAN routers', () => {
    const dir = copy();
    const f = path.join(dir, 'sites.yaml');
    const text = readFileSync(f, 'utf8');
    const dci = text.slice(text.indexOf('dci:'));
    writeFileSync(f, text.slice(0, text.indexOf('wan:')) + dci.replace(/  links:\n(    - .*\n)+/, '  links:\n    - { a: border11:eth20, b: border21:eth20 }\n    - { a: border12:eth20, b: border22:eth20 }\n'));
    const direct = loadModelSync(dir);
    expect(direct.dci?.wan).toBeUndefined();
    expect(direct.bgpSessions.filter((x) => x.id.includes('--border2')).map((x) => `${x.id} ${x.a.asn}-${x.b.asn}`)).toEqual(['border11:eth20--border21:eth20 65115-65225', 'border12:eth20--border22:eth20 65116-65226']);
    const r = verifyStatic(direct);
    expect(r.results.filter((x) => !x.passed).map((x) => x.check.id)).toEqual([]);
    expect(r.results.find((x) => x.check.id === 'endpoint-reachability')?.examined).toBe('15 endpoint pairs: 2 bridged, 5 routed, 8 isolated, 0 wrong');
  });

  it('renders the DCI for FRR; a border leaf on a platform without the end-to-end relay is an error at its DCI link', () => {
    const r = renderModel(model);
    const wan1 = r.artifacts.find((a) => a.device === 'wan1' && a.path.endsWith('frr.conf'))!.content;
    expect(wan1).toContain('router bgp 65500');
    expect(wan1).toMatch(/neighbor eth3 interface remote-as external\n neighbor eth3 description border21/);
    expect(wan1).toContain('  neighbor eth3 attribute-unchanged next-hop');
    const border = r.artifacts.find((a) => a.device === 'border21' && a.path.endsWith('frr.conf'))!.content;
    expect(border).toContain(' neighbor eth20 description wan1');
    expect(border).toContain('  neighbor eth20 attribute-unchanged next-hop');
    expect(border).toMatch(/route-target import 65010:50001/);
    const dir = copy();
    edit(path.join(dir, 'dc2', 'nodes.yaml'), 'borders: { role: border-leaf, platform: frr }', 'borders: { role: border-leaf, platform: eos }');
    edit(path.join(dir, 'sites.yaml'), /border2(\d):eth2(\d)/g, 'border2$1:Ethernet2$2');
    let err = '';
    try {
      renderModel(loadModelSync(dir));
    } catch (e) {
      err = e instanceof IntentError ? e.diagnostics.map((d) => `${path.basename(d.loc.file)}:${d.loc.line}: ${d.message}`).join('\n') : String(e);
    }
    expect(err).toBe("sites.yaml:25: device border21: platform eos does not support overlay 'evpn-dci'\nsites.yaml:27: device border22: platform eos does not support overlay 'evpn-dci'");
  });
});
