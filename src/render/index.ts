/**
 * Renderer: the model -> one directory of startup configuration files per device.
 *
 * CONTRACT for platform authors (a new platform is data + templates, no code):
 *
 * 1. models/platforms/<p>.yaml gets a `render:` section (schema: renderSpecSchema in
 *    src/model/platforms.ts):
 *      render:
 *        artifacts:                          # one file per entry, per device
 *          - name: startup-config            # output file: OUT/<device>/<name>
 *            template: startup-config.hbs    # templates/<p>/<template>
 *            comment: "!"                    # header comment syntax; ["<!--", "-->"] for XML
 *            format: text                    # text (verbatim) | xml (values XML-escaped)
 *            mode: "0644"                    # optional file mode
 *            roles: [leaf, border-leaf]      # optional: only these roles get the file
 *            domain: firewall                # optional: only devices that domain has a view for
 *        templates: <dir>                    # optional, default <p>: templates/<dir>/
 *        vrf_name_max: 15                    # optional limit checked before rendering
 *        vars: { ... }                       # free facts, read as {{platform.vars.x}}
 *    `capabilities.<domain>.<kind>` (the fabric's kinds: underlay / overlay / features) is
 *    what the platform can express: each registered domain (src/domains) computes the
 *    features each device needs and the engine reports every one the platform lacks as an
 *    IntentError naming device, feature and intent line. So templates must implement every
 *    capability their yaml claims.
 * 2. templates/<p>/partials/*.hbs (subfolders allowed) are registered as partials named by
 *    their path without ".hbs" (partials/bgp/evpn.hbs -> {{> bgp/evpn}}), one per feature:
 *    system, interfaces, underlay, overlay, vrfs, gateways...; each platform gets its own
 *    Handlebars environment, so partial names never clash between platforms.
 * 3. Every template is rendered with the context { ...DeviceView, platform } (view.ts):
 *    `hostname`, `loopback.addr.cidr`, `bgp.neighbors`, `vrfs[].vlans`, `evpn.l2vnis`,
 *    `platform.vars`... Templates only read it; helpers (helpers.ts) are eq/or/and/not/add/join.
 *    Text artifacts are not escaped; xml artifacts are.
 * 4. The engine prepends one header comment line (after a `#!` line if the file starts with
 *    one), strips trailing whitespace from lines, squeezes runs of blank lines and ends the
 *    file with exactly one newline. Nothing time- or revision-dependent is written into a
 *    file, so output is byte-identical on re-run and an unchanged device stays unchanged
 *    when another part of the intent changes (the revision goes in manifest.json).
 *
 * Extra artifact sets (models/artifact-sets/<s>.yaml, e.g. netconf-ietf) use the same
 * `render:` section and are rendered for every device (`applies_to: all`) or only for
 * devices whose platform transport is netconf (`applies_to: netconf`).
 *
 * Output layout (write.ts): OUT/<device>/<artifact name> for every platform, plus
 * OUT/manifest.json. Nodes of domains that are not fabric devices (load balancers) get
 * OUT/<node>/<file> from their domain's render.nodeArtifacts (src/domains/types.ts).
 */
import { createHash } from 'node:crypto';
import { IntentError, UsageError, type Diagnostic } from '../util/errors.ts';
import { loadPlatforms, type PlatformDef, type RenderSpec } from '../model/platforms.ts';
import type { FabricModel } from '../model/types.ts';
import { buildDeviceView, indexModel, type DeviceView, type ModelIndex } from './view.ts';
import { platformLimits, unsupportedFeatures } from './features.ts';
import { domainNodeArtifacts, domains } from '../domains/index.ts';
import { serviceNodeArtifacts } from './service-node.ts';
import type { NodeArtifact } from '../domains/types.ts';
import { compiledArtifacts, loadArtifactSets, type ArtifactSet, type CompiledArtifact } from './templates.ts';

export type { DeviceView } from './view.ts';

export interface RenderedArtifact {
  device: string;
  platform: string;
  /** Artifact name = file name under OUT/<device>/. */
  artifact: string;
  /** Relative path under OUT. */
  path: string;
  content: string;
  mode: string;
  sha256: string;
  bytes: number;
}

export interface RenderOptions {
  /** Only these devices (default: every device). */
  devices?: string[];
  /** Extra artifact sets by name (default: every set in models/artifact-sets). */
  artifactSets?: string[];
  /** Render only the extra artifact sets, not the platforms' own files (dc2's netconf-ietf before its vendor templates exist). */
  setsOnly?: boolean;
  platforms?: Map<string, PlatformDef>;
}

