/**
 * The plan's report formats: text for a terminal, Markdown for one pull-request comment
 * (summary, then failures and new findings, details folded; cut to fit when it must be),
 * JSON (the Plan object as is, schema `netloom-plan/1`), JUnit XML (one testcase per static
 * check, and the --fail-on gate) and SARIF 2.1.0 (findings at intent file:line, for code scanning).
 */
import { formatLocation, type SourceLocation } from '../util/errors.ts';
import { mdEscape, xml } from '../verify/report/format.ts';
import { policyChangeLines } from '../domains/firewall/policy-diff.ts';
import type { FieldChange } from './semantic-diff.ts';
import type { Plan, PlanFinding } from './plan.ts';

export const PLAN_FORMATS = ['text', 'markdown', 'json', 'junit', 'sarif'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** GitHub's limit for one comment. */
export const COMMENT_LIMIT = 65_536;

const s = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** The verb agreeing with a count: "1 pair gains", "2 pairs gain", "0 lose". */
const agree = (n: number, verb: string) => (n === 1 ? `${verb}s` : verb);
const val = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const at = (l?: SourceLocation) => (l ? ` (${formatLocation(l)})` : '');
const sign = { added: '+', removed: '-', changed: '~' } as const;

function fieldLine(f: FieldChange): string {
  if (f.change === 'changed') return `${f.field}: ${val(f.before)} -> ${val(f.after)}`;
  const v = f.change === 'added' ? f.after : f.before;
  return typeof v === 'object' && v !== null ? `${f.field}: ${f.change}` : `${f.field}: ${f.change} (${val(v)})`;
}

const revText = (p: Plan, r: Plan['base']) => `${r.rev}${r.commit ? ` (${r.commit.slice(0, 12)})` : ''}${r.exists ? '' : ` where ${p.intentDir || '.'} did not exist`}`;

/** One line per part of the plan: the summary every format starts with. */
/** "3 findings at or above the --fail-on level; apply would refuse the waves (6 peerings held down)". */
function failWhy(failing: PlanFinding[]): string {
  const refused = failing.filter((f) => f.check === 'rollout').length;
  const found = failing.length - refused;
  return [found ? `${s(found, 'finding')} at or above the --fail-on level` : '', refused ? `apply would refuse the waves (${s(refused, 'peering')} held down)` : ''].filter(Boolean).join('; ');
}

export function summaryLines(p: Plan, failing: PlanFinding[]): string[] {
  const domains = [...new Set(p.changes.map((c) => c.domain))];
  const count = (d: string, k: string) => p.changes.filter((c) => c.domain === d && c.change === k).length;
  const br = p.blastRadius;
  const findings = p.verification.checks.flatMap((c) => c.findings);
  const bySev = (sev: string) => findings.filter((f) => f.severity === sev);
  const newOf = (sev: string) => bySev(sev).filter((f) => f.new).length;
  const reach = p.behaviour.reachability;
  const [gains, loses, paths] = (['gains', 'loses', 'changes'] as const).map((k) => reach.filter((r) => r.change === k).length);
  const fwParts = p.behaviour.firewall.map((x) => (x.change === 'changed' ? `${x.policy}: ${x.newlyAccepted.length} newly accepted, ${x.newlyDenied.length} newly denied, ${x.denialChanged.length} drop/reject changed` : `${x.policy} ${x.change}`));
  return [
    `plan for ${p.intentDir || '.'} (fabric ${p.fabric}): ${revText(p, p.base)} -> ${revText(p, p.head)}`,
    `changes: ${domains.length ? domains.map((d) => `${d} ${count(d, 'added')} added, ${count(d, 'changed')} changed, ${count(d, 'removed')} removed`).join('; ') : 'none'}`,
    `configs: ${s(br.devices.length, 'device')} ${agree(br.devices.length, 'change')}${br.devices.length ? ` (${br.devices.map((d) => d.device).join(', ')})` : ''}; ${s(br.sessionsReset.length, 'BGP session reset')}${br.unpredicted.length ? ` (not predicted on ${br.unpredicted.join(', ')})` : ''}; tenants touched: ${br.tenants.join(', ') || 'none'}`,
    `renumbering: ${br.renumbering.length ? `ALARM, ${s(br.renumbering.length, 'object')} the change did not touch moved (${br.renumbering.map((a) => `${a.kind} ${a.key}`).join(', ')})` : 'none'}`,
    `reachability: ${s(gains, 'pair')} ${agree(gains, 'gain')}, ${loses} ${agree(loses, 'lose')}, ${paths} ${agree(paths, 'change')} path; firewall: ${fwParts.join('; ') || 'no flow decided differently'}`,
    `verification of head: ${p.verification.checks.filter((c) => c.passed).length}/${p.verification.checks.length} ${p.verification.checks.length === 1 ? 'check' : 'checks'} passed, ${s(bySev('error').length, 'error')} (${newOf('error')} new), ${s(bySev('warning').length, 'warning')} (${newOf('warning')} new), ${bySev('info').length} info`,
    `rollout: ${p.rollout.waves.length ? `${s(p.rollout.waves.length, 'wave')} (canary ${p.rollout.canary}, wave size ${p.rollout.waveSize})${p.rollout.unsafe ? `; apply would refuse them: ${s(p.rollout.unsafe.length, 'peering')} held down until a later wave` : ''}` : 'nothing to push'}`,
    `result: ${failing.length ? `FAIL, ${failWhy(failing)}` : 'ok'}`,
  ];
}

function changeLines(p: Plan): string[] {
  const out: string[] = [];
  for (const d of [...new Set(p.changes.map((c) => c.domain))]) {
    out.push(`${d}:`);
    for (const c of p.changes.filter((x) => x.domain === d)) {
      out.push(`  ${sign[c.change]} ${c.kind} ${c.key}${at(c.location)}`);
      for (const f of c.fields) out.push(`      ${fieldLine(f)}`);
    }
  }
  return out.length ? out : ['no object changed'];
}

function blastLines(p: Plan): string[] {
  const br = p.blastRadius;
  const out = ['devices whose configs change:'];
  for (const d of br.devices) {
    const files = d.files.map((f) => `${f.file} +${f.added} -${f.removed}`).join(', ');
    out.push(`  ${sign[d.change]} ${d.device}: ${files}${d.disturbs ? `; disturbs ${d.disturbs}` : ''}`);
  }
  if (!br.devices.length) out.push('  none');
  out.push('BGP sessions reset:');
  for (const r of br.sessionsReset) out.push(`  ${r.device} neighbor ${r.neighbor}${r.session ? `: ${r.session}` : ''}`);
  if (!br.sessionsReset.length) out.push('  none');
  out.push(`tenants touched: ${br.tenants.join(', ') || 'none'}`);
  out.push(`renumbering: ${br.renumbering.length ? 'ALARM' : 'none'}`);
  for (const a of br.renumbering) {
    out.push(`  ${a.kind} ${a.key}${at(a.location)}: not changed in the intent, yet`);
    for (const f of a.fields) out.push(`      ${fieldLine(f)}`);
  }
  out.push(`flows disturbed while the rollout runs: ${br.disturbedFlows.length || 'none'}`);
  for (const f of br.disturbedFlows) out.push(`  ${f.src} -> ${f.dst}: ${f.why}`);
  return out;
}

function behaviourLines(p: Plan): string[] {
  const out = [`endpoint pairs (prediction, and whether a ping answers), ${p.behaviour.reachabilityScope}:`];
  const side = (x?: { predicted: string; answers: boolean }) => (x ? `${x.predicted}, ${x.answers ? 'answers' : 'no answer'}` : 'absent');
  for (const r of p.behaviour.reachability) out.push(`  ${r.src} -> ${r.dst}: ${r.change} (before: ${side(r.before)}; after: ${side(r.after)})`);
  if (!p.behaviour.reachability.length) out.push('  no change');
  out.push('firewall:');
  for (const x of p.behaviour.firewall) out.push(...policyChangeLines(x, '  '));
  if (!p.behaviour.firewall.length) out.push('  no flow decided differently');
  return out;
}

function findingLines(f: PlanFinding, indent: string): string[] {
  return [`${indent}${f.severity}${f.new ? ' [new]' : ''}: ${f.message}`, ...(f.location ? [`${indent}  at ${formatLocation(f.location)}`] : [])];
}

function verificationLines(p: Plan): string[] {
  const out: string[] = [];
  for (const c of p.verification.checks) {
    out.push(`${c.passed ? 'PASS' : 'FAIL'}  ${c.id.padEnd(26)} ${c.examined}`);
    for (const f of c.findings) out.push(...findingLines(f, '      '));
  }
  return out;
}

function rolloutLines(p: Plan): string[] {
  if (!p.rollout.waves.length) return ['nothing to push'];
  const waves = p.rollout.waves.map((w, i) => `wave ${i + 1}${i === 0 ? ' (canary)' : ''}: ${w.join(', ')}`);
  if (!p.rollout.unsafe) return waves;
  return [...waves, 'apply would refuse these waves: each holds peerings down until a later wave (both ends of such a peering must change in one wave):', ...p.rollout.unsafe.map((u) => `  ${u}`)];
}

const SECTIONS: [string, (p: Plan) => string[]][] = [
  ['Changes', changeLines],
  ['Blast radius', blastLines],
  ['Behaviour', behaviourLines],
  ['Static verification of head', verificationLines],
  ['Rollout', rolloutLines],
];

export function formatPlanText(p: Plan, failing: PlanFinding[]): string {
  const out = summaryLines(p, failing);
  for (const [title, f] of SECTIONS) out.push('', `${title.toLowerCase()}:`, ...f(p).map((l) => `  ${l}`));
  return out.join('\n') + '\n';
}

/** A fenced block whose fence no line of `lines` can close. */
function fenced(lines: string[]): string {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...[...l.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence].join('\n');
}

/**
 * One comment: summary, failures and new findings, then each section folded. When it would
 * pass `limit`, sections are left out from the last and the comment says where the full report is.
 */
export function formatPlanMarkdown(p: Plan, failing: PlanFinding[], fullReportName: string, limit = COMMENT_LIMIT, picture?: { mermaid: string; svgName?: string }): { text: string; cut: boolean; full: string } {
  const head = [`## netloom plan: ${failing.length ? `:x: ${mdEscape(failWhy(failing).replace('--fail-on', 'fail'))}` : ':white_check_mark: ok'}`, '', ...summaryLines(p, failing).map((l) => `- ${mdEscape(l)}`), ''];
  const found = p.verification.checks.flatMap((c) => c.findings);
  const important = [...found.filter((f) => failing.includes(f) || f.new), ...failing.filter((f) => !found.includes(f))];
  if (important.length) {
    head.push('### Failures and new findings', '');
    for (const f of important) head.push(`- **${f.severity}**${f.new ? ' (new)' : ''} \`${f.check}\`: ${mdEscape(f.message)}${f.location ? ` at \`${formatLocation(f.location)}\`` : ''}`);
    head.push('');
  }
  if (p.blastRadius.renumbering.length) {
    head.push('### :warning: Renumbering', '', ...p.blastRadius.renumbering.map((a) => `- ${a.kind} \`${a.key}\`: ${a.fields.map((f) => mdEscape(fieldLine(f))).join('; ')}`), '');
  }
  const details = SECTIONS.map(([title, f]) => ['<details><summary>' + title + '</summary>', '', fenced(f(p)), '', '</details>', ''].join('\n'));
  // The picture comes first among the folded sections (open): a cut leaves it out last.
  if (picture) details.unshift(['<details open><summary>Fabric picture (changed and failing elements marked)</summary>', '', picture.mermaid, '', ...(picture.svgName ? [`The whole picture as SVG: \`${picture.svgName}\`.`, ''] : []), '</details>', ''].join('\n'));
  const full = [...head, ...details].join('\n');
  if (full.length <= limit) return { text: full, cut: false, full };
  const note = (n: number) => `_This comment was cut to fit: ${s(n, 'section')} left out; the full report is in \`${fullReportName}\`._\n`;
  let body = head.join('\n');
  // The head alone may not fit (thousands of new findings): keep its first lines.
  if (body.length + note(details.length).length > limit) body = body.slice(0, limit - note(details.length).length - 2).replace(/\n[^\n]*$/, '') + '\n\n';
  let kept = 0;
  for (const d of details) {
    if (body.length + d.length + note(details.length - kept - 1).length > limit) break;
    body += '\n' + d;
    kept++;
  }
  return { text: body + '\n' + note(details.length - kept), cut: true, full };
}

