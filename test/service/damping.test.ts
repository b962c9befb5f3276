/** Flap damping of findings: changes announced at once, a flap suppressed, announced again once it settles. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DAMPING, FlapDamper } from '../../src/service/damping.ts';

const kinds = (o: { kind: string }[]) => o.map((x) => x.kind);
const MIN = 60_000;

describe('flap damping', () => {
  it('announces a raise and a clear at once', () => {
    const d = new FlapDamper();
    expect(kinds(d.observe('k', true, 0))).toEqual(['raise']);
    expect(kinds(d.observe('k', true, 10_000))).toEqual([]);
    expect(d.announced('k')).toBe(true);
    expect(kinds(d.observe('k', false, 20_000))).toEqual(['clear']);
    expect(d.announced('k')).toBe(false);
  });

  it('a finding that comes and goes again within a minute is flapping: one event, then silence', () => {
    const d = new FlapDamper();
    expect(kinds(d.observe('k', true, 0))).toEqual(['raise']);
    expect(kinds(d.observe('k', false, 10_000))).toEqual(['clear']);
    const third = d.observe('k', true, 20_000);
    expect(third).toEqual([{ kind: 'flapping', present: true, penalty: expect.any(Number) }]);
    expect(d.suppressed('k')).toBe(true);
    // Further changes while suppressed are silent, and what was announced stays.
    expect(d.observe('k', false, 30_000)).toEqual([]);
    expect(d.observe('k', true, 40_000)).toEqual([]);
    expect(d.announced('k')).toBe(false);
  });

  it('settles once the penalty decays below reuse, announcing the state it has then', () => {
    const d = new FlapDamper();
    d.observe('k', true, 0);
    d.observe('k', false, 10_000);
    d.observe('k', true, 20_000);
    // Penalty about 2800 at 20 s; below 750 takes about two half-lives.
    let t = 20_000;
    let settled: unknown[] = [];
    while (!settled.length && t < 10 * MIN) {
      t += 10_000;
      settled = d.observe('k', true, t);
    }
    expect(settled).toEqual([{ kind: 'settled', present: true, changed: true }]);
    expect(d.penalty('k', t)).toBeLessThan(DEFAULT_DAMPING.reuse);
    expect(t - 20_000).toBeGreaterThan(1.5 * DEFAULT_DAMPING.halfLifeMs);
    expect(t - 20_000).toBeLessThan(2.5 * DEFAULT_DAMPING.halfLifeMs);
    expect(d.announced('k')).toBe(true);
    expect(kinds(d.observe('k', false, t + 10_000))).toEqual(['clear']);
  });

  it('changes far apart never suppress', () => {
    const d = new FlapDamper();
    const out: string[] = [];
    for (let i = 0; i < 10; i++) out.push(...kinds(d.observe('k', i % 2 === 0, i * 5 * MIN)));
    expect(out).toEqual(['raise', 'clear', 'raise', 'clear', 'raise', 'clear', 'raise', 'clear', 'raise', 'clear']);
  });

  it('forgets a key once it is cleared and decayed', () => {
    const d = new FlapDamper();
    d.observe('k', true, 0);
    d.observe('k', false, 1000);
    expect(d.tracked()).toEqual(['k']);
    d.observe('k', false, 30 * MIN);
    expect(d.tracked()).toEqual([]);
  });
});
