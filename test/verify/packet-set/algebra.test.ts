import { describe, expect, it } from 'vitest';
import {
  ALL, EMPTY, complement, contains, difference, dstPrefixAndSrc, equals, example, intersect, isEmpty, isSubset, overlaps, packetBits,
  packetSet, parseCidr, prefixSet, serviceSet, size, stateSet, statesSet, union, type ConnState, type Packet, type PacketSet,
} from '../../../src/verify/packet-set/index.ts';
import { Bdd } from '../../../src/verify/packet-set/bdd.ts';
import type { FwService } from '../../../src/domains/firewall/model.ts';
import { Rand, svc } from '../../support/firewall-policy-gen.ts';
import { SMALL, inCidr, inService, smallUniverse } from '../../support/firewall-brute.ts';

interface Expr {
  set: PacketSet;
  has: (p: Packet) => boolean;
  text: string;
}

const universe = smallUniverse();
const bits = universe.map(packetBits);
const icmp01 = [0, 1].flatMap((type) => [0, 1].map((code) => ({ type, code })));
const U = intersect(
  union(intersect(prefixSet('src', SMALL.src4), prefixSet('dst', SMALL.dst4)), intersect(prefixSet('src', SMALL.src6), prefixSet('dst', SMALL.dst6))),
  [svc('tcp', [[0, 3]], { srcPorts: [{ from: 0, to: 3 }] }), svc('udp', [[0, 3]], { srcPorts: [{ from: 0, to: 3 }] }),
    svc('icmp', [], { icmp: icmp01 }), svc('icmpv6', [], { icmp: icmp01 }), svc(47)].map(serviceSet).reduce(union, EMPTY),
);

function primitive(r: Rand): Expr {
  const k = r.int(0, 5);
  if (k <= 1) {
    const which = r.one(['src', 'dst'] as const);
    const v6 = r.chance(0.5);
    const len = r.int(0, 3);
    const host = r.int(0, 7) & ~((1 << len) - 1);
    const cidr = v6 ? `2001:db8::${host}/${128 - len}` : `10.0.0.${host}/${32 - len}`;
    return { set: prefixSet(which, cidr), has: (p) => inCidr(cidr, p[which]), text: `${which} ${cidr}` };
  }
  if (k <= 3) {
    const a = r.int(0, 3);
    const b = r.int(a, 3);
    const opts: FwService[] = [
      svc('tcp', [[a, b]]), svc('udp', [], { srcPorts: [{ from: a, to: b }] }), svc('tcp'),
      svc(r.one(['icmp', 'icmpv6'] as const), [], { icmp: [r.chance(0.5) ? { type: a % 2 } : { type: a % 2, code: b % 2 }] }), svc(47),
      svc('icmp', [[a, b]]),
    ];
    const s = r.one(opts);
    return { set: serviceSet(s), has: (p) => inService(s, p), text: JSON.stringify(s) };
  }
  if (k === 4) {
    const states = (['new', 'established', 'related', 'invalid'] as const).filter(() => r.chance(0.5));
    return { set: statesSet([...states]), has: (p) => states.length === 0 || states.includes(p.state), text: `state ${states}` };
  }
  return r.chance(0.5) ? { set: ALL, has: () => true, text: 'all' } : { set: EMPTY, has: () => false, text: 'empty' };
}

function expr(r: Rand, depth: number): Expr {
  if (depth === 0 || r.chance(0.25)) return primitive(r);
  const a = expr(r, depth - 1);
  switch (r.int(0, 3)) {
    case 0: {
      const b = expr(r, depth - 1);
      return { set: union(a.set, b.set), has: (p) => a.has(p) || b.has(p), text: `(${a.text} | ${b.text})` };
    }
    case 1: {
      const b = expr(r, depth - 1);
      return { set: intersect(a.set, b.set), has: (p) => a.has(p) && b.has(p), text: `(${a.text} & ${b.text})` };
    }
    case 2: {
      const b = expr(r, depth - 1);
      return { set: difference(a.set, b.set), has: (p) => a.has(p) && !b.has(p), text: `(${a.text} - ${b.text})` };
    }
    default:
      return { set: complement(a.set), has: (p) => !a.has(p), text: `!${a.text}` };
  }
}

