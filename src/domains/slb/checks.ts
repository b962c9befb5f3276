/**
 * The slb domain's static questions (`verify --static`, ids slb-*), each finding at its intent
 * line: pools that cannot serve (every member drained, or only backups), members a
 * load-balancer node cannot reach through the fabric (the fabric's own pair reachability, from
 * the node's leg on each leaf it attaches to) or connect to past the policies at the pair's
 * leaves (every domain's path verdict: a firewall's), and VIPs that collide with addresses the model
 * already gives out.
 */
import { containsCidr, normalizeCidr, parseCidr } from 'cidr-tools';
import type { Endpoint, FabricModel } from '../../model/types.ts';
import type { CheckContext, StaticCheck } from '../../verify/checks/types.ts';
import type { Finding } from '../../verify/findings.ts';
import { ReachabilityModel } from '../../verify/reachability.ts';
import type { SlbModel, SlbPool } from './model.ts';
import { connectionDenial, legEndpoint } from './policy-path.ts';

const slbOf = (model: FabricModel): SlbModel | undefined => model.domains.slb as SlbModel | undefined;
const canon = (a: string) => normalizeCidr(a.split('/')[0]);

export function poolFindings(m: SlbModel): Finding[] {
  const out: Finding[] = [];
  for (const p of m.pools) {
    const live = p.members.filter((x) => !x.drain);
    const add = (message: string) => out.push({ check: 'slb-pool-members', severity: 'error', message: `pool '${p.name}': ${message}`, evidence: { pool: p.name, members: p.members.map((x) => `${x.name}${x.backup ? ' (backup)' : ''}${x.drain ? ' (drain)' : ''}`), services: p.services }, location: p.source });
    if (!live.length) add('every member is drained: no new connection has anywhere to go');
    else if (live.every((x) => x.backup)) add('every member that is not drained is a backup: backups serve only when a primary is down, and there is none');
    else if (!p.health) out.push({ check: 'slb-pool-members', severity: 'warning', message: `pool '${p.name}' has no health check: a failed member stays in rotation`, evidence: { pool: p.name }, location: p.source });
  }
  return out;
}

