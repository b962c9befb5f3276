/**
 * The control-plane tables of a plan's two revisions, simulated once where they are equal: a
 * change of tenants leaves the underlay and EVPN adjacencies (and the EVPN origins, unless a
 * leaf gains or loses its first VNI) as they were, so the head's tables are the base's runs.
 * Keyed by the digest of what a table is computed from (src/verify/sim/table-store.ts), so a
 * table is only ever reused for inputs equal to its own; kept in the revisions' cache entries
 * (memo blobs), so the next plan against the same base, whose flows and checks come from its
 * memo and never simulate it, gives the head its tables without simulating them either.
 */
import { TableSim, type TableState } from '../verify/sim/propagate.ts';
import { decodeTable, encodeTable, tableDigest, type TableCache } from '../verify/sim/table-store.ts';
import type { PlanSide } from './plan.ts';

export class PlanTables {
  /** Tables by digest: a side whose inputs equal the other's reads the same table (its runs computed once, when first asked). */
  private readonly mem = new Map<string, TableSim>();
  constructor(
    private readonly sides: PlanSide[],
    private readonly reused: string[],
  ) {}

  /** The tables of `side`'s control plane: from this plan's memory, a side's entry, or simulated (then kept in the side's entry). */
  forSide(side: PlanSide): TableCache {
    return {
      table: (adj, origins, evpn) => {
        const key = `table-${tableDigest(adj, origins, evpn)}`;
        let sim = this.mem.get(key);
        let stored = false;
        if (!sim) {
          for (const s of this.sides) {
            const b = s.memo?.blob?.(key);
            const state = b && decodeTable(b, adj.n);
            if (state) {
              sim = new TableSim(adj, origins, evpn, state);
              stored = s === side;
              break;
            }
          }
        }
        if (sim && !stored) this.reused.push(`${side.rev}: ${evpn ? 'EVPN' : 'underlay'} table simulated for ${this.sides.find((s) => s !== side)?.rev}`);
        const table = sim ?? new TableSim(adj, origins, evpn);
        this.mem.set(key, table);
        // Encoded when the entry is written (after the report), with every run computed by then;
        // a stored table is written again only when this plan computed runs it lacked.
        const had = stored ? table.computedRuns : -1;
        if (side.memo?.setBlob && (stored || !side.memo.hasBlob?.(key))) side.memo.setBlob(key, () => (table.computedRuns > had ? encodeTable(table.state()) : undefined));
        return table;
      },
    };
  }
}
