/**
 * k8gb `Gslb` resources (k8gb.absa.oss/v1beta1) for one DNS server: one resource per GSLB
 * name. In k8gb each site is a cluster (its geo tag) and a member is a Kubernetes Service there,
 * healthy when it has ready endpoints; so members must be SLB virtual services (the Service
 * of that name), and whatever k8gb decides by itself (health checks, subnets, AAAA) is an error.
 */
import { stringify } from 'yaml';
import type { GslbModel, GslbName } from './model.ts';
import type { Gaps } from './render-common.ts';

export const K8GB_NAMESPACE = 'netloom-gslb';
const resourceName = (fqdn: string) => fqdn.replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');

function gslb(m: GslbModel, n: GslbName, gaps: Gaps): object | undefined {
  const ctx = `GSLB name '${n.name}'`;
  let ok = true;
  const gap = (feature: string, why: string) => {
    gaps.add(feature, n.source, `${ctx}: ${why}`);
    ok = false;
  };
  if (n.types.includes('AAAA')) gap('AAAA records', 'k8gb answers A records of the clusters\' ingress addresses');
  if (n.health) gap(`health check '${n.health}'`, 'k8gb takes a member\'s health from its Service\'s ready endpoints, not from a DNS-side check');
  if (n.policy === 'topology') gap('topology by client subnet', 'k8gb\'s geoip strategy reads a GeoIP database, not subnets');
  const pools = n.pools.map((p) => m.pools.find((x) => x.name === p)!).filter(Boolean);
  const services = new Set(pools.flatMap((p) => p.members.map((x) => (x.kind === 'vip' ? x.ref.slice(4) : `(${x.ref})`))));
  if ([...services].some((s) => s.startsWith('('))) gap('members that are not SLB virtual services', 'a k8gb member is a Kubernetes Service in each cluster');
  else if (services.size !== 1) gap('several services behind one name', `members name ${[...services].join(', ')}; a Gslb resource routes to one Service`);
  const sites = pools.map((p) => p.site);
  if (new Set(sites).size !== sites.length) gap('two pools of one name in the same site', 'a site is one cluster (geo tag)');
  if (n.policy === 'failover' && pools.length > 2) gap('a failover order beyond the primary site', 'k8gb fails over from primaryGeoTag to every other cluster at once');
  if (!ok) return undefined;
  const strategy: Record<string, unknown> = { type: n.policy === 'failover' ? 'failover' : 'roundRobin', dnsTtlSeconds: n.ttl };
  if (n.policy === 'failover') strategy.primaryGeoTag = pools[0].site;
  if (n.policy === 'weighted') strategy.weight = Object.fromEntries(pools.map((p) => [p.site, p.members.reduce((s, x) => s + x.weight, 0)]));
  const service = [...services][0];
  return {
    apiVersion: 'k8gb.absa.oss/v1beta1',
    kind: 'Gslb',
    metadata: { name: resourceName(n.name), namespace: K8GB_NAMESPACE },
    spec: {
      ingress: { rules: [{ host: n.name, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { name: 'http' } } } }] } }] },
      strategy,
    },
  };
}

export function k8gbResources(m: GslbModel, gaps: Gaps): string {
  const docs = m.names.map((n) => gslb(m, n, gaps)).filter((d): d is object => !!d);
  return docs.map((d) => stringify(d)).join('---\n');
}