export interface RenderResult {
  revision: string;
  fabric: string;
  artifacts: RenderedArtifact[];
}

interface Renderable {
  set: string;
  platform: PlatformDef | ArtifactSet;
  spec: RenderSpec;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function headerLine(comment: RenderSpec['artifacts'][number]['comment'], text: string): string {
  return Array.isArray(comment) ? `${comment[0]} ${text} ${comment[1]}` : `${comment} ${text}`;
}

/** Header, trailing blanks, blank-line runs, final newline: see contract point 4. */
export function finishArtifact(raw: string, header: string): string {
  const lines = raw.split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  let start = 0;
  if (lines[0]?.startsWith('#!')) {
    out.push(lines[0]);
    start = 1;
  }
  out.push(header);
  let blank = false;
  for (let i = start; i < lines.length; i++) {
    const isBlank = lines[i] === '';
    if (isBlank && (blank || out.length === (start ? 2 : 1))) continue;
    out.push(lines[i]);
    blank = isBlank;
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

function renderablesFor(platform: PlatformDef, withPlatform: boolean, sets: ArtifactSet[]): Renderable[] {
  const out: Renderable[] = [];
  if (withPlatform && platform.render) out.push({ set: platform.name, platform, spec: platform.render });
  for (const s of sets) {
    if (s.applies_to === 'all' || (s.applies_to === 'netconf' && platform.transport === 'netconf')) {
      out.push({ set: s.name, platform: s, spec: s.render });
    }
  }
  return out;
}

function renderArtifact(view: DeviceView, platform: PlatformDef, r: Renderable, a: CompiledArtifact): RenderedArtifact {
  let raw: string;
  try {
    raw = a.template({ ...view, platform: { name: platform.name, vendor: platform.vendor, vars: platform.render?.vars ?? {}, set: r.spec.vars } });
  } catch (e) {
    throw new Error(`rendering ${a.spec.name} for ${view.hostname} (templates/${a.dir}/${a.spec.template}): ${(e as Error).message}`);
  }
  const header = headerLine(a.spec.comment, `${view.hostname}: ${a.spec.name} (${r.set}), generated by netloom from intent ${view.fabric.name}; do not edit`);
  const content = finishArtifact(raw, header);
  return {
    device: view.hostname,
    platform: platform.name,
    artifact: a.spec.name,
    path: `${view.hostname}/${a.spec.name}`,
    content,
    mode: a.spec.mode,
    sha256: sha256(content),
    bytes: Buffer.byteLength(content),
  };
}

/** Everything needed to render devices of one model, built once. */
export class Renderer {
  readonly index: ModelIndex;
  readonly platforms: Map<string, PlatformDef>;
  readonly sets: ArtifactSet[];
  readonly setsOnly: boolean;

  constructor(readonly model: FabricModel, opts: RenderOptions = {}) {
    this.setsOnly = opts.setsOnly === true;
    this.index = indexModel(model);
    this.platforms = opts.platforms ?? loadPlatforms();
    const all = loadArtifactSets();
    this.sets = opts.artifactSets ? all.filter((s) => opts.artifactSets!.includes(s.name)) : all;
    if (opts.artifactSets) {
      const unknown = opts.artifactSets.filter((n) => !all.some((s) => s.name === n));
      if (unknown.length) throw new Error(`unknown artifact set(s): ${unknown.join(', ')}`);
    }
  }

  view(name: string): DeviceView {
    const d = this.index.devices.get(name);
    if (!d) throw new Error(`no device ${name} in the model`);
    const view = buildDeviceView(this.index, d);
    // Each domain's own template context, at view[id] ({{> <id>/main}} reads it).
    for (const dom of domains()) {
      const extra = dom.render.view?.(view, this.model);
      if (extra !== undefined) (view as unknown as Record<string, unknown>)[dom.id] = extra;
    }
    return view;
  }

  /** Diagnostics that prevent rendering this device (unsupported features, no templates). */
  check(view: DeviceView): Diagnostic[] {
    const platform = this.platforms.get(view.platform);
    if (!platform) return [{ loc: view.source, message: `device ${view.hostname}: unknown platform '${view.platform}'` }];
    if (this.setsOnly) return [];
    const diags = domains().flatMap((dom) => unsupportedFeatures(view, platform, dom.id, dom.render.features(view, this.model)));
    diags.push(...platformLimits(view, platform));
    if (!platform.render) {
      diags.push({ loc: view.source, message: `device ${view.hostname}: platform ${platform.name} has no renderer yet (no render section in models/platforms/${platform.name}.yaml)` });
    }
    return diags;
  }

  /** Renders one device's artifacts; call check() first. */
  renderView(view: DeviceView): RenderedArtifact[] {
    const platform = this.platforms.get(view.platform)!;
    const out: RenderedArtifact[] = [];
    for (const r of renderablesFor(platform, !this.setsOnly, this.sets)) {
      for (const a of compiledArtifacts(r.set, r.spec)) {
        if (a.spec.roles && !a.spec.roles.includes(view.role)) continue;
        if (a.spec.domain && (view as unknown as Record<string, unknown>)[a.spec.domain] === undefined) continue;
        out.push(renderArtifact(view, platform, r, a));
      }
    }
    return out;
  }
}

/** A domain node's file as a rendered artifact: header line (when the format has comments), hash. */
function nodeArtifact(a: NodeArtifact, fabric: string): RenderedArtifact {
  const content = a.comment === null ? (a.content.endsWith('\n') ? a.content : `${a.content}\n`) : finishArtifact(a.content, headerLine(a.comment, `${a.node}: ${a.name} (${a.target}), generated by netloom from intent ${fabric}; do not edit`));
  return { device: a.node, platform: a.target, artifact: a.name, path: `${a.node}/${a.name}`, content, mode: a.mode ?? '0644', sha256: sha256(content), bytes: Buffer.byteLength(content) };
}

/**
 * Renders every selected device, and the selected nodes of domains (load balancers: all of
 * them when no device is named). Every device is checked first: all diagnostics of all
 * devices and nodes are thrown together as one IntentError, and nothing is rendered.
 */
export function renderModel(model: FabricModel, opts: RenderOptions = {}): RenderResult {
  const r = new Renderer(model, opts);
  const wanted = opts.devices?.length ? opts.devices : undefined;
  const deviceNames = new Set(model.devices.map((d) => d.name));
  // Domain nodes only when asked for: a push or a live collection names devices only.
  const nodes = !wanted || wanted.some((w) => !deviceNames.has(w)) ? domainNodeArtifacts(model) : { artifacts: [], diagnostics: [] };
  // Service nodes' own files (FRR, node.sh, announce.sh) beside their domain's.
  if (!wanted || wanted.some((w) => !deviceNames.has(w))) nodes.artifacts.unshift(...serviceNodeArtifacts(model));
  const nodeNames = new Set(nodes.artifacts.map((a) => a.node));
  const devicesWanted = wanted?.filter((w) => !nodeNames.has(w));
  const names = wanted && !devicesWanted!.length ? [] : selectDevices(model, devicesWanted);
  const nodeFiles = nodes.artifacts.filter((a) => !wanted || wanted.includes(a.node));
  const views = names.map((n) => r.view(n));
  const diags = [...views.flatMap((v) => r.check(v)), ...nodes.diagnostics.filter((d) => !wanted || wanted.includes(d.node)).map(({ loc, message }) => ({ loc, message }))];
  if (diags.length) throw new IntentError(diags);
  return { revision: model.revision, fabric: model.name, artifacts: [...views.flatMap((v) => r.renderView(v)), ...nodeFiles.map((a) => nodeArtifact(a, model.name))] };
}

/** Every node's files beside the devices' (service nodes: load balancers, DNS servers, firewalls), checked as renderModel checks them. */
export function renderNodes(model: FabricModel): RenderedArtifact[] {
  const nodes = domainNodeArtifacts(model);
  nodes.artifacts.unshift(...serviceNodeArtifacts(model));
  if (nodes.diagnostics.length) throw new IntentError(nodes.diagnostics.map(({ loc, message }) => ({ loc, message })));
  return nodes.artifacts.map((a) => nodeArtifact(a, model.name));
}

export function selectDevices(model: FabricModel, wanted?: string[]): string[] {
  if (!wanted || wanted.length === 0) return model.devices.map((d) => d.name);
  const unknown = wanted.filter((w) => !model.devices.some((d) => d.name === w));
  if (unknown.length) throw new UsageError(`no device named ${unknown.map((u) => `'${u}'`).join(', ')} in the model of ${model.intentDir}`);
  return model.devices.map((d) => d.name).filter((n) => wanted.includes(n));
}
