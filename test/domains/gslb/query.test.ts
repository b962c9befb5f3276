// `netloom gslb query` as users run it on intents/gslb1: the predicted answer per policy,
// client subnet and pools taken down; mistakes are usage errors (exit 2). The same
// predictions are proven against PowerDNS in dns-behaviour.test.ts.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixtures.ts';

const bin = path.join(repoRoot, 'src/cli/bin.mjs');
function netloom(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'gslb', 'query', ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, NETLOOM_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('netloom gslb query', () => {
  it('answers by client subnet and pools down', () => {
    expect(netloom('near.gslb.example.com', 'intents/gslb1', '--from', '10.2.3.0/24')).toEqual({ code: 0, err: '', out: 'near.gslb.example.com A from 10.2.3.0 (topology, site order dc2 > dc1):\n  198.51.100.10 (pool shop-dc2, site dc2)\n' });
    expect(netloom('near.gslb.example.com', 'intents/gslb1', '--from', '10.2.3.0/24', '--down', 'shop-dc2').out).toBe('near.gslb.example.com A from 10.2.3.0 with shop-dc2 down (topology, site order dc2 > dc1):\n  10.10.99.10 (pool shop-dc1, site dc1)\n');
    expect(netloom('shop.gslb.example.com', 'intents/gslb1', '--type', 'AAAA', '--down', 'shop-dc1').out).toBe('shop.gslb.example.com AAAA with shop-dc1 down (failover):\n  2001:db8:2::10 (pool shop-dc2, site dc2)\n');
    expect(netloom('www.gslb.example.com', 'intents/gslb1', '--down', '198.51.100.20').out).toBe(
      'www.gslb.example.com A with 198.51.100.20 down (weighted): one address per answer, drawn by weight\n  10.10.10.11 (pool web-dc1, site dc1) 3/4\n  10.10.20.13 (pool web-dc1, site dc1) 1/4\n',
    );
    const j = JSON.parse(netloom('all.gslb.example.com', 'intents/gslb1', '--down', 'web-dc1', '--json').out);
    // Every member down: PowerDNS fails open, so the model does too.
    expect(j.answer).toEqual({ kind: 'all', addresses: ['10.10.10.11', '10.10.20.13'] });
  });

  it('names what is unknown, exit 2', () => {
    const r = netloom('nope.gslb.example.com', 'intents/gslb1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no GSLB name 'nope\.gslb\.example\.com' \(names: all\.gslb\.example\.com, /);
    expect(netloom('shop.gslb.example.com', 'intents/gslb1', '--down', 'x').err).toMatch(/--down 'x' is neither a pool nor a member address/);
    expect(netloom('www.gslb.example.com', 'intents/gslb1', '--type', 'AAAA').err).toMatch(/www\.gslb\.example\.com answers A, not AAAA/);
    expect(netloom('shop.gslb.example.com', 'intents/slb1').err).toMatch(/slb1 has no gslb: section/);
  });
});
