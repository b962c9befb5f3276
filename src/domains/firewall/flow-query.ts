/**
 * Questions about flows between named places of the fabric (`netloom fw query|search`): a
 * place is an endpoint, a tenant network, a VRF or an address, resolved through the model to
 * prefixes and the leaves it sits behind; a policy meets a flow when one of those leaves
 * enforces it and the flow is in its scope (between two of its VRFs, or to or from one of its
 * networks), and then decides it rule by rule (analysis.ts).
 */
import type { FabricModel } from '../../model/types.ts';
import { UsageError, formatLocation as where } from '../../util/errors.ts';
import {
  ALL, EMPTY, addressMatchSet, difference, example, formatCidr, intersect, isEmpty, overlaps, parseCidr, prefixSet, servicesSet, size, statesSet, union,
  type Cidr, type Packet, type PacketSet,
} from '../../verify/packet-set/index.ts';
import type { PolicyAnalysis } from './analysis.ts';
import { FULL_BOX, addressHull, type Box } from './analysis-index.ts';
import type { FwAction, FwConnState, FwNatRule, FwPolicy, FwService } from './model.ts';
import { enforcementWord, policyScope } from './render-common.ts';
import { hostPort } from './packet-text.ts';

export interface Place {
  /** What the user typed. */
  arg: string;
  kind: 'endpoint' | 'network' | 'vrf' | 'address';
  prefixes: string[];
  /** Leaves the place sits behind (where traffic from or to it enters the fabric). */
  leaves: string[];
}

const sideSet = (which: 'src' | 'dst', prefixes: string[]) => prefixes.reduce((s, c) => union(s, prefixSet(which, c)), EMPTY);

/** The packets a policy filters at all: between two of its VRFs (inter-vrf), to or from its networks. */
export function scopeSet(p: FwPolicy, model: FabricModel): PacketSet {
  const members = policyScope(p, model).map((m) => [...m.v4, ...m.v6]);
  if (p.enforcement.kind === 'inter-vrf' || p.enforcement.kind === 'node') {
    let s = EMPTY;
    members.forEach((a, i) => members.forEach((b, j) => {
      if (i !== j) s = union(s, intersect(sideSet('src', a), sideSet('dst', b)));
    }));
    return s;
  }
  const all = members.flat();
  return union(sideSet('src', all), sideSet('dst', all));
}

export interface Decision {
  action: FwAction;
  /** The rule's name, or '(established/related)' / '(default)'. */
  rule: string;
  kind: 'rule' | 'stateful' | 'default';
  location: string;
  example: Packet;
  /** How many packets of the flow it decides (bigint as text). */
  packets: string;
  /** The destination NAT rule the packets went through first, when one did. */
  afterNat?: string;
}

/** A destination NAT (port forward) of the policy the flow meets before the filter rules. */
export interface NatStep {
  rule: string;
  location: string;
  /** The new destination: address and/or port. */
  to: string;
  packets: string;
}

export interface PolicyOnPath {
  policy: string;
  enforcement: string;
  /** Enforcing devices on the flow's path, with the side they are on. */
  devices: { device: string; side: 'source leaf' | 'destination leaf' | 'source and destination leaf' | 'firewall node' }[];
  nat: NatStep[];
  /** False when the flow (after NAT) is outside the policy's scope (e.g. both ends in one VRF). */
  filters: boolean;
  decisions: Decision[];
}

export interface FlowVerdict {
  /** accepted: every packet of the flow passes every policy on the path; denied: none does. */
  verdict: 'accepted' | 'denied' | 'partly accepted';
  policies: PolicyOnPath[];
}

/** The host prefix of an address (a prefix length given with it is dropped). */
export const hostPrefix = (a: string): string => a.split('/')[0]! + (a.includes(':') ? '/128' : '/32');

const width = (c: Cidr) => (c.family === 4 ? 32 : 128);
/** Whether prefix `a` lies inside prefix `b`. */
function inside(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family || a.len < b.len) return false;
  const shift = BigInt(width(b) - b.len);
  return a.value >> shift === b.value >> shift;
}

/** An address or prefix: behind the leaf of the endpoint owning it, else the leaves of the networks holding it. */
export function addressPlace(model: FabricModel, c: Cidr, arg = formatCidr(c)): Place {
  const owner = model.endpoints.find((e) => [e.ipv4, e.ipv6].some((a) => a && inside(c, parseCidr(hostPrefix(a))) && c.len === width(c)));
  const nets = model.networks.filter((n) => [n.subnet, n.subnet6].some((s) => s && inside(c, parseCidr(s))));
  return { arg, kind: 'address', prefixes: [formatCidr(c)], leaves: owner ? [owner.leaf] : [...new Set(nets.flatMap((n) => n.leaves))] };
}

/**
 * The packets of `hit` as a destination NAT rule rewrites them (prerouting, before the filter
 * rules see them): the new address, and the new port on the rule's services that meet the flow.
 */
