/**
 * Report formats: text for terminals, Markdown for a PR comment (summary table, failures
 * first with evidence and intent location, a mermaid picture with failed elements in red),
 * JUnit XML (one testcase per check) and JSON for machines.
 */
import { formatLocation } from '../../util/errors.ts';
import { roleRank } from '../../domains/fabric/roles.ts';
import type { CheckResult, Finding, VerifyReport } from '../findings.ts';

export type ReportFormat = 'text' | 'md' | 'junit' | 'json';
export const REPORT_FORMATS: ReportFormat[] = ['text', 'md', 'junit', 'json'];

const loc = (f: Finding) => (f.location ? formatLocation(f.location) : '-');
const ev = (e: Record<string, unknown>) => Object.entries(e).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');

function ordered(r: VerifyReport): CheckResult[] {
  return [...r.results].sort((a, b) => Number(a.passed) - Number(b.passed));
}

export function summaryLine(r: VerifyReport): string {
  const failed = r.results.filter((x) => !x.passed).length;
  const findings = r.results.reduce((n, x) => n + x.findings.length, 0);
  return `${r.fabric} (${r.mode}${r.target ? `, ${r.target}` : ''}): ${r.results.length - failed}/${r.results.length} checks passed, ${failed} failed, ${findings} finding${findings === 1 ? '' : 's'} in ${r.ms.toFixed(0)} ms`;
}

export function formatText(r: VerifyReport): string {
  const lines: string[] = [];
  for (const c of ordered(r)) {
    lines.push(`${c.passed ? 'PASS' : 'FAIL'}  ${c.check.id.padEnd(26)} ${c.examined}`);
    for (const d of c.details ?? []) lines.push(`      ${d}`);
    for (const f of c.findings) {
      lines.push(`      ${f.severity}: ${f.message}`);
      lines.push(`        at ${loc(f)}`);
      lines.push(`        evidence: ${ev(f.evidence)}`);
    }
  }
  lines.push(summaryLine(r));
  return lines.join('\n') + '\n';
}

export const mdEscape = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** Mermaid flowchart of devices and links; failed ones styled red. */
export function mermaid(r: VerifyReport, maxDevices = 60): string {
  const badDevices = new Set<string>();
  const badLinks = new Set<string>();
  for (const c of r.results) {
    for (const f of c.findings) {
      if (f.severity !== 'error') continue;
      for (const d of f.elements?.devices ?? []) badDevices.add(d);
      for (const l of f.elements?.links ?? []) badLinks.add(l);
    }
  }
  const t = r.topology;
  if (t.devices.length > maxDevices) {
    return `_The fabric has ${t.devices.length} devices; the picture is drawn for up to ${maxDevices}. Failed devices: ${[...badDevices].slice(0, 30).join(', ') || 'none'}._`;
  }
  const id = (n: string) => 'n_' + n.replace(/[^A-Za-z0-9_]/g, '_');
  const out = ['```mermaid', 'graph TD'];
  for (const d of [...t.devices].sort((a, b) => roleRank(a.role) - roleRank(b.role))) out.push(`  ${id(d.name)}["${d.name}"]`);
  const styles: string[] = [];
  t.links.forEach((l, i) => {
    out.push(`  ${id(l.b)} --- ${id(l.a)}`);
    if (badLinks.has(l.id)) styles.push(`  linkStyle ${i} stroke:#d00,stroke-width:3px`);
  });
  for (const d of t.devices) if (badDevices.has(d.name)) styles.push(`  style ${id(d.name)} fill:#fdd,stroke:#d00,stroke-width:2px`);
  out.push(...styles, '```');
  return out.join('\n');
}

export function formatMarkdown(r: VerifyReport): string {
  const failed = r.results.filter((x) => !x.passed);
  const lines = [`## netloom verify: ${failed.length ? `:x: ${failed.length} check${failed.length === 1 ? '' : 's'} failed` : ':white_check_mark: all checks passed'}`, '', `${summaryLine(r)}; intent revision \`${r.revision}\``, ''];
  lines.push('| | Check | Layer | Findings | Examined |', '|---|---|---|---|---|');
  for (const c of ordered(r)) lines.push(`| ${c.passed ? ':white_check_mark:' : ':x:'} | \`${c.check.id}\` ${mdEscape(c.check.title)} | ${c.check.layer} | ${c.findings.length} | ${mdEscape(c.examined)} |`);
  // Per-check detail lines (the firewall's services per endpoint pair), bounded by the check.
  for (const c of r.results.filter((x) => x.details?.length)) {
    lines.push('', `### \`${c.check.id}\`: ${mdEscape(c.check.title)}`, '', ...c.details!.map((d) => `- ${mdEscape(d)}`));
  }
  if (failed.length) {
    lines.push('', '### Failures', '');
    for (const c of failed) {
      lines.push(`#### \`${c.check.id}\`: ${mdEscape(c.check.title)}`, '');
      for (const f of c.findings) {
        lines.push(`- **${f.severity}**: ${mdEscape(f.message)}  `, `  at \`${loc(f)}\``, '  <details><summary>evidence</summary>', '', '  ```json', ...JSON.stringify(f.evidence, null, 2).split('\n').map((l) => '  ' + l), '  ```', '  </details>');
      }
      lines.push('');
    }
  }
  const warn = r.results.filter((c) => c.passed && c.findings.length);
  if (warn.length) {
    lines.push('### Warnings', '');
    for (const c of warn) for (const f of c.findings) lines.push(`- \`${c.check.id}\` ${mdEscape(f.message)} (\`${loc(f)}\`)`);
    lines.push('');
  }
  lines.push('### Fabric', '', mermaid(r), '');
  return lines.join('\n');
}

export const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function formatJunit(r: VerifyReport): string {
  const failures = r.results.filter((x) => !x.passed).length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="netloom verify" tests="${r.results.length}" failures="${failures}" time="${(r.ms / 1000).toFixed(3)}">`];
  out.push(`  <testsuite name="${xml(`${r.fabric} ${r.mode}`)}" tests="${r.results.length}" failures="${failures}" errors="0" skipped="0" time="${(r.ms / 1000).toFixed(3)}">`);
  for (const c of r.results) {
    const head = `    <testcase classname="${xml(`netloom.verify.${c.check.kind}.${c.check.layer}`)}" name="${xml(c.check.id)}" time="${(c.ms / 1000).toFixed(3)}"`;
    const errs = c.findings.filter((f) => f.severity === 'error');
    if (c.passed) {
      out.push(`${head}>`, `      <system-out>${xml(c.examined + (c.details ?? []).map((d) => `\n${d}`).join('') + c.findings.map((f) => `\n${f.severity}: ${f.message} (${loc(f)})`).join(''))}</system-out>`, '    </testcase>');
    } else {
      const body = errs.map((f) => `${f.message}\n  at ${loc(f)}\n  evidence: ${ev(f.evidence)}`).join('\n');
      out.push(`${head}>`, `      <failure message="${xml(errs[0].message)}" type="${xml(c.check.id)}">${xml(body)}</failure>`, '    </testcase>');
    }
  }
  out.push('  </testsuite>', '</testsuites>');
  return out.join('\n') + '\n';
}

export function formatJson(r: VerifyReport): string {
  return JSON.stringify({ ...r, summary: { checks: r.results.length, failed: r.results.filter((x) => !x.passed).length, passed: r.results.every((x) => x.passed) } }, null, 2) + '\n';
}

export function formatReport(r: VerifyReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return formatText(r);
    case 'md':
      return formatMarkdown(r);
    case 'junit':
      return formatJunit(r);
    case 'json':
      return formatJson(r);
  }
}
