/**
 * The `firewall:` intent section (zod): address objects and groups, service objects and
 * groups, zones and ordered policies with NAT and an enforcement point. Shapes and literal
 * syntax are checked here (each error at its file:line:col through the fabric's validator);
 * references between names and to the fabric model are checked by the resolver (resolve.ts).
 */
import { z } from 'zod';
import { cidrProblem, freeText, name } from '../../intent/primitives.ts';

export { cidrProblem };

const cidr = z.string().superRefine((s, ctx) => {
  const p = cidrProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const portNumber = z.number().int().min(0, 'a port is between 0 and 65535').max(65535, 'a port is between 0 and 65535');
/** A port or an inclusive range "FROM-TO". */
export const portSpec = z.union([
  portNumber,
  z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'must be a port or a range like 8000-8080')
    .superRefine((s, ctx) => {
      const [a, b] = s.split('-').map(Number);
      if (a > 65535 || b > 65535) ctx.addIssue({ code: 'custom', message: `port range ${s}: a port is between 0 and 65535` });
      else if (a > b) ctx.addIssue({ code: 'custom', message: `port range ${s} is out of order (${a} > ${b})` });
    }),
]);

const icmpType = z.strictObject({
  type: z.number().int().min(0).max(255).describe('ICMP / ICMPv6 type (8: echo request, 128: ICMPv6 echo request)'),
  code: z.number().int().min(0).max(255).optional(),
});

export const serviceProtocols = ['tcp', 'udp', 'icmp', 'icmpv6'] as const;
const protocolError = 'must be tcp, udp, icmp, icmpv6 or an IP protocol number (0-255)';

const service = z
  .strictObject({
    protocol: z.union([z.enum(serviceProtocols, { error: protocolError }), z.number({ error: protocolError }).int(protocolError).min(0, protocolError).max(255, protocolError)]).describe('tcp, udp, icmp, icmpv6 or an IP protocol number (47: GRE)'),
    ports: z.array(portSpec).min(1).optional().describe('Destination ports or ranges (tcp/udp); default any'),
    source_ports: z.array(portSpec).min(1).optional().describe('Source ports or ranges (tcp/udp); default any'),
    icmp: z.array(icmpType).min(1).optional().describe('ICMP types (icmp/icmpv6); default any'),
    description: freeText.optional(),
  })
  .describe('A service: protocol, and ports (tcp/udp) or ICMP types (icmp/icmpv6)');

/** Addresses of the model by name, and literal prefixes, minus `except`. */
const addressObject = z
  .strictObject({
    prefixes: z.array(cidr).min(1).optional().describe('IPv4/IPv6 prefixes or addresses'),
    networks: z.array(name).min(1).optional().describe("Tenant networks by name: their subnet and subnet6, renumbered with them"),
    vrfs: z.array(name).min(1).optional().describe("VRFs by name: every network's subnets"),
    endpoints: z.array(name).min(1).optional().describe('Endpoints by name: their /32 and /128'),
    except: z.array(cidr).min(1).optional().describe('Prefixes taken out of the object'),
    description: freeText.optional(),
  })
  .describe('A named set of addresses');

const addressGroup = z.strictObject({
  members: z.array(name).min(1).describe('Address objects and groups (nested groups allowed, no cycles)'),
  except: z.array(cidr).min(1).optional().describe('Prefixes taken out of the group'),
  description: freeText.optional(),
});

const serviceGroup = z.strictObject({
  members: z.array(name).min(1).describe('Service objects and groups'),
  description: freeText.optional(),
});

const zone = z
  .strictObject({
    networks: z.array(name).min(1).optional(),
    vrfs: z.array(name).min(1).optional(),
    description: freeText.optional(),
  })
  .describe('A set of tenant networks and VRFs');

/** A name (address object, group or zone), `any`, or a literal address or prefix. */
const addressRef = z.string().min(1);
const addressList = z.union([addressRef, z.array(addressRef).min(1)]);
const addressMatch = z
  .union([addressList, z.strictObject({ not: addressList.describe('Everything except these') })])
  .describe('Names of address objects, groups or zones, literal prefixes, or any; {not: [...]} negates');

/** A service object or group name, or a literal: tcp/443, udp/53, tcp/8000-8080, icmp, icmp/8, icmpv6/128, any. */
const serviceRef = z.string().min(1);

export const fwActions = ['accept', 'drop', 'reject'] as const;

const rule = z.strictObject({
  name,
  source: addressMatch.optional().describe('Default: any'),
  destination: addressMatch.optional().describe('Default: any'),
  services: z.union([serviceRef, z.array(serviceRef).min(1)]).optional().describe('Service names or literals like tcp/443; default any'),
  state: z.array(z.enum(['new', 'established', 'related', 'invalid'])).min(1).optional().describe('Connection-tracking states matched (default every state)'),
  action: z.enum(fwActions),
  log: z.boolean().default(false),
  counter: z.boolean().default(false),
  comment: freeText.optional(),
  owner: freeText.optional(),
  expires: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2027-06-30')
    .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'must be a real date like 2027-06-30')
    .optional()
    .describe('YYYY-MM-DD after which the rule is reported expired'),
});

