/**
 * Seeded firewall policies (resolved model) for the analysis tests and bench: tenants with
 * IPv4 /16 and IPv6 /48 aggregates, /24 and /64 networks, hosts, overlapping groups, port
 * ranges, a few global any-to-any rules at the top, rules with one broad side (any or a
 * negated group), `except`, all three actions.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { FwAction, FwAddressMatch, FwPolicy, FwRule, FwService } from '../../src/domains/firewall/model.ts';

export class Rand {
  private readonly rng: ReturnType<typeof xoroshiro128plus>;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed | 0);
  }
  int(lo: number, hi: number): number {
    return uniformInt(this.rng, lo, hi);
  }
  chance(p: number): boolean {
    return this.int(0, 9999) < p * 10000;
  }
  one<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
}

export const addr = (include: string[], exclude: string[] = [], negate = false): FwAddressMatch => ({ include, exclude, negate, refs: [] });
export const svc = (protocol: FwService['protocol'], dst: [number, number][] = [], extra: Partial<FwService> = {}): FwService => ({
  protocol, dstPorts: dst.map(([from, to]) => ({ from, to })), srcPorts: [], icmp: [], ...extra,
});

export function rule(name: string, index: number, action: FwAction, fields: Partial<FwRule> = {}): FwRule {
  return {
    name, index, action, src: addr([]), dst: addr([]), services: [], state: [], log: false, counter: false,
    source: { file: 'policy.yaml', line: 10 + index * 4, col: 5 }, ...fields,
  };
}

export function policy(rules: FwRule[], defaultAction: FwAction = 'drop', stateful = false): FwPolicy {
  return {
    name: 'p', rules: rules.map((r, i) => ({ ...r, index: i })), defaultAction, stateful, nat: [],
    enforcement: { kind: 'node', node: 'fw1', attachedTo: [], devices: ['fw1'], vrfs: [], asn: 65400, legs: [] }, source: { file: 'policy.yaml', line: 2, col: 3 },
  };
}

const SERVICES: FwService[] = [
  svc('tcp', [[80, 80]]), svc('tcp', [[443, 443]]), svc('tcp', [[22, 22]]), svc('tcp', [[5432, 5432]]),
  svc('tcp', [[3306, 3306]]), svc('tcp', [[8000, 8999]]), svc('tcp', [[1024, 65535]]), svc('udp', [[53, 53]]),
  svc('udp', [[123, 123]]), svc('udp', [[4789, 4789]]), svc('icmp', [], { icmp: [{ type: 8 }] }),
  svc('icmpv6', [], { icmp: [{ type: 128 }] }), svc('tcp', [[6443, 6443], [2379, 2380]]), svc(47),
];

/** A 10,000-rule style policy: `n` rules over `tenants` tenants (each a 10.T.0.0/16 and 2001:db8:T::/48). */
export function generatePolicy(n: number, seed = 1, tenants = 200): FwPolicy {
  const r = new Rand(seed);
  const prefix = (v6: boolean): string => {
    const t = r.int(0, tenants - 1);
    const k = r.int(0, 19);
    if (v6) {
      const h = t.toString(16);
      if (k === 0) return `2001:db8:${h}::/48`;
      if (k < 10) return `2001:db8:${h}:${r.int(0, 255).toString(16)}::/64`;
      return `2001:db8:${h}:${r.int(0, 255).toString(16)}::${r.int(1, 4095).toString(16)}/128`;
    }
    if (k === 0) return `10.${t}.0.0/16`;
    if (k < 10) return `10.${t}.${r.int(0, 255)}.0/24`;
    return `10.${t}.${r.int(0, 255)}.${r.int(1, 254)}/32`;
  };
  // Named groups reused by many rules, as real policies do.
  const groups: string[][][] = [false, true].map((v6) =>
    Array.from({ length: Math.max(8, n / 10) }, () => Array.from({ length: r.int(1, 4) }, () => prefix(v6))));
  const match = (v6: boolean, broad: boolean): FwAddressMatch => {
    const k = r.int(0, 999);
    if (broad && k < 10) return addr([]);
    if (broad && k < 13) return addr(r.one(groups[v6 ? 1 : 0]!), [], true);
    if (k < 500) return addr(r.one(groups[v6 ? 1 : 0]!));
    const m = addr([prefix(v6)]);
    if (k < 530 && m.include[0]!.endsWith('.0.0/16')) m.exclude.push(m.include[0]!.replace('.0.0/16', `.${r.int(0, 255)}.0/24`));
    return m;
  };
  const rules: FwRule[] = [];
  // A few global rules first (any to any for a service), as policies put them at the top.
  const globals = Math.max(1, Math.round(n / 1000));
  const GLOBAL: [FwAction, FwService][] = [
    ['drop', svc('tcp', [[23, 23]])], ['accept', svc('udp', [[123, 123]])], ['accept', svc('icmp', [], { icmp: [{ type: 8 }] })],
    ['drop', svc('udp', [[161, 162]])], ['accept', svc('icmpv6', [], { icmp: [{ type: 128 }] })],
  ];
  for (let i = 0; i < globals; i++) {
    const [action, s] = GLOBAL[i % GLOBAL.length]!;
    rules.push(rule(`r${i}`, i, action, { services: [s] }));
  }
  for (let i = globals; i < n; i++) {
    const a = r.int(0, 99);
    const action: FwAction = a < 70 ? 'accept' : a < 90 ? 'drop' : 'reject';
    const v6 = r.chance(0.3);
    const services = r.chance(0.02) ? [] : Array.from({ length: r.int(1, 3) }, () => r.one(SERVICES));
    // At most one side is broad (any, or a negated group).
    const srcBroad = r.chance(0.5);
    rules.push(rule(`r${i}`, i, action, { src: match(v6, srcBroad), dst: match(v6, !srcBroad), services, state: r.chance(0.05) ? ['new'] : [] }));
  }
  return policy(rules, 'drop', true);
}