export function formatPlanJson(p: Plan, failing: PlanFinding[]): string {
  return JSON.stringify({ ...p, result: { failing: failing.length, passed: failing.length === 0 } }, null, 2) + '\n';
}

export function formatPlanJunit(p: Plan, failing: PlanFinding[], failOn: string): string {
  const cases: string[] = [];
  let failures = 0;
  for (const c of p.verification.checks) {
    const head = `    <testcase classname="netloom.plan.static" name="${xml(c.id)}">`;
    const errs = c.findings.filter((f) => f.severity === 'error');
    const text = c.findings.map((f) => `${f.severity}${f.new ? ' [new]' : ''}: ${f.message}${f.location ? ` (${formatLocation(f.location)})` : ''}`).join('\n');
    if (c.passed) cases.push(head, `      <system-out>${xml([c.examined, text].filter(Boolean).join('\n'))}</system-out>`, '    </testcase>');
    else {
      failures++;
      cases.push(head, `      <failure message="${xml(errs[0]?.message ?? c.title)}" type="${xml(c.id)}">${xml(text)}</failure>`, '    </testcase>');
    }
  }
  cases.push(`    <testcase classname="netloom.plan.gate" name="fail-on-${xml(failOn)}">`);
  if (failing.length) {
    failures++;
    cases.push(`      <failure message="${xml(`${s(failing.length, 'finding')} at or above ${failOn}`)}" type="fail-on">${xml(failing.map((f) => `${f.check}: ${f.message}`).join('\n'))}</failure>`);
  }
  cases.push('    </testcase>');
  const tests = p.verification.checks.length + 1;
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="netloom plan" tests="${tests}" failures="${failures}">`, `  <testsuite name="${xml(`${p.fabric} plan ${p.base.rev}..${p.head.rev}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="0">`, ...cases, '  </testsuite>', '</testsuites>', ''].join('\n');
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

/**
 * SARIF 2.1.0: one rule per static check, one result per finding of the head at its intent
 * file:line (relative to the repository root), `baselineState` new or unchanged against base.
 * A finding without an intent location is placed at the fabric's definition, since code
 * scanning drops results without one.
 */
export function formatPlanSarif(p: Plan, fallback: SourceLocation | undefined, version: string): string {
  const rules = p.verification.checks.map((c) => ({ id: c.id, name: c.id, shortDescription: { text: c.title } }));
  const results = p.verification.checks.flatMap((c, ruleIndex) =>
    c.findings.map((f) => {
      const loc = f.location ?? fallback;
      return {
        ruleId: c.id,
        ruleIndex,
        level: LEVEL[f.severity],
        message: { text: f.message },
        ...(loc ? { locations: [{ physicalLocation: { artifactLocation: { uri: loc.file, uriBaseId: '%SRCROOT%' }, region: { startLine: loc.line, startColumn: loc.col } } }] } : {}),
        baselineState: f.new ? 'new' : 'unchanged',
      };
    }),
  );
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'netloom', version, rules } },
        automationDetails: { id: `netloom-plan/${p.fabric}/` },
        results,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
