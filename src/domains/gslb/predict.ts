/**
 * What a GSLB name answers, predicted from the model alone: name, record type, client address
 * (the resolver's, or its EDNS Client Subnet) and each member address's health -> the answer.
 * The PowerDNS renderer emits the same algorithm as Lua (render-powerdns.ts), and the DNS
 * behaviour test holds real answers against this function.
 *
 * Fail-open like PowerDNS: when no member of the name is healthy, every member counts as up.
 */
import { containsCidr } from 'cidr-tools';
import type { GslbModel, GslbName, GslbPool, RecordType } from './model.ts';

/** `all`: exactly these addresses; `one-of`: one address per answer, drawn by weight. */
export type PredictedAnswer = { kind: 'all'; addresses: string[] } | { kind: 'one-of'; weights: [string, number][] };

export interface PredictInput {
  name: string;
  type: RecordType;
  /** The client (bestwho): the resolver address, or the network address of its ECS. */
  client?: string;
  /** Addresses that are down (absent: up). */
  down?: ReadonlySet<string>;
}

const family = (a: string) => (a.includes(':') ? 6 : 4);

/** The name's pools in order, each with its member addresses of one record type. */
export function poolAddresses(m: GslbModel, n: GslbName, type: RecordType): PoolAddresses[] {
  // Names share pools: each pool's addresses per type are worked out once per model.
  let byPool = addressCache.get(m);
  if (!byPool) addressCache.set(m, (byPool = new Map()));
  return n.pools.flatMap((pn) => {
    const key = `${type} ${pn}`;
    let r = byPool.get(key);
    if (r === undefined) {
      const pool = m.pools.find((p) => p.name === pn);
      r = pool ? { pool, addresses: pool.members.flatMap((x) => ((type === 'A' ? x.ipv4 : x.ipv6) ? [{ address: (type === 'A' ? x.ipv4 : x.ipv6)!, weight: x.weight }] : [])) } : null;
      byPool.set(key, r);
    }
    return r ? [r] : [];
  });
}
type PoolAddresses = { pool: GslbPool; addresses: { address: string; weight: number }[] };
const addressCache = new WeakMap<GslbModel, Map<string, PoolAddresses | null>>();

/** Site order for a topology name and client: the first rule whose subnets hold it, else the fallback. */
export function siteOrder(m: GslbModel, n: GslbName, client: string | undefined): string[] {
  if (client) {
    for (const r of n.topology) if (r.subnets.some((s) => family(s) === family(client) && containsCidr(s, client))) return r.sites;
  }
  return defaultOrder(m, n);
}

/** A topology name's order for unmatched clients: its fallback, else its pools' sites in order. */
export function defaultOrder(m: GslbModel, n: GslbName): string[] {
  if (n.fallback.length) return n.fallback;
  return [...new Set(n.pools.map((p) => m.pools.find((x) => x.name === p)?.site).filter((s): s is string => !!s))];
}

export function predictAnswer(m: GslbModel, q: PredictInput): PredictedAnswer {
  const n = m.names.find((x) => x.name === q.name);
  if (!n) throw new Error(`no GSLB name '${q.name}'`);
  const pools = poolAddresses(m, n, q.type);
  const all = [...new Set(pools.flatMap((p) => p.addresses.map((a) => a.address)))];
  const healthy = n.health ? all.filter((a) => !q.down?.has(a)) : all;
  const up = new Set(healthy.length ? healthy : all);
  const upIn = (list: { address: string }[]) => [...new Set(list.map((a) => a.address).filter((a) => up.has(a)))];
  switch (n.policy) {
    case 'all-healthy':
      return { kind: 'all', addresses: upIn(pools.flatMap((p) => p.addresses)) };
    case 'weighted': {
      const w = new Map<string, number>();
      for (const a of pools.flatMap((p) => p.addresses)) if (up.has(a.address)) w.set(a.address, (w.get(a.address) ?? 0) + a.weight);
      return { kind: 'one-of', weights: [...w] };
    }
    case 'failover':
      for (const p of pools) {
        const r = upIn(p.addresses);
        if (r.length) return { kind: 'all', addresses: r };
      }
      return { kind: 'all', addresses: [] };
    case 'topology':
      for (const site of siteOrder(m, n, q.client)) {
        const r = upIn(pools.filter((p) => p.pool.site === site).flatMap((p) => p.addresses));
        if (r.length) return { kind: 'all', addresses: r };
      }
      return { kind: 'all', addresses: [] };
  }
}
