/**
 * The gslb domain's files: for each DNS server, one file set per target it lists (PowerDNS:
 * pdns.conf, named.conf, <zone>.zone; F5 AS3: as3-gslb.json; k8gb: k8gb-gslb.yaml), plus one
 * diagnostic per feature a target cannot express. DNS servers are not fabric devices: the
 * render stage writes these through the domain's nodeArtifacts facet.
 */
import type { FabricModel } from '../../model/types.ts';
import type { NodeArtifact, NodeDiagnostic } from '../types.ts';
import type { GslbModel } from './model.ts';
import { as3Declaration } from './render-as3.ts';
import { Gaps } from './render-common.ts';
import { k8gbResources } from './render-k8gb.ts';
import { powerdnsFiles } from './render-powerdns.ts';

export function gslbArtifacts(model: FabricModel): { artifacts: NodeArtifact[]; diagnostics: NodeDiagnostic[] } {
  const m = model.domains.gslb as GslbModel | undefined;
  const artifacts: NodeArtifact[] = [];
  const diagnostics: NodeDiagnostic[] = [];
  if (!m) return { artifacts, diagnostics };
  for (const s of m.servers) {
    for (const target of s.targets) {
      const gaps = new Gaps(target, s.name);
      if (target === 'powerdns') {
        for (const f of powerdnsFiles(m, s, gaps)) artifacts.push({ node: s.name, target, ...f });
      } else if (target === 'f5-as3') {
        artifacts.push({ node: s.name, target, name: 'as3-gslb.json', content: `${JSON.stringify(as3Declaration(m, s, model.name, gaps), null, 2)}\n`, comment: null });
      } else {
        artifacts.push({ node: s.name, target, name: 'k8gb-gslb.yaml', content: k8gbResources(m, gaps), comment: '#' });
      }
      diagnostics.push(...gaps.diagnostics);
    }
  }
  return { artifacts, diagnostics };
}
