/**
 * nginx.conf of one load-balancer node (templates/slb/nginx), for Debian's nginx (OSS 1.22):
 * http{} upstreams and one server per HTTP(S) listener, stream{} for tcp listeners (the stream
 * module is a separate package there, loaded by path). Relative paths (pid, temp dirs) resolve
 * under the prefix: run it as `nginx -p <run dir> -c nginx.conf`.
 *
 * Routing rules become one `map` per condition (0/1) and one map over their concatenation whose
 * regexes, in rule order, pick the upstream: first match wins, as in HAProxy and AS3.
 *
 * What OSS nginx cannot do is reported, never dropped: active health checks, cookie
 * persistence and slow start are NGINX Plus features; an upstream has one balancing method, so
 * source persistence only combines with round robin; `backup` is refused with hash and random.
 */
import type { SlbModel, SlbPool, SlbService } from './model.ts';
import { Gaps, hostPort, regexEscape, timeouts, type NodeScope } from './render-common.ts';

/** Debian's path of the dynamic stream module (package libnginx-mod-stream). */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface NginxUpstream {
  name: string;
  method?: string;
  servers: string[];
}

export interface NginxView {
  node: string;
  runDir: string;
  streamModule: string;
  stream: boolean;
  http: {
    upstreams: NginxUpstream[];
    maps: { comment?: string; source: string; variable: string; hostnames: boolean; entries: { key: string; value: string }[]; fallback: string }[];
    servers: {
      service: string;
      listens: string[];
      certificate?: { cert: string; key: string };
      target: string;
      connectMs: number;
      serverMs: number;
      clientMs: number;
    }[];
  };
  streams: { upstreams: NginxUpstream[]; servers: { service: string; listens: string[]; pool: string; connectMs: number; serverMs: number }[] };
}

const HASHED = new Set(['source', 'uri', 'random']);

function upstream(p: SlbPool, gaps: Gaps): NginxUpstream {
  const ctx = `pool '${p.name}'`;
  if (p.health) gaps.add('active health checks (NGINX Plus only; OSS nginx marks members down only from failed requests)', p.health.source, ctx);
  if (p.slowStartMs) gaps.add('slow start (NGINX Plus only)', p.source, ctx);
  let method: string | undefined = { roundrobin: undefined, 'static-rr': undefined, leastconn: 'least_conn', source: 'hash $remote_addr', uri: 'hash $uri', random: 'random' }[p.algorithm];
  if (p.persistence?.type === 'cookie') gaps.add('cookie persistence (sticky is NGINX Plus only)', p.persistence.source, ctx);
  if (p.persistence?.type === 'source') {
    if (method && p.algorithm !== 'source') gaps.add(`source persistence with algorithm ${p.algorithm} (an upstream has one balancing method)`, p.persistence.source, ctx);
    method = 'hash $remote_addr';
  }
  const hashed = HASHED.has(p.algorithm) || p.persistence?.type === 'source';
  const servers = p.members.map((m) => {
    if (m.backup && hashed) gaps.add(`a backup member with ${p.persistence?.type === 'source' ? 'source persistence' : `algorithm ${p.algorithm}`} (nginx refuses backup with hash and random)`, m.source, `member ${m.name} of ${ctx}`);
    const o = [hostPort(m.address, m.port), `weight=${m.weight}`];
    if (m.maxconn) o.push(`max_conns=${m.maxconn}`);
    if (m.backup) o.push('backup');
    // Drain: no new requests; connections in flight finish (the old workers keep them on reload).
    if (m.drain) o.push('down');
    return o.join(' ');
  });
  return { name: p.name, ...(method ? { method } : {}), servers };
}

