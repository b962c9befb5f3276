/**
 * The firewall domain: `firewall:` intent (intent.ts) resolved into model.domains.firewall
 * (model.ts, resolve.ts) and rendered into nftables / iptables files on Linux devices and ACLs
 * or security policies on vendor platforms (render*.ts, templates/<p>/partials/firewall/).
 * Live checks (live.ts): real connections against the policies' predictions, deployed rulesets
 * against the rendered ones.
 */
import type { DomainModule } from '../types.ts';
import { firewallIntent } from './intent.ts';
import type { FirewallModel } from './model.ts';
import { firewallSummary, resolveFirewall } from './resolve.ts';
import { firewallWaveCheck } from './wave-check.ts';
import { firewallServiceNodes, nodeTraceLines, nodeVerdict } from './node.ts';
import { collectFirewall, compareFirewall, LIVE_FIREWALL_CHECKS, type FirewallObserved } from './live.ts';
import { FIREWALL_CAPABILITIES, firewallFeatures, firewallNodeArtifacts, firewallView } from './render.ts';
import { firewallStaticChecks } from './checks.ts';
import { endpointServices } from './endpoint-services.ts';
import { firewallCaptureFindings } from './capture.ts';
import { leafVerdict } from './leaf-verdict.ts';

export const firewall: DomainModule<FirewallModel> = {
  id: 'firewall',
  title: 'Firewall policy: address and service objects, zones, ordered rules, NAT, enforcement points',
  requires: ['fabric'],
  pushAfter: ['fabric'],
  intent: firewallIntent,
  resolve: (ctx, intent, model) => resolveFirewall(ctx, intent, model),
  summary: (model) => firewallSummary(model.domains.firewall as FirewallModel | undefined),
  // Policies enforced on a firewall node: the node, cabled to its border leaf (node.ts).
  // After the load balancers': the node routes clients to VIPs of another VRF the policy lets them reach.
  serviceNodes: (model, announced) => firewallServiceNodes(model, model.domains.firewall as FirewallModel | undefined, announced),
  serviceNodesAfter: ['slb'],
  capabilities: FIREWALL_CAPABILITIES,
  render: {
    features: (view, model) => firewallFeatures(view, model),
    view: (view, model) => firewallView(view, model),
    // Linux devices get whole files (artifacts marked `domain: firewall`), vendors a partial
    // their main configuration includes.
    templates: (platform) => {
      const files = (platform.render?.artifacts ?? []).filter((a) => a.domain === 'firewall').map((a) => a.template);
      return files.length ? files : ['partials/firewall/main.hbs'];
    },
    nodeArtifacts: (model) => ({ artifacts: firewallNodeArtifacts(model), diagnostics: [] }),
  },
  pcap: { findings: firewallCaptureFindings },
  // In a lab, each wave's devices must give every probe through them the new policy's verdict.
  push: {
    postChecks: () => [],
    waveChecks: (model, target) => (target.lab && (model.domains?.firewall as FirewallModel | undefined)?.policies.length ? [firewallWaveCheck(model, target.lab)] : []),
  },
  verify: {
    static: [...firewallStaticChecks, endpointServices],
    transitVerdict: (model, node, packet) => nodeVerdict(model, node, packet),
    pathVerdict: (model, src, dst, forwarding, packet) => leafVerdict(model, src, dst, forwarding, packet),
    traceService: (model, vip, node) => nodeTraceLines(model, vip, node),
    // Probes with listeners in a lab, and the deployed rulesets read back (live.ts).
    live: {
      checks: LIVE_FIREWALL_CHECKS,
      collect: (target, model, opts) => collectFirewall(target, model, opts),
      compare: (model, observed) => compareFirewall(model, observed as FirewallObserved),
    },
  },
};
