import type { CheckInfo, Finding } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import type { TableCache } from '../sim/table-store.ts';

/** Shared, lazily computed analyses (ECMP classes, overlay reach...) several checks read. */
export interface CheckContext {
  fg: FabricGraph;
  memo<T>(key: string, compute: () => T): T;
  /** Where the control plane's tables come from (default: simulated; a plan reuses the other revision's). */
  tables?: TableCache;
}

export function makeContext(fg: FabricGraph, tables?: TableCache): CheckContext {
  const cache = new Map<string, unknown>();
  return {
    fg,
    ...(tables ? { tables } : {}),
    memo<T>(key: string, compute: () => T): T {
      if (!cache.has(key)) cache.set(key, compute());
      return cache.get(key) as T;
    },
  };
}

/** One independent question over the fabric graph (Batfish style). */
export interface StaticCheck extends CheckInfo {
  kind: 'static';
  /**
   * 'fabric': the check reads only the fabric's part of the model (devices' numbering,
   * addresses and session lists, their fabric, loopback and management interfaces, links,
   * sessions, adjacencies, fabric settings), nothing tenants or endpoints resolve (VRFs, VLANs,
   * access ports, networks, endpoints): `netloom plan` takes its result at a head built from its
   * base (src/plan/incremental-head.ts) from the base's.
   */
  reads?: 'fabric';
  /** `details`: lines shown under the check (e.g. the firewall's services per endpoint pair). */
  run(ctx: CheckContext): { findings: Finding[]; examined: string; details?: string[] };
}
