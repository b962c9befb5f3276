/** A collector that runs at most `limit` device commands at once: the poller's bound on load. */
import type { Collector, CommandResult, RunOptions } from '../verify/live/collector.ts';

export class LimitedCollector implements Collector {
  readonly name: string;
  readonly shell?: boolean;
  private readonly inner: Collector;
  private readonly limit: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Most commands seen running at once (for tests and metrics). */
  peak = 0;
  constructor(inner: Collector, limit: number) {
    this.inner = inner;
    this.limit = Math.max(1, limit);
    this.shell = inner.shell;
    this.name = `${inner.name}, at most ${this.limit} at once`;
  }

  async run(device: string, command: string, opts?: RunOptions): Promise<CommandResult> {
    // A finishing command hands its slot straight to the next waiter, so none is ever shared.
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      return await this.inner.run(device, command, opts);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
