/**
 * The slb domain's resolved model (model.domains.slb): vendor-independent, every reference
 * resolved (a member naming an endpoint carries the endpoint's address, so renumbering a
 * network changes the model, never the slb intent), durations in milliseconds, lists sorted by
 * name so the JSON form is byte-stable. Renderers (render-*.ts) and checks read only this.
 */
import type { SourceLocation } from '../../util/errors.ts';
import type { SlbAlgorithm, SlbRunnable, SlbTarget } from './intent.ts';

export type { SlbAlgorithm, SlbRunnable, SlbTarget };

/** A node's address in one tenant VRF. */
export interface SlbNodeLeg {
  vrf: string;
  tenant: string;
  network: string;
  /** Addresses with the network's prefix length, e.g. 10.10.10.51/24. */
  ipv4?: string;
  ipv6?: string;
  /** The leaf port of an attached node's leg. */
  port?: string;
  source: SourceLocation;
}

export interface SlbNode {
  name: string;
  /** Leaves the node is attached to. */
  attach: string[];
  /** Cabled to leaf ports (each leg has one): attached to the fabric, in model.serviceNodes. */
  attached: boolean;
  targets: SlbTarget[];
  /** What the node runs when attached (lab, push); absent when no target of it can run. */
  runs?: SlbRunnable;
  legs: SlbNodeLeg[];
  /** Where the node's runtime files live (pid files, HAProxy's runtime API socket, nginx's prefix). */
  runDir: string;
  source: SourceLocation;
}

export interface SlbCertificate {
  name: string;
  cert: string;
  /** Absent: the key is inside the certificate file. */
  key?: string;
  source: SourceLocation;
}

export interface SlbHealthCheck {
  type: 'tcp' | 'http';
  method: string;
  path: string;
  host?: string;
  /** Inclusive status ranges. */
  expectStatus: { from: number; to: number }[];
  intervalMs: number;
  rise: number;
  fall: number;
  timeoutMs: number;
  source: SourceLocation;
}

export interface SlbMember {
  /** Server name in the rendered files: unique in the pool. */
  name: string;
  endpoint?: string;
  /** Host address without prefix length. */
  address: string;
  port: number;
  weight: number;
  backup: boolean;
  drain: boolean;
  maxconn?: number;
  source: SourceLocation;
}

export interface SlbPool {
  name: string;
  /** http when only http/https listeners use it, tcp when only tcp ones do. */
  mode: 'http' | 'tcp';
  algorithm: SlbAlgorithm;
  members: SlbMember[];
  health?: SlbHealthCheck;
  persistence?: { type: 'cookie' | 'source'; cookie: string; timeoutMs: number; source: SourceLocation };
  slowStartMs?: number;
  maxconn?: number;
  timeouts: { connectMs?: number; serverMs?: number };
  /** Virtual services that route to it. */
  services: string[];
  source: SourceLocation;
}

export interface SlbListener {
  port: number;
  protocol: 'http' | 'https' | 'tcp';
  certificates: string[];
  alpn: string[];
  source: SourceLocation;
}

export interface SlbRule {
  name: string;
  host?: string;
  pathPrefix?: string;
  header?: { name: string; value: string };
  pool: string;
  source: SourceLocation;
}

export interface SlbService {
  name: string;
  tenant: string;
  vrf: string;
  /** VIP addresses (IPv4 first), no prefix length. */
  vips: string[];
  nodes: string[];
  listeners: SlbListener[];
  rules: SlbRule[];
  defaultPool: string;
  timeouts: { clientMs?: number };
  maxconn?: number;
  description?: string;
  source: SourceLocation;
}

export interface SlbModel {
  /** ASN of the nodes attached to the fabric. */
  asn: number;
  nodes: SlbNode[];
  certificates: SlbCertificate[];
  pools: SlbPool[];
  services: SlbService[];
  vipRanges: { vrf: string; prefix: string; source: SourceLocation }[];
  defaults: { timeouts: { connectMs?: number; clientMs?: number; serverMs?: number }; maxconn?: number; source: SourceLocation };
}
