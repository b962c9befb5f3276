import { describe, expect, it } from 'vitest';
import { PolicyAnalysis, analyzePolicy, evaluate, type FwFinding } from '../../../src/domains/firewall/analysis.ts';
import { diff, querySet, search } from '../../../src/domains/firewall/analysis-query.ts';
import type { FwPolicy, FwRule, FwService } from '../../../src/domains/firewall/model.ts';
import { ALL, contains, difference, formatAddress, intersect, isEmpty, statesSet, packetBits, parseCidr, size, type Packet } from '../../../src/verify/packet-set/index.ts';
import { Rand, addr, generatePolicy, policy, rule, svc } from '../../support/firewall-policy-gen.ts';
import { bruteEvaluate, inService, ruleMatches, smallUniverse } from '../../support/firewall-brute.ts';

const brief = (f: FwFinding) => [f.kind, f.rule, f.related.map((r) => r.name)];

/** A policy with one seeded defect of each kind. */
function broken(): FwPolicy {
  const net = addr(['10.1.0.0/16']);
  return policy([
    rule('allow-web', 0, 'accept', { dst: net, services: [svc('tcp', [[80, 80], [443, 443]])] }),
    rule('web-one', 1, 'accept', { dst: addr(['10.1.2.0/24']), services: [svc('tcp', [[443, 443]])] }),
    rule('deny-db', 2, 'drop', { src: addr(['10.9.0.0/16']), dst: net, services: [svc('tcp', [[5432, 5432]])] }),
    rule('db-app', 3, 'accept', { src: addr(['10.9.1.0/24']), dst: addr(['10.1.5.10/32']), services: [svc('tcp', [[5432, 5432]])] }),
    rule('ssh-ops', 4, 'accept', { src: addr(['10.8.0.0/16'], ['10.8.9.0/24']), dst: net, services: [svc('tcp', [[22, 22]])] }),
    rule('block-ssh', 5, 'reject', { dst: net, services: [svc('tcp', [[22, 22]])] }),
    rule('ping-bad', 6, 'accept', { services: [svc('icmp', [[7, 7]])] }),
    rule('empty-except', 7, 'accept', { src: addr(['10.7.0.0/24'], ['10.7.0.0/16']) }),
    rule('drop-telnet', 8, 'drop', { dst: net, services: [svc('tcp', [[23, 23]])] }),
    rule('v6-web', 9, 'accept', { src: addr(['2001:db8:1::/48']), dst: addr(['2001:db8:2::/48']), services: [svc('tcp', [[443, 443]])] }),
    rule('v6-web-all', 10, 'accept', { src: addr(['2001:db8::/32']), dst: addr(['2001:db8:2::/48']), services: [svc('tcp', [[443, 443]])] }),
    rule('not-mgmt', 11, 'drop', { src: addr(['10.0.0.0/8'], [], true), dst: net }),
    rule('est-only', 12, 'accept', { state: ['established'] }),
  ], 'drop', true);
}

