/**
 * A dedicated firewall node (enforcement `kind: node`): a Linux host cabled to one border leaf
 * with a leg in each VRF it routes between, filtering what it forwards with the policy's
 * nftables ruleset (forward hook, stateful, NAT). It is a service node of the fabric
 * (src/model/service-nodes.ts): the leaf peers eBGP with it in each VRF, and it announces into
 * each VRF the subnets of the other VRFs the policy lets traffic cross to or from (both
 * directions, so replies come back through it), plus the port-forwarded addresses outside every
 * subnet. Pairs of subnets the policy never accepts between are not announced: they stay
 * isolated by routing, as without the node.
 */
import type { Path } from '../../intent/validate.ts';
import { Address6 } from 'ip-address';
import { formatIpv4, parseIpv4, parsePrefix4, contains4, contains6 } from '../../model/ip.ts';
import type { AnnouncedPrefix, ServiceNodeRequest, ServiceRun } from '../../model/service-nodes.ts';
import type { FabricModel } from '../../model/types.ts';
import { isLeafRole } from '../fabric/roles.ts';
import type { DomainResolveContext } from '../types.ts';
import { addressMatchSet, intersect, isEmpty, prefixSet, stateSet, union, EMPTY } from '../../verify/packet-set/index.ts';
import { DEFAULT, ESTABLISHED, PolicyAnalysis } from './analysis.ts';
import { srcText } from './render-common.ts';
import { hostPort } from './packet-text.ts';
import type { SourceLocation } from '../../util/errors.ts';
import type { Packet } from '../../verify/packet-set/index.ts';
import type { FwIntentPolicy } from './intent.ts';
import type { FirewallModel, FwAction, FwEnforcement, FwNodeLeg, FwPolicy } from './model.ts';

export const FW_NODE_ASN = 65400;
export const FW_RUN_ROOT = '/run/netloom/fw';
/** Where the node keeps the rendered ruleset (bound from OUT/<node>/nftables.conf in a lab). */
export const FW_NODE_RULESET = '/etc/netloom/nftables.conf';

type NodeEnforcement = Extract<FwEnforcement, { kind: 'node' }>;

const suggest = (n: string, names: string[]) => {
  const hit = names.find((x) => x.toLowerCase() === n.toLowerCase());
  return hit ? ` (did you mean '${hit}'?)` : names.length ? ` (known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})` : '';
};

/**
 * The node's address in a network when the intent gives none: the last usable address of the
 * subnet not taken by the gateway or an endpoint (stable while the network keeps its hosts).
 */
function allocate4(model: FabricModel, net: FabricModel['networks'][number]): string | undefined {
  const p = parsePrefix4(net.subnet!);
  const taken = new Set([net.gateway, ...model.endpoints.filter((e) => e.network === net.name).map((e) => e.ipv4)].filter((x): x is string => !!x).map((x) => x.split('/')[0]));
  for (let a = p.base + p.size - 2; a > p.base; a--) if (!taken.has(formatIpv4(a))) return `${formatIpv4(a)}/${p.len}`;
  return undefined;
}

/**
 * The node's IPv6 address when the intent gives none: the subnet's last address but one (the
 * last is left alone, as an IPv4 broadcast would be) and downwards, skipping the gateway and
 * the endpoints.
 */
function allocate6(model: FabricModel, net: FabricModel['networks'][number]): string | undefined {
  const [base, lenText] = net.subnet6!.split('/');
  const len = Number(lenText);
  const first = new Address6(`${base}/${len}`).bigInt();
  const last = first | ((1n << BigInt(128 - len)) - 1n);
  const canon = (a: string) => new Address6(a.split('/')[0]!).canonicalForm();
  const taken = new Set([net.gateway6, ...model.endpoints.filter((e) => e.network === net.name).map((e) => e.ipv6)].filter((x): x is string => !!x).map(canon));
  for (let a = last - 1n; a > first && a > last - 1024n; a--) {
    const text = Address6.fromBigInt(a).correctForm();
    if (!taken.has(canon(text))) return `${text}/${len}`;
  }
  return undefined;
}

