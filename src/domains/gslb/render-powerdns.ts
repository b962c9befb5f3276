/**
 * PowerDNS Authoritative (Debian's 4.7, bind backend) for one DNS server: pdns.conf,
 * named.conf and one zone file per zone, every GSLB name a LUA record per record type.
 *
 * Every policy is one Lua snippet of the same shape, the algorithm predict.ts states: one
 * health call over all the name's addresses with selector 'all' (ifportup for tcp checks,
 * ifurlup for http) gives the up set U (PowerDNS answers every address when none is up:
 * backupSelector 'all'), then the policy picks from U: failover walks the pools in priority
 * order, topology the sites in the order of the first client-subnet rule matching `bestwho`
 * (the resolver or its EDNS Client Subnet), weighted draws with pickwrandom. 4.7's ifportup
 * takes no ordered sets and its selectors have no weights, which is why the policies are
 * built on top of U rather than on the selectors.
 */
import type { ServiceRun } from '../../model/service-nodes.ts';
import type { GslbDnsServer, GslbHealthCheck, GslbModel, GslbName, RecordType } from './model.ts';
import { warmupPlan } from './warmup.ts';
import { defaultOrder, poolAddresses } from './predict.ts';
import { Gaps, serverLabel } from './render-common.ts';

/** Where the lab places a server's files, and its runtime directory (control socket). */
export const GSLB_CONF_ROOT = '/etc/netloom/gslb';
export const GSLB_RUN_ROOT = '/run/netloom/gslb';

/** A Lua string literal (intent strings hold no quote or backslash), in pieces short enough for one zone-file string. */
const q = (s: string) => (s.length <= 200 ? `'${s}'` : (s.match(/.{1,200}/g) ?? ['']).map((p) => `'${p}'`).join(' .. '));
const list = (xs: string[]) => `{${xs.map(q).join(', ')}}`;
const hostOf = (c: string) => c.split('/')[0];

/** The Lua body of one LUA record (without the leading ';'), or undefined when the type has no address. */
export function luaFor(m: GslbModel, n: GslbName, type: RecordType, hc: GslbHealthCheck | undefined): string | undefined {
  const pools = poolAddresses(m, n, type);
  const all = [...new Set(pools.flatMap((p) => p.addresses.map((a) => a.address)))];
  if (!all.length) return undefined;
  const opts = hc ? `{selector='all',backupSelector='all',timeout=${Math.max(1, Math.round(hc.timeoutMs / 1000))}${hc.expectContent ? `,stringmatch=${q(hc.expectContent)}` : ''}}` : '';
  const check = !hc
    ? list(all)
    : hc.type === 'tcp'
      ? `ifportup(${hc.port},${list(all)},${opts})`
      : `ifurlup(${q(`http://${n.name}:${hc.port}${hc.path}`)},{${list(all)}},${opts})`;
  const head = `local U={} for _,a in ipairs(${check}) do U[a]=true end local function up(s) local r={} for _,a in ipairs(s) do if U[a] then r[#r+1]=a end end return r end `;
  const firstUp = (sets: string) => `for _,s in ipairs(${sets}) do local r=up(s) if #r>0 then return r end end return {}`;
  switch (n.policy) {
    case 'all-healthy':
      return `${head}return up(${list(all)})`;
    case 'failover':
      return head + firstUp(`{${pools.map((p) => list(p.addresses.map((a) => a.address))).join(',')}}`);
    case 'weighted': {
      const w = pools.flatMap((p) => p.addresses).map((a) => `{${a.weight},${q(a.address)}}`);
      return `${head}local w={} for _,x in ipairs({${w.join(',')}}) do if U[x[2]] then w[#w+1]=x end end return pickwrandom(w)`;
    }
    case 'topology': {
      const sets = (sites: string[]) => `{${sites.map((s) => list(pools.filter((p) => p.pool.site === s).flatMap((p) => p.addresses.map((a) => a.address)))).join(',')}}`;
      const rules = n.topology.map((r, i) => `${i ? 'elseif' : 'if'} newNMG(${list(r.subnets)}):match(bestwho) then o=${sets(r.sites)} `);
      return `${head}local o=${sets(defaultOrder(m, n))} ${rules.length ? `${rules.join('')}end ` : ''}${firstUp('o')}`;
    }
  }
}