export function reachabilityFindings(ctx: CheckContext, m: SlbModel): { findings: Finding[]; pairs: number } {
  const model = ctx.fg.model;
  const reach = new ReachabilityModel(ctx);
  const out: Finding[] = [];
  let pairs = 0;
  const pools = new Map(m.pools.map((p) => [p.name, p]));
  const nodes = new Map(m.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  for (const s of m.services) {
    const used = [...new Set([s.defaultPool, ...s.rules.map((r) => r.pool)])].map((n) => pools.get(n)).filter((p): p is SlbPool => !!p);
    for (const nn of s.nodes) {
      const node = nodes.get(nn)!;
      const leg = node.legs.find((l) => l.vrf === s.vrf)!;
      for (const p of used) {
        for (const mb of p.members) {
          const key = `${nn}|${s.vrf}|${p.name}|${mb.name}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (!mb.endpoint) {
            const inVrf = model.networks.filter((n) => n.vrf === s.vrf).flatMap((n) => [n.subnet, n.subnet6].filter((x): x is string => !!x));
            pairs++;
            if (!inVrf.some((c) => (c.includes(':') === mb.address.includes(':')) && containsCidr(c, mb.address))) {
              out.push({ check: 'slb-member-reachability', severity: 'warning', message: `pool '${p.name}': member ${mb.address} is in no network of VRF ${s.vrf}; ${nn} reaches it only through routes the model does not know`, evidence: { node: nn, vrf: s.vrf, member: mb.address }, location: mb.source, elements: { devices: node.attach } });
            }
            continue;
          }
          const ep = model.endpoints.find((e) => e.name === mb.endpoint)!;
          for (const leaf of node.attach) {
            const me = legEndpoint(model, node.name, leg, leaf);
            if (!me) continue;
            pairs++;
            const r = reach.pairResult(me, ep);
            if (r.actual === 'bridged' || r.actual === 'routed') {
              // Forwarded: the connection (health checks and traffic alike) must also pass the
              // policies at both leaves, and its replies.
              const denied = connectionDenial(model, me, ep, r.actual, mb.address.includes(':') ? me.ipv6 : me.ipv4, mb.address, mb.port);
              if (denied) {
                out.push({
                  check: 'slb-member-reachability', severity: 'error',
                  message: `virtual service '${s.name}': ${nn} (on ${leaf}, network ${leg.network}) cannot connect to member ${mb.name} of pool '${p.name}' (${ep.name}) on tcp/${mb.port}: ${denied}`,
                  evidence: { node: nn, leaf, service: s.name, pool: p.name, member: ep.name, port: mb.port, forwarding: r.actual, denied },
                  location: mb.source, elements: { devices: [leaf, ep.leaf], endpoints: [ep.name] },
                });
              }
              continue;
            }
            const why = r.actual === 'isolated' ? `VRF ${leg.vrf} of ${nn} and VRF ${ep.vrf} of ${ep.name} are separate` : (r.reason ?? 'no forwarding');
            out.push({
              check: 'slb-member-reachability', severity: 'error',
              message: `virtual service '${s.name}': ${nn} (on ${leaf}, network ${leg.network}) cannot reach member ${mb.name} of pool '${p.name}' (${ep.name}): ${why}`,
              evidence: { node: nn, leaf, service: s.name, pool: p.name, member: ep.name, expected: r.expected, actual: r.actual, ...(r.reason ? { reason: r.reason } : {}) },
              location: mb.source, elements: { devices: [leaf, ep.leaf], endpoints: [ep.name] },
            });
          }
        }
      }
    }
  }
  return { findings: out, pairs };
}

export function vipFindings(model: FabricModel, m: SlbModel): Finding[] {
  const out: Finding[] = [];
  const taken = new Map<string, string>();
  for (const e of model.endpoints) for (const a of [e.ipv4, e.ipv6]) if (a) taken.set(canon(a), `the address of endpoint ${e.name}`);
  for (const n of model.networks) {
    for (const [g, c] of [[n.gateway, n.subnet], [n.gateway6, n.subnet6]] as const) {
      if (g) taken.set(canon(g), `the gateway of network ${n.name}`);
      if (c) {
        taken.set(canon(c), `the network address of ${n.name}`);
        const { end } = parseCidr(c);
        if (!c.includes(':')) taken.set([24, 16, 8, 0].map((s) => Number((end >> BigInt(s)) & 255n)).join('.'), `the broadcast address of ${n.name}`);
      }
    }
  }
  for (const n of m.nodes) for (const l of n.legs) for (const a of [l.ipv4, l.ipv6]) if (a) taken.set(canon(a), `the address of load-balancer node ${n.name}`);
  for (const s of m.services) {
    for (const v of s.vips) {
      const what = taken.get(canon(v));
      if (what) out.push({ check: 'slb-vip-conflicts', severity: 'error', message: `virtual service '${s.name}': VIP ${v} is ${what}`, evidence: { service: s.name, vip: v, vrf: s.vrf, conflict: what }, location: s.source });
    }
  }
  // One VIP in one VRF served by different node sets: each set would claim the address.
  const byVip = new Map<string, { service: string; nodes: string }>();
  for (const s of m.services) {
    for (const v of s.vips) {
      const key = `${s.vrf}|${v}`;
      const prev = byVip.get(key);
      const nodes = s.nodes.join(',');
      if (prev && prev.nodes !== nodes) out.push({ check: 'slb-vip-conflicts', severity: 'error', message: `virtual service '${s.name}': VIP ${v} is also the VIP of '${prev.service}', served by other load-balancer nodes (${prev.nodes} vs ${nodes})`, evidence: { vip: v, vrf: s.vrf }, location: s.source });
      else if (!prev) byVip.set(key, { service: s.name, nodes });
    }
  }
  return out;
}

export const poolMembers: StaticCheck = {
  id: 'slb-pool-members', title: 'every load-balancer pool can serve', kind: 'static', layer: 'endpoint', severity: 'error',
  description: 'a pool whose members are all drained, or all backups, is an error; one without a health check a warning',
  run(ctx) {
    const m = slbOf(ctx.fg.model);
    return { findings: m ? poolFindings(m) : [], examined: `${m?.pools.length ?? 0} pools` };
  },
};

export const memberReachability: StaticCheck = {
  id: 'slb-member-reachability', title: 'load-balancer nodes reach their pool members', kind: 'static', layer: 'endpoint', severity: 'error',
  description: "each node serving a virtual service reaches every member of its pools through the fabric, from each leaf it attaches to (the fabric's endpoint pair reachability), and connects to the member's port past the policies of the pair's leaves (the firewall's, where that domain is in the intent)",
  run(ctx) {
    const m = slbOf(ctx.fg.model);
    if (!m) return { findings: [], examined: 'no slb section' };
    const r = reachabilityFindings(ctx, m);
    return { findings: r.findings, examined: `${r.pairs} node-member pairs` };
  },
};

export const vipConflicts: StaticCheck = {
  id: 'slb-vip-conflicts', title: 'no VIP collides with another address', kind: 'static', layer: 'endpoint', severity: 'error',
  description: "a VIP equal to an endpoint's, a gateway's, a load-balancer node's, a network or broadcast address, or shared by services on different nodes, is an error",
  run(ctx) {
    const m = slbOf(ctx.fg.model);
    return { findings: m ? vipFindings(ctx.fg.model, m) : [], examined: `${m?.services.reduce((n, s) => n + s.vips.length, 0) ?? 0} VIPs` };
  },
};

export const slbStaticChecks: StaticCheck[] = [poolMembers, memberReachability, vipConflicts];
