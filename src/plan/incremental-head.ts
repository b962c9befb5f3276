/**
 * The head revision's model built from its base's when the change touches only tenants and
 * endpoints (the usual pull request: a VRF, a network, a host): the fabric's part (devices with
 * their numbering, links, sessions) is the base's, its source places moved to the head's files,
 * and only the tenants and what derives from them are resolved again. Resolution allocates
 * stably (every address, ASN and VNI derives from ids and pools, never from what else exists),
 * so this is the model a full resolution gives, byte for byte (test/plan/incremental-head.test.ts
 * compares them); anything it cannot vouch for falls back to the full resolution: a changed file
 * with any other section, files added or removed, domain sections, service nodes, sites, and any
 * error (the full resolution reports it with the same words).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { displayPath, loadIntentDir, reloadIntentDir, type LoadedIntent } from '../intent/load.ts';
import type { ParseCache } from '../intent/parse-cache.ts';
import { makeLocator, validateSchema, type Locator } from '../intent/validate.ts';
import { intentSchema, type Intent } from '../intent/schema.ts';
import { ResolveContext } from '../model/context.ts';
import { loadModelSync } from '../model/index.ts';
import { loadPlatforms } from '../model/platforms.ts';
import { resolvePools } from '../model/resolve-nodes.ts';
import { resolveFromFabric } from '../model/resolve.ts';
import { isSitesDir } from '../model/sites.ts';
import type { Device, FabricModel, SourceLocation } from '../model/types.ts';
import { copiedFrom } from './semantic-diff.ts';
import { shareRouting } from '../verify/graph.ts';

/** Top-level sections a change may touch and still be built from the base (`x-...` extensions aside). */
const TENANT_SECTIONS = new Set(['tenants', 'endpoints']);

class NotIncremental extends Error {}

/** The model a head is built from, the directory it was loaded from, and the root its places are relative to (absent: the working directory's rule). */
export interface HeadBase {
  model: FabricModel;
  dir: string;
  placesRoot?: string;
}

/**
 * A head model built here -> the base model it was built from: everything but what tenants
 * and endpoints resolve is the base's (the same intent text), so what reads only that part
 * (a check with `reads: 'fabric'`) gives the base's answer at the head.
 */
export const fabricFrom = new WeakMap<FabricModel, FabricModel>();

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

/** The intent files whose text differs, when the two directories hold the same files; undefined otherwise. */
function changedFiles(baseDir: string, headDir: string): string[] | undefined {
  const names = yamlFiles(headDir);
  const before = yamlFiles(baseDir);
  if (names.length !== before.length || names.some((n, i) => n !== before[i])) return undefined;
  return names.filter((n) => !readFileSync(path.join(baseDir, n)).equals(readFileSync(path.join(headDir, n))));
}

/** Only tenant sections in the file (parsed through the cache: the head's load reads it anyway). */
function tenantsOnly(file: string, parseCache?: ParseCache): boolean {
  const raw = loadIntentDir(file, parseCache).raw;
  return Object.keys(raw).every((k) => TENANT_SECTIONS.has(k) || k.startsWith('x-'));
}

function movedPlace(p: SourceLocation, move: (file: string) => string): SourceLocation {
  const via = (p as SourceLocation & { via?: SourceLocation }).via;
  // A quarter of a million places (links, sessions, ports): the common one without the spread of a `via`.
  if (via === undefined) return { ...p, file: move(p.file) };
  return { ...p, file: move(p.file), via: movedPlace(via, move) } as SourceLocation;
}

/**
 * Copies of `list`'s items with their source places moved. Shallow: the fabric's objects hold
 * their source place at the top (src/model/types.ts), and what they hold besides is shared,
 * read-only, with the base (the semantic diff finds it equal without a walk).
 */
function copies<T extends { source: SourceLocation }>(list: T[], move: (file: string) => string): T[] {
  return list.map((o) => ({ ...o, source: movedPlace(o.source, move) }));
}

function loadedInFull(dir: string, parseCache: ParseCache | undefined, placesRoot: string | undefined): { loaded: LoadedIntent; intent: Intent; locator: Locator } {
  const loaded = loadIntentDir(dir, parseCache, { placesRoot });
  return { loaded, ...validateSchema(loaded) };
}

/**
 * The intent in `dir` from the last one loaded through `parseCache` (the base's, or the
 * previous push's) where only tenant files differ: their sections parsed and validated, every
 * other section the last one's (validated alike: the schema checks each section on its own,
 * and a section absent from every file is validated from nothing here as there).
 * Undefined when it cannot be (then loaded in full, which says what is wrong).
 */
function reloaded(dir: string, parseCache: ParseCache | undefined, placesRoot: string | undefined): { loaded: LoadedIntent; intent: Intent; locator: Locator } | undefined {
  const prev = parseCache?.lastIntent;
  const re = prev && reloadIntentDir(prev.loaded, dir, TENANT_SECTIONS, parseCache, { placesRoot });
  if (!re) return undefined;
  const intent = { ...prev.intent };
  for (const k of re.redone) {
    const r = intentSchema.shape[k as 'tenants' | 'endpoints'].safeParse(re.loaded.raw[k]);
    if (!r.success) return undefined;
    (intent as Record<string, unknown>)[k] = r.data;
  }
  return { loaded: re.loaded, intent, locator: makeLocator(re.loaded) };
}

