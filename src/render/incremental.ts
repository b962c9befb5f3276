/**
 * Incremental rendering: a device is re-rendered only when what its view is built from
 * changed: the device, its BGP sessions and OSPF adjacencies (with the peers' loopbacks),
 * the fabric settings and its platform. Source positions are left out of the key, so moving a
 * line in the intent re-renders nothing. Templates are assumed unchanged within one process.
 * Hashing the inputs instead of the built views is what keeps a one-tenant change on 5,000
 * devices well under a second: only changed devices get a view.
 */
import { createHash } from 'node:crypto';
import { IntentError } from '../util/errors.ts';
import type { FabricModel } from '../model/types.ts';
import { Renderer, selectDevices, type RenderOptions, type RenderResult, type RenderedArtifact } from './index.ts';
import type { ModelIndex } from './view.ts';

// Source objects are {file,line,col} without braces inside: a plain scan is much faster than
// a JSON-aware pattern, and a stray "}" in a file name would only cost a re-render.
const SOURCE_RE = /"source":\{[^}]*\},?/g;

/** JSON without source positions. */
function stripped(x: unknown): string {
  return JSON.stringify(x).replace(SOURCE_RE, '');
}

/** Each session is hashed by both its ends: serialise it once. */
export function sessionKeys(ix: ModelIndex): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, s] of ix.sessions) {
    // Every field of a session but its source, by hand: 60,000 JSON round trips cost too much.
    const end = (e: typeof s.a) => `${e.device}|${e.asn}|${e.routerId}|${e.interface ?? ''}|${e.address ?? ''}|${e.routeReflectorClient ? 1 : 0}`;
    out.set(id, `${id}|${s.layer}|${s.type}|${s.afiSafis.join(',')}|${s.multihop}|${end(s.a)}|${end(s.b)}|${ix.devices.get(s.a.device)?.loopback}|${ix.devices.get(s.b.device)?.loopback}`);
  }
  return out;
}

export function deviceInputHash(ix: ModelIndex, name: string, globalKey: string, sessions: Map<string, string>): string {
  const d = ix.devices.get(name)!;
  // One update of one string: many small hash updates cost more than the concatenation.
  let s = globalKey + stripped(d);
  for (const id of d.bgpSessionIds) s += sessions.get(id) ?? id;
  for (const a of ix.ospfByDevice.get(name) ?? []) s += stripped(a);
  return createHash('sha1').update(s).digest('hex');
}

/**
 * Each device's render-input hash. Other domains' parts of the model (a firewall policy) are
 * part of every device's key: a device's domain view may read any of them.
 */
export function inputHashes(r: Renderer, names: string[]): string[] {
  const model = r.model;
  const globalKey = stripped({ fabric: model.fabric, name: model.name, site: model.site, domains: model.domains });
  const sessions = sessionKeys(r.index);
  return names.map((n) => deviceInputHash(r.index, n, globalKey, sessions));
}

export interface IncrementalResult extends RenderResult {
  /** Devices whose files were rendered this time (new or changed inputs). */
  rerendered: string[];
}

export class IncrementalRenderer {
  private cache = new Map<string, { hash: string; artifacts: RenderedArtifact[] }>();

  constructor(private readonly opts: Omit<RenderOptions, 'devices'> = {}) {}

  render(model: FabricModel): IncrementalResult {
    const r = new Renderer(model, this.opts);
    const names = selectDevices(model);
    const hashes = inputHashes(r, names);
    const stale = names.filter((n, i) => this.cache.get(n)?.hash !== hashes[i]);
    const views = new Map(stale.map((n) => [n, r.view(n)]));
    const diags = [...views.values()].flatMap((v) => r.check(v));
    if (diags.length) throw new IntentError(diags);
    const next = new Map<string, { hash: string; artifacts: RenderedArtifact[] }>();
    names.forEach((n, i) => {
      const v = views.get(n);
      next.set(n, v ? { hash: hashes[i], artifacts: r.renderView(v) } : this.cache.get(n)!);
    });
    this.cache = next;
    return {
      revision: model.revision,
      fabric: model.name,
      artifacts: names.flatMap((n) => next.get(n)!.artifacts),
      rerendered: stale,
    };
  }
}
