/**
 * The compliance domain: the `compliance:` intent section (intent.ts; a security profile,
 * per-rule severities and the organisation's CEL rules) resolved into model.domains.compliance,
 * and the compliance gates as static checks (checks.ts) over the model, the other domains'
 * models and the rendered load-balancer files. It renders nothing and pushes nothing: it
 * judges what the others would.
 */
import type { DomainModule } from '../types.ts';
import { complianceIntent, type ComplianceIntent } from './intent.ts';
import type { ComplianceModel } from './model.ts';
import { complianceSummary, resolveCompliance } from './resolve.ts';
import { complianceChecks } from './checks.ts';

export const compliance: DomainModule<ComplianceModel> = {
  id: 'compliance',
  title: 'Compliance gates: security profile, built-in rules and the organisation\'s CEL rules',
  requires: ['fabric'],
  intent: complianceIntent,
  resolve: (ctx, intent, model) => resolveCompliance(ctx, intent as ComplianceIntent, model),
  summary: (model) => complianceSummary(model.domains.compliance as ComplianceModel | undefined),
  capabilities: {},
  render: { features: () => [], templates: () => [] },
  verify: { static: complianceChecks },
};
