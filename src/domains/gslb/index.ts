/**
 * The gslb domain: `gslb:` intent (intent.ts) resolved into model.domains.gslb (model.ts,
 * resolve.ts), reading SLB VIPs from model.domains.slb; rendered for each DNS server into
 * PowerDNS LUA zones, an F5 AS3 GSLB declaration and k8gb Gslb resources (render*.ts). The
 * answer a name gives for a client and member health is predicted by predict.ts. Static
 * checks in checks.ts; live answers against probed health in live.ts. Not yet: lab nodes.
 */
import type { DomainModule } from '../types.ts';
import { gslbIntent } from './intent.ts';
import type { GslbModel } from './model.ts';
import { gslbStaticChecks } from './checks.ts';
import { gslbArtifacts } from './render.ts';
import { gslbServiceNodes, gslbSummary, resolveGslb } from './resolve.ts';
import { collectGslb, compareGslb, gslbMetrics, LIVE_GSLB_ANSWERS, LIVE_GSLB_HEALTH, type GslbServerObservation } from './live.ts';

export const gslb: DomainModule<GslbModel> = {
  id: 'gslb',
  title: 'Global server load balancing by DNS: sites, pools of VIPs or endpoints, names with failover, weighted, topology or all-healthy answers (PowerDNS LUA, F5 AS3, k8gb)',
  requires: ['fabric', 'slb'],
  pushAfter: ['slb'],
  intent: gslbIntent,
  resolve: (ctx, intent, model) => resolveGslb(ctx, intent as never, model),
  summary: (model) => gslbSummary(model.domains.gslb as GslbModel | undefined),
  serviceNodes: (model) => gslbServiceNodes(model.domains.gslb as GslbModel | undefined),
  // No fabric device renders anything of this domain: DNS servers have targets of their own.
  capabilities: {},
  render: {
    features: () => [],
    templates: () => [],
    nodeArtifacts: (model) => gslbArtifacts(model),
  },
  verify: {
    static: gslbStaticChecks,
    live: {
      checks: [LIVE_GSLB_ANSWERS, LIVE_GSLB_HEALTH],
      collect: (target, model) => collectGslb(target, model),
      compare: (model, observed) => compareGslb(model, observed as GslbServerObservation[]),
      // Member health as probed from each DNS server: what PowerDNS does not export.
      metrics: (observed) => gslbMetrics(observed as GslbServerObservation[]),
    },
  },
};
