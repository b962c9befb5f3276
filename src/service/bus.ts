/** In-process fan-out of stored events to the SSE streams and webhooks. */
import type { ServiceEvent } from './store.ts';

export type Listener = (e: ServiceEvent) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  publish(e: ServiceEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One broken subscriber never stops the others or the poller.
      }
    }
  }
  get size(): number {
    return this.listeners.size;
  }
}