function translated(n: FwNatRule, src: Place, dst: Place, services: FwService[], states: FwConnState[]): { set: PacketSet; to: string } {
  const flowServices = services.length ? servicesSet(services) : ALL;
  let svc = flowServices;
  if (n.to?.port !== undefined) {
    const base = n.services.filter((x) => overlaps(servicesSet([x]), flowServices));
    const chosen: FwService[] = base.length ? base : [{ protocol: 'tcp', dstPorts: [], srcPorts: [], icmp: [] }, { protocol: 'udp', dstPorts: [], srcPorts: [], icmp: [] }];
    svc = servicesSet(chosen.map((x) => ({ ...x, dstPorts: [{ from: n.to!.port!, to: n.to!.port! }] })));
  }
  const dstPrefixes = n.to?.address ? [hostPrefix(n.to.address)] : dst.prefixes;
  const set = [sideSet('src', src.prefixes), addressMatchSet('src', n.src), sideSet('dst', dstPrefixes), svc, statesSet(states)].reduce(intersect);
  const to = n.to?.address ? hostPort(n.to.address, n.to.port) : `(same address)${n.to?.port !== undefined ? ` port ${n.to.port}` : ''}`;
  return { set, to };
}

/**
 * How each policy on the path between `src` and `dst` (or only the one named `only`) decides
 * the packets of the flow (services, states). A device's destination NAT rules are those of
 * every policy it enforces, in policy order, and apply before any policy's filter rules.
 */
export function queryFlow(
  model: FabricModel, policies: FwPolicy[], analysisOf: (p: FwPolicy) => PolicyAnalysis,
  src: Place, dst: Place, services: FwService[], states: FwConnState[], only?: string,
): FlowVerdict {
  const flow = intersect(services.length ? servicesSet(services) : ALL, statesSet(states));
  const set = intersect(intersect(sideSet('src', src.prefixes), sideSet('dst', dst.prefixes)), flow);
  if (isEmpty(set)) throw new UsageError(`no packet goes from ${src.arg} to ${dst.arg} with that service (address families differ?)`);
  let passing = set;
  let partial = false;
  const out: PolicyOnPath[] = [];
  for (const p of policies) {
    if (only !== undefined && p.name !== only) continue;
    const e = p.enforcement;
    // A firewall node is on the path of what crosses between its VRFs, and of its port forwards.
    const viaNode = e.kind === 'node' && (!isEmpty(intersect(set, scopeSet(p, model))) || p.nat.some((n) => n.kind === 'dnat' && !isEmpty(intersect(set, intersect(addressMatchSet('src', n.src), addressMatchSet('dst', n.dst))))));
    const devices: PolicyOnPath['devices'] = e.kind === 'node' ? (viaNode ? e.devices.map((d) => ({ device: d, side: 'firewall node' as const })) : []) : e.devices.flatMap((d) => {
      const s = src.leaves.includes(d);
      const t = dst.leaves.includes(d);
      return s || t ? [{ device: d, side: s && t ? ('source and destination leaf' as const) : s ? ('source leaf' as const) : ('destination leaf' as const) }] : [];
    });
    if (!devices.length) continue;
    const onDevices = new Set(devices.map((d) => d.device));
    const natRules = policies.filter((q) => q.enforcement.devices.some((d) => onDevices.has(d))).flatMap((q) => q.nat);
    const entry: PolicyOnPath = { policy: p.name, enforcement: enforcementWord(p), devices, nat: [], filters: false, decisions: [] };
    out.push(entry);
    const scope = scopeSet(p, model);
    const a = analysisOf(p);
    // Decides `part` (packets as the filter sees them); returns the accepted ones, out-of-scope included.
    const decide = (part: PacketSet, dstPrefixes: string[], afterNat?: string): PacketSet => {
      const filtered = intersect(part, scope);
      if (isEmpty(filtered)) return part;
      entry.filters = true;
      const box: Box = { src: addressHull(src.prefixes), dst: addressHull(dstPrefixes), protos: FULL_BOX.protos };
      let accepted = difference(part, scope);
      for (const { decider: d, set: s } of a.decisions(filtered, box)) {
        const kind = d.rule ? 'rule' : d.pos < 0 ? 'stateful' : 'default';
        entry.decisions.push({ action: d.action, rule: d.name, kind, location: where(d.source), example: example(s)!, packets: size(s).toString(), ...(afterNat ? { afterNat } : {}) });
        if (d.action === 'accept') accepted = union(accepted, s);
      }
      return accepted;
    };
    // Destination NAT first, first matching rule wins (nftables prerouting); the rest as sent.
    let untouched = set;
    let policyPassing = EMPTY;
    for (const n of natRules) {
      if (n.kind !== 'dnat') continue;
      const hit = intersect(untouched, [addressMatchSet('src', n.src), addressMatchSet('dst', n.dst), servicesSet(n.services)].reduce(intersect));
      if (isEmpty(hit)) continue;
      untouched = difference(untouched, hit);
      const t = translated(n, src, dst, services, states);
      entry.nat.push({ rule: n.name, location: where(n.source), to: t.to, packets: size(hit).toString() });
      const ok = decide(t.set, n.to?.address ? [hostPrefix(n.to.address)] : dst.prefixes, n.name);
      // Translated packets map back to `hit` as a whole: all accepted, none, or some (partial).
      if (ok === t.set) policyPassing = union(policyPassing, hit);
      else if (!isEmpty(ok)) partial = true;
    }
    if (!isEmpty(untouched)) policyPassing = union(policyPassing, decide(untouched, dst.prefixes));
    passing = intersect(passing, policyPassing);
  }
  const verdict = partial ? 'partly accepted' : passing === set ? 'accepted' : isEmpty(passing) ? 'denied' : 'partly accepted';
  return { verdict, policies: out };
}
