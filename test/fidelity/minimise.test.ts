// The minimiser with a stand-in for the lab: it must shrink an intent to what the failure
// needs, keep every step a valid intent, and respect its budget.
import { describe, expect, it } from 'vitest';
import { randomIntent, type RandomIntent } from '../../src/intent/random.ts';
import { minimise, reductions } from '../../src/verify/fidelity/minimise.ts';
import { isValidIntent } from '../../src/verify/fidelity/run.ts';

const nodesOfRole = (i: RandomIntent, role: string) => Object.values(i.nodes).filter((n) => (i.groups as Record<string, { role: string }>)[String(n.group)].role === role);

describe('minimise', () => {
  it('shrinks to the endpoint a failure depends on, through valid intents only', async () => {
    const seed = 1;
    const start = randomIntent(seed);
    const culprit = start.endpoints[2];
    expect(start.endpoints.length).toBeGreaterThan(3);
    const seen: RandomIntent[] = [];
    const m = await minimise(start, {
      valid: isValidIntent,
      fails: async (i) => {
        seen.push(i);
        return i.endpoints.some((e) => e.name === culprit.name);
      },
    });
    expect(m.complete).toBe(true);
    expect(seen.every(isValidIntent)).toBe(true);
    expect(m.intent.endpoints.map((e) => e.name)).toEqual([culprit.name]);
    expect(m.intent.tenants).toHaveLength(1);
    expect(m.intent.tenants[0].vrfs).toHaveLength(1);
    expect(m.intent.tenants[0].vrfs[0].networks).toHaveLength(1);
    expect(m.intent.tenants[0].vrfs[0].networks[0].vlan).toBe(culprit.vlan);
    expect(nodesOfRole(m.intent, 'spine')).toHaveLength(1);
    // Its own leaf stays; other leaves go.
    expect(Object.keys(m.intent.nodes).filter((n) => n.startsWith('leaf') || n.startsWith('border'))).toEqual([culprit.leaf]);
    expect(m.removed.length).toBeGreaterThan(5);
    expect(isValidIntent(m.intent)).toBe(true);
  });

  it('keeps everything when every reduction makes the failure go away', async () => {
    const start = randomIntent(5);
    const m = await minimise(start, { valid: isValidIntent, fails: async () => false });
    expect(m.intent).toEqual(start);
    expect(m.removed).toEqual([]);
  });

  it('stops at its budget', async () => {
    let calls = 0;
    const m = await minimise(randomIntent(9), {
      valid: isValidIntent,
      fails: async () => {
        calls++;
        return false;
      },
      maxTries: 3,
    });
    expect(calls).toBe(3);
    expect(m.complete).toBe(false);
  });

  it('offers tenants, nodes, VRFs, networks, endpoints and pinned values as reductions', () => {
    const whats = [...reductions(randomIntent(3))].map((c) => c.what.split(' ')[0]);
    for (const w of ['tenant', 'leaf', 'spine', 'network', 'endpoint']) expect(whats).toContain(w);
  });
});

describe('regression fixtures', () => {
  it('are valid intents with their seed and the fact types they disagreed on', async () => {
    const { loadRegressions } = await import('../../src/verify/fidelity/run.ts');
    const all = loadRegressions(new URL('./regressions', import.meta.url).pathname);
    expect(all.length).toBeGreaterThan(0);
    for (const r of all) {
      expect(Number.isInteger(r.seed)).toBe(true);
      expect(r.failing.length).toBeGreaterThan(0);
      expect(isValidIntent(r.intent), `regression ${r.seed}`).toBe(true);
    }
  });
});
