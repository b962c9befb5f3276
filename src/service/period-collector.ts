/**
 * Poll periods per device class. The poller ticks at the shortest period any device has; a
 * device whose own period has not elapsed since its last collection answers each command
 * from that collection, so a spine polled every 30 s costs one collection in three ticks of
 * 10 s and the comparison still sees the whole fabric on every tick. A command that failed is
 * asked again on the next tick (a fault must not hide behind a cache). `slackMs` (half a
 * tick) absorbs timer jitter: a device due within it counts as due.
 */
import type { Collector, CommandResult, RunOptions } from '../verify/live/collector.ts';

export class PeriodCollector implements Collector {
  readonly name: string;
  readonly shell?: boolean;
  private readonly inner: Collector;
  private readonly periodOf: (device: string) => number;
  private readonly slackMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; result: CommandResult }>();
  /** Commands answered from the cache, and those sent to the device (metrics, tests). */
  hits = 0;
  misses = 0;

  private readonly counted?: (device: string, cached: boolean) => void;

  constructor(inner: Collector, periodOf: (device: string) => number, slackMs: number, opts: { now?: () => number; counted?: (device: string, cached: boolean) => void } = {}) {
    this.inner = inner;
    this.counted = opts.counted;
    this.periodOf = periodOf;
    this.slackMs = slackMs;
    this.now = opts.now ?? Date.now;
    this.name = inner.name;
    this.shell = inner.shell;
  }

  async run(device: string, command: string, opts?: RunOptions): Promise<CommandResult> {
    const key = `${device}\u0000${opts?.shell ? 'sh' : 'vtysh'}\u0000${command}`;
    const hit = this.cache.get(key);
    const t = this.now();
    if (hit && t - hit.at < this.periodOf(device) - this.slackMs) {
      this.hits++;
      this.counted?.(device, true);
      return hit.result;
    }
    this.misses++;
    this.counted?.(device, false);
    const result = await this.inner.run(device, command, opts);
    if (result.ok) this.cache.set(key, { at: t, result });
    else this.cache.delete(key);
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
