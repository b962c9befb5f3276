/**
 * The `gslb:` intent section (zod): sites, zones, DNS servers (authoritative service nodes),
 * health checks, pools per site and GSLB names with their answer policy. Shapes and literal
 * syntax are checked here, each error at its file:line:col; references (sites, SLB services,
 * endpoints, leaves, VRFs) by the resolver (resolve.ts).
 *
 * Every string that lands in a zone file, a Lua snippet or JSON is restricted to characters
 * that cannot leave their place there (no quotes, backslashes or spaces).
 */
import { z } from 'zod';
import { cidrProblem, freeText, name } from '../../intent/primitives.ts';
import { duration, hostAddress } from '../slb/intent.ts';

export const GSLB_TARGETS = ['powerdns', 'f5-as3', 'k8gb'] as const;
export type GslbTarget = (typeof GSLB_TARGETS)[number];
export const GSLB_POLICIES = ['failover', 'weighted', 'topology', 'all-healthy'] as const;
export type GslbPolicy = (typeof GSLB_POLICIES)[number];

/** A lower-case DNS name without trailing dot (no wildcard: a GSLB name answers for itself). */
export const fqdn = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lower-case fully qualified name like shop.gslb.example.com (no trailing dot)');

const cidr = z.string().superRefine((s, ctx) => {
  const p = s.includes('/') ? cidrProblem(s) : `'${s}' is a prefix with its length, like 10.1.0.0/16`;
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const port = z.number().int('a port is a whole number').min(1, 'a port is between 1 and 65535').max(65535, 'a port is between 1 and 65535');
const urlPath = z.string().max(200).regex(/^\/[A-Za-z0-9._~!$&()*+,;=:@%/-]*$/, 'must be a URL path starting with "/" (no quote, space, "?" or "#")');
/** Text the response body must contain: printable ASCII without quotes, backslashes or spaces at the ends. */
const content = z.string().min(1).max(100).regex(/^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]( ?[\x21\x23-\x26\x28-\x5b\x5d-\x7e])*$/, 'must be printable ASCII without quotes or backslashes');

const healthCheck = z
  .strictObject({
    type: z.enum(['tcp', 'http']).describe('tcp: a connection to port; http: GET path, status and optional content must match'),
    port,
    path: urlPath.default('/').describe('http: the request path'),
    expect_status: z.number().int().min(100).max(599).default(200).describe('http: the status that counts as healthy'),
    expect_content: content.optional().describe('http: text the response body must contain'),
    interval: duration.default('5s').describe('time between checks of one member'),
    timeout: duration.default('2s').describe('how long one check may take'),
    failures: z.number().int().min(1).max(100).default(1).describe('consecutive failed checks before a member is down'),
  })
  .describe('Active health check of the members of a GSLB name');

const member = z
  .strictObject({
    vip: name.optional().describe('An SLB virtual service by name: its VIP(s), renumbered with it'),
    endpoint: name.optional().describe('An endpoint of the model: its address(es)'),
    address: z.union([hostAddress, z.array(hostAddress).min(1).max(2)]).optional().describe('Literal IPv4 and/or IPv6 address(es)'),
    weight: z.number().int().min(1, 'a weight is between 1 and 100').max(100, 'a weight is between 1 and 100').default(1).describe('weighted policy: share of answers'),
  })
  .describe('A pool member: an SLB VIP, an endpoint or literal addresses (exactly one)');

const pool = z.strictObject({
  site: name.describe('The site (gslb.sites) the pool serves from'),
  members: z.array(member).min(1, 'a pool needs at least one member'),
  description: freeText.optional(),
});

const topologyRule = z.strictObject({
  subnets: z.array(cidr).min(1).describe('Client subnets (the resolver address, or its EDNS Client Subnet)'),
  sites: z.array(name).min(1).describe('Sites in order of preference for these clients'),
});

const gslbName = z.strictObject({
  name: fqdn,
  types: z.array(z.enum(['A', 'AAAA'])).min(1).default(['A']),
  policy: z.enum(GSLB_POLICIES).describe('failover: the first pool (in order) with a healthy member; weighted: one healthy member by weight; topology: nearest site by client subnet; all-healthy: every healthy member'),
  pools: z.array(name).min(1).describe('Pools by name; for failover their order is the priority'),
  health_check: name.optional().describe('A check of gslb.health_checks (default: none, members are always up)'),
  ttl: z.number().int().min(0).max(86400).optional().describe('Answer TTL in seconds (default: gslb.ttl)'),
  topology: z.array(topologyRule).optional().describe('topology: first matching rule wins'),
  fallback: z.array(name).min(1).optional().describe('topology: site order for clients no rule matches'),
  description: freeText.optional(),
});

const nodeLeg = z.strictObject({
  network: name.describe('The tenant network (of this VRF) the server has its address in'),
  port: z.string().regex(/^[A-Za-z][A-Za-z0-9/._:-]{0,62}$/, 'must be an interface name of the leaf (eth20, Ethernet1/20, ge-0/0/20)').optional().describe("The leaf port the server is cabled to (an access port in the network's VLAN): with it the server is a service node of the fabric, run in the lab. Without: an external server (files rendered only)"),
  ipv4: hostAddress.optional(),
  ipv6: hostAddress.optional(),
});

const dnsServer = z.strictObject({
  site: name,
  attach: z.array(name).min(1).describe('The leaves the server is attached to'),
  targets: z.array(z.enum(GSLB_TARGETS)).min(1).default(['powerdns']).describe('What to render: PowerDNS (pdns.conf, zones), F5 AS3 GSLB declaration, k8gb Gslb resources'),
  vrf: name.describe('The tenant VRF the server answers in'),
  leg: nodeLeg,
  description: freeText.optional(),
});

export const gslbIntent = z
  .strictObject({
    sites: z.array(name).default([]).describe("Site names pools and DNS servers refer to: a multi-site intent's sites come from sites.yaml, these add sites outside it (members by address only)"),
    asn: z.number().int().min(1).max(4294967295).default(65353).describe('ASN of the DNS servers attached to the fabric (eBGP with their leaf); distinct from every fabric ASN'),
    zones: z.array(fqdn).min(1).describe('Zones the DNS servers are authoritative for; every name lies in one'),
    ttl: z.number().int().min(0).max(86400).default(30).describe('Default answer TTL in seconds'),
    dns_servers: z.record(name, dnsServer),
    health_checks: z.record(name, healthCheck).default({}),
    pools: z.record(name, pool),
    names: z.array(gslbName).min(1, 'a gslb section needs at least one name'),
  })
  .describe('Global server load balancing by DNS: sites, pools, names and their policies');

export type GslbIntent = z.output<typeof gslbIntent>;
