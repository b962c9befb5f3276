// The packet-set analysis as `verify --static` checks: a seeded broken copy of fw1's policy
// gives exactly one finding of each kind at the rule's line, through the CLI as users run it
// and through the verify API; fw1 itself passes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import { verifyStatic } from '../../../src/verify/static.ts';
import { buildFabricGraph } from '../../../src/verify/graph.ts';
import type { CheckContext } from '../../../src/verify/checks/types.ts';
import { expiryFindings, firewallPolicies } from '../../../src/domains/firewall/checks.ts';
import type { VerifyReport } from '../../../src/verify/findings.ts';
import { repoRoot } from '../../support/intent-copy.ts';

const broken = 'test/domains/firewall/fixtures/broken-policy';
const fwFile = `${broken}/firewall.yaml`;
const FW_CHECKS = ['firewall-rule-shadowing', 'firewall-rule-conflicts', 'firewall-rule-redundancy', 'firewall-rule-unmatchable', 'firewall-rule-expiry'];

function verifyJson(dir: string): { code: number | null; report: VerifyReport } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'verify', '--static', dir, '--format', 'json', ...FW_CHECKS.flatMap((c) => ['--check', c])], { encoding: 'utf8', cwd: repoRoot });
  return { code: r.status, report: JSON.parse(r.stdout) as VerifyReport };
}

const brief = (r: VerifyReport) =>
  r.results.flatMap((c) => c.findings.map((f) => [c.check.id, c.passed ? 'pass' : 'fail', f.severity, `${f.location!.file}:${f.location!.line}:${f.location!.col}`, f.evidence.rule, f.evidence.related]));

describe('firewall static checks', () => {
  it('a seeded broken policy: one finding of each kind at its rule, related rules with their lines (netloom verify --static)', () => {
    const { code, report } = verifyJson(broken);
    expect(code).toBe(1);
    expect(report.results.map((c) => c.check.id)).toEqual(FW_CHECKS);
    expect(brief(report)).toEqual([
      ['firewall-rule-shadowing', 'fail', 'error', `${fwFile}:32:11`, 'h1-to-app', [`web-to-app (accept) at ${fwFile}:21:11`]],
      ['firewall-rule-conflicts', 'pass', 'info', `${fwFile}:38:11`, 'db-deny', [`app-to-db (accept) at ${fwFile}:26:11`]],
      ['firewall-rule-redundancy', 'pass', 'warning', `${fwFile}:48:11`, 'web-to-db-drop', [`(default) (drop) at ${fwFile}:16:7`]],
      ['firewall-rule-unmatchable', 'fail', 'error', `${fwFile}:43:11`, 'v4-to-v6', []],
      ['firewall-rule-expiry', 'fail', 'error', `${fwFile}:54:11`, 'temp-echo', undefined],
    ]);
    const msg = (id: string) => report.results.find((c) => c.check.id === id)!.findings[0]!.message;
    expect(msg('firewall-rule-shadowing')).toBe(`policy 'tenants': rule 'h1-to-app' is never reached: shadowed by 'web-to-app'; related: 'web-to-app' (accept, ${fwFile}:21:11)`);
    expect(msg('firewall-rule-unmatchable')).toBe("policy 'tenants': rule 'v4-to-v6' can match no packet (its combination of fields is empty)");
    expect(msg('firewall-rule-expiry')).toMatch(/^policy 'tenants': rule 'temp-echo' expired on 2025-01-31 \(\d+ days ago\); owner team-ops$/);
    // The conflict names a packet app-to-db accepts that db-deny would have rejected.
    expect(report.results[1]!.findings[0]!.evidence.example).toBe('tcp 10.10.20.0:0 -> 10.20.30.0:5432 (new)');
  });

  it('fw1 passes; its db-deny exception is reported as info only', () => {
    const { code, report } = verifyJson('intents/fw1');
    expect(code).toBe(0);
    expect(report.results.every((c) => c.passed)).toBe(true);
    expect(brief(report)).toEqual([['firewall-rule-conflicts', 'pass', 'info', 'intents/fw1/firewall.yaml:45:11', 'db-deny', ['app-to-db (accept) at intents/fw1/firewall.yaml:38:11']]]);
  });

  it('every analysis check reads one analysis per policy per run (memoised in the check context)', () => {
    const model = loadModelSync(path.join(repoRoot, broken));
    const fg = buildFabricGraph(model);
    const cache = new Map<string, unknown>();
    const computed: string[] = [];
    const ctx: CheckContext = {
      fg,
      memo<T>(key: string, compute: () => T): T {
        if (!cache.has(key)) {
          computed.push(key);
          cache.set(key, compute());
        }
        return cache.get(key) as T;
      },
    };
    const r = verifyStatic(model, { ctx, only: FW_CHECKS });
    expect(r.results.reduce((n, c) => n + c.findings.length, 0)).toBe(5);
    expect(computed.filter((k) => k.startsWith('firewall-'))).toEqual(['firewall-analysis:tenants']);
  });

  it('expiry: past the date is an error, within 30 days a warning, the day itself still valid', () => {
    const policies = firewallPolicies(loadModelSync(path.join(repoRoot, 'intents/fw1')));
    // fw1's monitoring-echo expires 2027-06-30.
    const at = (today: string) => expiryFindings(policies, today).map((f) => [f.severity, f.message]);
    expect(at('2027-05-30')).toEqual([]);
    expect(at('2027-05-31')).toEqual([['warning', "policy 'tenants': rule 'monitoring-echo' expires on 2027-06-30 (in 30 days)"]]);
    expect(at('2027-06-30')).toEqual([['warning', "policy 'tenants': rule 'monitoring-echo' expires on 2027-06-30 (in 0 days)"]]);
    expect(at('2027-07-01')).toEqual([['error', "policy 'tenants': rule 'monitoring-echo' expired on 2027-06-30 (1 day ago)"]]);
    expect(expiryFindings(policies, '2027-07-01')[0]!.location).toMatchObject({ line: 52, col: 11 });
  });
});
