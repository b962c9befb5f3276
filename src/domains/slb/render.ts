/**
 * The slb domain's files: for each load-balancer node, one file set per target it lists
 * (haproxy.cfg, nginx.conf, as3-<tenant>.json), rendered from templates/slb/<target>/, plus one
 * diagnostic for each feature a target cannot express. Load-balancer nodes are not fabric
 * devices: the render stage writes these through the domain's nodeArtifacts facet.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import type { FabricModel } from '../../model/types.ts';
import { environment, templatesDir } from '../../render/templates.ts';
import type { NodeArtifact, NodeDiagnostic } from '../types.ts';
import type { SlbModel, SlbTarget } from './model.ts';
import { Gaps, scopeOf } from './render-common.ts';
import { haproxyView } from './render-haproxy.ts';
import { nginxView } from './render-nginx.ts';
import { as3Declarations } from './render-as3.ts';

const TEMPLATE: Record<SlbTarget, string> = { haproxy: 'haproxy.cfg.hbs', nginx: 'nginx.conf.hbs', 'f5-as3': 'declaration.json.hbs' };
/** Template files the registry test requires, relative to templates/. */
export const SLB_TEMPLATES = Object.entries(TEMPLATE).map(([t, f]) => `slb/${t}/${f}`);

const compiled = new Map<SlbTarget, Handlebars.TemplateDelegate>();
function template(t: SlbTarget): Handlebars.TemplateDelegate {
  let fn = compiled.get(t);
  if (!fn) {
    const dir = `slb/${t}`;
    fn = environment(dir).compile(readFileSync(path.join(templatesDir, dir, TEMPLATE[t]), 'utf8'), { noEscape: true });
    compiled.set(t, fn);
  }
  return fn;
}

export function slbArtifacts(model: FabricModel): { artifacts: NodeArtifact[]; diagnostics: NodeDiagnostic[] } {
  const m = model.domains.slb as SlbModel | undefined;
  const artifacts: NodeArtifact[] = [];
  const diagnostics: NodeDiagnostic[] = [];
  if (!m) return { artifacts, diagnostics };
  for (const node of m.nodes) {
    const sc = scopeOf(m, node);
    for (const target of node.targets) {
      const gaps = new Gaps(target, node.name);
      if (target === 'haproxy') {
        artifacts.push({ node: node.name, target, name: 'haproxy.cfg', content: template(target)(haproxyView(m, sc, gaps)), comment: '#' });
      } else if (target === 'nginx') {
        artifacts.push({ node: node.name, target, name: 'nginx.conf', content: template(target)(nginxView(m, sc, gaps)), comment: '#' });
      } else {
        for (const d of as3Declarations(m, sc, model.name, gaps)) {
          artifacts.push({ node: node.name, target, name: `as3-${d.tenant}.json`, content: template(target)(d), comment: null });
        }
      }
      diagnostics.push(...gaps.diagnostics);
    }
  }
  return { artifacts, diagnostics };
}
