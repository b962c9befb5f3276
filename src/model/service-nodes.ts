/**
 * Service nodes: hosts of a domain (load balancers, DNS servers, firewalls) that plug into the
 * fabric like endpoints but route: each sits on one leaf port carrying one VLAN per tenant VRF it
 * serves, peers eBGP with the leaf's VRF over that VLAN (the leaf side from the anycast gateway),
 * and advertises its service prefixes (VIPs) there, which the leaf re-originates into EVPN as
 * type-5 routes. A domain asks for its nodes (DomainModule.serviceNodes); this core attaches them
 * to the devices (access port, VLAN membership, host routes) and records them at
 * model.serviceNodes, which render, lab, the control-plane simulation and live checks read.
 */
import type { Path } from '../intent/validate.ts';
import type { PlatformDef } from './platforms.ts';
import { endpointMac } from './resolve-tenants.ts';
import { contains4, contains6, formatPrefix4, overlaps4, parseIpv4, parsePrefix4 } from './ip.ts';
import type { FabricModel, SourceLocation } from './types.ts';
import { isLeafRole } from '../domains/fabric/roles.ts';

/** What a domain asks for; paths point into the domain's intent section for errors. */
export interface ServiceNodeRequest {
  name: string;
  /** What the node does: 'load-balancer', 'dns', 'firewall'. */
  role: string;
  leaf: string;
  /** Path of the node (errors about the node as a whole). */
  path: Path;
  asn: number;
  asnPath: Path;
  /** One leg per VRF, each on a leaf port of its own (an access port in the network's VLAN). */
  legs: { vrf: string; network: string; port: string; portPath: Path; ipv4?: string; ipv6?: string; path: Path }[];
  /**
   * Prefixes the node announces into a VRF while its service is healthy: host prefixes (/32,
   * /128) it owns (VIPs, on lo), or, with `via`, prefixes it routes out of its leg in VRF `via`
   * (a firewall announcing into one VRF the subnets of another it forwards to).
   */
  advertise: { vrf: string; prefix: string; path: Path; via?: string; serves?: string[] }[];
  run: ServiceRun;
}

/** A prefix a service node owns and announces into a VRF (a VIP): what other domains' nodes may route to. */
export interface AnnouncedPrefix {
  node: string;
  vrf: string;
  prefix: string;
}

/** The prefixes `requests` announce as their own (not routed through them). */
export const ownAnnouncements = (requests: readonly ServiceNodeRequest[]): AnnouncedPrefix[] =>
  requests.flatMap((r) => r.advertise.filter((a) => a.via === undefined).map((a) => ({ node: r.name, vrf: a.vrf, prefix: a.prefix })));

/**
 * How the node runs its service: shell commands built by the domain from its own constants
 * (never from intent strings), run by the node's setup script and its announcement loop.
 */
export interface ServiceRun {
  /** Starts the service (idempotent: a running service stays). */
  start: string;
  /** Exits 0 while the service is healthy: the node announces its prefixes only then. */
  check: string;
  /** Where the node keeps its pid files and sockets. */
  runDir: string;
  /** Files of the domain's render output the service reads: artifact name -> path on the node. */
  files: Record<string, string>;
  /**
   * How a push takes a changed file into use without stopping the service (artifact name ->
   * way); a file without one is only written, and read at the service's next start.
   */
  reload?: Record<string, ServiceReload>;
}

/**
 * haproxy: through HAProxy's runtime API where it can (weights, servers added and removed),
 * else `haproxy -c` and a hitless master-worker reload (src/push/haproxy-step.ts).
 * command: `check` (optional) runs with the candidate file as $CANDIDATE and must exit 0; the
 * file is then installed and `apply` run. Both are the domain's own constants.
 */
export type ServiceReload = { kind: 'haproxy'; pidFile: string; socket: string } | { kind: 'command'; check?: string; apply: string };

/** Where a service node keeps the files every node has (the lab binds them there too). */
export const SERVICE_NODE_PATHS = {
  frrConf: '/etc/frr/frr.conf',
  daemons: '/etc/frr/daemons',
  nodeScript: '/etc/netloom/node.sh',
  announceScript: '/etc/netloom/announce.sh',
} as const;

export interface ServiceNodeLeg {
  /** The leaf port, and the node's interface on it (eth1, eth2... in leg order). */
  port: string;
  iface: string;
  mac: string;
  vrf: string;
  tenant: string;
  network: string;
  vlan: number;
  /** Addresses with the network's prefix length. */
  ipv4?: string;
  ipv6?: string;
  /** The network's anycast gateways: the leaf end of the node's BGP sessions. */
  gateway4?: string;
  gateway6?: string;
  /** Subnets of the VRF the node reaches through this leg (static routes on the node). */
  routes4: string[];
  routes6: string[];
  source: SourceLocation;
}

