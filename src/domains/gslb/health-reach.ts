/**
 * Whether each DNS server's health checks reach the pool members past the policies at the
 * leaves (every domain's verify.pathVerdict: a firewall's). Every server probes every member of
 * the names it answers itself; one whose checks a policy drops answers as if the member were
 * down, whatever the member does. Found in the lab: a policy between dc1's web and app networks
 * kept ns1 (in web) from every VIP and from dc2's members, so ns1 handed out nothing of them.
 */
import type { FabricModel } from '../../model/types.ts';
import type { Finding } from '../../verify/findings.ts';
import type { SlbModel } from '../slb/model.ts';
import { connectionDenial, legEndpoint, vipDenial } from '../slb/policy-path.ts';
import type { GslbDnsServer, GslbMember, GslbModel } from './model.ts';

/** Why the policies keep `server`'s health check from `address`:`port` of the member; undefined when they let it through. */
function checkDenial(model: FabricModel, server: GslbDnsServer, mb: GslbMember, address: string, port: number): string | undefined {
  const slb = model.domains.slb as SlbModel | undefined;
  for (const leaf of server.attach) {
    const me = legEndpoint(model, server.name, server, leaf);
    if (!me) continue;
    const from = address.includes(':') ? me.ipv6 : me.ipv4;
    let denied: string | undefined;
    if (mb.kind === 'endpoint') {
      const ep = model.endpoints.find((e) => `endpoint:${e.name}` === mb.ref);
      if (ep) denied = connectionDenial(model, me, ep, ep.network === me.network ? 'bridged' : 'routed', from, address, port);
    } else if (mb.kind === 'vip') {
      const service = slb?.services.find((s) => `vip:${s.name}` === mb.ref);
      if (slb && service) denied = vipDenial(model, slb, service, address, port, me);
    }
    if (denied) return denied;
  }
  return undefined;
}

/** What a DNS server's health check of one member address is predicted to see. */
export interface PredictedCheck {
  server: string;
  address: string;
  port: number;
  member: GslbMember;
  pool: string;
  name: string;
  /** Why the policies drop the check; undefined: it gets through (the member answers). */
  denied?: string;
}

/** Every (server, member address, port) a name's health check probes, with the prediction; keyed `server|address|port`. */
export function predictedChecks(model: FabricModel, m: GslbModel): Map<string, PredictedCheck> {
  const out = new Map<string, PredictedCheck>();
  for (const n of m.names) {
    const h = m.healthChecks.find((x) => x.name === n.health);
    if (!h) continue;
    for (const pool of m.pools.filter((p) => n.pools.includes(p.name))) {
      for (const mb of pool.members) {
        for (const address of [mb.ipv4, mb.ipv6].filter((x): x is string => !!x).map((x) => x.split('/')[0])) {
          for (const server of m.servers) {
            const key = `${server.name}|${address}|${h.port}`;
            if (out.has(key)) continue;
            out.set(key, { server: server.name, address, port: h.port, member: mb, pool: pool.name, name: n.name, denied: checkDenial(model, server, mb, address, h.port) });
          }
        }
      }
    }
  }
  return out;
}

export function healthReachFindings(model: FabricModel, m: GslbModel): Finding[] {
  return [...predictedChecks(model, m).values()]
    .filter((c) => c.denied)
    .map((c) => ({
      check: 'gslb-health-reach', severity: 'warning' as const,
      message: `DNS server ${c.server} cannot health-check ${c.address} (${c.member.ref}) of pool '${c.pool}' on tcp/${c.port}: ${c.denied}; it answers '${c.name}' as if that member were down`,
      evidence: { server: c.server, member: c.member.ref, address: c.address, port: c.port, pool: c.pool, name: c.name, denied: c.denied },
      location: c.member.source, elements: { devices: m.servers.find((x) => x.name === c.server)!.attach },
    }));
}
