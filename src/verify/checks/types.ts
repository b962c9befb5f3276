import type { CheckInfo, Finding } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';

/** Shared, lazily computed analyses (ECMP classes, overlay reach...) several checks read. */
export interface CheckContext {
  fg: FabricGraph;
  memo<T>(key: string, compute: () => T): T;
}

export function makeContext(fg: FabricGraph): CheckContext {
  const cache = new Map<string, unknown>();
  return {
    fg,
    memo<T>(key: string, compute: () => T): T {
      if (!cache.has(key)) cache.set(key, compute());
      return cache.get(key) as T;
    },
  };
}

/** One independent question over the fabric graph (Batfish style). */
export interface StaticCheck extends CheckInfo {
  kind: 'static';
  /** `details`: lines shown under the check (e.g. the firewall's services per endpoint pair). */
  run(ctx: CheckContext): { findings: Finding[]; examined: string; details?: string[] };
}
