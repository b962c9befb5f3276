/**
 * Multi-site resolution: every site's fabric intent resolves alone (the single-fabric
 * resolver, untouched: adding a site renumbers nothing in the others), then the sites merge
 * into one model with the WAN routers and the DCI links from `sites.yaml`. The DCI is
 * end-to-end VXLAN: border leaves peer eBGP unnumbered (IPv4 unicast + L2VPN EVPN) with the
 * WAN routers, which relay both with the EVPN next hop unchanged; each site keeps its own
 * route targets, and a VRF (or network) joined across the DCI imports the other sites'.
 * FRR has no EVPN multi-site border gateway (no type-5 re-origination at the border), hence
 * this design: every leaf reaches every remote VTEP over the joined underlays.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { loadIntentDir, type LoadOptions } from '../intent/load.ts';
import { sortDiagnostics, validateWith, type Locator, type Path } from '../intent/validate.ts';
import { multiSiteSchema, type SitesIntent } from '../intent/sites-schema.ts';
import { withDomains } from './resolve.ts';
import { IntentError, type Diagnostic, type SourceLocation } from '../util/errors.ts';
import { contains4, formatIpv4, nth4, overlaps4, overlaps6, parsePrefix4, type Prefix4 } from './ip.ts';
import { loadPlatforms } from './platforms.ts';
import { endsDci, isWanRole, WAN_ROLE } from '../domains/fabric/roles.ts';
import type { BgpSession, Device, FabricModel, Interface, Link, Network, Tenant, Vrf } from './types.ts';

export const SITES_FILE = 'sites.yaml';

/** One site of a multi-site model. */
export interface SiteInfo {
  name: string;
  id: number;
  /** The site's fabric name and intent directory. */
  fabric: string;
  dir: string;
  revision: string;
  routeTargetAsn: number;
  source: SourceLocation;
}

/** How the sites are joined. */
export interface DciInfo {
  /** WAN routers (device names) and their AS, when there is a WAN. */
  wan?: { asn: number; routers: string[] };
  /** Ids of the DCI links in model.links. */
  links: number[];
  /** VRFs routed across the sites, each with the route target of every site carrying it. */
  vrfs: { name: string; routeTargets: { site: string; routeTarget: string }[]; source: SourceLocation }[];
  /** Networks bridged across the sites. */
  stretch: { name: string; routeTargets: { site: string; routeTarget: string }[]; source: SourceLocation }[];
}

export const isSitesDir = (dir: string): boolean => {
  try {
    return statSync(dir).isDirectory() && existsSync(path.join(dir, SITES_FILE));
  } catch {
    return false;
  }
};

/** Link ids per site live in their own block, so site links never collide and a new site moves none. */
const SITE_LINK_BLOCK = 100_000;
const DCI_LINK_BASE = 100 * SITE_LINK_BLOCK;

class Diags {
  readonly list: Diagnostic[] = [];
  constructor(private readonly loc: Locator) {}
  at(p: Path, message: string, key = false): void {
    this.list.push({ loc: this.loc.at(p, key), message });
  }
  /** As a domain's resolve context: the same diagnostics, under the names domains use. */
  domainContext() {
    const platforms = loadPlatforms();
    return { diags: this.list, platforms, error: (p: Path, m: string, key = false) => this.at(p, m, key), at: (p: Path, key = false) => this.loc.at(p, key) };
  }
  on(loc: SourceLocation, message: string): void {
    this.list.push({ loc, message });
  }
  where(p: Path, key = false): SourceLocation {
    return this.loc.at(p, key);
  }
}

const fmt = (l: SourceLocation) => `${l.file}:${l.line}`;

