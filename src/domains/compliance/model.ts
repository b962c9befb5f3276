/** model.domains.compliance: the profile and rules as resolved (expressions kept as text: the model is JSON). */
import type { Severity } from '../../verify/findings.ts';
import type { SourceLocation } from '../../util/errors.ts';
import type { RuleCollection } from './intent.ts';

export interface ComplianceRule {
  id: string;
  description?: string;
  severity: Severity;
  over: RuleCollection;
  when?: string;
  assert: string;
  source: SourceLocation;
}

export interface ComplianceModel {
  profile: { bgpAuthentication: 'required' | 'optional'; managementNetwork?: string; tlsMinVersion: '1.2' | '1.3'; source: SourceLocation };
  severity: Partial<Record<string, Severity | 'off'>>;
  severitySource: SourceLocation;
  rules: ComplianceRule[];
  source: SourceLocation;
}
