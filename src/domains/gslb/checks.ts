/**
 * The gslb domain's static questions (`verify --static`, ids gslb-*), each finding at its
 * intent line: names with nothing to answer, pools that can never be healthy, names that
 * overlap, topology without a fallback, members a DNS server's health checks cannot reach past
 * the policies at the leaves, and TTLs that outlast health detection.
 */
import type { FabricModel } from '../../model/types.ts';
import type { StaticCheck } from '../../verify/checks/types.ts';
import type { Finding } from '../../verify/findings.ts';
import type { GslbModel } from './model.ts';
import { poolAddresses } from './predict.ts';
import { serverLabel } from './render-common.ts';
import { zoneOf } from './resolve.ts';
import { healthReachFindings } from './health-reach.ts';

const gslbOf = (model: FabricModel): GslbModel | undefined => model.domains.gslb as GslbModel | undefined;

export function nameFindings(m: GslbModel): Finding[] {
  const out: Finding[] = [];
  for (const n of m.names) {
    for (const t of n.types) {
      const pools = poolAddresses(m, n, t);
      if (!pools.some((p) => p.addresses.length)) {
        out.push({ check: 'gslb-name-answers', severity: 'error', message: `GSLB name '${n.name}': no member of its pools (${n.pools.join(', ')}) has an ${t === 'A' ? 'IPv4' : 'IPv6'} address: ${t} queries get no answer`, evidence: { name: n.name, type: t, pools: n.pools }, location: n.source });
      }
    }
  }
  return out;
}

export function poolFindings(m: GslbModel): Finding[] {
  const out: Finding[] = [];
  for (const p of m.pools) {
    const users = m.names.filter((n) => n.pools.includes(p.name));
    if (!users.length) {
      out.push({ check: 'gslb-pool-members', severity: 'warning', message: `pool '${p.name}' is used by no GSLB name`, evidence: { pool: p.name }, location: p.source });
      continue;
    }
    const types = new Set(users.flatMap((n) => n.types));
    const usable = p.members.filter((x) => (types.has('A') && x.ipv4) || (types.has('AAAA') && x.ipv6));
    if (!usable.length) {
      out.push({ check: 'gslb-pool-members', severity: 'error', message: `pool '${p.name}' (site ${p.site}): no member has an address of the record types its names answer (${[...types].join(', ')}): it can never be healthy`, evidence: { pool: p.name, members: p.members.map((x) => x.ref), names: users.map((n) => n.name) }, location: p.source });
    }
    for (const n of users) {
      if (n.policy === 'topology') {
        const orders = [...n.topology.flatMap((r) => r.sites), ...n.fallback];
        if (orders.length && !orders.includes(p.site)) out.push({ check: 'gslb-pool-members', severity: 'warning', message: `GSLB name '${n.name}': pool '${p.name}' is in site ${p.site}, which no topology rule or fallback names: it never answers`, evidence: { name: n.name, pool: p.name, site: p.site }, location: n.source });
      }
    }
  }
  return out;
}

export function overlapFindings(m: GslbModel): Finding[] {
  const out: Finding[] = [];
  const nsNames = new Set(m.zones.flatMap((z) => m.servers.map((s) => `${serverLabel(s.name)}.${z}`)));
  const names = new Set(m.names.map((n) => n.name));
  for (const n of m.names) {
    if (nsNames.has(n.name)) out.push({ check: 'gslb-name-overlap', severity: 'error', message: `GSLB name '${n.name}' is the name server host of a DNS server in zone ${n.zone}`, evidence: { name: n.name }, location: n.source });
    const outer = m.zones.filter((z) => z !== n.zone && zoneOf(n.name, [z]));
    if (outer.length) out.push({ check: 'gslb-name-overlap', severity: 'warning', message: `GSLB name '${n.name}' lies in zone ${n.zone} and also in ${outer.join(', ')}: resolvers following the parent's delegation see only ${n.zone}'s answer`, evidence: { name: n.name, zones: [n.zone, ...outer] }, location: n.source });
    const labels = n.name.split('.');
    const parent = labels.slice(1).map((_, i) => labels.slice(i + 1).join('.')).find((x) => names.has(x));
    if (parent) out.push({ check: 'gslb-name-overlap', severity: 'warning', message: `GSLB name '${n.name}' lies below GSLB name '${parent}'`, evidence: { name: n.name, parent }, location: n.source });
  }
  return out;
}