export function resolveSites(dir: string, loadSite: (siteDir: string) => FabricModel, opts: LoadOptions = {}): FabricModel {
  // sites.yaml and the domain sections beside it that span the sites, as one document.
  const loaded = loadIntentDir(dir, undefined, opts);
  const { value: top, locator } = validateWith(multiSiteSchema, loaded);
  const intent = top as SitesIntent;
  if (!(top as Record<string, unknown>).sites) throw new IntentError([{ loc: { file: path.join(dir, SITES_FILE), line: 1, col: 1 }, message: `${SITES_FILE}: no sites section` }]);
  const d = new Diags(locator);
  const root = realpathSync(dir);

  // Every site alone; a broken site's own diagnostics are the error.
  const siteNames = Object.keys(intent.sites).sort((a, b) => intent.sites[a].id - intent.sites[b].id);
  const models = new Map<string, FabricModel>();
  const siteIds = new Map<number, string>();
  for (const s of siteNames) {
    const def = intent.sites[s];
    const prev = siteIds.get(def.id);
    if (prev) d.at(['sites', s, 'id'], `site '${s}': id ${def.id} is already site '${prev}'`);
    siteIds.set(def.id, s);
    const siteDir = path.join(dir, def.dir);
    if (!existsSync(siteDir) || !statSync(siteDir).isDirectory()) {
      d.at(['sites', s, 'dir'], `site '${s}': no directory '${def.dir}' beside ${SITES_FILE}`);
      continue;
    }
    if (!realpathSync(siteDir).startsWith(root + path.sep)) {
      d.at(['sites', s, 'dir'], `site '${s}': '${def.dir}' leads outside the multi-site directory`);
      continue;
    }
    try {
      models.set(s, loadSite(siteDir));
    } catch (e) {
      if (!(e instanceof IntentError)) throw e;
      d.list.push(...e.diagnostics);
    }
  }
  if (d.list.length) throw new IntentError(sortDiagnostics(d.list));

  checkSitesCompatible(intent, models, d);
  if (d.list.length) throw new IntentError(sortDiagnostics(d.list));

  const model = mergeSites(intent, models, d, dir);
  if (d.list.length) throw new IntentError(sortDiagnostics(d.list));
  withDomains(model, top as Record<string, unknown>, d.domainContext());
  const rev = createHash('sha256').update(loaded.revision);
  for (const m of models.values()) rev.update('\0').update(m.revision);
  model.revision = rev.digest('hex').slice(0, 16);
  return model;
}

