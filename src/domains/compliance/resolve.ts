/** Resolves `compliance:` into model.domains.compliance, compiling every CEL expression (errors at their intent lines). */
import type { FabricModel } from '../../model/types.ts';
import type { DomainResolveContext } from '../types.ts';
import { celMessage, compileCel } from './cel.ts';
import type { ComplianceIntent } from './intent.ts';
import type { ComplianceModel } from './model.ts';

const ROOT = 'compliance';

export function resolveCompliance(ctx: DomainResolveContext, intent: ComplianceIntent, _model: FabricModel): ComplianceModel {
  const seen = new Map<string, number>();
  intent.rules.forEach((r, i) => {
    const prev = seen.get(r.id);
    if (prev !== undefined) ctx.error([ROOT, 'rules', i, 'id'], `compliance rule '${r.id}' is defined twice (first at ${ROOT}.rules[${prev}])`);
    seen.set(r.id, i);
    for (const key of ['when', 'assert'] as const) {
      const expr = r[key];
      if (expr === undefined) continue;
      try {
        compileCel(expr);
      } catch (e) {
        ctx.error([ROOT, 'rules', i, key], `compliance rule '${r.id}': ${key} is not a CEL expression: ${celMessage(e)}`);
      }
    }
  });
  const p = intent.profile;
  return {
    profile: { bgpAuthentication: p.bgp_authentication, ...(p.management_network ? { managementNetwork: p.management_network } : {}), tlsMinVersion: p.tls_min_version, source: ctx.at([ROOT, 'profile']) },
    severity: intent.severity,
    severitySource: ctx.at([ROOT, 'severity']),
    rules: intent.rules.map((r, i) => ({ id: r.id, ...(r.description ? { description: r.description } : {}), severity: r.severity, over: r.over, ...(r.when ? { when: r.when } : {}), assert: r.assert, source: ctx.at([ROOT, 'rules', i]) })),
    source: ctx.at([ROOT]),
  };
}

export function complianceSummary(m: ComplianceModel | undefined): string[] {
  if (!m) return [];
  return [`compliance: BGP authentication ${m.profile.bgpAuthentication}, TLS >= ${m.profile.tlsMinVersion}, ${m.rules.length} rule${m.rules.length === 1 ? '' : 's'} of its own`];
}