/** Resolves `enforcement: {kind: node, ...}`; errors at the key at fault. */
export function nodeEnforcement(ctx: DomainResolveContext, model: FabricModel, p: FwIntentPolicy, ep: Path, taken: Map<string, string>): NodeEnforcement | null {
  const e = p.enforcement;
  const who = `policy '${p.name}': firewall node`;
  let ok = true;
  const fail = (path: Path, m: string, key = false) => {
    ctx.error(path, m, key);
    ok = false;
  };
  for (const k of ['vrfs', 'networks'] as const) if (e[k] !== undefined) fail([...ep, k], `policy '${p.name}': enforcement node takes no '${k}' (its legs say which VRFs it routes between)`, true);
  for (const k of ['node', 'attach', 'legs'] as const) {
    if (e[k] === undefined) fail(ep, `policy '${p.name}': enforcement node: required key '${k}' is missing (${k === 'node' ? 'the firewall node' : k === 'attach' ? 'the border leaf it is cabled to' : 'its leg in each VRF: network, port'})`, true);
  }
  if (!ok) return null;
  const node = e.node!;
  if (model.devices.some((d) => d.name === node) || model.endpoints.some((x) => x.name === node)) {
    fail([...ep, 'node'], `${who} '${node}' has the name of ${model.devices.some((d) => d.name === node) ? 'a fabric node' : 'an endpoint'}; its files would share its output directory`);
  }
  const other = taken.get(node);
  if (other) fail([...ep, 'node'], `${who} '${node}' already enforces policy '${other}'; a node enforces one policy`);
  const leafName = e.attach![0];
  const leaf = model.devices.find((d) => d.name === leafName);
  if (!leaf) fail([...ep, 'attach', 0], `${who} '${node}': unknown leaf '${leafName}'${suggest(leafName, model.devices.filter((d) => isLeafRole(d.role)).map((d) => d.name))}`);
  else if (!isLeafRole(leaf.role)) fail([...ep, 'attach', 0], `${who} '${node}': '${leafName}' is a ${leaf.role}, not a leaf`);
  const entries = Object.entries(e.legs!);
  if (entries.length < 2) fail([...ep, 'legs'], `${who} '${node}': needs a leg in at least two VRFs to route between (has ${entries.length})`, true);
  const asn = e.asn ?? FW_NODE_ASN;
  if (model.devices.some((d) => d.asn === asn)) fail(e.asn === undefined ? [...ep, 'node'] : [...ep, 'asn'], `${who} '${node}': ASN ${asn} is a fabric device's ASN; set enforcement.asn to one of its own (eBGP to its leaf)`);
  const legs: FwNodeLeg[] = [];
  for (const [vrf, l] of entries) {
    const lp: Path = [...ep, 'legs', vrf];
    const v = model.vrfs.find((x) => x.name === vrf);
    if (!v) {
      fail(lp, `${who} '${node}': unknown VRF '${vrf}'${suggest(vrf, model.vrfs.map((x) => x.name))}`, true);
      continue;
    }
    if (leaf && isLeafRole(leaf.role) && !v.devices.includes(leaf.name)) {
      fail(lp, `${who} '${node}': VRF ${vrf} is not on leaf ${leaf.name} (it is on ${v.devices.join(', ') || 'no device'}); a leg needs a network of the VRF carried by the leaf${l.network ? ` (list ${leaf.name} in the leaves of network '${l.network}')` : ''}`, true);
      continue;
    }
    const net = model.networks.find((x) => x.name === l.network);
    if (!net || net.vrf !== vrf) {
      fail([...lp, 'network'], net ? `${who} '${node}': network '${l.network}' is in VRF ${net.vrf}, not ${vrf}` : `${who} '${node}': unknown network '${l.network}'${suggest(l.network, model.networks.filter((x) => x.vrf === vrf).map((x) => x.name))}`);
      continue;
    }
    const hosts = model.endpoints.filter((x) => x.network === net.name).map((x) => x.name);
    if (hosts.length) {
      // The leg's own subnet is connected on the node: announced even while the filter is down.
      fail([...lp, 'network'], `${who} '${node}': network '${net.name}' has endpoints (${hosts.slice(0, 4).join(', ')}${hosts.length > 4 ? ', ...' : ''}); the node announces other VRFs' subnets, never its legs' own: put the leg in a transit network of its own`);
      continue;
    }
    const leg: FwNodeLeg = { vrf, network: net.name, port: l.port };
    if (!net.subnet) fail([...lp, 'network'], `${who} '${node}': network '${net.name}' has no IPv4 subnet; the node routes IPv4 between its legs`);
    else if (l.ipv4) {
      const n = parsePrefix4(net.subnet);
      const a = parseIpv4(l.ipv4);
      const owner = model.endpoints.find((x) => x.network === net.name && x.ipv4?.split('/')[0] === l.ipv4);
      if (l.ipv4.includes(':') || !contains4(n, a)) fail([...lp, 'ipv4'], `${who} '${node}': ${l.ipv4} is not in network '${net.name}' (${net.subnet})`);
      else if (a === n.base || a === n.base + n.size - 1) fail([...lp, 'ipv4'], `${who} '${node}': ${l.ipv4} is the network or broadcast address of ${net.subnet}`);
      else if (net.gateway === l.ipv4 || owner) fail([...lp, 'ipv4'], `${who} '${node}': ${l.ipv4} is ${owner ? `endpoint ${owner.name}'s address` : `the gateway of network '${net.name}'`}`);
      else leg.ipv4 = `${l.ipv4}/${n.len}`;
    } else {
      const a = allocate4(model, net);
      if (a) leg.ipv4 = a;
      else fail([...lp, 'network'], `${who} '${node}': network '${net.name}' has no free address left; give ipv4`);
    }
    // IPv6 between the VRFs wherever the leg's network has an IPv6 subnet.
    if (l.ipv6) {
      const owner = net.subnet6 && model.endpoints.find((x) => x.network === net.name && x.ipv6 && new Address6(x.ipv6.split('/')[0]!).canonicalForm() === new Address6(l.ipv6!).canonicalForm());
      if (!net.subnet6) fail([...lp, 'ipv6'], `${who} '${node}': network '${net.name}' has no IPv6 subnet`);
      else if (!l.ipv6.includes(':') || !contains6(net.subnet6, l.ipv6)) fail([...lp, 'ipv6'], `${who} '${node}': ${l.ipv6} is not in network '${net.name}' (${net.subnet6})`);
      else if (owner || (net.gateway6 && new Address6(net.gateway6).canonicalForm() === new Address6(l.ipv6).canonicalForm())) fail([...lp, 'ipv6'], `${who} '${node}': ${l.ipv6} is ${owner ? `endpoint ${owner.name}'s address` : `the gateway of network '${net.name}'`}`);
      else leg.ipv6 = `${l.ipv6}/${net.subnet6.split('/')[1]}`;
    } else if (net.subnet6) {
      const a = allocate6(model, net);
      if (a) leg.ipv6 = a;
      else fail([...lp, 'network'], `${who} '${node}': network '${net.name}' has no free IPv6 address left; give ipv6`);
    }
    legs.push(leg);
  }
  if (!ok) return null;
  taken.set(node, p.name);
  return { kind: 'node', node, attachedTo: [leafName], devices: [node], vrfs: legs.map((l) => l.vrf), asn, legs };
}

/** How the node runs its filter: the ruleset loaded atomically, then forwarding on. */
export function firewallRun(node: string): ServiceRun {
  return {
    start: `nft -f ${FW_NODE_RULESET} && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1`,
    check: `nft list table inet netloom >/dev/null && [ "$(sysctl -n net.ipv4.ip_forward)" = 1 ]`,
    runDir: `${FW_RUN_ROOT}/${node}`,
    files: { 'nftables.conf': FW_NODE_RULESET },
    // apply: the candidate checked by `nft -c`, then loaded in one transaction.
    reload: { 'nftables.conf': { kind: 'command', check: 'nft -c -f "$CANDIDATE"', apply: `nft -f ${FW_NODE_RULESET}` } },
  };
}

const subnetsOf = (model: FabricModel, vrf: string, v6: boolean) =>
  model.networks.filter((n) => n.vrf === vrf).map((n) => ({ net: n, prefix: v6 ? n.subnet6 : n.subnet })).filter((x): x is { net: typeof x.net; prefix: string } => !!x.prefix);

/** Whether the policy accepts any new connection from `src` to `dst` (prefixes). */
function acceptsNew(analysis: PolicyAnalysis, src: string, dst: string): boolean {
  const flow = intersect(intersect(prefixSet('src', src), prefixSet('dst', dst)), stateSet('new'));
  return analysis.decisions(flow).some((d) => d.decider.action === 'accept');
}

/** Whether a host (an address, or a /32 or /128) lies in `prefix` (absent: no). */
function hostIn(prefix: string | undefined, host: string): boolean {
  const a = host.split('/')[0]!;
  if (!prefix) return false;
  return a.includes(':') ? contains6(prefix, a) : contains4(parsePrefix4(prefix), parseIpv4(a));
}

/**
 * What the node announces: into VRF A the subnet N of VRF B (routed out of B's leg) when the
 * policy accepts any new connection between a subnet M of A and N, either way, and M into B.
 */
export function nodeAdvertise(model: FabricModel, pol: FwPolicy, analysis: PolicyAnalysis = new PolicyAnalysis(pol)): { vrf: string; prefix: string; via?: string }[] {
  const e = pol.enforcement as NodeEnforcement;
  const out = new Map<string, { vrf: string; prefix: string; via?: string }>();
  const accepts = (src: string, dst: string) => acceptsNew(analysis, src, dst);
  for (const v6 of [false, true]) {
    for (const a of e.legs) {
      for (const b of e.legs) {
        if (a.vrf >= b.vrf || !(v6 ? a.ipv6 && b.ipv6 : a.ipv4 && b.ipv4)) continue;
        for (const m of subnetsOf(model, a.vrf, v6)) {
          if (m.net.name === a.network) continue;
          for (const n of subnetsOf(model, b.vrf, v6)) {
            if (n.net.name === b.network || !(accepts(m.prefix, n.prefix) || accepts(n.prefix, m.prefix))) continue;
            out.set(`${a.vrf} ${n.prefix}`, { vrf: a.vrf, prefix: n.prefix, via: b.vrf });
            out.set(`${b.vrf} ${m.prefix}`, { vrf: b.vrf, prefix: m.prefix, via: a.vrf });
          }
        }
      }
    }
  }
  // Port-forwarded addresses outside every subnet (either family): the node owns them (on lo)
  // in each VRF whose subnets of that family the NAT rule takes as sources.
  const inSubnet = (host: string) => model.networks.some((n) => hostIn(host.includes(':') ? n.subnet6 : n.subnet, host));
  for (const r of pol.nat) {
    if (r.kind !== 'dnat' || r.dst.negate) continue;
    for (const host of r.dst.include.filter((c) => (c.includes(':') ? c.endsWith('/128') : c.endsWith('/32')) && !inSubnet(c))) {
      const v6 = host.includes(':');
      for (const l of e.legs) {
        if (!(v6 ? l.ipv6 : l.ipv4)) continue;
        const srcs = subnetsOf(model, l.vrf, v6).filter((m) => m.net.name !== l.network).map((m) => m.prefix);
        const from = srcs.reduce((s, c) => union(s, prefixSet('src', c)), EMPTY);
        if (!isEmpty(intersect(from, addressMatchSet('src', r.src)))) out.set(`${l.vrf} ${host}`, { vrf: l.vrf, prefix: host });
      }
    }
  }
  return [...out.values()].sort((x, y) => x.vrf.localeCompare(y.vrf) || x.prefix.localeCompare(y.prefix));
}

/**
 * What the node announces to reach prefixes other service nodes own in a VRF it has a leg in
 * (a load balancer's VIP): into VRF A the prefix P announced in VRF B (routed out of B's leg)
 * when the policy accepts a new connection from a subnet M of A to P, and M into B for the
 * replies. A prefix inside one of B's subnets is reached as that subnet is.
 */
export function nodeServiceAdvertise(model: FabricModel, pol: FwPolicy, announced: readonly AnnouncedPrefix[], analysis: PolicyAnalysis = policyAnalysis(pol)): { vrf: string; prefix: string; via: string }[] {
  const e = pol.enforcement as NodeEnforcement;
  const out = new Map<string, { vrf: string; prefix: string; via: string }>();
  for (const p of announced) {
    const v6 = p.prefix.includes(':');
    const b = e.legs.find((l) => l.vrf === p.vrf && (v6 ? l.ipv6 : l.ipv4));
    if (!b || subnetsOf(model, b.vrf, v6).some((n) => hostIn(n.prefix, p.prefix))) continue;
    for (const a of e.legs) {
      if (a.vrf === b.vrf || !(v6 ? a.ipv6 : a.ipv4)) continue;
      for (const m of subnetsOf(model, a.vrf, v6)) {
        if (m.net.name === a.network) continue;
        if (!acceptsNew(analysis, m.prefix, p.prefix)) continue;
        out.set(`${a.vrf} ${p.prefix}`, { vrf: a.vrf, prefix: p.prefix, via: b.vrf });
        out.set(`${b.vrf} ${m.prefix}`, { vrf: b.vrf, prefix: m.prefix, via: a.vrf });
      }
    }
  }
  return [...out.values()];
}

/** The service-node request of a policy enforced on a node (paths into its enforcement for errors). */
export function nodeRequest(model: FabricModel, pol: FwPolicy, ep: Path, announced: readonly AnnouncedPrefix[] = []): ServiceNodeRequest {
  const e = pol.enforcement as NodeEnforcement;
  const advertise = new Map(nodeAdvertise(model, pol).map((a) => [`${a.vrf} ${a.prefix}`, a]));
  for (const a of nodeServiceAdvertise(model, pol, announced)) if (!advertise.has(`${a.vrf} ${a.prefix}`)) advertise.set(`${a.vrf} ${a.prefix}`, a);
  return {
    name: e.node, role: 'firewall', leaf: e.attachedTo[0], path: [...ep, 'node'], asn: e.asn, asnPath: [...ep, e.asn === FW_NODE_ASN ? 'node' : 'asn'],
    legs: e.legs.map((l) => ({ vrf: l.vrf, network: l.network, port: l.port, portPath: [...ep, 'legs', l.vrf, 'port'], ipv4: l.ipv4, ipv6: l.ipv6, path: [...ep, 'legs', l.vrf] })),
    advertise: [...advertise.values()].map((a) => ({ ...a, path: a.via ? [...ep, 'legs', a.via] : [...ep, 'node'] })),
    run: firewallRun(e.node),
  };
}

/** The policies of each resolved firewall model enforced on a node, with their intent paths. */
const enforcedOnNodes = new WeakMap<FirewallModel, { pol: FwPolicy; path: Path }[]>();
/** Its service-node requests, given what other domains' nodes announce (asked for after theirs). */
export const firewallServiceNodes = (model: FabricModel, m: FirewallModel | undefined, announced: readonly AnnouncedPrefix[]): ServiceNodeRequest[] =>
  ((m && enforcedOnNodes.get(m)) ?? []).map(({ pol, path }) => nodeRequest(model, pol, path, announced));
export function setFirewallServiceNodes(m: FirewallModel, list: { pol: FwPolicy; path: Path }[]): void {
  enforcedOnNodes.set(m, list);
}

const analyses = new WeakMap<FwPolicy, PolicyAnalysis>();

/** A policy's analysis, built once per resolved policy (the model's objects are not changed after resolution). */
export function policyAnalysis(pol: FwPolicy): PolicyAnalysis {
  let a = analyses.get(pol);
  if (!a) analyses.set(pol, (a = new PolicyAnalysis(pol)));
  return a;
}

/** The verdict of the policy a firewall node enforces on a packet it routes: "reject by rule db-deny (firewall.yaml:42)". */
export function nodeVerdict(model: FabricModel, node: string, packet: Packet): { action: FwAction; text: string; rule: string; source: SourceLocation; policy: string } | undefined {
  const fw = model.domains.firewall as FirewallModel | undefined;
  const pol = fw?.policies.find((p) => p.enforcement.kind === 'node' && p.enforcement.node === node);
  if (!pol) return undefined;
  const v = policyAnalysis(pol).evaluate(packet);
  const what = v.rule === DEFAULT ? 'the default action' : v.rule === ESTABLISHED ? 'the established/related acceptance' : `rule ${v.rule}`;
  return { ...v, policy: pol.name, text: `${v.action} by ${what} (${srcText(v.source)}) of policy ${pol.name} on ${node}` };
}

/** `trace SRC VIP` for a port-forward address a firewall node owns: the NAT rules behind it. */
export function nodeTraceLines(model: FabricModel, vip: string, node: string): string[] {
  const fw = model.domains.firewall as FirewallModel | undefined;
  const pol = fw?.policies.find((p) => p.enforcement.kind === 'node' && p.enforcement.node === node);
  const host = `${vip}/${vip.includes(':') ? 128 : 32}`;
  return (pol?.nat ?? []).filter((n) => n.kind === 'dnat' && !n.dst.negate && n.dst.include.includes(host)).map((n) => {
    const svc = n.services.map((x) => `${x.protocol}${x.dstPorts.length ? `/${x.dstPorts.map((r) => (r.from === r.to ? r.from : `${r.from}-${r.to}`)).join(',')}` : ''}`).join(', ') || 'any';
    return `${node}: dnat ${n.name} (${srcText(n.source)}) of policy ${pol!.name}: ${vip} ${svc} -> ${hostPort(n.to?.address ?? vip, n.to?.port)}, then the policy's rules`;
  });
}
