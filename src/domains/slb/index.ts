/**
 * The slb domain: `slb:` intent (intent.ts) resolved into model.domains.slb (model.ts,
 * resolve.ts) and rendered for each load-balancer node into haproxy.cfg, nginx.conf and F5 AS3
 * declarations (render*.ts, templates/slb/<target>/). Load-balancer nodes are not fabric
 * devices: their files come through render.nodeArtifacts. Static checks in checks.ts.
 * Its nodes are attached to the fabric as service nodes (src/model/service-nodes.ts): VIPs
 * announced into their VRFs, run in the lab, pushed by `apply` (push.ts checks HAProxy after).
 */
import type { DomainModule } from '../types.ts';
import { slbIntent } from './intent.ts';
import type { SlbModel } from './model.ts';
import { resolveSlb, slbServiceNodes, slbSummary } from './resolve.ts';
import { slbArtifacts } from './render.ts';
import { slbStaticChecks } from './checks.ts';
import { slbLabProvision } from './lab.ts';
import { slbTraceLines } from './trace.ts';
import { slbServiceNodeChecks } from './push.ts';
import { collectSlb, compareSlb, LIVE_SLB_CHECKS, type SlbObserved } from './live.ts';

export const slb: DomainModule<SlbModel> = {
  id: 'slb',
  title: 'L7 server load balancing: load-balancer nodes, virtual services, pools (HAProxy, nginx, F5 AS3)',
  requires: ['fabric'],
  pushAfter: ['fabric'],
  intent: slbIntent,
  resolve: (ctx, intent, model) => resolveSlb(ctx, intent, model),
  serviceNodes: (model) => slbServiceNodes(model.domains.slb as SlbModel | undefined),
  summary: (model) => slbSummary(model.domains.slb as SlbModel | undefined),
  // No fabric device renders anything of this domain: its nodes have targets of their own.
  capabilities: {},
  render: {
    features: () => [],
    templates: () => [],
    nodeArtifacts: (model) => slbArtifacts(model),
  },
  verify: {
    static: slbStaticChecks,
    traceService: (model, vip, node) => slbTraceLines(model, vip, node),
    live: {
      checks: LIVE_SLB_CHECKS,
      collect: (target, model, opts) => collectSlb(target, model, opts),
      compare: (model, observed) => compareSlb(model, observed as SlbObserved),
    },
  },
  push: {
    serviceNodeChecks: (model) => slbServiceNodeChecks(model),
  },
  lab: {
    expected: () => [],
    provision: (model) => slbLabProvision(model),
  },
};