/** The maps that route one listener's requests, and the variable naming its upstream. */
function routing(s: SlbService, id: string, maps: NginxView['http']['maps']): string {
  if (!s.rules.length) return s.defaultPool;
  const conds: { source: string; hostnames: boolean; key: string }[] = [];
  const patterns: string[][] = [];
  s.rules.forEach((r) => {
    const mine: number[] = [];
    const cond = (source: string, hostnames: boolean, key: string) => {
      let i = conds.findIndex((c) => c.source === source && c.key === key);
      if (i < 0) i = conds.push({ source, hostnames, key }) - 1;
      mine.push(i);
    };
    if (r.host) cond('$host', true, r.host);
    if (r.pathPrefix) cond('$request_uri', false, `~^${regexEscape(r.pathPrefix)}`);
    // Header values compare case-sensitively, as in HAProxy: a regex, not a (case-folded) string.
    if (r.header) cond(`$http_${r.header.name.toLowerCase().replace(/-/g, '_')}`, false, `~^${regexEscape(r.header.value)}$`);
    patterns.push(mine.map(String));
  });
  conds.forEach((c, i) => maps.push({ source: c.source, variable: `$${id}_c${i + 1}`, hostnames: c.hostnames, entries: [{ key: c.key, value: '1' }], fallback: '0' }));
  const variable = `$${id}_pool`;
  maps.push({
    comment: `virtual service ${s.name}: rules in order, first match wins`,
    source: conds.map((_, i) => `$${id}_c${i + 1}`).join(''),
    variable, hostnames: false,
    entries: s.rules.map((r, i) => ({ key: `~^${conds.map((_, k) => (patterns[i].includes(String(k)) ? '1' : '.')).join('')}`, value: r.pool })),
    fallback: s.defaultPool,
  });
  return variable;
}

export function nginxView(m: SlbModel, sc: NodeScope, gaps: Gaps): NginxView {
  const certs = new Map(m.certificates.map((c) => [c.name, c]));
  const pools = new Map(sc.pools.map((p) => [p.name, p]));
  const view: NginxView = { node: sc.node.name, runDir: sc.node.runDir, streamModule: NGINX_STREAM_MODULE, stream: false, http: { upstreams: [], maps: [], servers: [] }, streams: { upstreams: [], servers: [] } };
  for (const p of sc.pools) (p.mode === 'tcp' ? view.streams.upstreams : view.http.upstreams).push(upstream(p, gaps));
  let n = 0;
  for (const s of sc.services) {
    const ctx = `virtual service '${s.name}'`;
    if (s.maxconn) gaps.add('a connection limit per virtual service', s.source, ctx);
    for (const l of s.listeners) {
      const listens = s.vips.map((v) => hostPort(v, l.port));
      if (l.protocol === 'tcp') {
        const t = timeouts(m, s, pools.get(s.defaultPool));
        view.streams.servers.push({ service: s.name, listens, pool: s.defaultPool, connectMs: t.connectMs, serverMs: t.serverMs });
        continue;
      }
      const used = [...new Set([s.defaultPool, ...s.rules.map((r) => r.pool)])].map((x) => pools.get(x)!);
      const t = timeouts(m, s, used[0]);
      if (used.some((p) => timeouts(m, s, p).connectMs !== t.connectMs || timeouts(m, s, p).serverMs !== t.serverMs)) {
        gaps.add('pools with different timeouts behind one listener (nginx sets them per location)', l.source, ctx);
      }
      let certificate: NginxView['http']['servers'][number]['certificate'];
      const suffix = l.protocol === 'https' ? ' ssl' + (l.alpn.includes('h2') ? ' http2' : '') : '';
      if (l.protocol === 'https') {
        if (l.certificates.length > 1) gaps.add('several certificates on one listener (SNI selection needs a server block per name)', l.source, ctx);
        if (l.alpn.length && !l.alpn.includes('http/1.1')) gaps.add(`ALPN without http/1.1 (${l.alpn.join(',')})`, l.source, ctx);
        const c = certs.get(l.certificates[0])!;
        certificate = { cert: c.cert, key: c.key ?? c.cert };
      }
      const id = `nl_l${++n}`;
      view.http.servers.push({
        service: s.name, listens: listens.map((x) => x + suffix), ...(certificate ? { certificate } : {}),
        target: routing(s, id, view.http.maps), connectMs: t.connectMs, serverMs: t.serverMs, clientMs: t.clientMs,
      });
    }
  }
  view.stream = view.streams.servers.length > 0;
  return view;
}