/** What one merged model cannot hold: designs that differ, or names and numbers used twice. */
function checkSitesCompatible(intent: SitesIntent, models: Map<string, FabricModel>, d: Diags): void {
  const lab = parsePrefix4(intent.mgmt.subnet);
  const pools: { what: string; p: Prefix4; loc: SourceLocation }[] = [];
  const rtAsn = new Map<number, string>();
  const asnOwner = new Map<number, string>();
  const deviceSite = new Map<string, string>();
  const idOwner = new Map<number, { name: string; site: string }>();
  for (const [s, m] of models) {
    const at = d.where(['sites', s, 'dir']);
    if (m.fabric.underlay === 'ospf' || m.fabric.overlay.transport !== 'ebgp') {
      d.on(m.fabric.source, `site '${s}': a DCI needs each site's underlay and EVPN overlay in eBGP (this fabric runs ${m.fabric.underlay} with ${m.fabric.overlay.transport} EVPN; redistribution between an OSPF underlay and the WAN is not built)`);
    }
    const other = rtAsn.get(m.fabric.routeTargetAsn);
    if (other) d.on(m.fabric.source, `site '${s}': route target ASN ${m.fabric.routeTargetAsn} is also site '${other}''s: every VNI would be stretched between them; give each site its own fabric.overlay.route_target_asn`);
    rtAsn.set(m.fabric.routeTargetAsn, s);
    const mg = parsePrefix4(m.fabric.pools.mgmt);
    if (!(contains4(lab, mg.base) && contains4(lab, mg.base + mg.size - 1))) d.on(m.fabric.source, `site '${s}': management pool ${m.fabric.pools.mgmt} is outside the management network ${intent.mgmt.subnet} of ${SITES_FILE}`);
    pools.push({ what: `site '${s}' mgmt pool ${m.fabric.pools.mgmt}`, p: mg, loc: m.fabric.source });
    pools.push({ what: `site '${s}' loopback pool ${m.fabric.pools.loopback}`, p: parsePrefix4(m.fabric.pools.loopback), loc: m.fabric.source });
    if (m.fabric.pools.vtep !== m.fabric.pools.loopback) pools.push({ what: `site '${s}' VTEP pool ${m.fabric.pools.vtep}`, p: parsePrefix4(m.fabric.pools.vtep), loc: m.fabric.source });
    const siteAsns = new Set(m.devices.map((x) => x.asn));
    for (const a of siteAsns) {
      const o = asnOwner.get(a);
      if (o && o !== s) d.on(m.fabric.source, `site '${s}': ASN ${a} is also used in site '${o}' (eBGP loop prevention would drop the other site's routes)`);
      asnOwner.set(a, s);
    }
    for (const x of m.devices) {
      const o = deviceSite.get(x.name);
      if (o) d.on(x.source, `device '${x.name}' is also a device of site '${o}': device names are unique across sites`);
      deviceSite.set(x.name, s);
      const same = idOwner.get(x.id);
      if (same && same.site !== s) d.on(x.source, `device '${x.name}': id ${x.id} is also '${same.name}''s in site '${same.site}': router and system MACs derive from ids, so ids are unique across sites`);
      idOwner.set(x.id, { name: x.name, site: s });
    }
    for (const k of m.serviceNodes ?? []) {
      if (deviceSite.has(k.name)) d.on(k.source, `service node '${k.name}' has the name of a device of site '${deviceSite.get(k.name)}'`);
      deviceSite.set(k.name, s);
    }
    for (const dom of Object.keys(m.domains)) d.on(at, `site '${s}': its '${dom}' section belongs beside ${SITES_FILE} in a multi-site intent (domain sections span the sites)`);
  }
  if (intent.wan) {
    pools.push({ what: `WAN loopback pool ${intent.wan.pools.loopback}`, p: parsePrefix4(intent.wan.pools.loopback), loc: d.where(['wan', 'pools', 'loopback']) });
    const wm = parsePrefix4(intent.wan.pools.mgmt);
    pools.push({ what: `WAN mgmt pool ${intent.wan.pools.mgmt}`, p: wm, loc: d.where(['wan', 'pools', 'mgmt']) });
    if (!(contains4(lab, wm.base) && contains4(lab, wm.base + wm.size - 1))) d.at(['wan', 'pools', 'mgmt'], `WAN management pool ${intent.wan.pools.mgmt} is outside the management network ${intent.mgmt.subnet}`);
    const o = asnOwner.get(intent.wan.asn);
    if (o) d.at(['wan', 'asn'], `WAN ASN ${intent.wan.asn} is also used in site '${o}'`);
    for (const [r, def] of Object.entries(intent.wan.routers)) {
      if (deviceSite.has(r)) d.at(['wan', 'routers', r], `WAN router '${r}' has the name of a device of site '${deviceSite.get(r)}'`, true);
      const same = idOwner.get(def.id);
      if (same) d.at(['wan', 'routers', r, 'id'], `WAN router '${r}': id ${def.id} is also '${same.name}''s${same.site === 'wan' ? '' : ` in site '${same.site}'`}: ids are unique across sites and the WAN`);
      idOwner.set(def.id, { name: r, site: 'wan' });
    }
  }
  for (let i = 0; i < pools.length; i++)
    for (let j = i + 1; j < pools.length; j++) {
      const a = pools[i];
      const b = pools[j];
      if (overlaps4(a.p, b.p)) d.on(b.loc, `${b.what} overlaps ${a.what} (${fmt(a.loc)})`);
    }
}

