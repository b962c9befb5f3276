/**
 * Brute-force oracles for the packet-set analysis: a first-match evaluator over concrete
 * packets written straight from the model's definitions (bigint CIDR arithmetic, no sets), and
 * a small explicit packet universe to enumerate.
 */
import { Address4, Address6 } from 'ip-address';
import type { FwAction, FwAddressMatch, FwPolicy, FwRule, FwService } from '../../src/domains/firewall/model.ts';
import type { Packet } from '../../src/verify/packet-set/index.ts';

const values = new Map<string, { fam: 4 | 6; v: bigint }>();
function value(a: string): { fam: 4 | 6; v: bigint } {
  let x = values.get(a);
  if (!x) {
    x = Address4.isValid(a) ? { fam: 4, v: new Address4(a).bigInt() } : { fam: 6, v: new Address6(a).bigInt() };
    values.set(a, x);
  }
  return x;
}

const memo = new Map<string, boolean>();

export function inCidr(cidr: string, addr: string): boolean {
  const k = `${cidr} ${addr}`;
  let r = memo.get(k);
  if (r === undefined) {
    r = inCidrUncached(cidr, addr);
    if (memo.size > 200_000) memo.clear();
    memo.set(k, r);
  }
  return r;
}

function inCidrUncached(cidr: string, addr: string): boolean {
  const [net, len] = cidr.split('/');
  const n = value(net!);
  const a = value(addr);
  if (n.fam !== a.fam) return false;
  const width = n.fam === 4 ? 32 : 128;
  const host = BigInt(width - Number(len ?? width));
  return n.v >> host === a.v >> host;
}

export function inAddressMatch(m: FwAddressMatch, addr: string): boolean {
  const inc = m.include.length === 0 || m.include.some((c) => inCidr(c, addr));
  const r = inc && !m.exclude.some((c) => inCidr(c, addr));
  return m.negate ? !r : r;
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };

export function inService(s: FwService, p: Packet): boolean {
  const proto = typeof s.protocol === 'number' ? s.protocol : PROTO[s.protocol]!;
  if (proto !== p.protocol) return false;
  if ((proto === 1 && p.family !== 4) || (proto === 58 && p.family !== 6)) return false;
  const ports = proto === 6 || proto === 17;
  const icmp = proto === 1 || proto === 58;
  if ((s.dstPorts.length || s.srcPorts.length) && !ports) return false;
  if (s.icmp.length && !icmp) return false;
  if (s.dstPorts.length && !s.dstPorts.some((r) => p.dstPort! >= r.from && p.dstPort! <= r.to)) return false;
  if (s.srcPorts.length && !s.srcPorts.some((r) => p.srcPort! >= r.from && p.srcPort! <= r.to)) return false;
  if (s.icmp.length && !s.icmp.some((t) => t.type === p.icmpType && (t.code === undefined || t.code === p.icmpCode))) return false;
  return true;
}

export function ruleMatches(r: FwRule, p: Packet): boolean {
  return inAddressMatch(r.src, p.src) && inAddressMatch(r.dst, p.dst) &&
    (r.services.length === 0 || r.services.some((s) => inService(s, p))) &&
    (r.state.length === 0 || r.state.includes(p.state));
}

/** First match: the stateful acceptance, the rules, the default. */
export function bruteEvaluate(policy: FwPolicy, p: Packet, skip?: number): { action: FwAction; rule: string } {
  if (policy.stateful && (p.state === 'established' || p.state === 'related')) return { action: 'accept', rule: '(established/related)' };
  for (const [i, r] of policy.rules.entries()) if (i !== skip && ruleMatches(r, p)) return { action: r.action, rule: r.name };
  return { action: policy.defaultAction, rule: '(default)' };
}

/** The small universe: IPv4 src 10.0.0.0/29 dst 10.0.0.0/30, IPv6 src 2001:db8::/125 dst 2001:db8::/126, tcp/udp ports 0-3, icmp (IPv4) / icmpv6 (IPv6) type 0-1 code 0-1, GRE. */
export const SMALL = {
  src4: '10.0.0.0/29', dst4: '10.0.0.0/30', src6: '2001:db8::/125', dst6: '2001:db8::/126',
};

export function smallUniverse(): Packet[] {
  const out: Packet[] = [];
  const states = ['new', 'established', 'related', 'invalid'] as const;
  for (const family of [4, 6] as const) {
    const host = (i: number) => (family === 4 ? `10.0.0.${i}` : `2001:db8::${i}`);
    for (let s = 0; s < 8; s++) for (let d = 0; d < 4; d++) for (const state of states) {
      const base = { family, src: host(s), dst: host(d), state };
      for (const protocol of [6, 17]) for (let sp = 0; sp < 4; sp++) for (let dp = 0; dp < 4; dp++) out.push({ ...base, protocol, srcPort: sp, dstPort: dp });
      for (const protocol of [family === 4 ? 1 : 58]) for (let t = 0; t < 2; t++) for (let c = 0; c < 2; c++) out.push({ ...base, protocol, icmpType: t, icmpCode: c });
      out.push({ ...base, protocol: 47 });
    }
  }
  return out;
}
