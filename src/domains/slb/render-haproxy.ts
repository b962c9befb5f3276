/**
 * haproxy.cfg of one load-balancer node (templates/slb/haproxy): master-worker with the runtime
 * API socket in the node's run directory, one frontend per listener (HTTP routing rules as
 * ACLs, first match wins), one backend per pool (server lines with weight, backup, check,
 * slowstart, maxconn; http-check; cookie or stick-table persistence). A drained member gets
 * weight 0: HAProxy's drain (persistent sessions still reach it, new ones do not).
 */
import type { SlbModel, SlbPool, SlbService } from './model.ts';

/** Process-wide connections when the intent sets none: 2 descriptors each, within a 20k descriptor limit (containers, CI). */
export const DEFAULT_MAXCONN = 4096;
import { Gaps, hostPort, statusList, timeouts, type NodeScope } from './render-common.ts';

export interface HaproxyView {
  node: string;
  runDir: string;
  maxconn: number;
  defaults: { connectMs: number; clientMs: number; serverMs: number };
  frontends: {
    name: string;
    service: string;
    mode: 'http' | 'tcp';
    binds: { address: string; crts: string[]; alpn?: string }[];
    maxconn?: number;
    clientMs?: number;
    acls: { name: string; fetch: string; match: string; value: string }[];
    uses: { backend: string; acls: string; rule: string }[];
    defaultBackend: string;
  }[];
  backends: {
    name: string;
    mode: 'http' | 'tcp';
    balance: string;
    httpchk?: { method: string; path: string; host?: string; status: string };
    checkTimeoutMs?: number;
    cookie?: string;
    stick?: { type: 'ip' | 'ipv6'; expireMs: number };
    connectMs?: number;
    serverMs?: number;
    servers: { name: string; address: string; options: string }[];
  }[];
}

function serverOptions(p: SlbPool, m: SlbPool['members'][number]): string {
  const o = [`weight ${m.drain ? 0 : m.weight}`];
  if (p.health) o.push(`check inter ${p.health.intervalMs}ms rise ${p.health.rise} fall ${p.health.fall}`);
  if (p.slowStartMs) o.push(`slowstart ${p.slowStartMs}ms`);
  if (m.maxconn) o.push(`maxconn ${m.maxconn}`);
  if (m.backup) o.push('backup');
  if (p.persistence?.type === 'cookie') o.push(`cookie ${m.name}`);
  return o.join(' ');
}

function frontends(m: SlbModel, sc: NodeScope, gaps: Gaps): HaproxyView['frontends'] {
  const certs = new Map(m.certificates.map((c) => [c.name, c]));
  return sc.services.flatMap((s: SlbService) =>
    s.listeners.map((l) => {
      const mode = l.protocol === 'tcp' ? 'tcp' : 'http';
      const crts = l.certificates.map((n) => {
        const c = certs.get(n)!;
        // HAProxy 2.6 reads the key from the certificate file or from "<cert>.key" beside it.
        if (c.key && c.key !== c.cert && c.key !== `${c.cert}.key`) gaps.add(`a key file apart from its certificate (${c.key})`, c.source, `certificate '${c.name}': put the key in ${c.cert} or ${c.cert}.key`);
        return c.cert;
      });
      const acls: HaproxyView['frontends'][number]['acls'] = [];
      const uses: HaproxyView['frontends'][number]['uses'] = [];
      if (mode === 'http') {
        s.rules.forEach((r, i) => {
          const names: string[] = [];
          const acl = (kind: string, fetch: string, match: string, value: string) => {
            const name = `r${i + 1}_${kind}`;
            acls.push({ name, fetch, match, value });
            names.push(name);
          };
          if (r.host) {
            const wild = r.host.startsWith('*.');
            acl('host', 'req.hdr(host),field(1,:),lower', wild ? 'end' : 'str', wild ? r.host.slice(1) : r.host);
          }
          if (r.pathPrefix) acl('path', 'path', 'beg', r.pathPrefix);
          if (r.header) acl('hdr', `req.hdr(${r.header.name})`, 'str', r.header.value);
          uses.push({ backend: r.pool, acls: names.join(' '), rule: r.name });
        });
      }
      return {
        name: `${s.name}-${l.port}`, service: s.name, mode,
        binds: s.vips.map((v) => ({ address: hostPort(v, l.port), crts, ...(l.alpn.length ? { alpn: l.alpn.join(',') } : {}) })),
        ...(s.maxconn ? { maxconn: s.maxconn } : {}),
        ...(s.timeouts.clientMs !== undefined ? { clientMs: s.timeouts.clientMs } : {}),
        acls, uses, defaultBackend: s.defaultPool,
      } as HaproxyView['frontends'][number];
    }),
  );
}

function backends(sc: NodeScope): HaproxyView['backends'] {
  return sc.pools.map((p) => {
    const h = p.health;
    const v6 = sc.services.some((s) => (s.defaultPool === p.name || s.rules.some((r) => r.pool === p.name)) && s.vips.some((a) => a.includes(':')));
    return {
      name: p.name, mode: p.mode, balance: p.algorithm,
      ...(h?.type === 'http' ? { httpchk: { method: h.method, path: h.path, ...(h.host ? { host: h.host } : {}), status: statusList(h.expectStatus) } } : {}),
      ...(h ? { checkTimeoutMs: h.timeoutMs } : {}),
      ...(p.persistence?.type === 'cookie' ? { cookie: p.persistence.cookie } : {}),
      ...(p.persistence?.type === 'source' ? { stick: { type: v6 ? 'ipv6' : 'ip', expireMs: p.persistence.timeoutMs } } : {}),
      ...(p.timeouts.connectMs !== undefined ? { connectMs: p.timeouts.connectMs } : {}),
      ...(p.timeouts.serverMs !== undefined ? { serverMs: p.timeouts.serverMs } : {}),
      servers: p.members.map((mb) => ({ name: mb.name, address: hostPort(mb.address, mb.port), options: serverOptions(p, mb) })),
    } as HaproxyView['backends'][number];
  });
}

export function haproxyView(m: SlbModel, sc: NodeScope, gaps: Gaps): HaproxyView {
  const t = timeouts(m, undefined, undefined);
  return {
    node: sc.node.name, runDir: sc.node.runDir, maxconn: m.defaults.maxconn ?? DEFAULT_MAXCONN,
    defaults: { connectMs: t.connectMs, clientMs: t.clientMs, serverMs: t.serverMs },
    frontends: frontends(m, sc, gaps), backends: backends(sc),
  };
}