function mergeSites(intent: SitesIntent, models: Map<string, FabricModel>, d: Diags, dir: string): FabricModel {
  const sites = [...models.entries()];
  const first = sites[0][1];
  const labMgmt = parsePrefix4(intent.mgmt.subnet);
  const gateway = intent.mgmt.gateway ?? formatIpv4(labMgmt.base + 1);
  const siteOf = new Map<string, string>();
  const devices: Device[] = [];
  const links: Link[] = [];
  const bgpSessions: BgpSession[] = [];
  const ospfAdjacencies = sites.flatMap(([, m]) => m.ospfAdjacencies);
  const serviceNodes = sites.flatMap(([, m]) => m.serviceNodes ?? []);
  const siteInfos: SiteInfo[] = [];

  for (const [s, m] of sites) {
    const def = intent.sites[s];
    const block = def.id * SITE_LINK_BLOCK;
    siteInfos.push({ name: s, id: def.id, fabric: m.name, dir: def.dir, revision: m.revision, routeTargetAsn: m.fabric.routeTargetAsn, source: d.where(['sites', s], true) });
    for (const x of m.devices) {
      siteOf.set(x.name, s);
      // The lab has one management network: the address stays, its prefix is the network's.
      const addr = x.mgmt.ipv4.split('/')[0];
      devices.push({
        ...x,
        site: s,
        mgmt: { ...x.mgmt, ipv4: `${addr}/${labMgmt.len}`, gateway },
        interfaces: x.interfaces.map((i) => (i.linkId === undefined ? i : { ...i, linkId: i.linkId + block })),
      });
    }
    for (const l of m.links) links.push({ ...l, id: l.id + block });
    bgpSessions.push(...m.bgpSessions);
  }
  const byName = new Map(devices.map((x) => [x.name, x]));

  // WAN routers: devices of their own, above every site.
  const platforms = loadPlatforms();
  const wanRouters: string[] = [];
  if (intent.wan) {
    const lo = parsePrefix4(intent.wan.pools.loopback);
    const mg = parsePrefix4(intent.wan.pools.mgmt);
    const pdef = platforms.get('frr')!;
    const mgmtTaken = new Map(devices.map((x) => [x.mgmt.ipv4.split('/')[0], x.name]));
    for (const [r, def] of Object.entries(intent.wan.routers).sort((a, b) => a[1].id - b[1].id)) {
      const l = nth4(lo, def.id);
      const mAddr = nth4(mg, def.id);
      if (l === undefined || def.id >= lo.size - 1) d.at(['wan', 'routers', r, 'id'], `WAN router '${r}': loopback pool ${intent.wan.pools.loopback} exhausted (id ${def.id})`);
      if (mAddr === undefined || def.id >= mg.size - 1) d.at(['wan', 'routers', r, 'id'], `WAN router '${r}': management pool ${intent.wan.pools.mgmt} exhausted (id ${def.id})`);
      if (l === undefined || mAddr === undefined) continue;
      const ma = formatIpv4(mAddr);
      if (mgmtTaken.has(ma)) d.at(['wan', 'routers', r, 'id'], `WAN router '${r}': management address ${ma} is already used by '${mgmtTaken.get(ma)}'`);
      if (ma === gateway) d.at(['wan', 'routers', r, 'id'], `WAN router '${r}': management address ${ma} is the management gateway`);
      const rid = formatIpv4(l);
      const source = d.where(['wan', 'routers', r], true);
      const dev: Device = {
        name: r,
        id: def.id,
        role: WAN_ROLE,
        platform: 'frr',
        pod: 0,
        site: 'wan',
        asn: intent.wan.asn,
        routerId: rid,
        loopback: `${rid}/32`,
        mgmt: { interface: pdef.interfaces.mgmt, ipv4: `${ma}/${labMgmt.len}`, gateway },
        interfaces: [
          { name: pdef.interfaces.mgmt, kind: 'mgmt', description: 'management', mtu: 1500, ipv4: `${ma}/${labMgmt.len}`, source },
          { name: pdef.interfaces.loopback, kind: 'loopback', description: 'router id', mtu: 65535, ipv4: `${rid}/32`, source },
        ],
        vrfs: [],
        vlans: [],
        bgpSessionIds: [],
        source,
      };
      devices.push(dev);
      byName.set(r, dev);
      siteOf.set(r, 'wan');
      wanRouters.push(r);
    }
  }

  // DCI links: a border leaf to a WAN router, or border leaves of two sites.
  const dciLinks: number[] = [];
  intent.dci.links.forEach((spec, i) => {
    const p: Path = ['dci', 'links', i];
    const ends = [spec.a, spec.b].map((e, k) => {
      const [dev, port] = e.split(':');
      const x = byName.get(dev);
      const key = k === 0 ? 'a' : 'b';
      if (!x) {
        d.at([...p, key], `DCI link: no device '${dev}' in any site or the WAN`);
        return undefined;
      }
      if (!endsDci(x.role)) {
        d.at([...p, key], `DCI link: '${dev}' is a ${x.role}; DCI links attach border leaves and WAN routers`);
        return undefined;
      }
      const pdef = platforms.get(x.platform);
      if (pdef && pdef.portNumber(port) === undefined) {
        d.at([...p, key], `DCI link: '${port}' is not a port name of ${x.platform} (${dev})`);
        return undefined;
      }
      const used = x.interfaces.find((f) => f.name === port);
      if (used) {
        d.at([...p, key], `DCI link: ${dev}:${port} is already used (${used.kind}: ${used.description})`);
        return undefined;
      }
      return { x, port };
    });
    const [a, b] = ends;
    if (!a || !b) return;
    if (a.x.name === b.x.name) return d.at(p, `DCI link: both ends are '${a.x.name}'`);
    const sa = siteOf.get(a.x.name)!;
    const sb = siteOf.get(b.x.name)!;
    if (sa === sb) return d.at(p, `DCI link: both ends are in ${sa === 'wan' ? 'the WAN' : `site '${sa}'`}; a DCI link joins a site to the WAN or to another site`);
    const id = DCI_LINK_BASE + i + 1;
    const source = d.where(p);
    const mtu = spec.mtu ?? Math.min(first.fabric.mtu, ...[a.x, b.x].map((x) => models.get(siteOf.get(x.name)!)?.fabric.mtu ?? first.fabric.mtu));
    const iface = (me: { x: Device; port: string }, peer: { x: Device; port: string }): Interface => ({
      name: me.port,
      kind: 'fabric',
      description: `DCI to ${peer.x.name}:${peer.port}`,
      mtu,
      peer: { device: peer.x.name, interface: peer.port },
      linkId: id,
      unnumbered: true,
      source,
    });
    a.x.interfaces.push(iface(a, b));
    b.x.interfaces.push(iface(b, a));
    links.push({ id, kind: 'explicit', a: { device: a.x.name, interface: a.port }, b: { device: b.x.name, interface: b.port }, mtu, source });
    const sid = `${a.x.name}:${a.port}--${b.x.name}:${b.port}`;
    bgpSessions.push({
      id: sid,
      layer: 'underlay+overlay',
      type: a.x.asn === b.x.asn ? 'ibgp' : 'ebgp',
      a: { device: a.x.name, asn: a.x.asn, routerId: a.x.routerId, interface: a.port },
      b: { device: b.x.name, asn: b.x.asn, routerId: b.x.routerId, interface: b.port },
      afiSafis: ['ipv4-unicast', 'l2vpn-evpn'],
      multihop: false,
      source,
    });
    a.x.bgpSessionIds.push(sid);
    b.x.bgpSessionIds.push(sid);
    if (a.x.asn === b.x.asn) d.at(p, `DCI link: ${a.x.name} and ${b.x.name} share ASN ${a.x.asn}; the DCI is eBGP`);
    dciLinks.push(id);
  });
  for (const x of devices) if (isWanRole(x.role)) x.bgpSessionIds.sort();
  for (const x of devices) {
    const pdef = platforms.get(x.platform);
    const num = (n: string) => (pdef?.portNumber(n) ?? -1);
    const rank = (i: Interface) => (i.kind === 'mgmt' ? 0 : i.kind === 'loopback' || i.kind === 'vtep' ? 1 : 2);
    x.interfaces.sort((p, q) => rank(p) - rank(q) || (rank(p) < 2 ? 0 : num(p.name) - num(q.name) || (p.name < q.name ? -1 : p.name > q.name ? 1 : 0)));
  }
  for (const r of wanRouters) if (!byName.get(r)!.bgpSessionIds.length) d.at(['wan', 'routers', r], `WAN router '${r}' has no DCI link`, true);

  const { tenants, vrfs, networks, dciVrfs, stretch } = mergeTenants(intent, models, devices, d);
  const endpoints = sites.flatMap(([s, m]) => {
    for (const e of m.endpoints) {
      const o = sites.find(([t, n]) => t !== s && n.endpoints.some((f) => f.name === e.name));
      if (o && o[0] > s) d.on(e.source, `endpoint '${e.name}' is also an endpoint of site '${o[0]}': endpoint names are unique across sites`);
    }
    return m.endpoints;
  });

  return {
    schemaVersion: 1,
    name: intent.name,
    revision: '',
    intentDir: dir,
    fabric: { ...first.fabric, pools: { ...first.fabric.pools, mgmt: intent.mgmt.subnet, mgmtGateway: gateway } },
    devices,
    links: links.sort((a, b) => a.id - b.id),
    bgpSessions: bgpSessions.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ospfAdjacencies,
    tenants,
    vrfs,
    networks,
    endpoints: endpoints.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    ...(serviceNodes.length ? { serviceNodes } : {}),
    sites: siteInfos,
    dci: { ...(intent.wan ? { wan: { asn: intent.wan.asn, routers: wanRouters } } : {}), links: dciLinks, vrfs: dciVrfs, stretch },
    domains: {},
  };
}

