/**
 * The firewall domain's resolved model (model.domains.firewall): what every stage reads. The
 * resolver (resolve.ts) turns `firewall:` intent into it; renderers, the packet-set analysis
 * (src/verify/packet-set, analysis.ts), lab enforcement, push and live checks read only this.
 *
 * Every reference the intent makes (address objects and groups, tenant networks, VRFs,
 * endpoints, zones, service objects) is resolved here into concrete prefixes, protocols and
 * port ranges, so a renumbered subnet changes the model, never the policy. Names the user
 * wrote are kept beside (`refs`) for messages and for targets that render named objects.
 */
import type { SourceLocation } from '../../util/errors.ts';

export type FwAction = 'accept' | 'drop' | 'reject';

/** Inclusive port range, 0..65535. */
export interface FwPortRange {
  from: number;
  to: number;
}

/**
 * A set of addresses: (include - exclude), complemented when `negate`. `include` empty and
 * `negate` false means any address (both families). CIDRs are canonical (host bits zero), IPv4
 * and IPv6 mixed.
 */
export interface FwAddressMatch {
  include: string[];
  /** `except` of the objects and groups: removed from include. */
  exclude: string[];
  negate: boolean;
  /** What the rule named (object, group, zone, network, VRF or endpoint names; literal CIDRs). */
  refs: string[];
}

/** One service: a protocol, and ports (tcp/udp) or ICMP types (icmp/icmpv6). */
export interface FwService {
  /** The service object's name, when the rule named one. */
  name?: string;
  /** tcp, udp, icmp, icmpv6, or an IP protocol number (e.g. 47 for GRE). */
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number;
  /** Destination ports (tcp/udp); empty = any. */
  dstPorts: FwPortRange[];
  /** Source ports (tcp/udp); empty = any. */
  srcPorts: FwPortRange[];
  /** ICMP type (and optional code) list (icmp/icmpv6); empty = any. */
  icmp: { type: number; code?: number }[];
}

/** Connection-tracking state a rule matches; an empty list matches every state. */
export type FwConnState = 'new' | 'established' | 'related' | 'invalid';

export interface FwRule {
  name: string;
  /** Position in its policy (0-based): first match wins. */
  index: number;
  src: FwAddressMatch;
  dst: FwAddressMatch;
  /** Any of these; empty = any protocol. */
  services: FwService[];
  state: FwConnState[];
  action: FwAction;
  log: boolean;
  counter: boolean;
  comment?: string;
  owner?: string;
  /** ISO date (YYYY-MM-DD) after which the rule is reported expired. */
  expires?: string;
  source: SourceLocation;
}

export interface FwNatRule {
  name: string;
  /** snat/masquerade rewrite the source after routing; dnat the destination before. */
  kind: 'snat' | 'masquerade' | 'dnat';
  src: FwAddressMatch;
  dst: FwAddressMatch;
  services: FwService[];
  /** New address (snat, dnat) and port (dnat: port forward). */
  to?: { address?: string; port?: number };
  source: SourceLocation;
}

/** Where a policy is enforced, resolved to the devices that enforce it. */
export type FwEnforcement =
  | { kind: 'inter-vrf'; vrfs: string[]; devices: string[] }
  | { kind: 'network'; networks: string[]; devices: string[] }
  | { kind: 'node'; node: string; attachedTo: string[]; devices: string[]; vrfs: string[]; asn: number; legs: FwNodeLeg[] };

/** A firewall node's leg: its address in a network of the VRF, on a port of its leaf. */
export interface FwNodeLeg {
  vrf: string;
  network: string;
  port: string;
  /** Addresses with the network's prefix length. */
  ipv4?: string;
  ipv6?: string;
}

export interface FwPolicy {
  name: string;
  rules: FwRule[];
  /** What happens to a packet no rule matches. */
  defaultAction: FwAction;
  /** Stateful: packets of established/related connections are accepted before the rules. */
  stateful: boolean;
  nat: FwNatRule[];
  enforcement: FwEnforcement;
  source: SourceLocation;
}

export interface FirewallModel {
  policies: FwPolicy[];
}
