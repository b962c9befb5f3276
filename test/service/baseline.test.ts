/** EWMA baselines: quiet during warm-up and on noise, one edge-triggered anomaly on a shift, which becomes the new normal. */
import { describe, expect, it } from 'vitest';
import { Baselines, DEFAULT_BASELINE, Ewma } from '../../src/service/baseline.ts';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

describe('EWMA baseline', () => {
  it('tracks mean and variance of a series', () => {
    const e = new Ewma();
    for (let i = 0; i < 200; i++) e.update(i % 2 === 0 ? 9 : 11);
    expect(e.mean).toBeGreaterThan(9.5);
    expect(e.mean).toBeLessThan(10.5);
    expect(Math.sqrt(e.variance)).toBeGreaterThan(0.8);
    expect(Math.sqrt(e.variance)).toBeLessThan(1.2);
  });

  it('never alarms during warm-up, even on a jump', () => {
    const b = new Baselines();
    const edges = [];
    for (let i = 0; i < DEFAULT_BASELINE.warmup; i++) edges.push(b.observe('s', i === 5 ? 1000 : 10));
    expect(edges.filter(Boolean)).toEqual([]);
  });

  it('stays quiet on noise within the band, with a seeded random series', () => {
    const b = new Baselines();
    const rng = xoroshiro128plus(42);
    let edges = 0;
    for (let i = 0; i < 2000; i++) if (b.observe('prefixes', 100 + uniformInt(rng, -2, 2))) edges++;
    expect(edges).toBe(0);
  });

  it('raises one anomaly on a shift, clears it when the baseline has absorbed the new level', () => {
    const b = new Baselines();
    for (let i = 0; i < 50; i++) expect(b.observe('macs', 40)).toBeUndefined();
    const first = b.observe('macs', 20);
    expect(first?.kind).toBe('anomaly');
    expect(first?.reading.z).toBeGreaterThan(DEFAULT_BASELINE.sigmas);
    const later: string[] = [];
    for (let i = 0; i < 60; i++) {
      const e = b.observe('macs', 20);
      if (e) later.push(e.kind);
    }
    // Edge-triggered: no repeat while it stays out, one clear once 20 is normal.
    expect(later).toEqual(['anomaly-cleared']);
    expect(b.get('macs')!.mean).toBeCloseTo(20, 0);
  });
});
