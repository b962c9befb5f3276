/**
 * What a virtual service answers, predicted from the model alone: for a request (host, path,
 * header) the first rule matching it picks the pool (else the default pool), and the members
 * that serve are the pool's primaries that are not drained, or its backups when it has none.
 * The live check (live.ts) and the lab tests compare real answers with this.
 */
import type { SlbModel, SlbPool, SlbRule, SlbService } from './model.ts';

export interface SlbRequest {
  host: string;
  path: string;
  header?: { name: string; value: string };
}

function hostMatches(pattern: string, host: string): boolean {
  const h = host.toLowerCase();
  const p = pattern.toLowerCase();
  return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
}

export function ruleMatches(r: SlbRule, q: SlbRequest): boolean {
  if (r.host !== undefined && !hostMatches(r.host, q.host)) return false;
  if (r.pathPrefix !== undefined && !q.path.startsWith(r.pathPrefix)) return false;
  if (r.header !== undefined && !(q.header && q.header.name.toLowerCase() === r.header.name.toLowerCase() && q.header.value === r.header.value)) return false;
  return true;
}

/** The pool a request reaches, and the rule that sent it there (none: the default pool). */
export function routeRequest(s: SlbService, q: SlbRequest): { pool: string; rule?: SlbRule } {
  const rule = s.rules.find((r) => ruleMatches(r, q));
  return rule ? { pool: rule.pool, rule } : { pool: s.defaultPool };
}

/** Members that answer while every member is healthy: names of endpoint members (address-only members have no name to answer with). */
export function servingMembers(p: SlbPool, down: ReadonlySet<string> = new Set()): { members: string[]; backup: boolean } {
  const up = p.members.filter((m) => !m.drain && !(m.endpoint && down.has(`${m.endpoint}:${m.port}`)));
  const primaries = up.filter((m) => !m.backup);
  const chosen = primaries.length ? primaries : up.filter((m) => m.backup);
  return { members: chosen.map((m) => m.endpoint ?? m.address).sort(), backup: !primaries.length && chosen.length > 0 };
}

/**
 * One request per route of the service: each rule (its host, path prefix and header), then
 * the default pool with a host the certificates name and no rule matches (the VIP when none).
 * Each case says which rule or the default it expects; a rule shadowed by an earlier one is
 * expected to land where the earlier rule sends it.
 */
export function requestCases(s: SlbService, hosts: string[]): { request: SlbRequest; pool: string; why: string }[] {
  const out: { request: SlbRequest; pool: string; why: string }[] = [];
  for (const r of s.rules) {
    const host = r.host ? (r.host.startsWith('*.') ? `probe${r.host.slice(1)}` : r.host) : hosts[0] ?? s.vips[0];
    const request: SlbRequest = { host, path: r.pathPrefix ?? '/', ...(r.header ? { header: r.header } : {}) };
    const got = routeRequest(s, request);
    out.push({ request, pool: got.pool, why: got.rule ? `rule '${got.rule.name}'` : 'default pool' });
  }
  const candidates = [...hosts, ...s.vips];
  const host = candidates.find((h) => !s.rules.some((r) => ruleMatches(r, { host: h, path: '/' }))) ?? s.vips[0];
  const request: SlbRequest = { host, path: '/' };
  const got = routeRequest(s, request);
  out.push({ request, pool: got.pool, why: got.rule ? `rule '${got.rule.name}'` : 'default pool' });
  return out;
}

export function poolOf(m: SlbModel, name: string): SlbPool {
  return m.pools.find((p) => p.name === name)!;
}
