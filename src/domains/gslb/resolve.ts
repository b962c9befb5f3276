/**
 * `gslb:` intent -> GslbModel (model.ts). Sites, pools, SLB VIPs (model.domains.slb),
 * endpoints, DNS servers' leaves, VRFs and networks are resolved here, every error at its
 * intent line; later stages read only the model.
 */
import { containsCidr, normalizeCidr } from 'cidr-tools';
import type { Path } from '../../intent/validate.ts';
import type { FabricModel } from '../../model/types.ts';
import { isLeafRole } from '../fabric/roles.ts';
import type { SlbModel } from '../slb/model.ts';
import type { DomainResolveContext } from '../types.ts';
import type { ServiceNodeRequest } from '../../model/service-nodes.ts';
import { powerdnsRun } from './render-powerdns.ts';
import { durationMs } from '../slb/intent.ts';
import type { GslbIntent } from './intent.ts';
import type { GslbDnsServer, GslbHealthCheck, GslbMember, GslbModel, GslbName, GslbPool, RecordType } from './model.ts';

const ROOT = 'gslb';
const canon = (a: string) => normalizeCidr(a);
const hostOf = (c: string) => c.split('/')[0];
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const known = (names: string[]) => (names.length ? ` (known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})` : ' (none defined)');

/** The longest zone that contains `fqdn`, or undefined. */
export function zoneOf(fqdn: string, zones: readonly string[]): string | undefined {
  return zones.filter((z) => fqdn === z || fqdn.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
}

export function resolveGslb(ctx: DomainResolveContext, g: GslbIntent, model: FabricModel): GslbModel {
  // A multi-site model's sites, then the ones the section adds (outside the intent: addresses only).
  const sites = new Set<string>((model.sites ?? []).map((s) => s.name));
  g.sites.forEach((s, i) => {
    if (sites.has(s)) ctx.error([ROOT, 'sites', i], model.sites?.some((x) => x.name === s) ? `site '${s}' is a site of sites.yaml already` : `site '${s}' is listed twice`);
    sites.add(s);
  });
  if (!sites.size) ctx.error([ROOT], 'gslb: no sites (list them in gslb.sites, or make this a multi-site intent with sites.yaml)', true);
  const site = (s: string, path: Path, what: string): boolean => {
    if (sites.has(s)) return true;
    ctx.error(path, `${what}: unknown site '${s}'${known([...sites])}`);
    return false;
  };
  const zones = [...new Set(g.zones)];

  const healthChecks = Object.entries(g.health_checks).map(([n, h]): GslbHealthCheck => ({
    name: n, type: h.type, port: h.port, path: h.path, expectStatus: h.expect_status, ...(h.expect_content ? { expectContent: h.expect_content } : {}),
    intervalMs: durationMs(h.interval), timeoutMs: durationMs(h.timeout), failures: h.failures, source: ctx.at([ROOT, 'health_checks', n], true),
  }));
  for (const h of healthChecks) {
    if (h.type === 'tcp' && (h.expectContent || g.health_checks[h.name].path !== '/')) ctx.error([ROOT, 'health_checks', h.name], `health check '${h.name}': path and expect_content belong to http checks`, true);
  }

  const slb = model.domains.slb as SlbModel | undefined;
  const pools: GslbPool[] = [];
  for (const [pn, p] of Object.entries(g.pools)) {
    const base: Path = [ROOT, 'pools', pn];
    site(p.site, [...base, 'site'], `pool '${pn}'`);
    const members: GslbMember[] = [];
    p.members.forEach((m, i) => {
      const mp: Path = [...base, 'members', i];
      const given = [m.vip, m.endpoint, m.address].filter((x) => x !== undefined).length;
      if (given !== 1) return ctx.error(mp, `pool '${pn}': a member names exactly one of vip, endpoint or address`);
      let ipv4: string | undefined;
      let ipv6: string | undefined;
      let ref: string;
      let kind: GslbMember['kind'];
      if (m.vip !== undefined) {
        const svc = slb?.services.find((s) => s.name === m.vip);
        if (!svc) return ctx.error([...mp, 'vip'], `pool '${pn}': unknown SLB virtual service '${m.vip}'${known(slb?.services.map((s) => s.name) ?? [])}`);
        ipv4 = svc.vips.find((a) => !a.includes(':'));
        ipv6 = svc.vips.find((a) => a.includes(':'));
        ref = `vip:${m.vip}`;
        kind = 'vip';
      } else if (m.endpoint !== undefined) {
        const ep = model.endpoints.find((e) => e.name === m.endpoint);
        if (!ep) return ctx.error([...mp, 'endpoint'], `pool '${pn}': unknown endpoint '${m.endpoint}'${known(model.endpoints.map((e) => e.name))}`);
        const epSite = model.devices.find((d) => d.name === ep.leaf)?.site;
        if (model.sites && epSite !== p.site) return ctx.error([...mp, 'endpoint'], `pool '${pn}' serves from site '${p.site}', but endpoint '${m.endpoint}' is in site '${epSite}'`);
        ipv4 = ep.ipv4 && hostOf(ep.ipv4);
        ipv6 = ep.ipv6 && canon(hostOf(ep.ipv6));
        ref = `endpoint:${m.endpoint}`;
        kind = 'endpoint';
      } else {
        const list = Array.isArray(m.address) ? m.address : [m.address!];
        ipv4 = list.find((a) => !a.includes(':'));
        ipv6 = list.find((a) => a.includes(':'));
        if (list.length === 2 && (!ipv4 || !ipv6)) return ctx.error([...mp, 'address'], `pool '${pn}': two addresses are one IPv4 and one IPv6`);
        ipv4 = ipv4 && canon(ipv4);
        ipv6 = ipv6 && canon(ipv6);
        ref = list.map(canon).join(',');
        kind = 'address';
      }
      const dup = members.find((x) => (ipv4 && x.ipv4 === ipv4) || (ipv6 && x.ipv6 === ipv6));
      if (dup) return ctx.error(mp, `pool '${pn}': member ${ref} has the address of member ${dup.ref}`);
      members.push({ ref, kind, ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), weight: m.weight, source: ctx.at(mp) });
    });
    pools.push({ name: pn, site: p.site, members, source: ctx.at(base, true) });
  }

  const names: GslbName[] = [];
  const seen = new Map<string, number>();
  g.names.forEach((n, i) => {
    const base: Path = [ROOT, 'names', i];
    const prev = seen.get(n.name);
    if (prev !== undefined) {
      const l = ctx.at([ROOT, 'names', prev, 'name']);
      ctx.error([...base, 'name'], `GSLB name '${n.name}' is defined twice (first at ${l.file}:${l.line}:${l.col})`);
      return;
    }
    seen.set(n.name, i);
    const zone = zoneOf(n.name, zones);
    if (!zone) ctx.error([...base, 'name'], `GSLB name '${n.name}' lies in none of the zones (${zones.join(', ')})`);
    else if (zone === n.name) ctx.error([...base, 'name'], `GSLB name '${n.name}' is a zone apex: its SOA and NS live there; use a name below it`);
    n.pools.forEach((p, j) => {
      if (!g.pools[p]) ctx.error([...base, 'pools', j], `GSLB name '${n.name}': unknown pool '${p}'${known(Object.keys(g.pools))}`);
      else if (n.pools.indexOf(p) !== j) ctx.error([...base, 'pools', j], `GSLB name '${n.name}': pool '${p}' is listed twice`);
    });
    if (n.health_check && !g.health_checks[n.health_check]) ctx.error([...base, 'health_check'], `GSLB name '${n.name}': unknown health check '${n.health_check}'${known(Object.keys(g.health_checks))}`);
    const topo = n.policy === 'topology';
    if (!topo && (n.topology || n.fallback)) ctx.error([...base, n.topology ? 'topology' : 'fallback'], `GSLB name '${n.name}': topology and fallback belong to the topology policy (this name's policy is ${n.policy})`, true);
    if (topo && !n.topology?.length) ctx.error([...base, 'policy'], `GSLB name '${n.name}': the topology policy needs topology rules (client subnets -> site order)`);
    const rules = (n.topology ?? []).map((r, k) => {
      r.sites.forEach((s, j) => site(s, [...base, 'topology', k, 'sites', j], `GSLB name '${n.name}'`));
      return { subnets: r.subnets.map((s) => normalizeCidr(s)), sites: [...r.sites], source: ctx.at([...base, 'topology', k]) };
    });
    (n.fallback ?? []).forEach((s, j) => site(s, [...base, 'fallback', j], `GSLB name '${n.name}'`));
    const types = [...new Set(n.types)].sort() as RecordType[];
    names.push({
      name: n.name, zone: zone ?? '', types, policy: n.policy, pools: [...n.pools], ...(n.health_check ? { health: n.health_check } : {}),
      ttl: n.ttl ?? g.ttl, topology: rules, fallback: [...(n.fallback ?? [])], source: ctx.at(base),
    });
  });

  const servers: GslbDnsServer[] = [];
  for (const [sn, s] of Object.entries(g.dns_servers)) {
    const r = server(ctx, model, sn, s, servers);
    site(s.site, [ROOT, 'dns_servers', sn, 'site'], `DNS server '${sn}'`);
    if (r) servers.push(r);
  }

  const model_: GslbModel = {
    sites: [...sites], asn: g.asn, zones, ttl: g.ttl,
    servers: servers.sort(byName), healthChecks: healthChecks.sort(byName), pools: pools.sort(byName), names: names.sort(byName),
    source: ctx.at([ROOT]),
  };
  serviceRequests.set(model_, model_.servers.filter((x) => x.port).map((x) => serverRequest(model_, x)));
  return model_;
}