export interface ServiceNode {
  name: string;
  domain: string;
  role: string;
  leaf: string;
  asn: number;
  legs: ServiceNodeLeg[];
  /** `via`: the VRF whose leg the node routes the prefix out of (a transit prefix, not its own). */
  /** `serves`: what the node answers at a prefix it owns ("tcp/443"): anything else there is refused. */
  advertise: { vrf: string; prefix: string; via?: string; serves?: string[]; source: SourceLocation }[];
  run: ServiceRun;
  source: SourceLocation;
}

/** A leaf's BGP peering with a service node in one VRF and address family. */
export interface ServicePeering {
  node: string;
  vrf: string;
  afi: 'ipv4' | 'ipv6';
  /** The node's address (neighbor of the leaf) and the leaf's (the gateway). */
  nodeAddress: string;
  leafAddress: string;
  nodeAsn: number;
  /** Prefixes the leaf accepts from the node. */
  prefixes: string[];
}

interface Ctx {
  error(path: Path, message: string, key?: boolean): void;
  at(path: Path, key?: boolean): SourceLocation;
}

const host = (cidr?: string): string | undefined => cidr?.split('/')[0];

/**
 * Attaches a domain's service nodes; errors go to ctx (the caller stops on them). `all`: every
 * domain's requests, whose announcements each leg routes to in its VRF (a DNS server's health
 * checks reach the load balancers' VIPs; a load balancer answers clients a firewall node routes
 * to it), whichever domain asked first.
 */
