/**
 * The firewall domain's static questions: the packet-set analysis (analysis.ts) of every policy
 * as `verify --static` checks, plus rule expiry. One PolicyAnalysis per policy per run, shared
 * by the four analysis checks through the check context's memo.
 *
 * Severities follow Batfish's filterLineReachability (and pybatfish's
 * assert_filter_has_no_unreachable_lines, which fails on any): a rule that can never decide a
 * packet (unreachable or unmatchable) is an error. A redundant rule changes no verdict: a
 * warning. A conflict (a rule partly shadowed by earlier rules deciding otherwise) is how
 * exceptions are carved out of broader rules (fw1's db-deny after app-to-db); Batfish does not
 * flag it: info, shown for review.
 */
import type { FabricModel } from '../../model/types.ts';
import { formatLocation, type SourceLocation } from '../../util/errors.ts';
import type { Packet } from '../../verify/packet-set/index.ts';
import type { Finding, Severity } from '../../verify/findings.ts';
import type { CheckContext, StaticCheck } from '../../verify/checks/types.ts';
import { analyzePolicy, type FindingKind, type FwFinding, type PolicyAnalysis, type RelatedRule } from './analysis.ts';
import type { FirewallModel, FwPolicy } from './model.ts';
import { formatPacket } from './packet-text.ts';

/** Days before its expiry date a rule is reported as expiring. */
export const EXPIRY_WARNING_DAYS = 30;

export const firewallPolicies = (model: FabricModel): FwPolicy[] => (model.domains.firewall as FirewallModel | undefined)?.policies ?? [];

/** The run's analysis of a policy, built once and shared by every check of the run. */
export function policyAnalysis(ctx: CheckContext, p: FwPolicy): PolicyAnalysis {
  return ctx.memo(`firewall-analysis:${p.name}`, () => analyzePolicy(p));
}

const where = (s: SourceLocation) => formatLocation(s);
const relatedText = (r: RelatedRule) => `'${r.name}' (${r.action}, ${where(r.source)})`;

function toFinding(check: string, severity: Severity, f: FwFinding, p: FwPolicy): Finding {
  const evidence: Record<string, unknown> = {
    policy: f.policy,
    rule: f.rule,
    related: f.related.map((r) => `${r.name} (${r.action}) at ${where(r.source)}`),
  };
  if (f.example) evidence.example = formatPacket(f.example as Packet);
  const rel = f.related.length ? `; related: ${f.related.map(relatedText).join(', ')}` : '';
  return { check, severity, message: `policy '${p.name}': ${f.message}${rel}`, evidence, location: f.source, elements: { devices: p.enforcement.devices } };
}

function analysisCheck(id: string, kind: FindingKind, severity: Severity, title: string, description: string): StaticCheck {
  return {
    id, title, kind: 'static', layer: 'endpoint', severity, description,
    run(ctx) {
      const policies = firewallPolicies(ctx.fg.model);
      const findings = policies.flatMap((p) => policyAnalysis(ctx, p).findings().filter((f) => f.kind === kind).map((f) => toFinding(id, severity, f, p)));
      const rules = policies.reduce((n, p) => n + p.rules.length, 0);
      return { findings, examined: `${policies.length} ${policies.length === 1 ? 'policy' : 'policies'}, ${rules} rules` };
    },
  };
}

export const ruleShadowing = analysisCheck(
  'firewall-rule-shadowing', 'unreachable', 'error', 'no firewall rule fully shadowed',
  'every rule decides some packet: a rule whose packets earlier rules (or the stateful acceptance) all take is an error naming them',
);
export const ruleConflicts = analysisCheck(
  'firewall-rule-conflicts', 'conflict', 'info', 'firewall rules partly shadowed by rules deciding otherwise',
  'rules partly shadowed by earlier rules with another action, with a packet the earlier rule decides (exceptions are made this way: info)',
);
export const ruleRedundancy = analysisCheck(
  'firewall-rule-redundancy', 'redundant', 'warning', 'no redundant firewall rule',
  'a rule whose removal changes no verdict (later rules or the default decide its packets the same way) is a warning naming them',
);
export const ruleUnmatchable = analysisCheck(
  'firewall-rule-unmatchable', 'unmatchable', 'error', 'every firewall rule can match a packet',
  'a rule whose source, destination, services or their combination is empty (e.g. an IPv4 source with an IPv6-only destination) is an error',
);

/** Whole days from `today` (YYYY-MM-DD) to `date` (YYYY-MM-DD); negative when past. */
const daysUntil = (date: string, today: string) => Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);

/** Expired rules (past their `expires` date: error) and rules expiring within EXPIRY_WARNING_DAYS (warning). */
export function expiryFindings(policies: FwPolicy[], today: string): Finding[] {
  const out: Finding[] = [];
  for (const p of policies) {
    for (const r of p.rules) {
      if (!r.expires) continue;
      const days = daysUntil(r.expires, today);
      if (days > EXPIRY_WARNING_DAYS) continue;
      const expired = days < 0;
      const when = expired ? `expired on ${r.expires} (${-days} day${days === -1 ? '' : 's'} ago)` : `expires on ${r.expires} (in ${days} day${days === 1 ? '' : 's'})`;
      out.push({
        check: 'firewall-rule-expiry', severity: expired ? 'error' : 'warning',
        message: `policy '${p.name}': rule '${r.name}' ${when}${r.owner ? `; owner ${r.owner}` : ''}`,
        evidence: { policy: p.name, rule: r.name, expires: r.expires, today, ...(r.owner ? { owner: r.owner } : {}) },
        location: r.source, elements: { devices: p.enforcement.devices },
      });
    }
  }
  return out;
}

export const ruleExpiry: StaticCheck = {
  id: 'firewall-rule-expiry', title: 'no expired firewall rule', kind: 'static', layer: 'endpoint', severity: 'error',
  description: `a rule past its expires date is an error; one expiring within ${EXPIRY_WARNING_DAYS} days a warning (dates in UTC)`,
  run(ctx) {
    const policies = firewallPolicies(ctx.fg.model);
    const today = new Date().toISOString().slice(0, 10);
    const dated = policies.reduce((n, p) => n + p.rules.filter((r) => r.expires).length, 0);
    return { findings: expiryFindings(policies, today), examined: `${dated} rule${dated === 1 ? '' : 's'} with an expiry date, today ${today}` };
  },
};

export const firewallStaticChecks: StaticCheck[] = [ruleShadowing, ruleConflicts, ruleRedundancy, ruleUnmatchable, ruleExpiry];
