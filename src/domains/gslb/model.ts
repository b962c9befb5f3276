/**
 * The gslb domain's resolved model (model.domains.gslb): every member resolved to addresses
 * (an SLB VIP or an endpoint carries its current address, so renumbering changes the model,
 * never the gslb intent), durations in milliseconds, names sorted so the JSON form is stable.
 * Renderers, checks and the answer prediction (predict.ts) read only this.
 */
import type { SourceLocation } from '../../util/errors.ts';
import type { SlbNodeLeg } from '../slb/model.ts';
import type { GslbPolicy, GslbTarget } from './intent.ts';

export type { GslbPolicy, GslbTarget };
export type RecordType = 'A' | 'AAAA';

export interface GslbHealthCheck {
  name: string;
  type: 'tcp' | 'http';
  port: number;
  path: string;
  expectStatus: number;
  expectContent?: string;
  intervalMs: number;
  timeoutMs: number;
  failures: number;
  source: SourceLocation;
}

export interface GslbMember {
  /** What the member names: vip:<service>, endpoint:<name> or address. */
  ref: string;
  kind: 'vip' | 'endpoint' | 'address';
  ipv4?: string;
  ipv6?: string;
  weight: number;
  source: SourceLocation;
}

export interface GslbPool {
  name: string;
  site: string;
  members: GslbMember[];
  source: SourceLocation;
}

export interface GslbTopologyRule {
  subnets: string[];
  sites: string[];
  source: SourceLocation;
}

export interface GslbName {
  name: string;
  /** The zone (gslb.zones) the name lies in: the longest that contains it. */
  zone: string;
  types: RecordType[];
  policy: GslbPolicy;
  /** Pool names; for failover in priority order. */
  pools: string[];
  health?: string;
  ttl: number;
  topology: GslbTopologyRule[];
  fallback: string[];
  source: SourceLocation;
}

/** A DNS server is a service node with one leg (VRF, network, addresses), like a load balancer's. */
export interface GslbDnsServer extends SlbNodeLeg {
  name: string;
  site: string;
  attach: string[];
  targets: GslbTarget[];
  /** The leaf port it is cabled to: then a service node of the fabric (model.serviceNodes), run in the lab. */
  port?: string;
}

export interface GslbModel {
  sites: string[];
  /** ASN of the attached DNS servers (eBGP with their leaf). */
  asn: number;
  zones: string[];
  ttl: number;
  servers: GslbDnsServer[];
  healthChecks: GslbHealthCheck[];
  pools: GslbPool[];
  names: GslbName[];
  source: SourceLocation;
}
