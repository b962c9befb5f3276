/**
 * The semantic ruleset comparison (compareNft) on real `nft -j list ruleset` output: fw1's
 * rendered leaf1 ruleset loaded into a scratch namespace, then edited there with nft (one rule
 * deleted from each chain; one rule moved) and listed again (fixtures/nft-json). Rules are
 * aligned by identity, so a deleted rule is one difference, not a move for every later rule.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareNft, longestIncreasing, parseNftJson } from '../../../src/domains/firewall/live-nft.ts';

const fixture = (name: string) => parseNftJson(readFileSync(new URL(`./fixtures/nft-json/${name}.json`, import.meta.url), 'utf8'));

describe('deployed vs rendered nftables, aligned by rule identity', () => {
  const rendered = fixture('rendered');

  it('the rendered ruleset equals itself', () => {
    expect(compareNft(rendered, rendered)).toEqual([]);
    expect(rendered.chains.find((c) => c.name === 'pol_tenants')!.rules).toHaveLength(8);
  });

  it('a deleted rule is reported alone, commented (by its comment) or not (by its text)', () => {
    expect(compareNft(rendered, fixture('deployed-deleted'))).toEqual([
      'chain inet netloom forward: rule #2 missing (ip saddr == 10.10.10.0/24 ip daddr == 10.20.30.0/24 jump target pol_tenants)',
      'chain inet netloom pol_tenants: rule app-to-db (owner team-app) missing (ip saddr == 10.10.20.0/24 ip daddr == 10.20.30.0/24 tcp dport == 5432 counter accept)',
    ]);
  });

  it('a moved rule is the one reported as moved; the rules it jumped over are not', () => {
    expect(compareNft(rendered, fixture('deployed-moved'))).toEqual([
      'chain inet netloom pol_tenants: rule db-deny: nobody else reaches the database port at position 2, rendered at 5',
    ]);
  });

  it('an extra uncommented rule between the same neighbours as a missing one is a changed rule', () => {
    const deployed = fixture('rendered');
    const fwd = deployed.chains.find((c) => c.name === 'forward')!;
    fwd.rules[3] = { ...fwd.rules[3]!, exprs: ['ip saddr == 10.99.0.0/24', 'jump pol_tenants'] };
    expect(compareNft(rendered, deployed)).toEqual([
      "chain inet netloom forward: rule #4: deployed 'ip saddr == 10.99.0.0/24 jump pol_tenants', rendered 'ip saddr == 10.10.20.0/24 ip daddr == 10.20.30.0/24 jump target pol_tenants'",
    ]);
  });

  it('longest increasing run: indexes of one longest strictly increasing subsequence', () => {
    expect(longestIncreasing([])).toEqual([]);
    expect(longestIncreasing([0, 1, 2])).toEqual([0, 1, 2]);
    expect(longestIncreasing([4, 0, 1, 2, 3])).toEqual([1, 2, 3, 4]);
    expect(longestIncreasing([0, 2, 1, 3]).length).toBe(3);
  });
});
