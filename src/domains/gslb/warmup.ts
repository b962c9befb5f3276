/**
 * PowerDNS 4.7 starts a LUA record's health checks at the record's first query and answers
 * that query without results (PowerDNS issue 12557): a fresh server can hand out a dead member.
 * The workaround: before the server takes client traffic, query every record once (from the
 * server itself) and wait one check round. This is that plan, from the model.
 */
import type { GslbModel, RecordType } from './model.ts';

export interface WarmupPlan {
  /** One query per name and record type: each registers its record's checks. */
  queries: { name: string; type: RecordType }[];
  /** How long the first round of checks takes: the longest interval + timeout of the checks in use. */
  waitMs: number;
}

export function warmupPlan(m: GslbModel): WarmupPlan {
  const used = m.healthChecks.filter((h) => m.names.some((n) => n.health === h.name));
  return {
    queries: m.names.flatMap((n) => n.types.map((type) => ({ name: n.name, type }))),
    waitMs: used.length ? Math.max(...used.map((h) => h.intervalMs + h.timeoutMs)) : 0,
  };
}
