/**
 * Incremental rendering: a device is re-rendered only when its view changed. The key is a
 * hash of the view without source positions (moving a line in the intent changes no
 * configuration) plus the platform; templates are assumed unchanged within one process.
 */
import { createHash } from 'node:crypto';
import { IntentError } from '../util/errors.ts';
import type { FabricModel } from '../model/types.ts';
import { Renderer, selectDevices, type RenderOptions, type RenderResult, type RenderedArtifact } from './index.ts';
import type { DeviceView } from './view.ts';

export function viewHash(v: DeviceView): string {
  return createHash('sha1')
    .update(JSON.stringify(v, (k, val) => (k === 'source' ? undefined : val)))
    .digest('hex');
}

export interface IncrementalResult extends RenderResult {
  /** Devices whose files were rendered this time (new or changed views). */
  rerendered: string[];
}

export class IncrementalRenderer {
  private cache = new Map<string, { hash: string; artifacts: RenderedArtifact[] }>();

  constructor(private readonly opts: Omit<RenderOptions, 'devices'> = {}) {}

  render(model: FabricModel): IncrementalResult {
    const r = new Renderer(model, this.opts);
    const names = selectDevices(model);
    const views = names.map((n) => r.view(n));
    const hashes = views.map(viewHash);
    const stale = views.filter((v, i) => this.cache.get(v.hostname)?.hash !== hashes[i]);
    const diags = stale.flatMap((v) => r.check(v));
    if (diags.length) throw new IntentError(diags);
    const next = new Map<string, { hash: string; artifacts: RenderedArtifact[] }>();
    views.forEach((v, i) => {
      const cached = this.cache.get(v.hostname);
      next.set(v.hostname, cached && cached.hash === hashes[i] ? cached : { hash: hashes[i], artifacts: r.renderView(v) });
    });
    this.cache = next;
    return {
      revision: model.revision,
      fabric: model.name,
      artifacts: names.flatMap((n) => next.get(n)!.artifacts),
      rerendered: stale.map((v) => v.hostname),
    };
  }
}
