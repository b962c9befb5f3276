import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldHits, recordHits } from '../../../src/domains/firewall/hit-history.ts';
import { compareFirewall, type FirewallObserved } from '../../../src/domains/firewall/live.ts';
import { loadModelSync } from '../../../src/model/index.ts';

const t = (m: number) => new Date(Date.UTC(2026, 11, 3, 12, m));
const r = (packets: number, device = 'leaf1') => ({ device, netns: 'SHOP', policy: 'tiers', rule: 'web-to-app', packets });

describe('rule hit history', () => {
  it('remembers when a counter last grew; a reload (lower count) is a hit unless it reads zero', () => {
    let h = foldHits({}, [r(0)], t(0));
    expect(h['leaf1|SHOP|tiers|web-to-app']).toEqual({ packets: 0, firstRead: t(0).toISOString() });
    h = foldHits(h, [r(0)], t(5));
    expect(h['leaf1|SHOP|tiers|web-to-app'].lastHit).toBeUndefined();
    h = foldHits(h, [r(7)], t(10));
    expect(h['leaf1|SHOP|tiers|web-to-app']).toEqual({ packets: 7, firstRead: t(0).toISOString(), lastHit: t(10).toISOString() });
    h = foldHits(h, [r(7)], t(20));
    expect(h['leaf1|SHOP|tiers|web-to-app'].lastHit).toBe(t(10).toISOString());
    h = foldHits(h, [r(0)], t(30));
    expect(h['leaf1|SHOP|tiers|web-to-app']).toEqual({ packets: 0, firstRead: t(0).toISOString(), lastHit: t(10).toISOString() });
    h = foldHits(h, [r(3)], t(40));
    expect(h['leaf1|SHOP|tiers|web-to-app'].lastHit).toBe(t(40).toISOString());
    // The IPv4 and IPv6 halves of one rule are one instance.
    expect(foldHits({}, [r(2), r(3)], t(0))['leaf1|SHOP|tiers|web-to-app'].packets).toBe(5);
  });

  it('is a file that survives a torn write and keeps instances not read this time', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-hits-'));
    try {
      const file = path.join(dir, 'firewall-hits.json');
      recordHits(file, [r(1), r(0, 'leaf2')], t(0));
      recordHits(file, [r(1)], t(1));
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8'))).sort()).toEqual(['leaf1|SHOP|tiers|web-to-app', 'leaf2|SHOP|tiers|web-to-app']);
      writeFileSync(file, '{"leaf1|SHOP|ti');
      expect(recordHits(file, [r(4)], t(2))['leaf1|SHOP|tiers|web-to-app']).toEqual({ packets: 4, firstRead: t(2).toISOString(), lastHit: t(2).toISOString() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('live-firewall-hits names unused rules (info) and expired rules still matching (warning) at their lines', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-hits-fw2-'));
    try {
      const src = path.join(import.meta.dirname, '../../../intents/fw2');
      for (const f of ['fabric.yaml', 'nodes.yaml', 'tenants.yaml', 'endpoints.yaml']) writeFileSync(path.join(dir, f), readFileSync(path.join(src, f)));
      writeFileSync(path.join(dir, 'firewall.yaml'), readFileSync(path.join(src, 'firewall.yaml'), 'utf8').replace('          owner: team-app\n', '          owner: team-app\n          expires: 2026-01-31\n'));
      const model = loadModelSync(dir);
      const at = t(30).toISOString();
      const inst = (rule: string, packets: number, lastHit?: string) => ({ device: 'leaf2', netns: 'SHOP', policy: 'tiers', rule, packets, firstRead: t(0).toISOString(), ...(lastHit ? { lastHit } : {}) });
      const observed: FirewallObserved = {
        probes: [], rulesets: [],
        hits: { readAt: at, instances: [inst('web-to-app', 9, at), inst('app-to-db', 4, t(10).toISOString()), inst('db-deny', 0), inst('ssh-drop', 2, at)] },
      };
      const res = compareFirewall(model, observed).find((x) => x.check.id === 'live-firewall-hits')!;
      expect(res.passed).toBe(true);
      expect(res.examined).toBe('4 counted rules: 3 matched since first read, 1 never, 1 expired but matching');
      expect(res.findings.map((f) => [f.severity, f.message, f.location?.line])).toEqual([
        ['info', `rule app-to-db (firewall.yaml:36) of policy tiers: no packet matched since ${t(10).toISOString()} (4 packets in all on leaf2 (SHOP))`, 36],
        ['warning', `rule app-to-db (firewall.yaml:36) of policy tiers expired on 2026-01-31 and still matches traffic: 4 packets (last ${t(10).toISOString()}) on leaf2 (SHOP)`, 36],
        ['info', `rule db-deny (firewall.yaml:44) of policy tiers: no packet matched since ${t(0).toISOString()} (first read; 0 packets on leaf2 (SHOP))`, 44],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
