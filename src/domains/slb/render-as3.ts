/**
 * F5 BIG-IP AS3 declarations of one load-balancer node, one per tenant (templates/slb/f5-as3):
 * a Tenant holding one Application per virtual service, with a Service_HTTP / Service_HTTPS /
 * Service_TCP per listener, its Pools, Monitors, Persist profiles, TLS_Server and Certificates
 * (file URLs: no key material), and an Endpoint_Policy (first-match) for the routing rules.
 *
 * Mappings (BIG-IP semantics differ): weights are ratios (round robin with unequal weights is
 * ratio-member); backup members are priority group 0 under primaries in group 10 with
 * minimumMembersActive 1; a drained member is adminState disable; a monitor's timeout is
 * interval x fall + 1 s (F5's marking-down time) and timeUntilUp (rise - 1) x interval.
 */
import type { SlbModel, SlbPool, SlbService } from './model.ts';
import { Gaps, type NodeScope } from './render-common.ts';

/** The AS3 schema version the declarations are written for. */
export const AS3_SCHEMA_VERSION = '3.36.0';

type Obj = Record<string, unknown>;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** A regex over the status line for the expected statuses (F5 matches `receive` as a regex). */
function statusRegex(r: { from: number; to: number }[]): string {
  const parts = r.flatMap((x) => {
    if (x.from % 100 === 0 && x.to === x.from + 99) return [`${x.from / 100}[0-9][0-9]`];
    return Array.from({ length: x.to - x.from + 1 }, (_, i) => String(x.from + i));
  });
  return `^HTTP/1\\.[01] (${parts.join('|')})`;
}

function monitor(p: SlbPool): Obj | undefined {
  const h = p.health;
  if (!h) return undefined;
  const interval = seconds(h.intervalMs);
  const base = { class: 'Monitor', interval, timeout: interval * h.fall + 1, timeUntilUp: (h.rise - 1) * interval };
  if (h.type === 'tcp') return { ...base, monitorType: 'tcp', send: '', receive: '' };
  const send = `${h.method} ${h.path} HTTP/1.1\r\n${h.host ? `Host: ${h.host}\r\n` : 'Host: \r\n'}Connection: Close\r\n\r\n`;
  return { ...base, monitorType: 'http', send, receive: statusRegex(h.expectStatus) };
}

function pool(p: SlbPool, gaps: Gaps): Obj {
  const ctx = `pool '${p.name}'`;
  const weighted = new Set(p.members.map((m) => m.weight)).size > 1;
  let mode: string;
  if (p.algorithm === 'roundrobin' || p.algorithm === 'static-rr') mode = weighted || p.algorithm === 'static-rr' ? 'ratio-member' : 'round-robin';
  else if (p.algorithm === 'leastconn') mode = weighted ? 'ratio-least-connections-member' : 'least-connections-member';
  else {
    gaps.add(`algorithm ${p.algorithm} (no BIG-IP load-balancing mode; it needs an iRule)`, p.source, ctx);
    mode = 'round-robin';
  }
  if (p.timeouts.connectMs !== undefined || p.timeouts.serverMs !== undefined) gaps.add('per-pool timeouts (BIG-IP sets them in TCP/HTTP profiles of the virtual server)', p.source, ctx);
  const backup = p.members.some((m) => m.backup);
  const out: Obj = {
    class: 'Pool',
    loadBalancingMode: mode,
    members: p.members.map((m) => ({
      servicePort: m.port,
      serverAddresses: [m.address],
      shareNodes: true,
      ratio: m.weight,
      ...(backup ? { priorityGroup: m.backup ? 0 : 10 } : {}),
      ...(m.maxconn ? { connectionLimit: m.maxconn } : {}),
      adminState: m.drain ? 'disable' : 'enable',
      remark: m.endpoint ? `endpoint ${m.endpoint}` : m.name,
    })),
  };
  if (backup) out.minimumMembersActive = 1;
  if (p.health) out.monitors = [{ use: `${p.name}-monitor` }];
  if (p.slowStartMs) out.slowRampTime = seconds(p.slowStartMs);
  return out;
}

function persist(p: SlbPool): Obj | undefined {
  const x = p.persistence;
  if (!x) return undefined;
  if (x.type === 'cookie') return { class: 'Persist', persistenceMethod: 'cookie', cookieMethod: 'insert', cookieName: x.cookie };
  return { class: 'Persist', persistenceMethod: 'source-address', duration: seconds(x.timeoutMs) };
}