describe('packet-set algebra against explicit enumeration', () => {
  it('the universe set holds exactly the enumerated packets', () => {
    expect(size(U)).toBe(BigInt(universe.length));
    for (const b of bits) expect(contains(U, b)).toBe(true);
  });

  it('membership, size, emptiness, examples, equality and complement agree with brute force', () => {
    const r = new Rand(12);
    const bySignature = new Map<string, PacketSet>();
    for (let i = 0; i < 160; i++) {
      const e = expr(r, 4);
      const s = intersect(e.set, U);
      let sig = '';
      let n = 0;
      universe.forEach((p, j) => {
        const want = e.has(p);
        if (contains(s, bits[j]!) !== want) throw new Error(`${e.text}: membership of ${JSON.stringify(p)} should be ${want}`);
        sig += want ? '1' : '0';
        if (want) n++;
      });
      expect(size(s), e.text).toBe(BigInt(n));
      expect(isEmpty(s), e.text).toBe(n === 0);
      expect(size(intersect(complement(e.set), U))).toBe(BigInt(universe.length - n));
      const ex = example(s);
      if (n > 0) {
        expect(ex && e.has(ex) && contains(s, ex), e.text).toBe(true);
      } else expect(ex).toBeUndefined();
      // Canonical: two sets with the same members are the same set.
      const prior = bySignature.get(sig);
      if (prior !== undefined) expect(equals(prior, s), e.text).toBe(true);
      else {
        for (const other of bySignature.values()) expect(equals(other, s)).toBe(false);
        bySignature.set(sig, s);
      }
    }
    expect(bySignature.size).toBeGreaterThan(40);
  });
});

