/**
 * Semantic comparison of nftables rulesets (src/domains/firewall/live-nft.ts), both sides read
 * by the real nft (loaded into throwaway namespaces and listed back as JSON): the same policy
 * written differently is equal; a changed port, verdict, policy, set element or a missing rule
 * is named. Also the push primitive against a real nft in an `hfc-` namespace of its own:
 * snapshot, apply, restore, table guard (src/push/nft-ruleset.ts).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareNft, expectedFromText, parseRuleComment, ruleComment, ruleCounters } from '../../src/domains/firewall/live-nft.ts';
import { run } from '../../src/lab/proc.ts';
import { applyNft, labCommandHost, restoreNft, snapshotNft, tablesNamed, type NftTarget } from '../../src/push/nft-ruleset.ts';
import { inCI } from '../support/ci.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`live-nft: skipped, needs ${missing}`);

const A = `table inet netloom {
  set web { type ipv4_addr; flags interval; elements = { 10.10.20.0/25, 10.10.20.128/25, 10.1.1.1 } }
  set ports { type inet_service; flags interval; elements = { 443, 80-90, 91 } }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ip saddr @web tcp dport { 22, 80-85 } counter accept comment "netloom:p:r1"
    ip6 daddr fd00::/64 udp dport 5353 counter reject comment "netloom:p:r2"
  }
}
`;
// The same policy written another way: element order, a split range, set notation for ct state,
// priority as a number, a rule-less chain spelled differently.
const A2 = `table inet netloom {
  set ports { type inet_service; flags interval; elements = { 91, 443, 80-90 } }
  set web { type ipv4_addr; flags interval; elements = { 10.1.1.1, 10.10.20.128/25, 10.10.20.0/25 } }
  chain forward {
    type filter hook forward priority 0
    policy drop
    ct state { related, established } accept
    ip saddr @web tcp dport { 80-85, 22 } counter accept comment "netloom:p:r1"
    ip6 daddr fd00:0:0:0::/64 udp dport 5353 counter reject comment "netloom:p:r2"
  }
}
`;

describe.skipIf(!!missing && !inCI)('nft rulesets compared by meaning (real nft)', () => {
  it('the same policy written differently is equal', async () => {
    expect(compareNft(await expectedFromText(A), await expectedFromText(A2))).toEqual([]);
  });

  it('names a changed port, verdict, policy, set element, missing and extra rule', async () => {
    const base = await expectedFromText(A);
    const changed = await expectedFromText(
      A.replace('80-85 }', '80-86 }')
        .replace('counter reject', 'counter drop')
        .replace('policy drop', 'policy accept')
        .replace('10.1.1.1 }', '10.1.1.2 }')
        .replace('    ct state established,related accept\n', '')
        .replace('  }\n}\n', '    tcp dport 9 accept\n  }\n}\n'),
    );
    expect(compareNft(base, changed)).toEqual([
      'set inet netloom web: missing 10.1.1.1; extra 10.1.1.2',
      'chain inet netloom forward: type filter hook forward priority 0 policy accept, rendered type filter hook forward priority 0 policy drop',
      "chain inet netloom forward: rule #1 missing (ct state == {established,related} accept)",
      "chain inet netloom forward: rule netloom:p:r1: deployed 'ip saddr == @web tcp dport == {22,80-86} counter accept', rendered 'ip saddr == @web tcp dport == {22,80-85} counter accept'",
      "chain inet netloom forward: rule netloom:p:r2: deployed 'ip6 daddr == fd00::/64 udp dport == 5353 counter drop', rendered 'ip6 daddr == fd00::/64 udp dport == 5353 counter reject icmpv6 port-unreachable'",
      "chain inet netloom forward: rule #3 not in the rendered ruleset (tcp dport == 9 accept)",
    ]);
  });

  it('merges touching ranges of set elements and reports counters by the rule comment', async () => {
    const rs = await expectedFromText(A);
    expect(rs.sets.find((s) => s.name === 'ports')!.elements).toEqual(['80-91', '443']);
    expect(rs.sets.find((s) => s.name === 'web')!.elements).toEqual(['10.1.1.1', '10.10.20.0/24']);
    expect(ruleCounters(rs).map((c) => [c.policy, c.rule, c.packets])).toEqual([
      ['p', 'r1', 0],
      ['p', 'r2', 0],
    ]);
    expect(parseRuleComment(ruleComment('web', 'allow:8080'))).toEqual({ policy: 'web', rule: 'allow:8080' });
    // Without the netloom: prefix, a per-policy chain pol_<policy> and a comment led by the rule name.
    const pol = await expectedFromText('table inet netloom {\n  chain pol_tenants {\n    tcp dport 8080 counter accept comment "web-to-app: the web tier (owner team-web)"\n    counter drop comment "default drop"\n  }\n}\n');
    expect(ruleCounters(pol).map((c) => [c.policy, c.rule, c.id])).toEqual([
      ['tenants', 'web-to-app', 'web-to-app: the web tier (owner team-web)'],
      [undefined, undefined, 'default drop'],
    ]);
    expect(parseRuleComment('something else')).toBeUndefined();
  });

  it('a rendered file nft rejects is an error with nft\'s message', async () => {
    await expect(expectedFromText('table inet netloom {\n  chain c {\n    tcp dport 22 frobnicate\n  }\n}\n')).rejects.toThrow(/does not load: .*Error/);
  });
});

describe.skipIf(!!missing && !inCI)('nft push primitive in a namespace (real nft)', () => {
  const ns = `hfc-nftpush-${process.pid}`;
  const host = labCommandHost((argv, opts) => run('ip', ['netns', 'exec', ns, ...argv], { ...opts, allowFail: true }));
  const t: NftTarget = { device: 'scratch', host };
  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    // Somebody else's table: never touched.
    await run('ip', ['netns', 'exec', ns, 'nft', 'add table inet other; add chain inet other c { type filter hook input priority 0; }']);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'delete', ns], { allowFail: true });
  });
  const others = async () => (await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'other'])).stdout;

  it('snapshot, apply, restore; deletes a table that did not exist; leaves other tables alone', async () => {
    const other = await others();
    const s0 = await applyNft(t, A);
    expect(s0.tables).toEqual([
      { family: 'inet', name: 'netloom', text: null },
      { family: 'bridge', name: 'netloom', text: null },
    ]);
    const s1 = await applyNft(t, A.replace('80-85', '80-86') + 'table bridge netloom {\n  chain f { type filter hook forward priority 0; }\n}\n');
    expect(s1.tables[0].text).toContain('80-85');
    expect(s1.tables[1].text).toBeNull();
    expect((await snapshotNft(t)).tables[1].text).toContain('table bridge netloom');
    await restoreNft(t, s1);
    expect(compareNft(await expectedFromText(A), await expectedFromText((await snapshotNft(t)).tables[0].text!))).toEqual([]);
    expect((await snapshotNft(t)).tables[1].text).toBeNull();
    await restoreNft(t, s0);
    expect((await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'])).stdout.trim()).toBe('table inet other');
    expect(await others()).toBe(other);
  });

  it('a failing candidate changes nothing', async () => {
    await applyNft(t, A);
    const before = await snapshotNft(t);
    await expect(applyNft(t, A.replace('policy drop;', 'policy drop;\n    tcp dport 99999 accept'))).rejects.toThrow(/nft -c rejected the ruleset: candidate:6:/);
    expect(await snapshotNft(t)).toEqual(before);
  });
});

describe('tables a ruleset file names', () => {
  it('finds top-level tables in every spelling, not statements inside blocks', () => {
    const text = [
      'table inet netloom { chain c { type filter hook input priority 0; counter accept; } }',
      'add rule bridge netloom f tcp dport 22 drop # table inet fake',
      'table netloom {',
      '  chain x { comment "table inet nope"; }',
      '}',
      'delete table ip6 other; flush ruleset',
    ].join('\n');
    const r = tablesNamed(text);
    expect(r.tables.map((x) => `${x.family} ${x.name}:${x.line}`)).toEqual(['inet netloom:1', 'bridge netloom:2', 'ip netloom:3', 'ip6 other:6']);
    expect(r.problems).toEqual(["line 6: 'flush ruleset' reaches every table of the device"]);
  });
});