export function attachServiceNodes(ctx: Ctx, model: FabricModel, domain: string, requests: ServiceNodeRequest[], platforms: Map<string, PlatformDef>, all: readonly ServiceNodeRequest[] = requests): void {
  const list = (model.serviceNodes ??= []);
  const deviceAsns = new Set(model.devices.map((d) => d.asn));
  const announced = (vrf: string, v6: boolean, own: ServiceNodeRequest): string[] =>
    [...new Set(all.flatMap((n) => n.advertise.filter((a) => a.vrf === vrf && a.prefix.includes(':') === v6).map((a) => a.prefix)))].filter((p) => !own.advertise.some((a) => a.prefix === p && a.vrf === vrf));
  for (const r of requests) {
    const fail = (path: Path, m: string, key = false) => ctx.error(path, `${r.role} node '${r.name}': ${m}`, key);
    if (list.some((n) => n.name === r.name)) {
      fail(r.path, `another service node is named '${r.name}'`);
      continue;
    }
    if (deviceAsns.has(r.asn)) {
      fail(r.asnPath, `ASN ${r.asn} is a fabric device's ASN; service nodes need an ASN of their own (eBGP to their leaf)`);
      continue;
    }
    const leaf = model.devices.find((d) => d.name === r.leaf);
    if (!leaf || !isLeafRole(leaf.role)) {
      fail(r.path, leaf ? `'${r.leaf}' is a ${leaf.role}, not a leaf` : `unknown leaf '${r.leaf}'`);
      continue;
    }
    const def = platforms.get(leaf.platform)!;
    const legs: ServiceNodeLeg[] = [];
    let ok = true;
    for (const l of r.legs) {
      const n = def.portNumber(l.port);
      if (n === undefined || n < def.interfaces.first_port || n > def.interfaces.max_ports) {
        fail(l.portPath, `${r.leaf}: '${l.port}' is not a port of platform ${leaf.platform} (ports are ${def.portName(def.interfaces.first_port)} to ${def.portName(def.interfaces.max_ports)})`);
        ok = false;
        continue;
      }
      const used = leaf.interfaces.find((i) => i.name === l.port);
      if (used || legs.some((x) => x.port === l.port)) {
        fail(l.portPath, `${r.leaf}:${l.port} is already used (${used ? used.description : `by VRF ${legs.find((x) => x.port === l.port)!.vrf}; each VRF needs a port of its own`})`);
        ok = false;
        continue;
      }
      const net = model.networks.find((x) => x.name === l.network && x.vrf === l.vrf);
      const vlan = net && leaf.vlans.find((v) => v.vlan === net.vlan);
      if (!net || !vlan) {
        fail(l.path, net ? `leaf ${r.leaf} does not carry network '${l.network}' (it is on ${net.leaves.join(', ') || 'no leaves'}; list ${r.leaf} in the network's leaves)` : `no network '${l.network}' in VRF ${l.vrf}`, true);
        ok = false;
        continue;
      }
      if ((l.ipv4 && !vlan.gateway4) || (l.ipv6 && !vlan.gateway6)) {
        fail(l.path, `network '${net.name}' has no IPv${l.ipv4 && !vlan.gateway4 ? 4 : 6} gateway on ${r.leaf} to peer with`, true);
        ok = false;
        continue;
      }
      const subnets = model.networks.filter((x) => x.vrf === l.vrf);
      legs.push({
        port: l.port, iface: '', mac: endpointMac(`${r.name}/${l.vrf}`), vrf: l.vrf, tenant: net.tenant, network: net.name, vlan: net.vlan,
        ...(l.ipv4 ? { ipv4: l.ipv4 } : {}), ...(l.ipv6 ? { ipv6: l.ipv6 } : {}),
        ...(l.ipv4 ? { gateway4: host(vlan.gateway4) } : {}),
        ...(l.ipv6 ? { gateway6: host(vlan.gateway6) } : {}),
        // The VRF's other subnets, and what service nodes attached before announce in it (a DNS
        // server's health checks reach the load balancers' VIPs).
        routes4: l.ipv4 ? [...subnets.filter((x) => x !== net && x.subnet).map((x) => x.subnet!), ...announced(l.vrf, false, r)].sort() : [],
        routes6: l.ipv6 ? [...subnets.filter((x) => x !== net && x.subnet6).map((x) => x.subnet6!), ...announced(l.vrf, true, r)].sort() : [],
        source: ctx.at(l.path, true),
      });
    }
    // A Linux service node has one routing table: the subnets of the VRFs it serves must not overlap.
    for (const [i, a] of legs.entries()) {
      for (const b of legs.slice(i + 1)) {
        const clash = held4(a).find((p) => held4(b).some((q) => overlaps4(parsePrefix4(p), parsePrefix4(q))));
        if (clash) {
          fail(r.path, `VRFs ${a.vrf} and ${b.vrf} both hold ${clash}; a service node has one routing table`);
          ok = false;
        }
      }
    }
    // A leg already in error explains its VRF's prefixes: no second error for them.
    for (const a of ok ? r.advertise : []) {
      if (!legs.some((l) => l.vrf === a.vrf && (a.prefix.includes(':') ? l.ipv6 : l.ipv4))) {
        fail(a.path, `announces ${a.prefix} into VRF ${a.vrf}, where it has no IPv${a.prefix.includes(':') ? 6 : 4} address`);
        ok = false;
      } else if (a.via !== undefined) {
        const problem = transitProblem(a as Required<typeof a>, legs);
        if (problem) {
          fail(a.path, problem);
          ok = false;
        }
      }
    }
    if (!ok) continue;
    const source = ctx.at(r.path);
    legs.sort((a, b) => (def.portNumber(a.port) ?? 0) - (def.portNumber(b.port) ?? 0));
    legs.forEach((l, i) => (l.iface = `eth${i + 1}`));
    for (const l of legs) {
      const net = model.networks.find((x) => x.name === l.network)!;
      leaf.interfaces.push({ name: l.port, kind: 'access', description: `${r.role} ${r.name} (VRF ${l.vrf})`, mtu: net.mtu, accessVlan: l.vlan, endpoints: [r.name], source: l.source });
      const vlan = leaf.vlans.find((v) => v.vlan === l.vlan)!;
      vlan.ports.push(l.port);
      vlan.ports.sort((a, b) => (def.portNumber(a) ?? 0) - (def.portNumber(b) ?? 0));
      vlan.hosts.push({ endpoint: r.name, ...(l.ipv4 ? { ipv4: host(l.ipv4) } : {}), ...(l.ipv6 ? { ipv6: host(l.ipv6) } : {}) });
    }
    leaf.interfaces.sort((a, b) => (def.portNumber(a.name) ?? -1) - (def.portNumber(b.name) ?? -1) || a.name.localeCompare(b.name));
    list.push({
      name: r.name, domain, role: r.role, leaf: r.leaf, asn: r.asn,
      legs,
      advertise: r.advertise.map((a) => ({ vrf: a.vrf, prefix: a.prefix, ...(a.via !== undefined ? { via: a.via } : {}), ...(a.serves ? { serves: a.serves } : {}), source: ctx.at(a.path) })).sort((a, b) => a.prefix.localeCompare(b.prefix) || a.vrf.localeCompare(b.vrf)),
      run: r.run,
      source,
    });
  }
  list.sort((a, b) => a.name.localeCompare(b.name));
  if (!list.length) delete model.serviceNodes;
}

const held4 = (l: ServiceNodeLeg): string[] => [...l.routes4, ...(l.ipv4 ? [formatPrefix4(parsePrefix4(l.ipv4))] : [])];

/**
 * Why a transit prefix (announced into one VRF, routed out of the leg in VRF `via`) cannot be
 * forwarded as announced: the node must route it out of that leg (a prefix inside the subnets it
 * reaches there, not the leg's own network, which is connected and so announced whether the
 * service is healthy or not), and it must not overlap what the announcing VRF holds.
 */