const natRule = z.strictObject({
  name,
  kind: z.enum(['snat', 'masquerade', 'dnat']).describe('snat/masquerade rewrite the source after routing, dnat the destination before'),
  source: addressMatch.optional(),
  destination: addressMatch.optional(),
  services: z.union([serviceRef, z.array(serviceRef).min(1)]).optional(),
  to: z.string().optional().describe('snat: an address; dnat: ADDRESS, ADDRESS:PORT or [IPv6]:PORT'),
  comment: freeText.optional(),
});

const hostAddress = z.string().superRefine((s, ctx) => {
  const p = s.includes('/') ? `'${s}' is an address without prefix length, like 10.10.99.2 (the network gives the length)` : cidrProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const nodeLeg = z
  .strictObject({
    network: name.describe("A network of this VRF carried by the leaf: the node's leg sits in it (a transit network of its own: the node announces the other VRFs' subnets, never its legs')"),
    port: z.string().regex(/^[A-Za-z][A-Za-z0-9/._:-]{0,62}$/, 'must be an interface name of the leaf (eth20, Ethernet1/20, ge-0/0/20)').describe("The leaf port the leg is cabled to (an access port in the network's VLAN)"),
    ipv4: hostAddress.optional().describe("The node's IPv4 address in the network (default: the network's last usable address)"),
    ipv6: hostAddress.optional().describe("The node's IPv6 address in the network (default: the subnet's last address but one not taken, when the network has an IPv6 subnet)"),
  })
  .describe("The node's leg in one VRF");

const enforcement = z
  .strictObject({
    kind: z.enum(['inter-vrf', 'networks', 'node']).describe('inter-vrf: between VRFs on the leaves carrying them; networks: at tenant networks (distributed); node: a dedicated firewall node'),
    vrfs: z.array(name).min(2).optional().describe('inter-vrf: the VRFs traffic between which the policy filters'),
    networks: z.array(name).min(1).optional().describe('networks: the tenant networks traffic to and from which the policy filters'),
    node: name.optional().describe('node: the firewall node (a Linux host with nftables, routing between its legs)'),
    attach: z.array(name).min(1).max(1, 'a firewall node attaches to one border leaf').optional().describe('node: the border leaf it is cabled to'),
    legs: z.record(name, nodeLeg).optional().describe('node: one leg per VRF it routes between (at least two): VRF -> network, leaf port, address'),
    asn: z.number().int().min(1).max(4294967295).optional().describe('node: its ASN (eBGP with the leaf in each VRF; default 65400), distinct from every fabric ASN'),
  })
  .describe('Where the policy is enforced');

const policy = z.strictObject({
  name,
  description: freeText.optional(),
  enforcement,
  default: z.enum(fwActions).default('drop').describe('Action for packets no rule matches'),
  stateful: z.boolean().default(true).describe('Accept packets of established and related connections before the rules'),
  rules: z.array(rule).default([]),
  nat: z.array(natRule).default([]),
});

export const firewallIntent = z
  .strictObject({
    addresses: z.record(name, addressObject).default({}),
    address_groups: z.record(name, addressGroup).default({}),
    services: z.record(name, service).default({}),
    service_groups: z.record(name, serviceGroup).default({}),
    zones: z.record(name, zone).default({}),
    policies: z.array(policy).min(1, 'a firewall section needs at least one policy'),
  })
  .describe('Firewall policy: objects, zones, ordered rules, NAT and where they are enforced');

export type FirewallIntent = z.output<typeof firewallIntent>;
export type FwIntentPolicy = FirewallIntent['policies'][number];
export type FwIntentRule = FwIntentPolicy['rules'][number];
export type FwIntentNat = FwIntentPolicy['nat'][number];
export type FwIntentService = FirewallIntent['services'][string];
export type FwIntentAddressMatch = NonNullable<FwIntentRule['source']>;
