/**
 * The `slb:` intent section (zod): load-balancer nodes, certificates (file references only),
 * pools, virtual services with listeners and routing rules. Shapes and literal syntax are
 * checked here, each error at its file:line:col; names and references to the fabric model
 * (endpoints, VRFs, networks, leaves) are checked by the resolver (resolve.ts).
 *
 * Every string that lands in a configuration file is restricted to a syntax that cannot leave
 * its place there (hostnames, header tokens, URL paths, file paths), and escaped again by the
 * renderers for the file it lands in.
 */
import { z } from 'zod';
import { cidrProblem, freeText, name } from '../../intent/primitives.ts';

export const SLB_TARGETS = ['haproxy', 'nginx', 'f5-as3'] as const;
export type SlbTarget = (typeof SLB_TARGETS)[number];
/** Targets a node can run itself (F5 is a device of its own). */
export const SLB_RUNNABLE = ['haproxy', 'nginx'] as const;
export type SlbRunnable = (typeof SLB_RUNNABLE)[number];
export const SLB_ALGORITHMS = ['roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'random'] as const;
export type SlbAlgorithm = (typeof SLB_ALGORITHMS)[number];

/** An IPv4 or IPv6 host address, without prefix length. */
export const hostAddress = z.string().superRefine((s, ctx) => {
  const p = s.includes('/') ? `'${s}' is an address without prefix length, like 10.10.99.10 or fd00:99::10` : cidrProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const cidr = z.string().superRefine((s, ctx) => {
  const p = s.includes('/') ? cidrProblem(s) : `'${s}' is a prefix with its length, like 10.10.99.0/24`;
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const port = z.number().int('a port is a whole number').min(1, 'a port is between 1 and 65535').max(65535, 'a port is between 1 and 65535');

/** 500ms, 5s, 2m, 1h: stored in the model as milliseconds. */
export const duration = z.string().regex(/^\d{1,7}(ms|s|m|h)$/, 'must be a duration like 500ms, 5s, 2m or 1h');
export function durationMs(s: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(s)!;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** An absolute path of plain characters: it lands unquoted-safe in every target's syntax. */
const filePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._+@/-]{1,250}$/, 'must be an absolute file path of letters, digits and . _ + @ / - (a reference to a file on the load balancer, never key material)')
  .refine((s) => !s.split('/').includes('..') && !s.endsWith('/'), 'must name a file without ".." components');

/** A DNS name in lower case, optionally a "*." wildcard of one or more leading labels. */
const hostPattern = z
  .string()
  .max(253)
  .regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lower-case host name like shop.example.com, or *.example.com');

/** A URL path prefix: "/" then RFC 3986 path characters (no query, fragment, space or quote). */
const pathPrefix = z.string().max(200).regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be a URL path prefix starting with "/" (no space, quote, "?" or "#")');

/** An HTTP header field name (RFC 9110 token, restricted to letters, digits and "-"). */
const headerName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must be a header name of letters, digits and "-" like X-Canary');
/** A header value compared exactly: printable text without quotes or backslashes. */
const headerValue = z.string().min(1).max(200).regex(/^[\x21\x23-\x5b\x5d-\x7e]( ?[\x21\x23-\x5b\x5d-\x7e])*$/, 'must be printable ASCII without quotes, backslashes or leading/trailing spaces');
const cookieName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be a cookie name of letters, digits, "_" and "-"');

const statusSpec = z.union([
  z.number().int().min(100, 'an HTTP status is between 100 and 599').max(599, 'an HTTP status is between 100 and 599'),
  z.string().regex(/^[1-5]\d\d-[1-5]\d\d$/, 'must be a status like 200 or a range like 200-299').refine((s) => Number(s.slice(0, 3)) <= Number(s.slice(4)), 'status range out of order'),
]);

const healthCheck = z
  .strictObject({
    type: z.enum(['tcp', 'http']).describe('tcp: connect; http: a request whose status must match'),
    method: z.enum(['GET', 'HEAD', 'OPTIONS']).default('GET'),
    path: pathPrefix.default('/').describe('http: the request path'),
    host: hostPattern.optional().describe('http: the Host header sent (default: none, HTTP/1.0 style)'),
    expect_status: z.array(statusSpec).min(1).default([200]).describe('http: statuses (or ranges like 200-299) that count as healthy'),
    interval: duration.default('2s'),
    rise: z.number().int().min(1).max(100).default(2).describe('consecutive successes before a member is up'),
    fall: z.number().int().min(1).max(100).default(3).describe('consecutive failures before a member is down'),
    timeout: duration.default('1s').describe('how long one check may take'),
  })
  .describe('Active health check of every member of the pool');

const member = z
  .strictObject({
    endpoint: name.optional().describe('An endpoint of the model: its address, renumbered with it'),
    address: hostAddress.optional().describe('A literal address, for a member outside the model'),
    name: name.optional().describe('Server name in the rendered files (default: the endpoint name, or memberN)'),
    port,
    weight: z.number().int().min(1, 'a weight is between 1 and 256').max(256, 'a weight is between 1 and 256').default(1),
    backup: z.boolean().default(false).describe('Serves only when every primary member is down'),
    drain: z.boolean().default(false).describe('Takes no new connections; established ones finish'),
    maxconn: z.number().int().min(1).max(1_000_000).optional().describe('Concurrent connections to this member'),
  })
  .describe('A pool member: an endpoint or an address, and a port');

const pool = z.strictObject({
  algorithm: z.enum(SLB_ALGORITHMS).default('roundrobin'),
  members: z.array(member).min(1, 'a pool needs at least one member'),
  health_check: healthCheck.optional(),
  persistence: z
    .strictObject({
      type: z.enum(['cookie', 'source']),
      cookie: cookieName.default('NLSRV').describe('cookie: the cookie the load balancer inserts'),
      timeout: duration.default('30m').describe('source: how long a client stays on its member'),
    })
    .optional(),
  slow_start: duration.optional().describe('A member coming up ramps its weight up over this time'),
  maxconn: z.number().int().min(1).max(1_000_000).optional().describe('Default connection limit of each member'),
  timeouts: z.strictObject({ connect: duration.optional(), server: duration.optional() }).optional(),
  description: freeText.optional(),
});

const listener = z.strictObject({
  port,
  protocol: z.enum(['http', 'https', 'tcp']),
  certificates: z.array(name).min(1).optional().describe('https: certificates by name (slb.certificates); the first is the default, others by SNI'),
  alpn: z.array(z.enum(['h2', 'http/1.1'])).min(1).optional().describe('https: protocols offered by ALPN, in order (h2: HTTP/2)'),
});

const rule = z.strictObject({
  name: name.optional(),
  host: hostPattern.optional().describe('Host header equals this (or ends with it for *.domain)'),
  path_prefix: pathPrefix.optional().describe('The request path starts with this'),
  header: z.strictObject({ name: headerName, value: headerValue }).optional().describe('A request header equals this value'),
  pool: name,
});

const service = z.strictObject({
  name,
  vrf: name.describe('The tenant VRF the VIP lives in'),
  vip: z.union([hostAddress, z.array(hostAddress).min(1).max(2)]).describe('IPv4 and/or IPv6 address, inside a network of the VRF or one of its vip_ranges'),
  nodes: z.array(name).min(1).optional().describe('Load-balancer nodes serving the VIP (default: every node in the VRF)'),
  listeners: z.array(listener).min(1, 'a virtual service needs at least one listener'),
  rules: z.array(rule).default([]).describe('http/https: first match wins; a rule matches when all its conditions do'),
  default_pool: name.describe('Where requests no rule matches (and every tcp connection) go'),
  timeouts: z.strictObject({ client: duration.optional() }).optional(),
  maxconn: z.number().int().min(1).max(10_000_000).optional().describe('Concurrent client connections the service accepts'),
  description: freeText.optional(),
});

const nodeLeg = z.strictObject({
  network: name.describe('The tenant network (of this VRF) the node has its address in'),
  port: z.string().regex(/^[A-Za-z][A-Za-z0-9/._:-]{0,62}$/, 'must be an interface name of the leaf (eth20, Ethernet1/20, ge-0/0/20)').optional().describe("The leaf port this VRF's leg is cabled to (an access port in the network's VLAN). With ports on every leg the node is attached to the fabric: eBGP with its leaf in each VRF, VIPs announced while HAProxy runs, run in the lab. Without: an external node (files rendered, VIPs not routed)"),
  ipv4: hostAddress.optional(),
  ipv6: hostAddress.optional(),
});

const lbNode = z.strictObject({
  attach: z.array(name).min(1).describe('The leaves the node is attached to'),
  targets: z.array(z.enum(SLB_TARGETS)).min(1).default(['haproxy']).describe('What to render for the node: haproxy.cfg, nginx.conf, F5 AS3 declarations'),
  runs: z.enum(SLB_RUNNABLE).optional().describe('What an attached node runs (lab, push): one of its targets; default haproxy when listed, else nginx'),
  vrfs: z.record(name, nodeLeg).describe('Tenant VRFs the node serves, each with its address'),
  description: freeText.optional(),
});

export const slbIntent = z
  .strictObject({
    certificates: z
      .record(name, z.strictObject({ cert: filePath.describe('PEM certificate (chain) on the node'), key: filePath.optional().describe('PEM private key file on the node (default: inside the cert file)'), description: freeText.optional() }))
      .default({}),
    asn: z.number().int().min(1).max(4294967295).default(65300).describe('ASN of the load-balancer nodes (eBGP with their leaves); distinct from every fabric ASN'),
    vip_ranges: z.array(z.strictObject({ vrf: name, prefix: cidr })).default([]).describe('Prefixes reserved for VIPs of a VRF, outside its networks'),
    defaults: z
      .strictObject({
        timeouts: z.strictObject({ connect: duration.optional(), client: duration.optional(), server: duration.optional() }).optional(),
        maxconn: z.number().int().min(1).max(10_000_000).optional().describe('Process-wide connection limit of each node'),
      })
      .default({}),
    nodes: z.record(name, lbNode),
    pools: z.record(name, pool),
    services: z.array(service).min(1, 'an slb section needs at least one virtual service'),
  })
  .describe('L7 server load balancing: load-balancer nodes, virtual services, pools');

export type SlbIntent = z.output<typeof slbIntent>;
export type SlbIntentPool = SlbIntent['pools'][string];
export type SlbIntentService = SlbIntent['services'][number];
export type SlbIntentNode = SlbIntent['nodes'][string];