/**
 * Tenants, VRFs and networks of every site as one set: a VRF or tenant of the same name is
 * one object (its networks and devices the union); a network name is one site's unless it is
 * stretched, and then identical in every site. Joined VRFs and stretched networks import the
 * route targets of the other sites, on each device carrying them.
 */
function mergeTenants(intent: SitesIntent, models: Map<string, FabricModel>, devices: Device[], d: Diags) {
  const tenants = new Map<string, Tenant>();
  const vrfs = new Map<string, Vrf>();
  const vrfSite = new Map<string, Map<string, Vrf>>();
  const networks = new Map<string, Network>();
  const netSite = new Map<string, Map<string, Network>>();
  for (const [s, m] of models) {
    for (const t of m.tenants) {
      const o = tenants.get(t.name);
      tenants.set(t.name, o ? { ...o, vrfs: [...new Set([...o.vrfs, ...t.vrfs])].sort() } : { ...t, vrfs: [...t.vrfs] });
    }
    for (const v of m.vrfs) {
      if (!vrfSite.has(v.name)) vrfSite.set(v.name, new Map());
      vrfSite.get(v.name)!.set(s, v);
      const o = vrfs.get(v.name);
      if (!o) vrfs.set(v.name, { ...v, networks: [...v.networks], devices: [...v.devices] });
      else {
        if (o.tenant !== v.tenant) d.on(v.source, `VRF '${v.name}' belongs to tenant '${v.tenant}' here and to '${o.tenant}' in another site (${fmt(o.source)})`);
        o.networks = [...new Set([...o.networks, ...v.networks])].sort();
        o.devices = [...new Set([...o.devices, ...v.devices])].sort();
      }
    }
    for (const n of m.networks) {
      if (!netSite.has(n.name)) netSite.set(n.name, new Map());
      netSite.get(n.name)!.set(s, n);
      const o = networks.get(n.name);
      if (!o) networks.set(n.name, { ...n, leaves: [...n.leaves] });
      else o.leaves = [...new Set([...o.leaves, ...n.leaves])].sort();
    }
  }

  // Networks of the same name: only stretched ones, identical in each site.
  const stretchSet = new Set(intent.dci.stretch);
  intent.dci.stretch.forEach((n, i) => {
    const per = netSite.get(n);
    if (!per) d.at(['dci', 'stretch', i], `stretched network '${n}' is no network of any site`);
    else if (per.size < 2) d.at(['dci', 'stretch', i], `stretched network '${n}' exists only in site '${[...per.keys()][0]}'`);
  });
  for (const [n, per] of netSite) {
    if (per.size < 2) continue;
    const list = [...per.entries()];
    const [s0, n0] = list[0];
    for (const [s, x] of list.slice(1)) {
      if (!stretchSet.has(n)) {
        d.on(x.source, `network '${n}' is also a network of site '${s0}' (${fmt(n0.source)}): list it under dci.stretch to bridge it between the sites, or rename one`);
        continue;
      }
      for (const k of ['vrf', 'vlan', 'l2vni', 'subnet', 'gateway', 'subnet6', 'gateway6'] as const) {
        if (x[k] !== n0[k]) d.on(x.source, `stretched network '${n}': ${k} ${x[k] ?? '(none)'} in site '${s}' differs from ${n0[k] ?? '(none)'} in site '${s0}' (${fmt(n0.source)})`);
      }
    }
  }

  // Joined VRFs: one L3 VNI everywhere (a Linux VXLAN device carries one VNI) and no overlapping subnets.
  const dciVrfs: DciInfo['vrfs'] = [];
  intent.dci.vrfs.forEach((v, i) => {
    const per = vrfSite.get(v);
    const p: Path = ['dci', 'vrfs', i];
    if (!per) return d.at(p, `DCI VRF '${v}' is no VRF of any site`);
    if (per.size < 2) return d.at(p, `DCI VRF '${v}' exists only in site '${[...per.keys()][0]}'`);
    const list = [...per.entries()];
    for (const [s, x] of list.slice(1)) {
      if (x.l3vni !== list[0][1].l3vni) d.on(x.source, `DCI VRF '${v}': L3 VNI ${x.l3vni} in site '${s}' differs from ${list[0][1].l3vni} in site '${list[0][0]}': FRR's per-VNI VXLAN devices need one L3 VNI for a VRF routed across sites`);
    }
    dciVrfs.push({ name: v, routeTargets: list.map(([s, x]) => ({ site: s, routeTarget: x.routeTarget })), source: d.where(p) });
  });
  for (const v of dciVrfs) {
    const nets = [...networks.values()].filter((n) => n.vrf === v.name && !stretchSet.has(n.name));
    for (let i = 0; i < nets.length; i++)
      for (let j = i + 1; j < nets.length; j++) {
        const a = nets[i];
        const b = nets[j];
        const clash = (a.subnet && b.subnet && overlaps4(parsePrefix4(a.subnet), parsePrefix4(b.subnet))) || (a.subnet6 && b.subnet6 && overlaps6(a.subnet6, b.subnet6));
        if (clash) d.on(b.source, `DCI VRF '${v.name}': network '${b.name}' overlaps network '${a.name}' (${fmt(a.source)}) of another site`);
      }
  }
  const dciStretch: DciInfo['stretch'] = intent.dci.stretch
    .filter((n) => (netSite.get(n)?.size ?? 0) > 1)
    .map((n) => ({ name: n, routeTargets: [...netSite.get(n)!.entries()].map(([s, x]) => ({ site: s, routeTarget: x.routeTarget })), source: d.where(['dci', 'stretch', intent.dci.stretch.indexOf(n)]) }));

  // Route-target import across the DCI, on every device carrying the VRF or network.
  const vrfImport = new Map(dciVrfs.map((v) => [v.name, v.routeTargets]));
  const netImport = new Map(dciStretch.map((n) => [n.name, n.routeTargets]));
  const add = (list: string[], rts: { site: string; routeTarget: string }[] | undefined, site: string | undefined) => {
    const out = [...list];
    for (const r of rts ?? []) if (r.site !== site && !out.includes(r.routeTarget)) out.push(r.routeTarget);
    return out;
  };
  for (const x of devices) {
    if (!x.vrfs.length && !x.vlans.length) continue;
    x.vrfs = x.vrfs.map((f) => ({ ...f, routeTargets: { ...f.routeTargets, import: add(f.routeTargets.import, vrfImport.get(f.name), x.site) } }));
    x.vlans = x.vlans.map((l) => {
      const net = [...networks.values()].find((n) => n.vlan === l.vlan && n.l2vni === l.l2vni && n.leaves.includes(x.name));
      return net && netImport.has(net.name) ? { ...l, routeTargets: { ...l.routeTargets, import: add(l.routeTargets.import, netImport.get(net.name), x.site) } } : l;
    });
  }
  const byName = <T extends { name: string }>(m: Map<string, T>) => [...m.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tenants: byName(tenants), vrfs: byName(vrfs), networks: byName(networks), dciVrfs, stretch: dciStretch };
}

