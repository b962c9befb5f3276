/**
 * A routing table's simulation kept for another model with the same adjacency and origins: a
 * TableSim is a function of those alone (propagate.ts reads nothing else), so its runs are
 * keyed by a digest of them and reused as they are. `netloom plan` compares two revisions that
 * mostly share their underlay and EVPN sessions (a tenant added leaves both tables as they
 * were): the head restores the base's runs instead of propagating every origin again, in the
 * same process or from the base's cache entry (src/plan/sim-tables.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Adjacency } from './adjacency.ts';
import { SeqTrie, TableSim, type Run, type TableState } from './propagate.ts';

/** Builds (or restores) the table over `adj` from `origins`. */
export interface TableCache {
  table(adj: Adjacency, origins: number[], evpn: boolean): TableSim;
}

/** Bumped when the encoding or what a run holds changes. */
const FORMAT = 'table-state/2';

type Typed = Int32Array | Int16Array | Uint8Array | Float64Array;

/** Every field of the adjacency (so a field added later is covered), the origins and the table kind. */
/** The digest's state after an adjacency, per adjacency and flag: one adjacency (a fabric's, shared by a head and its base) is hashed once. */
const hashed = new WeakMap<Adjacency, Map<boolean, Hash>>();

export function tableDigest(adj: Adjacency, origins: readonly number[], evpn: boolean): string {
  let byFlag = hashed.get(adj);
  if (!byFlag) hashed.set(adj, (byFlag = new Map()));
  let h = byFlag.get(evpn);
  if (!h) {
    h = createHash('sha256').update(`${FORMAT}\0${evpn ? 1 : 0}\0`);
    for (const key of Object.keys(adj).sort()) {
      const v = (adj as unknown as Record<string, unknown>)[key];
      h.update(`${key}\0`);
      if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      else if (Array.isArray(v)) h.update(v.join('\0'));
      else h.update(String(v));
      h.update('\0');
    }
    byFlag.set(evpn, h);
  }
  return h.copy().update(Int32Array.from(origins)).digest('hex').slice(0, 32);
}

const RUN_FIELDS = ['len', 'ebgp', 'fromClient', 'path', 'cluster', 'nh', 'via', 'multi', 'allowAs', 'transit'] as const;
const TYPES = { Int32Array, Int16Array, Uint8Array, Float64Array } as const;
type TypeName = keyof typeof TYPES;

/**
 * The state as bytes: a JSON header (numbers, the classes computed, each array's type and
 * length), then the arrays, 8-byte aligned. Classes never asked for are absent (computed by
 * whoever restores the state and asks).
 */
export function encodeTable(s: TableState): Buffer {
  const arrays: Typed[] = [];
  const put = (a: Typed) => arrays.push(a);
  const classes = s.repRuns.flatMap((r, c) => (r ? [c] : []));
  const runs = [...classes.map((c) => s.repRuns[c]!), ...s.own];
  put(s.classOf);
  for (const r of runs) for (const f of RUN_FIELDS) put(r[f]);
  for (const t of [s.paths, s.clusters]) {
    put(Float64Array.from(t.head));
    put(Int32Array.from(t.rest));
  }
  const header = Buffer.from(
    JSON.stringify({
      format: FORMAT,
      reps: s.reps,
      runs: runs.map((r) => [r.origin, r.originAsn]),
      classes,
      arrays: arrays.map((a) => [a.constructor.name, a.length]),
    }),
  );
  const pad = (n: number) => (8 - (n % 8)) % 8;
  const start = 4 + header.length + pad(4 + header.length);
  let size = start;
  for (const a of arrays) size += a.byteLength + pad(a.byteLength);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength + pad(a.byteLength);
  }
  return out;
}

/** The state `encodeTable` wrote, for an adjacency of `n` devices; undefined when the bytes are not one. */
export function decodeTable(buf: Buffer, n: number): TableState | undefined {
  try {
    const len = buf.readUInt32LE(0);
    const head = JSON.parse(buf.subarray(4, 4 + len).toString()) as { format: string; reps: number[]; runs: [number, number][]; classes: number[]; arrays: [TypeName, number][] };
    if (head.format !== FORMAT || head.arrays.length !== 1 + head.runs.length * RUN_FIELDS.length + 4) return undefined;
    if (head.classes.length > head.runs.length || head.classes.some((c) => !Number.isInteger(c) || c < 0 || c >= head.reps.length)) return undefined;
    const pad = (x: number) => (8 - (x % 8)) % 8;
    let at = 4 + len + pad(4 + len);
    // One copy into an aligned buffer of its own, the arrays views into it.
    const body = new Uint8Array(buf.length - at);
    body.set(buf.subarray(at));
    at = 0;
    const arrays = head.arrays.map(([type, length]) => {
      const T = TYPES[type];
      if (!T) throw new Error(`type ${type}`);
      const a = new T(body.buffer, at, length);
      at += a.byteLength + pad(a.byteLength);
      return a;
    });
    let i = 0;
    const next = () => arrays[i++];
    const classOf = next() as Int32Array;
    if (classOf.length !== n) return undefined;
    const runs = head.runs.map(([origin, originAsn]): Run => {
      const r = { origin, originAsn } as Run;
      for (const f of RUN_FIELDS) {
        const a = next();
        if (a.length !== n) throw new Error(`run ${f}`);
        (r as unknown as Record<string, Typed>)[f] = a;
      }
      return r;
    });
    const paths = SeqTrie.from(next(), next());
    const clusters = SeqTrie.from(next(), next());
    const repRuns = new Array<Run | undefined>(head.reps.length).fill(undefined);
    head.classes.forEach((c, i) => (repRuns[c] = runs[i]));
    return { classOf, reps: head.reps, repRuns, own: runs.slice(head.classes.length), paths, clusters };
  } catch {
    return undefined; // torn or foreign: the table is simulated again
  }
}

/** No reuse: every table simulated. */
export const simulateTables: TableCache = { table: (adj, origins, evpn) => new TableSim(adj, origins, evpn) };
