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

export function healthReachFindings(model: FabricModel, m: GslbModel): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const n of m.names) {
    const h = m.healthChecks.find((x) => x.name === n.health);
    if (!h) continue;
    for (const pool of m.pools.filter((p) => n.pools.includes(p.name))) {
      for (const mb of pool.members) {
        for (const address of [mb.ipv4, mb.ipv6].filter((x): x is string => !!x).map((x) => x.split('/')[0])) {
          for (const server of m.servers) {
            const key = `${server.name}|${address}|${h.port}`;
            if (seen.has(key)) continue;
            seen.add(key);
            const denied = checkDenial(model, server, mb, address, h.port);
            if (!denied) continue;
            out.push({
              check: 'gslb-health-reach', severity: 'warning',
              message: `DNS server ${server.name} cannot health-check ${address} (${mb.ref}) of pool '${pool.name}' on tcp/${h.port}: ${denied}; it answers '${n.name}' as if that member were down`,
              evidence: { server: server.name, member: mb.ref, address, port: h.port, pool: pool.name, name: n.name, denied },
              location: mb.source, elements: { devices: server.attach },
            });
          }
        }
      }
    }
  }
  return out;
}
