/**
 * What the firewall predicts for real connections between the endpoints: for every ordered
 * endpoint pair the fabric forwards (bridged or routed, as the reachability matrix says) and
 * every tcp/udp service the policies name (one representative port each), the verdict of every
 * policy enforced on that path for the packet, and the probe outcome that verdict gives
 * (accept: connected/answered, reject: refused/icmp-unreachable, drop: timeout). A DNAT'd
 * service is probed at its pre-NAT address from the sources the NAT rule matches, and the
 * listener must report the translated port. Pure: the live check (live.ts) runs the plan.
 */
import { containsCidr } from 'cidr-tools';
import type { Endpoint, FabricModel } from '../../model/types.ts';
import type { ListenerReply } from '../../lab/listeners.ts';
import type { Packet } from '../../verify/packet-set/index.ts';
import { buildFabricGraph, type FabricGraph } from '../../verify/graph.ts';
import { addressOf, ProbePredictor, type Family } from '../../verify/live/probes.ts';
import { expectedOutcome, type ExpectedServiceProbe, type ServiceProto } from '../../verify/live/service-probes.ts';
import { DEFAULT, ESTABLISHED, PolicyAnalysis, type Verdict } from './analysis.ts';
import type { FirewallModel, FwAction, FwAddressMatch, FwPolicy } from './model.ts';
import { srcText } from './render-common.ts';
import { hostPort } from './packet-text.ts';

/** A policy's verdict on the probe's packet, where it is enforced. */
export interface ProbeVerdict extends Verdict {
  policy: string;
}

export interface FirewallProbe extends ExpectedServiceProbe {
  /** Destination endpoint (after NAT). */
  dst: string;
  family: Family;
  /** `tcp/8080`, or `tcp/80 -> tcp/8080` for a port forward. */
  service: string;
  forwarding: 'bridged' | 'routed';
  /** Every policy on the path and its verdict; empty: nothing filters this path. */
  verdicts: ProbeVerdict[];
  /** The action that decides the probe (the first non-accept verdict, else accept). */
  action: FwAction;
  /** The DNAT rule the probe goes through. */
  nat?: { policy: string; rule: string; source: Verdict['source'] };
}

export interface FirewallProbePlan {
  probes: FirewallProbe[];
  /** Ports each destination endpoint must listen on. */
  listeners: Map<string, { tcp: number[]; udp: number[] }>;
}

/**
 * The plan where another domain's lab process already listens on a port of a destination
 * (`served`: node -> `tcp/8080`, src/domains/index.ts labServedPorts), e.g. a load balancer's
 * pool member: no listener of ours is started on that port (it could not bind), and a probe
 * there is judged by its connection alone (that process does not answer with our line).
 */
export function withoutServedPorts(plan: FirewallProbePlan, served: ReadonlyMap<string, ReadonlySet<string>>): FirewallProbePlan {
  const taken = (node: string, proto: string, port: number) => served.get(node)?.has(`${proto}/${port}`) ?? false;
  const listeners = new Map<string, { tcp: number[]; udp: number[] }>();
  for (const [node, l] of plan.listeners) {
    const left = { tcp: l.tcp.filter((p) => !taken(node, 'tcp', p)), udp: l.udp.filter((p) => !taken(node, 'udp', p)) };
    if (left.tcp.length || left.udp.length) listeners.set(node, left);
  }
  const probes = plan.probes.map((p) => {
    const port = p.reply?.port ?? p.port;
    if (!p.reply || port === undefined || !taken(p.dst, p.proto, port)) return p;
    const { reply: _reply, ...rest } = p;
    return rest;
  });
  return { probes, listeners };
}

const PROTO_NUMBER: Record<ServiceProto, number> = { tcp: 6, udp: 17, icmp: 1 };
/** A typical ephemeral source port: rules matching source ports are judged with it. */
const SOURCE_PORT = 40000;

/** Whether an address (no prefix length) falls in an address match. */
export function addressIn(m: FwAddressMatch, address: string): boolean {
  const host = `${address}/${address.includes(':') ? 128 : 32}`;
  const fam = (c: string) => c.includes(':') === address.includes(':');
  const inside = (list: string[]) => list.filter(fam).some((c) => containsCidr(c, host));
  const hit = (m.include.length === 0 || inside(m.include)) && !inside(m.exclude);
  return m.negate ? !hit : hit;
}

/**
 * Policies whose rules a packet from `a` to `b` crosses, given how the fabric forwards it:
 * routed traffic meets inter-VRF policies between the two VRFs and network policies at either
 * network (the forward hook of the leaves' VRF namespaces); bridged traffic only stateless
 * network policies (the bridge table; a stateful one has no bridge table, see render-nft.ts).
 * A dedicated firewall node is on the routed paths between the VRFs of its legs (it is the
 * only way the fabric routes between them, see node.ts).
 */
