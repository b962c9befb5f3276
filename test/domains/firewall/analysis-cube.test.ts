// The analysis's fast paths against plain references: the one-walk address builder against
// unions, differences and complements of single prefixes; the rules' cubes against their match
// sets; and a whole generated policy's findings against a naive analysis over plain sets (no
// index, no cubes, every rule against every earlier and later rule).
import { Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { PolicyAnalysis, ESTABLISHED, DEFAULT, type FwFinding } from '../../../src/domains/firewall/analysis.ts';
import { cubeCovers, cubeExample, cubeHolds, cubeHoldsBits, cubesMeet, ruleCube } from '../../../src/domains/firewall/analysis-cube.ts';
import type { FwPolicy, FwRule } from '../../../src/domains/firewall/model.ts';
import {
  ALL, EMPTY, addressMatchSet, addressSetOver, complement, contains, difference, example, intersect, isEmpty, overlaps, packetBits, parseCidr,
  prefixSet, samples, servicesSet, statesSet, union, type AddressSpec, type PacketSet,
} from '../../../src/verify/packet-set/index.ts';
import { ruleMatches, smallUniverse } from '../../support/firewall-brute.ts';
import { Rand, addr, generatePolicy, svc } from '../../support/firewall-policy-gen.ts';

function randomSpec(r: Rand): { include: string[]; exclude: string[]; negate: boolean } {
  const cidr = () => {
    if (r.chance(0.4)) return `2001:db8:${r.int(0, 3)}:${r.int(0, 3)}::${r.int(0, 7)}/${r.one([0, 16, 32, 48, 62, 64, 126, 127, 128])}`;
    return `10.${r.int(0, 3)}.${r.int(0, 3)}.${r.int(0, 7)}/${r.one([0, 8, 16, 23, 24, 30, 31, 32])}`;
  };
  const many = (k: number) => Array.from({ length: r.int(0, k) }, cidr);
  return { include: many(4), exclude: many(2), negate: r.chance(0.25) };
}

/** The spec from single-prefix sets combined by the general operations. */
function reference(which: 'src' | 'dst', m: AddressSpec): PacketSet {
  let s = m.include.length === 0 ? ALL : EMPTY;
  for (const c of m.include) s = union(s, prefixSet(which, c));
  for (const c of m.exclude) s = difference(s, prefixSet(which, c));
  return m.negate ? complement(s) : s;
}

const plainMatch = (r: FwRule): PacketSet =>
  [addressMatchSet('src', r.src), addressMatchSet('dst', r.dst), servicesSet(r.services), statesSet(r.state)].reduce(intersect);

describe('firewall analysis fast paths', () => {
  it('parses IPv6 prefixes in one pass as the general parser does, and refuses what it refuses', () => {
    const r = new Rand(20);
    const general = (c: string) => {
      const [a, l] = c.split('/');
      if (!Address6.isValid(a!) || (l !== undefined && !(/^\d+$/.test(l) && Number(l) <= 128))) return 'error';
      const len = l === undefined ? 128 : Number(l);
      return `${(new Address6(a!).bigInt() >> BigInt(128 - len)) << BigInt(128 - len)}/${len}`;
    };
    const ours = (c: string) => {
      try {
        const p = parseCidr(c);
        return p.family === 6 ? `${p.value}/${p.len}` : 'error';
      } catch {
        return 'error';
      }
    };
    const cases = ['::', '::1', '::/0', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '2001:DB8:a::ffff/64', '::ffff:10.0.0.1',
      '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':1::', '1:', '1::2:', '1::2:/64', '2001:db8::/129', 'g::', '1:2:3:4:5:6:7::8', '2001:db8::/'];
    for (let i = 0; i < 300; i++) {
      const groups = Array.from({ length: 8 }, () => (r.chance(0.4) ? 0 : r.int(0, 0xffff)).toString(16));
      cases.push(`${Address6.fromBigInt(BigInt(`0x${groups.map((g) => g.padStart(4, '0')).join('')}`)).correctForm()}/${r.int(0, 128)}`, groups.join(':'));
    }
    for (const c of cases) expect(ours(c), c).toBe(general(c));
  });

  it('builds an address side in one walk exactly as unions, differences and complements of its prefixes', () => {
    const r = new Rand(21);
    for (let i = 0; i < 400; i++) {
      const src = randomSpec(r);
      const dst = randomSpec(r);
      const srcSet = addressSetOver('src', src);
      expect(srcSet).toBe(reference('src', src));
      expect(addressSetOver('dst', dst)).toBe(reference('dst', dst));
      // The destination built straight above a source part.
      expect(addressSetOver('dst', dst, srcSet)).toBe(intersect(reference('dst', dst), srcSet));
    }
    expect(() => addressSetOver('dst', { include: ['10.0.0.0/8'], exclude: [], negate: false }, prefixSet('dst', '10.0.0.0/8'))).toThrow(/more than source/);
  });

  it('decides overlap, emptiness and membership on cubes as on the match sets', () => {
    const r = new Rand(22);
    const rules = generatePolicy(300, 23, 6).rules;
    // Sides from the random specs too (negations, excludes, both families, nested prefixes).
    for (let i = 0; i < 150; i++) rules.push({ ...rules[i]!, name: `x${i}`, src: { ...randomSpec(r), refs: [] }, dst: { ...randomSpec(r), refs: [] } });
    const sets = rules.map(plainMatch);
    const cubes = rules.map(ruleCube);
    rules.forEach((_, i) => expect(cubes[i]!.empty !== undefined, rules[i]!.name).toBe(isEmpty(sets[i]!)));
    let met = 0;
    for (let i = 0; i < rules.length; i++) {
      for (let j = i; j < rules.length; j += 1 + (i % 3)) {
        const want = overlaps(sets[i]!, sets[j]!);
        met += want ? 1 : 0;
        expect(cubesMeet(cubes[i]!, cubes[j]!), `${rules[i]!.name} ${rules[j]!.name}`).toBe(want);
      }
    }
    expect(met).toBeGreaterThan(rules.length);
    // Membership on the small universe, against the brute-force matcher.
    const universe = smallUniverse();
    const side = () => addr([r.one(['10.0.0.0/29', '10.0.0.4/30', '10.0.0.2/32', '2001:db8::/125', '2001:db8::2/127'])], r.chance(0.3) ? [r.one(['10.0.0.6/31', '2001:db8::1/128'])] : [], r.chance(0.2));
    const small = Array.from({ length: 60 }, (_, i) => ({
      ...rules[i]!, src: side(), dst: side(), services: r.chance(0.5) ? [] : [svc(r.one(['tcp', 'udp'] as const), [[0, r.int(0, 3)]]), svc('icmpv6', [], { icmp: [{ type: 1 }] })],
      state: r.chance(0.3) ? (['new', 'related'] as const).slice(0, r.int(1, 2)) : [],
    }));
    for (const x of universe) {
      const b = packetBits(x);
      for (const rule of small) expect(cubeHolds(ruleCube(rule), x.family, parseCidr(x.src).value, parseCidr(x.dst).value, b)).toBe(ruleMatches(rule, x));
    }
    expect(small.some((rule) => universe.some((x) => contains(plainMatch(rule), packetBits(x))))).toBe(true);
  });

  it('decides containment, example packets and sampled membership on cubes as on the match sets', () => {
    const r = new Rand(24);
    const rules = generatePolicy(200, 25, 4).rules;
    for (let i = 0; i < 100; i++) rules.push({ ...rules[i]!, name: `x${i}`, src: { ...randomSpec(r), refs: [] }, dst: { ...randomSpec(r), refs: [] } });
    // Catch-alls and rules covering a tenant, so containment holds for some pairs.
    rules.push({ ...rules[0]!, name: 'any', src: addr([]), dst: addr([]), services: [], state: [] });
    rules.push({ ...rules[0]!, name: 'tenant', src: addr(['10.0.0.0/8', '2001:db8::/32']), dst: addr([]), services: [svc('tcp')], state: [] });
    const sets = rules.map(plainMatch);
    const cubes = rules.map(ruleCube);
    let covered = 0;
    for (let i = 0; i < rules.length; i++) {
      for (let j = 0; j < rules.length; j += 1 + (i % 4)) {
        const want = isEmpty(difference(sets[j]!, sets[i]!));
        covered += want && i !== j ? 1 : 0;
        expect(cubeCovers(cubes[i]!, cubes[j]!), `${rules[i]!.name} holds ${rules[j]!.name}`).toBe(want);
      }
    }
    expect(covered).toBeGreaterThan(rules.length / 4);
    // Examples beside address-free sets (what a global rule decides), preferred kinds included.
    const rests = [ALL, servicesSet([svc('udp', [[123, 123]])]), statesSet(['new']), servicesSet([svc('icmp', [], { icmp: [{ type: 8 }] }), svc(47)]), complement(servicesSet([svc('tcp')]))];
    let examples = 0;
    rules.forEach((_, i) => {
      for (const s of rests) {
        const want = example(intersect(s, sets[i]!));
        examples += want ? 1 : 0;
        expect(cubeExample(cubes[i]!, s), rules[i]!.name).toEqual(want);
      }
    });
    expect(examples).toBeGreaterThan(rules.length);
    // Random packets of one match tested against every cube (fields a packet lacks set at random).
    for (let i = 0; i < rules.length; i += 7) {
      for (const b of samples(sets[i]!, 8, i + 1)) for (let j = 0; j < rules.length; j += 3) expect(cubeHoldsBits(cubes[j]!, b)).toBe(contains(sets[j]!, b));
    }
  });

  it('gives a generated policy the findings of a naive analysis over plain sets', () => {
    const kinds = new Set<string>();
    for (const [n, seed, tenants] of [[700, 31, 8], [500, 32, 30]] as const) {
      const p = generatePolicy(n, seed, tenants);
      const got = new PolicyAnalysis(p).findings().map(brief);
      expect(got).toEqual(naiveFindings(p));
      got.forEach((f) => kinds.add(f[0]));
    }
    expect(kinds).toEqual(new Set(['unmatchable', 'unreachable', 'conflict', 'redundant']));
  });
});

const brief = (f: FwFinding) => [f.kind, f.rule, f.related.map((x) => x.name)] as const;

/** Every rule against every other on plain sets, from the definitions (first match, stateful acceptance first, default last). */
function naiveFindings(p: FwPolicy): (readonly [string, string, string[]])[] {
  const est = p.stateful ? statesSet(['established', 'related']) : EMPTY;
  const match = p.rules.map(plainMatch);
  const decided: PacketSet[] = [];
  let covered = est;
  for (const m of match) {
    decided.push(difference(m, covered));
    covered = union(covered, m);
  }
  const out: (readonly [string, string, string[]])[] = [];
  p.rules.forEach((r, i) => {
    if (isEmpty(match[i]!)) return void out.push(['unmatchable', r.name, []]);
    const earlier = p.rules.filter((_, j) => j < i && overlaps(decided[j]!, match[i]!));
    const earlierNames = earlier.map((x) => x.name);
    if (earlier.length === 0 && p.stateful && overlaps(est, match[i]!)) earlierNames.push(ESTABLISHED);
    if (isEmpty(decided[i]!)) return void out.push(['unreachable', r.name, earlierNames]);
    const against = earlier.filter((x) => x.action !== r.action);
    if (against.length) out.push(['conflict', r.name, against.map((x) => x.name)]);
    let rest = decided[i]!;
    const same: string[] = [];
    for (let k = i + 1; k < p.rules.length && !isEmpty(rest); k++) {
      if (!overlaps(rest, match[k]!)) continue;
      if (p.rules[k]!.action !== r.action) return;
      same.push(p.rules[k]!.name);
      rest = difference(rest, match[k]!);
    }
    if (!isEmpty(rest)) {
      if (p.defaultAction !== r.action) return;
      same.push(DEFAULT);
    }
    out.push(['redundant', r.name, same]);
  });
  return out;
}