/**
 * Zone-file character strings of at most 255 bytes. PowerDNS joins a LUA record's strings
 * with one space, so the code is cut only at spaces, each cut space dropped.
 */
export function chunks(s: string): string {
  const out: string[] = [];
  let rest = s;
  while (rest.length > 250) {
    const cut = rest.lastIndexOf(' ', 250);
    if (cut <= 0) throw new Error(`LUA record code without a space in 250 characters: ${rest.slice(0, 60)}...`);
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  out.push(rest);
  return out.map((c) => `"${c}"`).join(' ');
}

export function zoneFile(m: GslbModel, zone: string, servers: GslbDnsServer[]): string {
  const lines = [`$ORIGIN ${zone}.`, `@ 3600 IN SOA ${serverLabel(servers[0].name)}.${zone}. hostmaster.${zone}. 1 3600 600 86400 ${m.ttl}`];
  for (const s of servers) lines.push(`@ 3600 IN NS ${serverLabel(s.name)}.${zone}.`);
  for (const s of servers) {
    if (s.ipv4) lines.push(`${serverLabel(s.name)}.${zone}. 3600 IN A ${hostOf(s.ipv4)}`);
    if (s.ipv6) lines.push(`${serverLabel(s.name)}.${zone}. 3600 IN AAAA ${hostOf(s.ipv6)}`);
  }
  for (const n of m.names.filter((x) => x.zone === zone)) {
    const hc = m.healthChecks.find((h) => h.name === n.health);
    for (const t of n.types) {
      const lua = luaFor(m, n, t, hc);
      if (lua) lines.push(`${n.name}. ${n.ttl} IN LUA ${t} ${chunks(`;${lua}`)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What PowerDNS 4.7's LUA health checks cannot say: one global interval, one failure, status 200. */
function healthGaps(m: GslbModel, gaps: Gaps): number {
  const used = m.healthChecks.filter((h) => m.names.some((n) => n.health === h.name));
  for (const h of used) {
    if (h.failures !== 1) gaps.add('failures before down other than 1', h.source, `health check '${h.name}': PowerDNS 4.7 marks a member down on its first failed check`);
    if (h.intervalMs % 1000) gaps.add('a health-check interval in fractions of a second', h.source, `health check '${h.name}': lua-health-checks-interval is whole seconds`);
    if (h.timeoutMs % 1000) gaps.add('a health-check timeout in fractions of a second', h.source, `health check '${h.name}': the LUA timeout option is whole seconds`);
    if (h.type === 'http' && h.expectStatus !== 200) gaps.add(`expected HTTP status ${h.expectStatus}`, h.source, `health check '${h.name}': ifurlup counts only status 200 as up`);
  }
  const first = used[0];
  for (const h of used.slice(1)) {
    if (h.intervalMs !== first.intervalMs) gaps.add('health-check intervals that differ between checks', h.source, `health check '${h.name}' every ${h.intervalMs} ms, '${first.name}' every ${first.intervalMs} ms: lua-health-checks-interval is one setting per server`);
  }
  return first ? Math.max(1, Math.round(first.intervalMs / 1000)) : 5;
}

export function powerdnsFiles(m: GslbModel, server: GslbDnsServer, gaps: Gaps): { name: string; content: string; comment: string | null }[] {
  const interval = healthGaps(m, gaps);
  const dir = `${GSLB_CONF_ROOT}/${server.name}`;
  const addrs = [server.ipv4, server.ipv6].filter((a): a is string => !!a).map(hostOf);
  const conf = [
    'launch=bind',
    `bind-config=${dir}/named.conf`,
    `local-address=${addrs.join(', ')}`,
    'local-port=53',
    'enable-lua-records=yes',
    // bestwho is the EDNS Client Subnet when a resolver sends one: topology answers by it.
    'edns-subnet-processing=yes',
    `lua-health-checks-interval=${interval}`,
    `socket-dir=${GSLB_RUN_ROOT}/${server.name}`,
    'disable-axfr=yes',
    'guardian=no',
    'daemon=no',
    'setuid=',
    'setgid=',
  ];
  const named = [`options { directory "${dir}"; };`, ...m.zones.map((z) => `zone "${z}" { type master; file "${z}.zone"; };`)];
  return [
    { name: 'pdns.conf', content: `${conf.join('\n')}\n`, comment: '#' },
    { name: 'named.conf', content: `${named.join('\n')}\n`, comment: '//' },
    ...m.zones.map((z) => ({ name: `${z}.zone`, content: zoneFile(m, z, m.servers), comment: ';' })),
    // dig -f reads every line as a query: no header comment.
    { name: 'warmup.queries', content: `${warmupQueries(m, server).join('\n')}\n`, comment: null },
  ];
}

/** dig -f lines of the warm-up plan: each name and type once, at the server's own address. */
function warmupQueries(m: GslbModel, server: GslbDnsServer): string[] {
  const at = hostOf(server.ipv4 ?? server.ipv6!);
  return warmupPlan(m).queries.map((q) => `@${at} ${q.name} ${q.type} +tries=1 +time=1`);
}

/**
 * pdns_server as a service node runs it: daemonized on the rendered pdns.conf, then the warm-up
 * plan (PowerDNS issue 12557) before `start` returns, so the first client query is health-correct.
 * The commands hold only constants and the model's numbers; names travel in the rendered files.
 */
export function powerdnsRun(m: GslbModel, server: GslbDnsServer): ServiceRun {
  const dir = `${GSLB_CONF_ROOT}/${server.name}`;
  const run = `${GSLB_RUN_ROOT}/${server.name}`;
  // pdns_control asks the running server over its control socket (4.7 calls it rping).
  const ping = `pdns_control --config-dir=${dir} --socket-dir=${run} rping >/dev/null 2>&1`;
  const wait = Math.ceil(warmupPlan(m).waitMs / 1000);
  const control = `pdns_control --config-dir=${dir} --socket-dir=${run}`;
  const start = `mkdir -p ${run}; if ! ${ping}; then pdns_server --config-dir=${dir} --daemon=yes --guardian=no; for i in $(seq 50); do ${ping} && break; sleep 0.2; done; dig -f ${dir}/warmup.queries >/dev/null 2>&1 || true; sleep ${wait}; fi`;
  // Zone names are DNS names (letters, digits, '-', '.'): quoted all the same.
  const q = (z: string) => `'${z.replace(/'/g, `'\\''`)}'`;
  return {
    start,
    check: ping,
    runDir: run,
    files: Object.fromEntries(['pdns.conf', 'named.conf', 'warmup.queries', ...m.zones.map((z) => `${z}.zone`)].map((f) => [f, `${dir}/${f}`])),
    // A zone is re-read in place (answers and LUA health state stay); a new zone list is
    // rediscovered; only pdns.conf needs the server restarted (warmed up again before it answers).
    reload: {
      ...Object.fromEntries(m.zones.map((z) => [`${z}.zone`, { kind: 'command' as const, apply: `${control} bind-reload-now ${q(z)} | grep -q 'parsed into memory'` }])),
      'named.conf': { kind: 'command', apply: `${control} rediscover >/dev/null` },
      'pdns.conf': { kind: 'command', apply: `${control} quit >/dev/null 2>&1; for i in $(seq 50); do ${ping} || break; sleep 0.1; done; ${start}` },
    },
  };
}
