/**
 * Port forwards in the endpoint reachability matrix (firewall-endpoint-services): per
 * destination NAT rule to one endpoint's address, from each endpoint its source matches and the
 * fabric routes to that endpoint, fw query's exact answer for the rule's services (the
 * translation first, then every policy on the path), either family: the line a live probe
 * proves (live-plan.ts probes the same sources at the pre-NAT address).
 */
import type { FabricModel } from '../../model/types.ts';
import { formatLocation as where } from '../../util/errors.ts';
import { parseCidr } from '../../verify/packet-set/index.ts';
import type { PolicyAnalysis } from './analysis.ts';
import { addressPlace, hostPrefix, queryFlow } from './flow-query.ts';
import { addressIn } from './live-plan.ts';
import type { FwPolicy } from './model.ts';
import { hostPort } from './packet-text.ts';

export interface ForwardLine {
  src: string;
  /** The translated destination endpoint. */
  dst: string;
  text: string;
  verdict: 'accepted' | 'denied' | 'partly accepted';
}

/** `routed(a, b)`: whether the fabric routes from endpoint a to endpoint b. */
export function portForwardLines(
  model: FabricModel, policies: FwPolicy[], analysisOf: (p: FwPolicy) => PolicyAnalysis, routed: (a: string, b: string) => boolean,
): ForwardLine[] {
  const out: ForwardLine[] = [];
  for (const p of policies) {
    for (const n of p.nat) {
      const to = n.to?.address;
      if (n.kind !== 'dnat' || !to || n.dst.negate) continue;
      const six = to.includes(':');
      const vip = n.dst.include.filter((c) => c.includes(':') === six);
      const addressOf = (e: FabricModel['endpoints'][number]) => (six ? e.ipv6 : e.ipv4)?.split('/')[0];
      const b = model.endpoints.find((e) => addressOf(e) === to);
      if (!b || vip.length !== 1 || vip[0] !== hostPrefix(vip[0]!)) continue;
      for (const a of model.endpoints) {
        const from = addressOf(a);
        if (a === b || !from || !addressIn(n.src, from) || !routed(a.name, b.name)) continue;
        const srcPlace = { arg: a.name, kind: 'endpoint' as const, prefixes: [hostPrefix(from)], leaves: [a.leaf] };
        const q = queryFlow(model, policies, analysisOf, srcPlace, addressPlace(model, parseCidr(vip[0]!)), n.services, ['new']);
        const decided = q.policies.flatMap((x) => x.decisions.map((d) => `${d.action} by ${d.kind === 'rule' ? `rule ${d.rule}` : d.kind === 'default' ? 'the default' : 'the stateful acceptance'} (${d.location}) of policy ${x.policy}`));
        const vipText = hostPort(vip[0]!.split('/')[0]!, n.services.length === 1 && n.services[0]!.dstPorts.length === 1 && n.services[0]!.dstPorts[0]!.from === n.services[0]!.dstPorts[0]!.to ? n.services[0]!.dstPorts[0]!.from : undefined);
        out.push({
          src: a.name, dst: b.name, verdict: q.verdict,
          text: `${a.name} -> ${vipText} (port forward ${n.name} at ${where(n.source)}, to ${hostPort(to, n.to?.port)} on ${b.name}): ${q.verdict}${decided.length ? `: ${[...new Set(decided)].join('; ')}` : ''}`,
        });
      }
    }
  }
  return out;
}
