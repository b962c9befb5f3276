/**
 * "What does NAME answer a client in SUBNET when POOL is down?" from the model alone
 * (`netloom gslb query`): the prediction predictAnswer makes, with the pools and sites the
 * answer comes from. The DNS behaviour test proves the same prediction against PowerDNS.
 */
import { normalizeCidr } from 'cidr-tools';
import type { GslbModel, RecordType } from './model.ts';
import { predictAnswer, siteOrder, type PredictedAnswer } from './predict.ts';

export interface GslbQuery {
  name: string;
  type: RecordType;
  /** The client: an address, or a prefix (a resolver's EDNS Client Subnet: its network address). */
  from?: string;
  /** Pools, or member addresses, taken as down. */
  down: string[];
}

export interface GslbQueryAnswer {
  name: string;
  type: RecordType;
  client?: string;
  policy: string;
  down: string[];
  answer: PredictedAnswer;
  /** Where each answered address comes from. */
  sources: { address: string; pool: string; site: string }[];
  /** Topology: the site order the client gets. */
  siteOrder?: string[];
}

/** The answer, or a message naming what in the question is unknown. */
export function queryGslb(m: GslbModel, q: GslbQuery): GslbQueryAnswer | { error: string } {
  const n = m.names.find((x) => x.name === q.name.replace(/\.$/, '').toLowerCase());
  if (!n) return { error: `no GSLB name '${q.name}' (names: ${m.names.map((x) => x.name).join(', ')})` };
  if (!n.types.includes(q.type)) return { error: `${n.name} answers ${n.types.join(', ')}, not ${q.type}` };
  let client: string | undefined;
  if (q.from) {
    try {
      // A prefix stands for its network address, as PowerDNS's bestwho for an EDNS Client Subnet.
      client = normalizeCidr(q.from).split('/')[0];
    } catch {
      return { error: `--from '${q.from}' is not an address or prefix` };
    }
  }
  const down = new Set<string>();
  for (const d of q.down) {
    const pool = m.pools.find((p) => p.name === d);
    const member = m.pools.some((p) => p.members.some((x) => x.ipv4 === d || x.ipv6 === d));
    if (pool) {
      for (const x of pool.members) for (const a of [x.ipv4, x.ipv6]) if (a) down.add(a);
    } else if (member) down.add(d);
    else return { error: `--down '${d}' is neither a pool nor a member address (pools: ${m.pools.map((p) => p.name).join(', ')})` };
  }
  const answer = predictAnswer(m, { name: n.name, type: q.type, client, down });
  const addrs = answer.kind === 'all' ? answer.addresses : answer.weights.map(([a]) => a);
  const sources = addrs.map((a) => {
    const p = n.pools.map((x) => m.pools.find((y) => y.name === x)!).find((y) => y?.members.some((x) => x.ipv4 === a || x.ipv6 === a))!;
    return { address: a, pool: p.name, site: p.site };
  });
  return { name: n.name, type: q.type, client, policy: n.policy, down: [...q.down], answer, sources, ...(n.policy === 'topology' ? { siteOrder: siteOrder(m, n, client) } : {}) };
}

export function queryLines(r: GslbQueryAnswer): string[] {
  const head = `${r.name} ${r.type}${r.client ? ` from ${r.client}` : ''}${r.down.length ? ` with ${r.down.join(', ')} down` : ''} (${r.policy}${r.siteOrder ? `, site order ${r.siteOrder.join(' > ')}` : ''}):`;
  const src = (a: string) => {
    const s = r.sources.find((x) => x.address === a)!;
    return `${a} (pool ${s.pool}, site ${s.site})`;
  };
  if (r.answer.kind === 'all') return [head, ...(r.answer.addresses.length ? r.answer.addresses.map((a) => `  ${src(a)}`) : ['  no address'])];
  const total = r.answer.weights.reduce((s, [, w]) => s + w, 0);
  return [`${head} one address per answer, drawn by weight`, ...r.answer.weights.map(([a, w]) => `  ${src(a)} ${w}/${total}`)];
}