function policy(s: SlbService): Obj {
  return {
    class: 'Endpoint_Policy',
    strategy: 'first-match',
    rules: s.rules.map((r) => {
      const conditions: Obj[] = [];
      if (r.host) {
        const wild = r.host.startsWith('*.');
        conditions.push({ type: 'httpHost', event: 'request', host: { operand: wild ? 'ends-with' : 'equals', values: [wild ? r.host.slice(1) : r.host] } });
      }
      if (r.pathPrefix) conditions.push({ type: 'httpUri', event: 'request', path: { operand: 'starts-with', values: [r.pathPrefix], caseSensitive: true } });
      if (r.header) conditions.push({ type: 'httpHeader', event: 'request', name: r.header.name, all: { operand: 'equals', values: [r.header.value], caseSensitive: true } });
      return { name: r.name, conditions, actions: [{ type: 'forward', event: 'request', select: { pool: { use: r.pool } } }] };
    }),
  };
}

function application(m: SlbModel, s: SlbService, pools: Map<string, SlbPool>, gaps: Gaps): Obj {
  const ctx = `virtual service '${s.name}'`;
  const app: Obj = { class: 'Application', ...(s.description ? { remark: s.description } : {}) };
  const used = [...new Set([s.defaultPool, ...s.rules.map((r) => r.pool)])].map((n) => pools.get(n)!);
  if (s.maxconn) gaps.add('a connection limit per virtual service', s.source, ctx);
  if (s.timeouts.clientMs !== undefined) gaps.add('a client timeout per virtual service (BIG-IP sets it in a TCP profile)', s.source, ctx);
  const kinds = new Set(used.map((p) => (p.persistence ? `${p.persistence.type}:${p.persistence.cookie}:${p.persistence.timeoutMs}` : 'none')));
  if (kinds.size > 1) gaps.add('pools with different persistence behind one virtual service (BIG-IP persists per virtual server)', s.source, ctx);
  const persisted = used.find((p) => p.persistence);
  for (const l of s.listeners) {
    const svc: Obj = {
      class: l.protocol === 'https' ? 'Service_HTTPS' : l.protocol === 'http' ? 'Service_HTTP' : 'Service_TCP',
      virtualAddresses: [...s.vips],
      virtualPort: l.port,
      pool: s.defaultPool,
    };
    if (l.protocol !== 'tcp' && s.rules.length) svc.policyEndpoint = `${s.name}-policy`;
    if (l.protocol === 'https') {
      svc.serverTLS = `${s.name}-${l.port}-tls`;
      svc.redirect80 = false;
      if (l.alpn.includes('h2')) svc.profileHTTP2 = { bigip: '/Common/http2' };
      app[`${s.name}-${l.port}-tls`] = { class: 'TLS_Server', certificates: l.certificates.map((c) => ({ certificate: c })) };
      for (const c of l.certificates) {
        const cert = m.certificates.find((x) => x.name === c)!;
        app[c] = { class: 'Certificate', certificate: { url: `file://${cert.cert}` }, privateKey: { url: `file://${cert.key ?? cert.cert}` } };
      }
    }
    svc.persistenceMethods = persisted ? [{ use: `${persisted.name}-persist` }] : [];
    app[`${s.name}-${l.port}`] = svc;
  }
  if (s.rules.length && s.listeners.some((l) => l.protocol !== 'tcp')) app[`${s.name}-policy`] = policy(s);
  for (const p of used) {
    app[p.name] = pool(p, gaps);
    const mon = monitor(p);
    if (mon) app[`${p.name}-monitor`] = mon;
    const per = persist(p);
    if (per) app[`${p.name}-persist`] = per;
  }
  return app;
}

/** One declaration per tenant the node serves, tenants by name. */
export function as3Declarations(m: SlbModel, sc: NodeScope, fabric: string, gaps: Gaps): { tenant: string; declaration: Obj }[] {
  const t = m.defaults.timeouts;
  if (t.connectMs !== undefined || t.clientMs !== undefined || t.serverMs !== undefined) gaps.add('slb.defaults.timeouts (BIG-IP takes them from its TCP/HTTP profiles)', m.defaults.source, 'slb defaults');
  const pools = new Map(sc.pools.map((p) => [p.name, p]));
  const tenants = [...new Set(sc.services.map((s) => s.tenant))].sort();
  return tenants.map((tenant) => {
    const body: Obj = { class: 'Tenant' };
    for (const s of sc.services.filter((x) => x.tenant === tenant)) body[s.name] = application(m, s, pools, gaps);
    return {
      tenant,
      declaration: {
        class: 'ADC',
        schemaVersion: AS3_SCHEMA_VERSION,
        id: `netloom-${fabric}-${sc.node.name}-${tenant}`,
        remark: `${sc.node.name}: tenant ${tenant}, generated by netloom from intent ${fabric}; do not edit`,
        [tenant]: body,
      },
    };
  });
}