/** An attached DNS server as a service node: one leg on its first leaf, nothing announced. */
function serverRequest(m: GslbModel, s: GslbDnsServer): ServiceNodeRequest {
  const base: Path = [ROOT, 'dns_servers', s.name];
  return {
    name: s.name, role: 'dns', leaf: s.attach[0], path: base, asn: m.asn, asnPath: [ROOT, 'asn'],
    legs: [{ vrf: s.vrf, network: s.network, port: s.port!, portPath: [...base, 'leg', 'port'], ipv4: s.ipv4, ipv6: s.ipv6, path: [...base, 'leg'] }],
    advertise: [],
    run: powerdnsRun(m, s),
  };
}

/** Service-node requests of each resolved gslb model (paths for errors stay out of the model). */
const serviceRequests = new WeakMap<GslbModel, ServiceNodeRequest[]>();
export const gslbServiceNodes = (m: GslbModel | undefined): ServiceNodeRequest[] => (m && serviceRequests.get(m)) ?? [];

/** A DNS server as a service node: leaves it attaches to, its VRF and its address there. */
function server(ctx: DomainResolveContext, model: FabricModel, n: string, s: GslbIntent['dns_servers'][string], others: GslbDnsServer[]): GslbDnsServer | null {
  const base: Path = [ROOT, 'dns_servers', n];
  const fail = (path: Path, m: string, key = false) => (ctx.error(path, `DNS server '${n}': ${m}`, key), null);
  const slb = model.domains.slb as SlbModel | undefined;
  if (model.devices.some((d) => d.name === n) || model.endpoints.some((e) => e.name === n) || slb?.nodes.some((x) => x.name === n)) {
    return fail(base, 'has the name of a fabric node, endpoint or load-balancer node; its files would share its output directory', true);
  }
  for (const [i, l] of s.attach.entries()) {
    const d = model.devices.find((x) => x.name === l);
    if (!d) return fail([...base, 'attach', i], `unknown leaf '${l}'${known(model.devices.filter((x) => isLeafRole(x.role)).map((x) => x.name))}`);
    if (!isLeafRole(d.role)) return fail([...base, 'attach', i], `'${l}' is a ${d.role}, not a leaf`);
    if (model.sites && d.site !== s.site) return fail([...base, 'attach', i], `leaf '${l}' is in site '${d.site}', not in the server's site '${s.site}'`);
  }
  const vrf = model.vrfs.find((v) => v.name === s.vrf);
  if (!vrf) return fail([...base, 'vrf'], `unknown VRF '${s.vrf}'${known(model.vrfs.map((v) => v.name))}`);
  const net = model.networks.find((x) => x.name === s.leg.network);
  if (!net || net.vrf !== s.vrf) return fail([...base, 'leg', 'network'], net ? `network '${net.name}' is in VRF ${net.vrf}, not ${s.vrf}` : `unknown network '${s.leg.network}'${known(model.networks.filter((x) => x.vrf === s.vrf).map((x) => x.name))}`);
  if (!s.leg.ipv4 && !s.leg.ipv6) return fail([...base, 'leg'], `needs an address (ipv4 and/or ipv6) in network '${net.name}'`, true);
  const addr = (a: string, fam: 4 | 6): string | null => {
    const subnet = fam === 4 ? net.subnet : net.subnet6;
    const path: Path = [...base, 'leg', fam === 4 ? 'ipv4' : 'ipv6'];
    if (a.includes(':') !== (fam === 6)) return fail(path, `'${a}' is not an IPv${fam} address`);
    if (!subnet) return fail(path, `network '${net.name}' has no IPv${fam} subnet`);
    if (!containsCidr(subnet, a)) return fail(path, `${a} is outside network '${net.name}' (${subnet})`);
    const c = canon(a);
    const taken = [
      ...model.endpoints.flatMap((e) => [e.ipv4, e.ipv6].filter((x): x is string => !!x).map((x) => [canon(hostOf(x)), `endpoint '${e.name}'`])),
      ...(slb?.nodes ?? []).flatMap((x) => x.legs.flatMap((l) => [l.ipv4, l.ipv6].filter((y): y is string => !!y).map((y) => [canon(hostOf(y)), `load-balancer node '${x.name}'`]))),
      ...others.flatMap((o) => [o.ipv4, o.ipv6].filter((y): y is string => !!y).map((y) => [canon(hostOf(y)), `DNS server '${o.name}'`])),
      [canon(hostOf(subnet)), `the network address of '${net.name}'`],
      ...[net.gateway, net.gateway6].filter((x): x is string => !!x).map((x) => [canon(x), `the gateway of '${net.name}'`]),
    ].find(([x]) => x === c);
    if (taken) return fail(path, `${a} is already ${taken[1].startsWith('the ') ? '' : 'the address of '}${taken[1]}`);
    return `${c}/${subnet.split('/')[1]}`;
  };
  const ipv4 = s.leg.ipv4 ? addr(s.leg.ipv4, 4) : undefined;
  const ipv6 = s.leg.ipv6 ? addr(s.leg.ipv6, 6) : undefined;
  if (ipv4 === null || ipv6 === null) return null;
  return {
    name: n, site: s.site, attach: [...new Set(s.attach)], targets: [...new Set(s.targets)], ...(s.leg.port ? { port: s.leg.port } : {}), vrf: s.vrf, tenant: vrf.tenant, network: net.name,
    ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), source: ctx.at(base, true),
  };
}

export function gslbSummary(m: GslbModel | undefined): string[] {
  if (!m) return [];
  return [`gslb: ${m.names.length} names in ${m.zones.length} zone(s), ${m.pools.length} pools over ${m.sites.length} site(s), ${m.servers.length} DNS server(s)`];
}
