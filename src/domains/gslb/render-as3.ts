/**
 * F5 AS3 GSLB declaration for one DNS server (a BIG-IP DNS): GSLB objects live in
 * /Common/Shared. One GSLB_Data_Center per site, one GSLB_Server per site holding the site's
 * member addresses as virtual servers, one GSLB_Monitor per health check, one GSLB_Pool per
 * (pool, record type), one GSLB_Domain per (name, record type), and GSLB_Topology_Records for
 * topology names. Topology records are global on a BIG-IP: names whose rules differ are an error.
 */
import type { GslbDnsServer, GslbHealthCheck, GslbModel, GslbName } from './model.ts';
import { defaultOrder, poolAddresses } from './predict.ts';
import type { Gaps } from './render-common.ts';

/** AS3 object names: letters, digits, "_" (and not starting with a digit). */
export const as3Name = (s: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : s.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_'));
const vsName = (addr: string, port: number) => as3Name(`vs_${addr}_${port}`);
const SHARED = '/Common/Shared';

function monitor(h: GslbHealthCheck): object {
  // A BIG-IP marks a member down when no check succeeded within `timeout`: interval x failures + timeout.
  const timeout = Math.ceil((h.intervalMs * h.failures + h.timeoutMs) / 1000);
  const base = { class: 'GSLB_Monitor', interval: Math.max(1, Math.round(h.intervalMs / 1000)), timeout, probeTimeout: Math.max(1, Math.round(h.timeoutMs / 1000)), target: `*:${h.port}` };
  if (h.type === 'tcp') return { ...base, monitorType: 'tcp' };
  return { ...base, monitorType: 'http', send: `GET ${h.path} HTTP/1.0\r\n\r\n`, receive: `HTTP/1\\.. ${h.expectStatus}${h.expectContent ? `[\\s\\S]*${h.expectContent.replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`)}` : ''}` };
}

const lbMode: Record<GslbName['policy'], string> = { failover: 'global-availability', weighted: 'ratio', topology: 'topology', 'all-healthy': 'round-robin' };

export function as3Declaration(m: GslbModel, server: GslbDnsServer, fabricName: string, gaps: Gaps): object {
  const shared: Record<string, unknown> = { class: 'Application', template: 'shared' };
  const port = (n: GslbName) => m.healthChecks.find((h) => h.name === n.health)?.port ?? 80;
  const hcOf = (n: GslbName) => m.healthChecks.find((h) => h.name === n.health);
  for (const site of m.sites) shared[as3Name(`dc_${site}`)] = { class: 'GSLB_Data_Center' };
  for (const h of m.healthChecks) if (m.names.some((n) => n.health === h.name)) shared[as3Name(`mon_${h.name}`)] = monitor(h);
  // Each site's member addresses, as virtual servers of its server, on the port their names check.
  const vservers = new Map<string, Map<string, { address: string; port: number; monitors: string[] }>>();
  const domains: [string, object][] = [];
  const poolsDone = new Set<string>();
  const topology: { source: string; dc: string; weight: number }[] = [];
  let topoOwner: GslbName | undefined;
  for (const n of m.names) {
    const hc = hcOf(n);
    for (const type of n.types) {
      const pools = poolAddresses(m, n, type).filter((p) => p.addresses.length);
      if (!pools.length) continue;
      const poolRefs = pools.map((p, i) => {
        const pname = as3Name(`pool_${p.pool.name}_${type}_${n.policy}_${port(n)}${hc ? `_${hc.name}` : ''}`);
        if (!poolsDone.has(pname)) {
          poolsDone.add(pname);
          const vs = vservers.get(p.pool.site) ?? new Map();
          vservers.set(p.pool.site, vs);
          for (const a of p.addresses) vs.set(vsName(a.address, port(n)), { address: a.address, port: port(n), monitors: hc ? [`${SHARED}/${as3Name(`mon_${hc.name}`)}`] : [] });
          shared[pname] = {
            class: 'GSLB_Pool',
            resourceRecordType: type,
            ...(n.policy === 'all-healthy' ? { maxAnswersReturned: Math.min(16, p.addresses.length) } : {}),
            lbModePreferred: n.policy === 'weighted' ? 'ratio' : 'round-robin',
            lbModeAlternate: 'none',
            lbModeFallback: 'none',
            members: p.addresses.map((a) => ({ server: { use: as3Name(`server_${p.pool.site}`) }, virtualServer: vsName(a.address, port(n)), ratio: a.weight })),
          };
        }
        return { use: pname, ratio: 1, ...(n.policy === 'failover' ? { order: i } : {}) };
      });
      if (n.policy === 'all-healthy' && pools.length > 1) gaps.add('all-healthy across several pools', n.source, `GSLB name '${n.name}': a GSLB_Domain answers from one pool at a time`);
      domains.push([as3Name(`${n.name}_${type}`), { class: 'GSLB_Domain', domainName: n.name, resourceRecordType: type, poolLbMode: lbMode[n.policy], pools: poolRefs }]);
    }
    if (n.policy === 'topology') {
      const rec = [
        ...n.topology.flatMap((r) => r.subnets.flatMap((s) => r.sites.map((site, i) => ({ source: s, dc: site, weight: 100 - i * 10 })))),
        ...defaultOrder(m, n).map((site, i) => ({ source: '0.0.0.0/0', dc: site, weight: 50 - i * 10 })),
      ];
      if (topoOwner && JSON.stringify(rec) !== JSON.stringify(topology)) gaps.add('topology rules that differ between names', n.source, `GSLB name '${n.name}' and '${topoOwner.name}': GSLB_Topology_Records are one table per BIG-IP`);
      else if (!topoOwner) {
        topoOwner = n;
        topology.push(...rec);
      }
    }
  }
  for (const [site, vs] of [...vservers].sort()) {
    shared[as3Name(`server_${site}`)] = {
      class: 'GSLB_Server',
      dataCenter: { use: as3Name(`dc_${site}`) },
      serverType: 'generic-host',
      devices: [{ address: [...vs.values()][0].address }],
      virtualServers: [...vs].sort().map(([name, v]) => ({ name, address: v.address, port: v.port, ...(v.monitors.length ? { monitors: v.monitors.map((x) => ({ use: x.split('/').pop() })) } : {}) })),
    };
  }
  for (const [k, v] of domains) shared[k] = v;
  if (topology.length) {
    shared.topology = {
      class: 'GSLB_Topology_Records',
      records: topology.map((t) => ({ source: { matchType: 'subnet', matchValue: t.source }, destination: { matchType: 'datacenter', matchValue: `${SHARED}/${as3Name(`dc_${t.dc}`)}` }, weight: t.weight })),
    };
  }
  return {
    class: 'AS3',
    action: 'deploy',
    persist: true,
    declaration: {
      class: 'ADC',
      schemaVersion: '3.50.0',
      id: as3Name(`netloom_${fabricName}_${server.name}_gslb`),
      label: `netloom GSLB for ${server.name}`,
      Common: { class: 'Tenant', Shared: shared },
    },
  };
}
