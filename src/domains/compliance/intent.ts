/**
 * The `compliance:` intent section (zod): the security profile the built-in rules hold the
 * fabric to, per-rule severities, and the organisation's own rules as CEL expressions
 * (https://cel.dev, evaluated by @marcbachmann/cel-js) over the model's objects. The section
 * may sit in a file of its own (compliance.yaml) beside the rest of the intent: the intent is
 * every YAML file of its directory, so the policy is versioned and planned with it.
 */
import { z } from 'zod';
import { freeText } from '../../intent/primitives.ts';

/** What a user rule can iterate: the model's collections, by the names CEL sees. */
export const RULE_COLLECTIONS = ['devices', 'links', 'bgpSessions', 'vrfs', 'networks', 'endpoints', 'firewallRules', 'slbServices'] as const;
export type RuleCollection = (typeof RULE_COLLECTIONS)[number];

export const BUILTIN_RULES = ['compliance-bgp-auth', 'compliance-mgmt-plane', 'compliance-accept-any', 'compliance-tls-min', 'compliance-secrets', 'compliance-rules'] as const;

const severity = z.enum(['error', 'warning', 'info']);
/** CEL source: one expression, bounded (the library limits its AST too). */
const cel = z.string().min(1, 'an empty expression').max(4000, 'at most 4,000 characters');

const rule = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a rule id is lower-case letters, digits and dashes, starting with a letter'),
  description: freeText.optional(),
  severity: severity.default('error'),
  over: z.enum(RULE_COLLECTIONS).describe('the objects the rule is checked on, each bound to `self` (the model\'s JSON of it)'),
  when: cel.optional().describe('CEL: the rule applies only to objects for which this is true'),
  assert: cel.describe('CEL: true for a compliant object; false is a violation located at the object\'s intent line'),
});

export const complianceIntent = z.strictObject({
  profile: z
    .strictObject({
      bgp_authentication: z.enum(['required', 'optional']).default('optional').describe('required: every BGP session must be authenticated'),
      management_network: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 prefix like 172.20.20.0/24').optional().describe('default: pools.mgmt'),
      tls_min_version: z.enum(['1.2', '1.3']).default('1.2').describe('lowest TLS version an https listener may accept'),
    })
    .default({ bgp_authentication: 'optional', tls_min_version: '1.2' }),
  severity: z.partialRecord(z.enum(BUILTIN_RULES), z.enum(['error', 'warning', 'info', 'off'])).default({}).describe('per built-in rule: another severity, or off'),
  rules: z.array(rule).default([]),
});

export type ComplianceIntent = z.output<typeof complianceIntent>;