describe('firewall analysis: seeded broken policy', () => {
  it('gives exactly the expected findings, with sources', () => {
    const p = broken();
    const f = analyzePolicy(p).findings();
    expect(f.map(brief)).toEqual([
      ['unreachable', 'web-one', ['allow-web']],
      ['unreachable', 'db-app', ['deny-db']],
      ['conflict', 'block-ssh', ['ssh-ops']],
      ['unmatchable', 'ping-bad', []],
      ['unmatchable', 'empty-except', []],
      ['redundant', 'drop-telnet', ['not-mgmt', '(default)']],
      ['redundant', 'v6-web', ['v6-web-all']],
      ['conflict', 'not-mgmt', ['allow-web', 'block-ssh']],
      ['redundant', 'not-mgmt', ['(default)']],
      ['unreachable', 'est-only', ['(established/related)']],
    ]);
    const webOne = f[0]!;
    expect(webOne.source).toEqual(p.rules[1]!.source);
    expect(webOne.related[0]!.source).toEqual(p.rules[0]!.source);
    expect(webOne.message).toBe("rule 'web-one' is never reached: shadowed by 'allow-web'");
    const conflict = f[2]!;
    expect(conflict.example).toMatchObject({ protocol: 6, dstPort: 22, state: 'new' });
    expect(evaluate(p, conflict.example!)).toMatchObject({ action: 'accept', rule: 'ssh-ops' });
    expect(f[3]!.message).toMatch(/its services is empty/);
    expect(f[4]!.message).toMatch(/its source is empty/);
  });

  it('a final deny-all: its set left lazy or built, the same findings; messages name five rules', () => {
    const rules = Array.from({ length: 7 }, (_, i) => rule(`web${i}`, i, 'accept', { dst: addr([`10.2.${i}.0/24`]), services: [svc('tcp', [[443, 443]])] }));
    rules.push(rule('deny-all', 7, 'drop'));
    const p = policy(rules, 'drop', true);
    const eager = analyzePolicy(p).findings();
    expect(new PolicyAnalysis(p, { lazyBudget: 0 }).findings()).toEqual(eager);
    expect(eager.map(brief)).toEqual([
      ['conflict', 'deny-all', rules.slice(0, 7).map((r) => r.name)],
      ['redundant', 'deny-all', ['(default)']],
    ]);
    expect(eager[0]!.message).toBe("rule 'deny-all' (drop) is partly shadowed by 'web0', 'web1', 'web2', 'web3', 'web4' and 2 more deciding otherwise");
  });

  it('evaluates packets first-match, the stateful acceptance first, the default last', () => {
    const a = analyzePolicy(broken());
    const tcp = (src: string, dst: string, dstPort: number, state: Packet['state'] = 'new'): Packet => ({
      family: src.includes(':') ? 6 : 4, src, dst, protocol: 6, srcPort: 40000, dstPort, state,
    });
    expect(a.evaluate(tcp('10.8.9.1', '10.1.0.5', 22))).toMatchObject({ action: 'reject', rule: 'block-ssh', source: { line: 30 } });
    expect(a.evaluate(tcp('10.8.1.1', '10.1.0.5', 22))).toMatchObject({ action: 'accept', rule: 'ssh-ops' });
    expect(a.evaluate(tcp('192.0.2.1', '10.1.0.5', 5432))).toMatchObject({ action: 'drop', rule: 'not-mgmt' });
    expect(a.evaluate(tcp('192.0.2.1', '10.1.0.5', 5432, 'related'))).toMatchObject({ action: 'accept', rule: '(established/related)' });
    expect(a.evaluate(tcp('2001:db8:1::1', '2001:db8:2::1', 443))).toMatchObject({ action: 'accept', rule: 'v6-web' });
    expect(a.evaluate(tcp('2001:db8:1::1', '2001:db8:3::1', 443))).toMatchObject({ action: 'drop', rule: '(default)', source: { line: 2 } });
  });

  it('search finds example packets with their rules (searchFilters)', () => {
    const a = analyzePolicy(broken());
    const hits = search(a, { dst: ['10.1.0.0/16'], action: 'accept', notServices: [svc('tcp', [[443, 443]])], states: ['new'] });
    expect(hits.map((h) => h.rule.name)).toEqual(['allow-web', 'ssh-ops']);
    for (const h of hits) {
      expect(a.evaluate(h.packet)).toMatchObject({ action: 'accept', rule: h.rule.name });
      expect(inService(svc('tcp', [[443, 443]]), h.packet)).toBe(false);
      expect(contains(h.set, h.packet)).toBe(true);
    }
    expect(hits[0]!.packet).toMatchObject({ dstPort: 80 });
    expect(search(a, { src: ['10.9.1.0/24'], dst: ['10.1.5.10/32'], services: [svc('tcp', [[5432, 5432]])], states: ['new'] }).map((h) => [h.rule.name, h.action]))
      .toEqual([['deny-db', 'drop']]);
    expect(search(a, { dst: ['2001:db8:2::/48'], services: [svc('udp')], action: 'accept', states: ['new', 'invalid'] })).toEqual([]);
  });
});