function transitProblem(a: { vrf: string; prefix: string; via: string }, legs: ServiceNodeLeg[]): string | undefined {
  const out = legs.find((l) => l.vrf === a.via);
  if (a.via === a.vrf) return `routes ${a.prefix} back into VRF ${a.vrf}, the VRF it announces it in`;
  if (!out) return `routes ${a.prefix} out of VRF ${a.via}, where it has no leg`;
  if (a.prefix.includes(':')) {
    return out.routes6.includes(a.prefix) ? undefined : `routes ${a.prefix} out of VRF ${a.via}, which has no such subnet (it reaches ${out.routes6.join(', ') || 'nothing beyond its leg'} there)`;
  }
  const p = parsePrefix4(a.prefix);
  if (out.ipv4 && overlaps4(p, parsePrefix4(out.ipv4))) return `routes ${a.prefix} out of VRF ${a.via}, where it overlaps the node's own leg network ${formatPrefix4(parsePrefix4(out.ipv4))} (always announced as connected): put the leg in a transit network of its own`;
  if (!out.routes4.some((q) => { const x = parsePrefix4(q); return overlaps4(x, p) && x.len <= p.len; })) return `routes ${a.prefix} out of VRF ${a.via}, which has no subnet covering it (it reaches ${out.routes4.join(', ') || 'nothing beyond its leg'} there)`;
  const home = legs.find((l) => l.vrf === a.vrf);
  const clash = home && held4(home).find((q) => overlaps4(parsePrefix4(q), p));
  return clash ? `announces ${a.prefix} into VRF ${a.vrf}, which holds ${clash} itself` : undefined;
}

/** The BGP peerings of a leaf with its service nodes, per VRF. */
export function servicePeerings(model: FabricModel, leaf: string): ServicePeering[] {
  const out: ServicePeering[] = [];
  for (const n of model.serviceNodes ?? []) {
    if (n.leaf !== leaf) continue;
    for (const l of n.legs) {
      const prefixes = (afi: 'ipv4' | 'ipv6') => n.advertise.filter((a) => a.vrf === l.vrf && a.prefix.includes(':') === (afi === 'ipv6')).map((a) => a.prefix);
      if (l.ipv4 && l.gateway4) out.push({ node: n.name, vrf: l.vrf, afi: 'ipv4', nodeAddress: host(l.ipv4)!, leafAddress: l.gateway4, nodeAsn: n.asn, prefixes: prefixes('ipv4') });
      if (l.ipv6 && l.gateway6) out.push({ node: n.name, vrf: l.vrf, afi: 'ipv6', nodeAddress: host(l.ipv6)!, leafAddress: l.gateway6, nodeAsn: n.asn, prefixes: prefixes('ipv6') });
    }
  }
  return out;
}

/** A transit prefix of a node, announced into VRF `vrf` and routed out of its leg in `via`. */
export interface TransitRoute {
  node: string;
  vrf: string;
  via: string;
  prefix: string;
}

/**
 * The node the intent routes `a` -> `b` through (different VRFs): one announcing, into a's VRF,
 * a prefix covering b's address of the family routed out of its leg in b's VRF, and the reverse for a's
 * address (replies come back through it). Undefined when no node joins the two.
 */
export function transitBetween(model: FabricModel, a: { vrf: string; ipv4?: string; ipv6?: string }, b: { vrf: string; ipv4?: string; ipv6?: string }, family: 4 | 6 = 4): { there: TransitRoute; back: TransitRoute } | undefined {
  const addr = (x: typeof a) => (family === 4 ? x.ipv4 : x.ipv6)?.split('/')[0];
  const [ax, bx] = [addr(a), addr(b)];
  if (a.vrf === b.vrf || !ax || !bx) return undefined;
  const inside = (prefix: string, x: string) => (family === 4 ? contains4(parsePrefix4(prefix), parseIpv4(x)) : contains6(prefix, x));
  const covering = (n: ServiceNode, vrf: string, via: string, address: string) => {
    const hits = n.advertise.filter((r) => r.vrf === vrf && r.via === via && r.prefix.includes(':') === (family === 6) && inside(r.prefix, address));
    // The longest match is the route the leaf uses.
    return hits.sort((p, q) => Number(q.prefix.split('/')[1]) - Number(p.prefix.split('/')[1]))[0];
  };
  for (const n of model.serviceNodes ?? []) {
    const there = covering(n, a.vrf, b.vrf, bx);
    const back = there && covering(n, b.vrf, a.vrf, ax);
    if (there && back) return { there: { node: n.name, vrf: there.vrf, via: b.vrf, prefix: there.prefix }, back: { node: n.name, vrf: back.vrf, via: a.vrf, prefix: back.prefix } };
  }
  return undefined;
}