export function topologyFindings(m: GslbModel): Finding[] {
  return m.names
    .filter((n) => n.policy === 'topology' && !n.fallback.length)
    .map((n) => ({ check: 'gslb-topology-fallback', severity: 'warning' as const, message: `GSLB name '${n.name}': topology without a fallback: clients no rule matches get its pools' sites in listed order`, evidence: { name: n.name, rules: n.topology.length }, location: n.source }));
}

/** How long after a member fails its address may still be handed out: detection, then resolver caches. */
export const detectionMs = (h: { intervalMs: number; timeoutMs: number; failures: number }): number => h.intervalMs * h.failures + h.timeoutMs;

export function ttlFindings(m: GslbModel): Finding[] {
  const out: Finding[] = [];
  for (const n of m.names) {
    const h = m.healthChecks.find((x) => x.name === n.health);
    if (!h) {
      if (n.policy !== 'weighted' || n.pools.length > 1) out.push({ check: 'gslb-ttl-health', severity: 'warning', message: `GSLB name '${n.name}' has no health check: a failed member stays in its answers`, evidence: { name: n.name, policy: n.policy }, location: n.source });
      continue;
    }
    const det = detectionMs(h);
    if (n.ttl * 1000 > det) {
      out.push({ check: 'gslb-ttl-health', severity: 'warning', message: `GSLB name '${n.name}': TTL ${n.ttl}s exceeds health detection (${h.failures} x ${h.intervalMs / 1000}s + ${h.timeoutMs / 1000}s timeout = ${det / 1000}s): resolvers keep a failed member up to ${(det + n.ttl * 1000) / 1000}s`, evidence: { name: n.name, ttl: n.ttl, detectionMs: det }, location: n.source });
    }
    if (h.timeoutMs >= h.intervalMs) out.push({ check: 'gslb-ttl-health', severity: 'warning', message: `health check '${h.name}': timeout ${h.timeoutMs / 1000}s is not shorter than its interval ${h.intervalMs / 1000}s: checks overlap`, evidence: { check: h.name }, location: h.source });
  }
  return out;
}

const check = (id: string, title: string, description: string, severity: 'error' | 'warning', f: (m: GslbModel) => Finding[], what: (m: GslbModel) => string): StaticCheck => ({
  id, title, kind: 'static', layer: 'endpoint', severity, description,
  run(ctx) {
    const m = gslbOf(ctx.fg.model);
    return m ? { findings: f(m), examined: what(m) } : { findings: [], examined: 'no gslb section' };
  },
});

export const healthReach: StaticCheck = {
  id: 'gslb-health-reach', title: "DNS servers' health checks reach the members", kind: 'static', layer: 'endpoint', severity: 'warning',
  description: "a member some DNS server cannot health-check past the policies at the leaves (every domain's path verdict: a firewall's) is a warning: that server answers as if it were down",
  run(ctx) {
    const m = gslbOf(ctx.fg.model);
    if (!m) return { findings: [], examined: 'no gslb section' };
    const members = new Set(m.pools.flatMap((p) => p.members.map((x) => x.ref)));
    return { findings: healthReachFindings(ctx.fg.model, m), examined: `${m.servers.length} DNS servers x ${members.size} members` };
  },
};

export const gslbStaticChecks: StaticCheck[] = [
  check('gslb-name-answers', 'every GSLB name has an address to answer', 'a name whose pools have no member with an address of a record type it answers is an error', 'error', nameFindings, (m) => `${m.names.length} names`),
  check('gslb-pool-members', 'every GSLB pool can be healthy', 'a pool none of whose members has an address its names answer is an error; an unused pool, or one no topology order names, a warning', 'error', poolFindings, (m) => `${m.pools.length} pools`),
  check('gslb-name-overlap', 'GSLB names do not overlap', 'a name equal to a name-server host is an error; one in two zones or below another GSLB name a warning', 'error', overlapFindings, (m) => `${m.names.length} names in ${m.zones.length} zones`),
  check('gslb-topology-fallback', 'topology names have a fallback', 'a topology policy without a fallback site order is a warning', 'warning', topologyFindings, (m) => `${m.names.filter((n) => n.policy === 'topology').length} topology names`),
  healthReach,
  check('gslb-ttl-health', 'TTLs fit health detection', 'a TTL longer than interval x failures + timeout, a timeout not shorter than the interval, or a name without health check is a warning', 'warning', ttlFindings, (m) => `${m.names.length} names`),
];