export function policiesOnPath(policies: readonly FwPolicy[], a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed'): FwPolicy[] {
  return policies.filter((p) => {
    const e = p.enforcement;
    if (e.kind === 'network') return (forwarding === 'routed' || !p.stateful) && (e.networks.includes(a.network) || e.networks.includes(b.network));
    if (e.kind === 'inter-vrf') return forwarding === 'routed' && a.vrf !== b.vrf && e.vrfs.includes(a.vrf) && e.vrfs.includes(b.vrf);
    // A node filters what it routes between its legs' VRFs: the fabric routes between VRFs only through it.
    return forwarding === 'routed' && a.vrf !== b.vrf && e.vrfs.includes(a.vrf) && e.vrfs.includes(b.vrf);
  });
}

/** One representative destination port per tcp/udp service the policies name (rules and NAT). */
function representativeServices(policies: readonly FwPolicy[]): { proto: ServiceProto; port: number }[] {
  const seen = new Map<string, { proto: ServiceProto; port: number }>();
  for (const p of policies) {
    for (const s of [...p.rules.flatMap((r) => r.services)]) {
      if ((s.protocol !== 'tcp' && s.protocol !== 'udp') || !s.dstPorts.length) continue;
      const port = Math.max(1, s.dstPorts[0].from);
      seen.set(`${s.protocol}/${port}`, { proto: s.protocol, port });
    }
  }
  return [...seen.values()].sort((x, y) => x.proto.localeCompare(y.proto) || x.port - y.port);
}

/** Where a verdict comes from, for messages: "rule db-deny (firewall.yaml:42) of policy tiers". */
export function verdictText(v: ProbeVerdict): string {
  const what = v.rule === DEFAULT ? 'the default action' : v.rule === ESTABLISHED ? 'the established/related acceptance' : `rule ${v.rule}`;
  return `${v.action} by ${what} (${srcText(v.source)}) of policy ${v.policy}`;
}