describe('firewall analysis: diff (compareFilters)', () => {
  it('reports newly accepted and newly denied flows with the rules responsible', () => {
    const old = broken();
    const next = structuredClone(old);
    // Open the database to the app subnet (before deny-db), and stop accepting http.
    next.rules.splice(2, 0, rule('db-app-first', 2, 'accept', { src: addr(['10.9.1.0/24']), dst: addr(['10.1.5.10/32']), services: [svc('tcp', [[5432, 5432]])] }));
    next.rules[0]!.services = [svc('tcp', [[443, 443]])];
    next.rules.forEach((r, i) => (r.index = i));
    const d = diff(old, next);
    expect(d.newlyAccepted.map((x) => [x.before.name, x.after.name])).toEqual([['deny-db', 'db-app-first']]);
    const acc = d.newlyAccepted[0]!;
    // 10.9.1.0/24 -> one host, tcp/5432, any source port, new or invalid.
    expect(acc.count).toBe(256n * 65536n * 2n);
    expect(bruteEvaluate(old, acc.example).action).toBe('drop');
    expect(bruteEvaluate(next, acc.example)).toEqual({ action: 'accept', rule: 'db-app-first' });
    expect(d.newlyDenied.map((x) => [x.before.name, x.after.name])).toEqual([['allow-web', 'not-mgmt'], ['allow-web', '(default)']]);
    for (const x of d.newlyDenied) {
      expect(bruteEvaluate(old, x.example)).toEqual({ action: 'accept', rule: 'allow-web' });
      expect(bruteEvaluate(next, x.example)).toMatchObject({ rule: x.after.name });
      expect(x.example.dstPort).toBe(80);
    }
    expect(d.denialChanged).toEqual([]);
    expect(diff(old, old)).toEqual({ newlyAccepted: [], newlyDenied: [], denialChanged: [] });
  });

  it('sees the effect of reordering rules', () => {
    const a = rule('web-a', 0, 'accept', { dst: addr(['10.0.0.0/24']), services: [svc('tcp', [[80, 80]])] });
    const b = rule('web-b', 1, 'drop', { dst: addr(['10.0.0.0/16']), services: [svc('tcp', [[80, 80]])] });
    const d = diff(policy([a, b]), policy([b, a]));
    expect(d.newlyAccepted).toEqual([]);
    expect(d.newlyDenied.map((x) => [x.before.name, x.after.name, x.count])).toEqual([['web-a', 'web-b', 256n * 2n ** 32n * 2n ** 16n * 4n]]);
  });

  it('reports drop that became reject', () => {
    const old = broken();
    const next = structuredClone(old);
    next.defaultAction = 'reject';
    const d = diff(old, next);
    expect(d.newlyAccepted).toEqual([]);
    expect(d.newlyDenied).toEqual([]);
    expect(d.denialChanged.map((x) => [x.before.name, x.after.name])).toEqual([['(default)', '(default)']]);
  });
});

// ---- against brute force on a small explicit universe ----

const universe = smallUniverse();
const bits = universe.map(packetBits);

