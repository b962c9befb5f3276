/**
 * The firewall domain's render facets: the features a device's policies need (checked against
 * `capabilities.firewall` of its platform, so what a target cannot express stops the render
 * naming rule, platform and intent line), and the template view at view.firewall, built for
 * the targets the platform claims (`capabilities.firewall.targets`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPlatforms } from '../../model/platforms.ts';
import { environment, templatesDir } from '../../render/templates.ts';
import type { NodeArtifact } from '../types.ts';
import type { FabricModel } from '../../model/types.ts';
import type { RequiredFeature } from '../../render/features.ts';
import type { DeviceView } from '../../render/view.ts';
import type { FirewallModel, FwPolicy } from './model.ts';
import { enforcementWord, policiesOn, srcText } from './render-common.ts';
import { iptView, type IptView } from './render-iptables.ts';
import { nftView, type NftView } from './render-nft.ts';
import { aclView, srxView, type SrxView, type VendorAclView } from './render-vendor.ts';

export const FIREWALL_CAPABILITIES = {
  /** The artifacts a platform renders policies into. */
  targets: ['nftables', 'iptables', 'eos-acl', 'nxos-acl', 'srlinux-acl', 'srx-policy'],
  enforcement: ['inter-vrf', 'networks'],
  features: ['stateful', 'stateless', 'reject', 'log', 'counter', 'conn-state', 'icmp-types', 'protocol-number', 'source-ports', 'nat-snat', 'nat-masquerade', 'nat-dnat', 'nat-ipv6', 'nat-icmp-types', 'nat-source-ports'],
} as const;

export interface FirewallView {
  policies: { name: string; enforcement: string; source: string }[];
  nft?: NftView;
  iptables?: IptView;
  ip6tables?: IptView;
  acl?: VendorAclView;
  srx?: SrxView;
}

function policiesOf(view: DeviceView, model: FabricModel): FwPolicy[] {
  return policiesOn(view.hostname, model.domains.firewall as FirewallModel | undefined);
}

export function firewallFeatures(view: DeviceView, model: FabricModel): RequiredFeature[] {
  const out: RequiredFeature[] = [];
  for (const p of policiesOf(view, model)) {
    const pctx = `policy '${p.name}'`;
    const add = (kind: string, name: string, source: RequiredFeature['source'], context: string) => out.push({ kind, name, source, context });
    add('enforcement', p.enforcement.kind === 'network' ? 'networks' : p.enforcement.kind, p.source, pctx);
    add('features', p.stateful ? 'stateful' : 'stateless', p.source, pctx);
    if (p.defaultAction === 'reject') add('features', 'reject', p.source, `default of ${pctx}`);
    for (const r of p.rules) {
      const ctx = `rule '${r.name}' of ${pctx}`;
      if (r.action === 'reject') add('features', 'reject', r.source, ctx);
      if (r.log) add('features', 'log', r.source, ctx);
      if (r.counter) add('features', 'counter', r.source, ctx);
      if (r.state.length) add('features', 'conn-state', r.source, ctx);
      if (r.services.some((s) => s.icmp.length)) add('features', 'icmp-types', r.source, ctx);
      if (r.services.some((s) => typeof s.protocol === 'number')) add('features', 'protocol-number', r.source, ctx);
      if (r.services.some((s) => s.srcPorts.length)) add('features', 'source-ports', r.source, ctx);
    }
    for (const n of p.nat) {
      const ctx = `NAT rule '${n.name}' of ${pctx}`;
      add('features', `nat-${n.kind}`, n.source, ctx);
      if (n.to?.address?.includes(':')) add('features', 'nat-ipv6', n.source, ctx);
      if (n.services.some((s) => s.icmp.length)) add('features', 'nat-icmp-types', n.source, ctx);
      if (n.services.some((s) => s.srcPorts.length)) add('features', 'nat-source-ports', n.source, ctx);
    }
  }
  return out;
}

export function firewallView(view: DeviceView, model: FabricModel): FirewallView | undefined {
  const policies = policiesOf(view, model);
  if (!policies.length) return undefined;
  const targets = loadPlatforms().get(view.platform)?.capabilities.firewall?.targets ?? [];
  const out: FirewallView = {
    policies: policies.map((p) => ({ name: p.name, enforcement: enforcementWord(p), source: srcText(p.source) })),
  };
  if (targets.includes('nftables')) out.nft = nftView(policies, model);
  if (targets.includes('iptables')) {
    out.iptables = iptView(policies, model, 4);
    out.ip6tables = iptView(policies, model, 6);
  }
  for (const t of ['eos', 'nxos', 'srlinux'] as const) if (targets.includes(`${t}-acl`)) out.acl = aclView(t, policies, view, model);
  if (targets.includes('srx-policy')) out.srx = srxView(policies, view, model);
  return out;
}

/**
 * A firewall node's ruleset (OUT/<node>/nftables.conf): the same nftables file a Linux leaf
 * gets, from the same template, for the policy the node enforces.
 */
export function firewallNodeArtifacts(model: FabricModel): NodeArtifact[] {
  const fw = model.domains.firewall as FirewallModel | undefined;
  const out: NodeArtifact[] = [];
  for (const p of fw?.policies ?? []) {
    if (p.enforcement.kind !== 'node') continue;
    const fn = environment('frr').compile(readFileSync(path.join(templatesDir, 'frr', 'nftables.conf.hbs'), 'utf8'), { noEscape: true });
    out.push({ node: p.enforcement.node, target: 'nftables', name: 'nftables.conf', content: fn({ firewall: { nft: nftView([p], model) } }), comment: '#' });
  }
  return out;
}