/**
 * The model of the intent in `headDir`, built from `base` (the model of the intent in
 * `base.dir`) when only tenants and endpoints changed; undefined when it cannot be (the caller
 * resolves in full).
 */
export function incrementalHead(base: HeadBase, headDir: string, parseCache?: ParseCache, placesRoot?: string): FabricModel | undefined {
  const b = base.model;
  if (b.sites || b.dci || b.serviceNodes || Object.keys(b.domains).length) return undefined;
  try {
    if (isSitesDir(headDir) || isSitesDir(base.dir)) return undefined;
    const changed = changedFiles(base.dir, headDir);
    if (!changed) return undefined;
    for (const n of changed) if (!tenantsOnly(path.join(base.dir, n), parseCache) || !tenantsOnly(path.join(headDir, n), parseCache)) return undefined;
    const { loaded, intent, locator } = reloaded(headDir, parseCache, placesRoot) ?? loadedInFull(headDir, parseCache, placesRoot);
    if (parseCache) parseCache.lastIntent = { loaded, intent };
    // Base file (as its model records it, any form) -> the head's.
    const files = new Map<string, string>();
    // Both sides name their files alike (each relative to its own revision's root): the
    // fabric's objects are the base's own, not copies with their places moved.
    let share = true;
    for (const n of yamlFiles(headDir)) {
      const to = displayPath(path.join(headDir, n), placesRoot);
      const from = displayPath(path.join(base.dir, n), base.placesRoot);
      if (from !== to) share = false;
      files.set(path.join(base.dir, n), to).set(displayPath(path.join(base.dir, n)), to).set(from, to);
    }
    // Places come in runs from one file: the last file's answer saves hashing each place's path.
    let lastFrom: string | undefined;
    let lastTo = '';
    const move = (f: string) => {
      if (f === lastFrom) return lastTo;
      const to = files.get(f);
      if (to === undefined) throw new NotIncremental(f);
      lastFrom = f;
      return (lastTo = to);
    };
    const ctx = new ResolveContext(intent, locator, loadPlatforms());
    const pools = resolvePools(ctx);
    const byName = new Map(b.devices.map((d) => [d.name, d]));
    const names = Object.keys(intent.nodes);
    if (names.length !== byName.size) return undefined;
    // The nodes as the fabric's resolution leaves them: no tenant VLANs, VRFs or access ports yet.
    for (const name of names) {
      const d = byName.get(name);
      const def = d && ctx.platforms.get(d.platform);
      if (!d || !def) return undefined;
      // Its own lists are the resolution's to fill (or sort); the rest is shared with the base.
      const device: Device = { ...d, interfaces: [], vrfs: [], vlans: [], bgpSessionIds: [...d.bgpSessionIds], source: share ? d.source : movedPlace(d.source, move) };
      const ports = d.interfaces.filter((i) => i.kind === 'fabric');
      const fabricPorts = share ? ports : copies(ports, move);
      ctx.nodes.set(name, {
        name,
        device,
        def,
        usedPorts: new Map(fabricPorts.map((i) => [i.name, `link ${i.description}`])),
        ifaces: new Map(fabricPorts.map((i) => [i.name, i])),
        // Read while resolving links only.
        uplinkPortStart: 0,
        downlinkPortBase: 0,
      });
    }
    // Shared lists are not changed by what follows: the tenants add none of these, and the
    // resolution's sort leaves lists in the model's order as they are.
    const list = <T extends { source: SourceLocation }>(l: T[]) => (share ? l : copies(l, move));
    const routing = { links: list(b.links), bgp: list(b.bgpSessions), ospf: list(b.ospfAdjacencies), routeReflectors: [...b.fabric.overlay.routeReflectors] };
    // Already in the model's order (the resolution sorts them in place): the semantic diff skips them.
    copiedFrom.set(routing.links, b.links).set(routing.bgp, b.bgpSessions).set(routing.ospf, b.ospfAdjacencies);
    const head = resolveFromFabric(ctx, pools, routing, loaded.revision, loaded.dir);
    fabricFrom.set(head, b);
    if (share) shareRouting(head, b);
    return head;
  } catch {
    // A place it cannot move, an intent error, a file it cannot read: the full resolution
    // gives the model or says what is wrong, in its own words.
    return undefined;
  }
}

/**
 * A revision's model: built from its base's where `incrementalHead` can, else resolved in
 * full. `placesRoot`: its files are recorded relative to this directory (the revision's root).
 */
export function loadHeadModel(dir: string, parseCache: ParseCache | undefined, base: Partial<HeadBase> | undefined, placesRoot?: string): FabricModel {
  const fromBase = base?.model && base.dir ? incrementalHead({ model: base.model, dir: base.dir, ...(base.placesRoot !== undefined ? { placesRoot: base.placesRoot } : {}) }, dir, parseCache, placesRoot) : undefined;
  return fromBase ?? loadModelSync(dir, { parseCache, ...(placesRoot !== undefined ? { placesRoot } : {}) });
}