describe('packet-set algebra: whole header space', () => {
  it('counts packets exactly, without the fields a protocol does not carry', () => {
    const web = intersect(prefixSet('src', '10.0.0.0/8'), serviceSet(svc('tcp', [[80, 80]])));
    // src /8 (2^24) x any IPv4 dst (2^32) x any source port (2^16) x 4 states.
    expect(size(web)).toBe(2n ** 24n * 2n ** 32n * 2n ** 16n * 4n);
    const perFamily = (addrBits: bigint) => 2n ** addrBits * 4n * (2n * 2n ** 32n + 2n * 2n ** 16n + 252n);
    expect(size(ALL)).toBe(perFamily(64n) + perFamily(256n));
    expect(size(EMPTY)).toBe(0n);
    const one: Packet = { family: 6, src: '2001:db8::1', dst: '2001:db8:0:1::2', protocol: 58, icmpType: 128, icmpCode: 0, state: 'new' };
    expect(size(packetSet(one))).toBe(1n);
    expect(example(packetSet(one))).toEqual(one);
  });

  it('is canonical: the same set built two ways is the same set', () => {
    expect(equals(prefixSet('dst', '10.1.0.0/24'), union(prefixSet('dst', '10.1.0.0/25'), prefixSet('dst', '10.1.0.128/25')))).toBe(true);
    expect(equals(serviceSet(svc('tcp', [[1, 65535]])), difference(serviceSet(svc('tcp')), serviceSet(svc('tcp', [[0, 0]]))))).toBe(true);
    expect(equals(complement(complement(prefixSet('src', '2001:db8::/32'))), prefixSet('src', '2001:db8::/32'))).toBe(true);
    expect(isSubset(prefixSet('src', '10.1.2.3/32'), prefixSet('src', '10.0.0.0/8'))).toBe(true);
    expect(overlaps(prefixSet('src', '10.0.0.0/8'), prefixSet('src', '2001:db8::/32'))).toBe(false);
    const states = (['new', 'established', 'related', 'invalid'] as ConnState[]).map(stateSet);
    expect(equals(states.reduce(union, EMPTY), ALL)).toBe(true);
  });

  it('the direct destination-over-source build equals the general intersection', () => {
    const r = new Rand(11);
    const cidr = (v6: boolean) => (v6 ? `2001:db8:${r.int(0, 3)}::${r.int(0, 9)}/${r.one([32, 48, 64, 128])}` : `10.${r.int(0, 3)}.${r.int(0, 9)}.0/${r.one([8, 16, 24, 32])}`);
    for (let i = 0; i < 200; i++) {
      const v6 = r.chance(0.5);
      const d = cidr(v6);
      const srcs = [ALL, prefixSet('src', cidr(v6)), prefixSet('src', cidr(!v6)), complement(prefixSet('src', cidr(v6))), union(prefixSet('src', cidr(v6)), prefixSet('src', cidr(!v6)))];
      for (const src of srcs) expect(dstPrefixAndSrc(d, src)).toBe(intersect(prefixSet('dst', d), src));
    }
    expect(() => dstPrefixAndSrc('10.0.0.0/8', prefixSet('dst', '10.0.0.0/8'))).toThrow(/more than source/);
  });

  it('picks one packet of an intersection without building it, the one pick on the built set gives', () => {
    const b = new Bdd(12);
    const r = new Rand(5);
    const random = (depth: number): number => {
      if (depth === 0) return r.chance(0.4) ? 1 : 0;
      const v = r.int(0, 11);
      const x = b.mk(v, 0, 1);
      return r.chance(0.5) ? b.and(x, random(depth - 1)) : r.chance(0.5) ? b.or(x, random(depth - 1)) : b.diff(random(depth - 1), x);
    };
    let met = 0;
    for (let i = 0; i < 500; i++) {
      const x = random(r.int(1, 6));
      const y = random(r.int(1, 6));
      expect(b.pickBoth(x, y)).toEqual(b.pick(b.and(x, y)));
      if (b.meets(x, y)) met++;
    }
    expect(met).toBeGreaterThan(50);
  });

  it('keeps IPv4 and IPv6 apart and canonicalises host bits', () => {
    expect(parseCidr('10.1.2.3/16')).toEqual({ family: 4, value: 0x0a010000n, len: 16 });
    expect(equals(prefixSet('dst', '10.1.2.3/16'), prefixSet('dst', '10.1.0.0/16'))).toBe(true);
    const v4any = prefixSet('dst', '0.0.0.0/0');
    const v6any = prefixSet('dst', '::/0');
    expect(equals(union(v4any, v6any), ALL)).toBe(true);
    expect(isEmpty(intersect(v4any, v6any))).toBe(true);
    expect(example(complement(v4any))!.family).toBe(6);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/invalid prefix length/);
    expect(() => parseCidr('nope')).toThrow(/invalid address/);
  });

  it('ports on a protocol without ports, or ICMP types on tcp, match nothing', () => {
    expect(isEmpty(serviceSet(svc('icmp', [[80, 80]])))).toBe(true);
    expect(isEmpty(serviceSet(svc(47, [[80, 80]])))).toBe(true);
    expect(isEmpty(serviceSet(svc('tcp', [], { icmp: [{ type: 8 }] })))).toBe(true);
    expect(isEmpty(serviceSet(svc(6, [[80, 80]])))).toBe(false);
    expect(equals(serviceSet(svc(6, [[80, 80]])), serviceSet(svc('tcp', [[80, 80]])))).toBe(true);
  });

  it('gives examples that read like real flows', () => {
    const ex = example(intersect(prefixSet('dst', '192.0.2.0/24'), complement(serviceSet(svc('tcp', [[443, 443]])))))!;
    expect(ex).toMatchObject({ family: 4, protocol: 6, state: 'new' });
    expect(ex.dstPort).not.toBe(443);
  });
});