export function firewallProbePlan(model: FabricModel, fg: FabricGraph = buildFabricGraph(model), opts: { deadlineMs?: number; hosts?: ReadonlySet<string> } = {}): FirewallProbePlan {
  const fw = model.domains?.firewall as FirewallModel | undefined;
  const policies = fw?.policies ?? [];
  const probes: FirewallProbe[] = [];
  const listeners = new Map<string, { tcp: number[]; udp: number[] }>();
  if (!policies.length) return { probes, listeners };
  const analyses = new Map(policies.map((p) => [p.name, new PolicyAnalysis(p)]));
  const predictor = new ProbePredictor(model, fg);
  const services = representativeServices(policies);
  const endpoints = model.endpoints.filter((e) => !opts.hosts || opts.hosts.has(e.name));

  const judge = (a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed', packet: Packet) => {
    const onPath = policiesOnPath(policies, a, b, forwarding);
    const verdicts = onPath.map((p) => ({ policy: p.name, ...analyses.get(p.name)!.evaluate(packet) }));
    const decisive = verdicts.find((v) => v.action !== 'accept');
    // The bridge table cannot reject on every kernel: the renderer drops there instead.
    const action: FwAction = decisive ? (forwarding === 'bridged' && decisive.action === 'reject' ? 'drop' : decisive.action) : 'accept';
    // The devices whose rulesets the packet meets: the enforcing leaves at either end, the node between.
    const nodes = onPath.flatMap((p) => (p.enforcement.kind === 'node' ? p.enforcement.devices : []));
    const via = [...new Set([...[a.leaf, b.leaf].filter((d) => onPath.some((p) => p.enforcement.devices.includes(d))), ...nodes])].sort();
    return { verdicts, action, decisive, via };
  };
  const listen = (dst: string, proto: ServiceProto, port: number) => {
    const l = listeners.get(dst) ?? { tcp: [], udp: [] };
    listeners.set(dst, l);
    const list = proto === 'tcp' ? l.tcp : l.udp;
    if (!list.includes(port)) list.push(port);
  };
  const why = (verdicts: ProbeVerdict[], decisive?: ProbeVerdict) =>
    decisive ? verdictText(decisive) : verdicts.length ? verdicts.map(verdictText).join('; ') : 'no policy on the path';

  // The path as the fabric forwards it (whatever the policies do to a ping): only pairs where
  // the destination itself is reached.
  const forwardingOf = (a: Endpoint, b: Endpoint, family: Family) => {
    const address = addressOf(b, family)!;
    const pred = predictor.predict({ src: a.name, dst: b.name, family, address }, { policies: false });
    if (!pred?.answers || pred.answeredBy !== b.name) return undefined;
    return pred.predicted === 'bridged' || pred.predicted === 'routed' ? pred.predicted : undefined;
  };

  for (const family of [4, 6] as const) {
    for (const a of endpoints) {
      const from = addressOf(a, family);
      if (!from) continue;
      for (const b of endpoints) {
        const to = addressOf(b, family);
        if (a === b || !to) continue;
        const forwarding = forwardingOf(a, b, family);
        if (!forwarding) continue;
        for (const s of services) {
          const packet: Packet = { family, src: from, dst: to, protocol: PROTO_NUMBER[s.proto], srcPort: SOURCE_PORT, dstPort: s.port, state: 'new' };
          const { verdicts, action, decisive, via } = judge(a, b, forwarding, packet);
          listen(b.name, s.proto, s.port);
          probes.push({
            src: a.name, dst: b.name, family, address: to, proto: s.proto, port: s.port, service: `${s.proto}/${s.port}`, forwarding, verdicts, action, via,
            expect: expectedOutcome(action, s.proto), why: why(verdicts, decisive),
            ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}),
          });
        }
      }
    }
  }

  // Port forwards: probed at the pre-NAT address (a single host) from every routed source the
  // NAT rule matches; a bridged source would get the answer straight from the destination,
  // not through the translating leaf, and never connect (hairpin NAT).
  for (const pol of policies) {
    for (const n of pol.nat) {
      if (n.kind !== 'dnat' || !n.to?.address) continue;
      const family: Family = n.to.address.includes(':') ? 6 : 4;
      const b = endpoints.find((e) => addressOf(e, family) === n.to!.address);
      const vip = n.dst.negate ? undefined : n.dst.include.filter((c) => c.includes(':') === (family === 6));
      if (!b || !vip || vip.length !== 1 || !vip[0].endsWith(family === 4 ? '/32' : '/128')) continue;
      const address = vip[0].split('/')[0];
      for (const svc of n.services.length ? n.services : []) {
        if ((svc.protocol !== 'tcp' && svc.protocol !== 'udp') || !svc.dstPorts.length) continue;
        const port = Math.max(1, svc.dstPorts[0].from);
        const translated = n.to.port ?? port;
        for (const a of endpoints) {
          const from = addressOf(a, family);
          if (a === b || !from || !addressIn(n.src, from) || forwardingOf(a, b, family) !== 'routed') continue;
          const packet: Packet = { family, src: from, dst: n.to.address, protocol: PROTO_NUMBER[svc.protocol], srcPort: SOURCE_PORT, dstPort: translated, state: 'new' };
          const judged = judge(a, b, 'routed', packet);
          const { verdicts, action, decisive } = judged;
          // The translating device: the policy's node, else the source's leaf, whatever the filters are.
          const via = [...new Set([...judged.via, ...(pol.enforcement.kind === 'node' ? pol.enforcement.devices : [a.leaf])])].sort();
          const expect = expectedOutcome(action, svc.protocol);
          listen(b.name, svc.protocol, translated);
          const reply: Partial<ListenerReply> | undefined = action === 'accept' ? { endpoint: b.name, port: translated, dst: n.to.address } : undefined;
          probes.push({
            src: a.name, dst: b.name, family, address, proto: svc.protocol, port, service: `${svc.protocol}/${port} -> ${svc.protocol}/${translated}`,
            forwarding: 'routed', verdicts, action, expect, via, ...(reply ? { reply } : {}),
            nat: { policy: pol.name, rule: n.name, source: n.source },
            why: `dnat ${n.name} (${srcText(n.source)}) to ${hostPort(n.to.address, translated)}, then ${why(verdicts, decisive)}`,
            ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}),
          });
        }
      }
    }
  }
  // Another node's VIPs a firewall node routes clients of another VRF to: from the first client
  // of each such VRF, every tcp service the policies name. Accepted: connected where the VIP's
  // owner serves the port, refused where it does not (its address is local there); else as the
  // node's policy says.
  for (const pol of policies) {
    if (pol.enforcement.kind !== 'node') continue;
    const nodeName = pol.enforcement.node;
    const node = model.serviceNodes?.find((n) => n.name === nodeName);
    for (const x of node?.advertise ?? []) {
      const owners = (model.serviceNodes ?? []).filter((n) => n !== node && n.advertise.some((o) => o.prefix === x.prefix && o.vrf === x.via && o.via === undefined));
      if (!x.via || !owners.length) continue;
      const family: Family = x.prefix.includes(':') ? 6 : 4;
      const address = x.prefix.split('/')[0];
      const a = endpoints.find((e) => e.vrf === x.vrf && addressOf(e, family));
      if (!a) continue;
      const serves = new Set(owners.flatMap((n) => n.advertise.filter((o) => o.prefix === x.prefix && o.via === undefined).flatMap((o) => o.serves ?? [])));
      for (const s of services.filter((v) => v.proto === 'tcp')) {
        const packet: Packet = { family, src: addressOf(a, family)!, dst: address, protocol: PROTO_NUMBER.tcp, srcPort: SOURCE_PORT, dstPort: s.port, state: 'new' };
        const v = { policy: pol.name, ...analyses.get(pol.name)!.evaluate(packet) };
        const served = serves.has(`tcp/${s.port}`);
        probes.push({
          src: a.name, dst: owners.map((n) => n.name).join('|'), family, address, proto: 'tcp', port: s.port, service: `tcp/${s.port}`, forwarding: 'routed',
          verdicts: [v], action: v.action, via: [nodeName],
          expect: v.action === 'accept' && !served ? 'refused' : expectedOutcome(v.action, 'tcp'),
          why: `${verdictText(v)} on ${nodeName}, to ${address}${v.action === 'accept' ? `, which ${owners.map((n) => n.name).join(', ')} ${served ? 'serves' : 'does not serve'} on tcp/${s.port}` : ''}`,
          ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}),
        });
      }
    }
  }
  return { probes, listeners };
}
