/** The poller's bound on concurrent device commands. */
import { describe, expect, it } from 'vitest';
import { LimitedCollector } from '../../src/service/limited-collector.ts';
import type { Collector } from '../../src/verify/live/collector.ts';

describe('limited collector', () => {
  it('never runs more than the limit at once, and runs every command', async () => {
    let running = 0;
    let peak = 0;
    const inner: Collector = {
      name: 'slow',
      async run(device, command) {
        running++;
        peak = Math.max(peak, running);
        // Yield a few turns so that commands overlap when allowed to.
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        running--;
        return { ok: true, stdout: `${device} ${command}` };
      },
      close: async () => {},
    };
    const c = new LimitedCollector(inner, 3);
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => c.run(`d${i}`, 'show')));
    expect(out.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `d${i} show`));
    expect(peak).toBe(3);
    expect(c.peak).toBe(3);
  });

  it('frees the slot of a command that failed', async () => {
    const [broken, fine] = ['leaf1', 'leaf2'];
    const inner: Collector = { name: 'x', run: async (d) => (d === broken ? Promise.reject(new Error('boom')) : { ok: true, stdout: d }), close: async () => {} };
    const c = new LimitedCollector(inner, 1);
    await expect(c.run(broken, 'show')).rejects.toThrow('boom');
    expect((await c.run(fine, 'show')).stdout).toBe(fine);
  });
});