/** Random policies whose every match lies inside the small universe (so enumerating it is exact). */
function smallPolicy(r: Rand, n: number): FwPolicy {
  const cidr = (v6: boolean, dst: boolean) => {
    const len = r.int(0, dst ? 2 : 3);
    const host = r.int(0, dst ? 3 : 7) & ~((1 << len) - 1);
    return v6 ? `2001:db8::${host}/${128 - len}` : `10.0.0.${host}/${32 - len}`;
  };
  const service = (): FwService => {
    const a = r.int(0, 3);
    const b = r.int(a, 3);
    const k = r.int(0, 5);
    if (k <= 2) return svc(r.one(['tcp', 'udp'] as const), [[a, b]], { srcPorts: [{ from: 0, to: r.int(0, 3) }] });
    if (k === 3) return svc(r.one(['icmp', 'icmpv6'] as const), [], { icmp: [{ type: a % 2, code: b % 2 }] });
    if (k === 4) return svc(47);
    return svc('icmp', [[1, 2]]);
  };
  const rules: FwRule[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = r.chance(0.4);
    const side = (dst: boolean) => {
      const m = addr(Array.from({ length: r.int(1, 2) }, () => cidr(r.chance(0.9) ? v6 : !v6, dst)));
      if (r.chance(0.15)) m.exclude.push(cidr(v6, dst));
      return m;
    };
    const states = (['new', 'established', 'related', 'invalid'] as const).filter(() => r.chance(0.3));
    rules.push(rule(`s${i}`, i, r.one(['accept', 'accept', 'drop', 'reject'] as const), {
      src: side(false), dst: side(true), services: Array.from({ length: r.int(1, 2) }, service), state: r.chance(0.3) ? [...states] : [],
    }));
  }
  return policy(rules, r.one(['accept', 'drop', 'reject'] as const), r.chance(0.5));
}

const ORDER = (p: FwPolicy) => (name: string) => (name === '(established/related)' ? -1 : name === '(default)' ? p.rules.length : p.rules.findIndex((x) => x.name === name));

/** Findings computed by enumeration, from the definitions. */
function bruteFindings(p: FwPolicy): (string | string[])[][] {
  const pos = ORDER(p);
  const decided = universe.map((x) => bruteEvaluate(p, x));
  const out: (string | string[])[][] = [];
  const sorted = (names: Set<string>) => [...names].sort((a, b) => pos(a) - pos(b));
  p.rules.forEach((r, i) => {
    const matching = universe.map((x, j) => (ruleMatches(r, x) ? j : -1)).filter((j) => j >= 0);
    if (matching.length === 0) return void out.push(['unmatchable', r.name, []]);
    const mine = matching.filter((j) => decided[j]!.rule === r.name);
    const earlier = new Set(matching.map((j) => decided[j]!.rule).filter((n) => pos(n) < i));
    if (earlier.size > 1) earlier.delete('(established/related)');
    if (mine.length === 0) return void out.push(['unreachable', r.name, sorted(earlier)]);
    const against = new Set([...earlier].filter((n) => n !== '(established/related)' && p.rules[pos(n)]!.action !== r.action));
    if (against.size) out.push(['conflict', r.name, sorted(against)]);
    const without = mine.map((j) => bruteEvaluate(p, universe[j]!, i));
    if (without.every((w) => w.action === r.action)) out.push(['redundant', r.name, sorted(new Set(without.map((w) => w.rule)))]);
  });
  return out;
}

