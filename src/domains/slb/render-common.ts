/**
 * What every target's view starts from: the services a node serves, the pools they use, and
 * the "target cannot express" diagnostics (feature, target, node, intent line).
 */
import type { SourceLocation } from '../../util/errors.ts';
import type { NodeDiagnostic } from '../types.ts';
import type { SlbModel, SlbNode, SlbPool, SlbService, SlbTarget } from './model.ts';

export interface NodeScope {
  node: SlbNode;
  services: SlbService[];
  /** Pools the node's services use, by name order. */
  pools: SlbPool[];
}

export function scopeOf(m: SlbModel, node: SlbNode): NodeScope {
  const services = m.services.filter((s) => s.nodes.includes(node.name));
  const used = new Set(services.flatMap((s) => [s.defaultPool, ...s.rules.map((r) => r.pool)]));
  return { node, services, pools: m.pools.filter((p) => used.has(p.name)) };
}

/** Collects what a target cannot express, one diagnostic per feature and intent line. */
export class Gaps {
  readonly diagnostics: NodeDiagnostic[] = [];
  constructor(private readonly target: SlbTarget, private readonly node: string) {}
  add(feature: string, loc: SourceLocation, context: string): void {
    const message = `load-balancer node ${this.node}: target ${this.target} cannot express ${feature} (${context})`;
    if (!this.diagnostics.some((d) => d.message === message && d.loc === loc)) this.diagnostics.push({ node: this.node, loc, message });
  }
}

/** Escapes every regular-expression metacharacter (PCRE, as nginx and HAProxy use). */
export const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`);

/** "host:port" with IPv6 in brackets. */
export const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

/** Status ranges as "200-299,304". */
export const statusList = (r: { from: number; to: number }[]): string => r.map((x) => (x.from === x.to ? String(x.from) : `${x.from}-${x.to}`)).join(',');

export const timeouts = (m: SlbModel, s: SlbService | undefined, p: SlbPool | undefined) => ({
  connectMs: p?.timeouts.connectMs ?? m.defaults.timeouts.connectMs ?? 5000,
  serverMs: p?.timeouts.serverMs ?? m.defaults.timeouts.serverMs ?? 30000,
  clientMs: s?.timeouts.clientMs ?? m.defaults.timeouts.clientMs ?? 30000,
});