describe('firewall analysis against brute force', () => {
  // lazyBudget 0: every decided set is left lazy and worked out region by region instead.
  it.each([{ lazyBudget: undefined }, { lazyBudget: 0 }])('findings, evaluation and the decision map agree with enumeration on random policies (%o)', (options) => {
    const r = new Rand(7);
    const kinds = new Set<string>();
    for (let t = 0; t < 30; t++) {
      const p = smallPolicy(r, r.int(3, 14));
      const a = new PolicyAnalysis(p, options);
      const got = a.findings().map(brief);
      expect(got, JSON.stringify(p.rules.map((x) => [x.name, x.action, x.src, x.dst, x.services, x.state]))).toEqual(bruteFindings(p));
      got.forEach((g) => kinds.add(g[0] as string));
      const map = a.decisionMap();
      const wrong: string[] = [];
      universe.forEach((x, j) => {
        const want = bruteEvaluate(p, x);
        const got = a.evaluate(x);
        const owners = map.filter((d) => contains(d.decides, bits[j]!)).map((d) => d.name);
        if (got.action !== want.action || got.rule !== want.rule || owners.join() !== want.rule) wrong.push(`${JSON.stringify(x)}: ${got.rule} ${owners} vs ${want.rule}`);
      });
      expect(wrong.slice(0, 3)).toEqual([]);
    }
    expect([...kinds].sort()).toEqual(['conflict', 'redundant', 'unmatchable', 'unreachable']);
  });

  it.each([{ lazyBudget: undefined }, { lazyBudget: 0 }])('incremental changes give the same findings and decision map as a fresh analysis (%o)', (options) => {
    const r = new Rand(3);
    // The decision map builds every lazy set, so it is compared at the end of each sequence only.
    const check = (a: PolicyAnalysis, rules: FwRule[], base: FwPolicy, map = false) => {
      const fresh = new PolicyAnalysis({ ...base, rules });
      expect(a.ruleNames()).toEqual(rules.map((x) => x.name));
      expect(a.findings().map(brief)).toEqual(fresh.findings().map(brief));
      const sets = (x: PolicyAnalysis) => x.decisionMap().map((d) => [d.name, d.decides]);
      if (map) expect(sets(a)).toEqual(sets(fresh));
    };
    // Small policies, checked against brute force too.
    for (let t = 0; t < 6; t++) {
      const base = smallPolicy(r, 10);
      const pool = smallPolicy(r, 20).rules;
      const rules = [...base.rules];
      const a = new PolicyAnalysis(base, options);
      for (let step = 0; step < 12; step++) {
        const k = r.int(0, 2);
        const fresh = { ...pool[r.int(0, pool.length - 1)]!, name: `n${t}-${step}` };
        if (k === 0 && rules.length > 1) {
          const i = r.int(0, rules.length - 1);
          a.removeRule(i);
          rules.splice(i, 1);
        } else if (k === 1) {
          const i = r.int(0, rules.length);
          a.insertRule(i, fresh);
          rules.splice(i, 0, fresh);
        } else {
          const i = r.int(0, rules.length - 1);
          a.replaceRule(i, fresh);
          rules[i] = fresh;
        }
        check(a, rules, base, step === 11);
        if (step % 3 === 0) expect(a.findings().map(brief)).toEqual(bruteFindings({ ...base, rules }));
      }
    }
    // A generated 400-rule policy over realistic prefixes, both families.
    const base = generatePolicy(400, 5, 12);
    const pool = generatePolicy(60, 6, 12).rules;
    const rules = [...base.rules];
    const a = new PolicyAnalysis(base, options);
    for (let step = 0; step < 30; step++) {
      const i = r.int(0, rules.length - 1);
      const fresh = { ...pool[step]!, name: `g${step}` };
      if (step % 3 === 0) (a.removeRule(i), rules.splice(i, 1));
      else if (step % 3 === 1) (a.insertRule(i, fresh), rules.splice(i, 0, fresh));
      else (a.replaceRule(i, fresh), (rules[i] = fresh));
      check(a, rules, base, step === 29);
    }
  });

  it('evaluates a generated policy like the brute-force evaluator', () => {
    const p = generatePolicy(600, 9, 10);
    const a = new PolicyAnalysis(p);
    const r = new Rand(1);
    const inside = (cidrs: string[], v6: boolean): string => {
      const c = cidrs.filter((x) => x.includes(':') === v6);
      if (c.length === 0) return v6 ? `2001:db8:${r.int(0, 9).toString(16)}::${r.int(1, 4095).toString(16)}` : `10.${r.int(0, 9)}.${r.int(0, 255)}.${r.int(1, 254)}`;
      const { family, value, len } = parseCidr(r.one(c));
      const width = family === 4 ? 32 : 128;
      const hostBits = BigInt(width - len);
      const host = BigInt(r.int(0, 2 ** Math.min(30, width - len) - 1)) & ((1n << hostBits) - 1n);
      return formatAddress(family, value | host);
    };
    let nonDefault = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Packets aimed at a random rule, so most are decided by rules, not the default.
      const aim = r.one(p.rules);
      const v6 = [...aim.src.include, ...aim.dst.include].some((c) => c.includes(':')) || (aim.src.include.length === 0 && r.chance(0.3));
      const s = aim.services.length ? r.one(aim.services) : svc(r.one([6, 17, 1, 58, 47]));
      const protocol = typeof s.protocol === 'number' ? s.protocol : { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }[s.protocol];
      const x: Packet = { family: v6 ? 6 : 4, src: inside(aim.src.include, v6), dst: inside(aim.dst.include, v6), protocol, state: r.one(['new', 'new', 'established', 'invalid'] as const) };
      if (protocol === 6 || protocol === 17) {
        const range = s.dstPorts.length ? r.one(s.dstPorts) : { from: 0, to: 65535 };
        Object.assign(x, { srcPort: r.int(0, 65535), dstPort: r.int(range.from, range.to) });
      }
      if (protocol === 1 || protocol === 58) Object.assign(x, { icmpType: s.icmp[0]?.type ?? r.int(0, 255), icmpCode: 0 });
      const want = bruteEvaluate(p, x);
      const got = a.evaluate(x);
      if (got.action !== want.action || got.rule !== want.rule) wrong.push(`${JSON.stringify(x)}: ${got.rule} vs ${want.rule}`);
      if (want.rule !== '(default)' && want.rule !== '(established/related)') nonDefault++;
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(nonDefault).toBeGreaterThan(1000);
  });

  it.each([{ lazyBudget: undefined }, { lazyBudget: 0 }])('decisions() from the disjoint decided sets equal first-match decisions, filtered or not (%o)', (options) => {
    const p = generatePolicy(400, 12, 12);
    const a = new PolicyAnalysis(p, options);
    const r = new Rand(2);
    let most = 0;
    let factored = 0;
    for (let i = 0; i < 40; i++) {
      const src = r.chance(0.3) ? r.one(p.rules).src.include[0] : undefined;
      const q = querySet({ src: src ? [src] : undefined, dst: [r.one(p.rules).dst.include[0] ?? '10.1.0.0/16'], notServices: r.chance(0.5) ? [svc('tcp', [[443, 443]])] : undefined });
      // First match, the reference: a running remainder over every rule in order.
      const want: [string, number][] = [];
      let rest = q.set;
      const est = intersect(rest, statesSet(['established', 'related']));
      if (!isEmpty(est)) want.push(['(established/related)', est]);
      rest = difference(rest, est);
      for (const d of a.rules()) {
        const x = intersect(rest, d.match);
        if (!isEmpty(x)) want.push([d.name, x]);
        rest = difference(rest, x);
      }
      if (!isEmpty(rest)) want.push(['(default)', rest]);
      most = Math.max(most, want.length);
      expect(a.decisions(q.set, q.box).map((x) => [x.decider.name, x.set])).toEqual(want);
      const accepted = want.filter(([n]) => a.rules().find((d) => d.name === n)?.action === 'accept' || n === '(established/related)');
      expect(a.decisions(q.set, q.box, (d) => d.action === 'accept').map((x) => [x.decider.name, x.set])).toEqual(accepted);
      // The same from the query's cube and factors (search's path: rules passed over on cubes, parts built as products).
      expect(a.decisions(q.set, q.box, undefined, q.cube, q.factors).map((x) => [x.decider.name, x.set])).toEqual(want);
      expect(a.decisions(q.set, q.box, (d) => d.action === 'accept', q.cube, q.factors).map((x) => [x.decider.name, x.set])).toEqual(accepted);
      factored += a.rules().filter((d) => (d as { freeBefore?: number }).freeBefore !== undefined && want.some(([n]) => n === d.name)).length;
    }
    expect(factored).toBeGreaterThan(10);
    expect(most).toBeGreaterThan(3);
  });

  it('decided sets partition the space', () => {
    const a = new PolicyAnalysis(broken());
    const map = a.decisionMap();
    let total = 0n;
    for (const [i, d] of map.entries()) {
      total += size(d.decides);
      for (const e of map.slice(i + 1)) expect(isEmpty(intersect(d.decides, e.decides))).toBe(true);
    }
    expect(total).toBe(size(ALL));
  });
});

