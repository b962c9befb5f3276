/**
 * The compliance gates on copies of the example intents: the default profile, a strict profile
 * with the organisation's CEL rules (violations, an unevaluable rule, a parse error at its
 * line), an accept-any firewall rule, TLS minimums read from the rendered HAProxy and AS3
 * files, the secret scanner (never printing the value), and `plan` failing a change that adds
 * a secret, marked new, while `verify --static` exits 1 on it.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import { IntentError } from '../../src/util/errors.ts';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { pinnedTlsMin } from '../../src/domains/compliance/checks.ts';
import { scanText } from '../../src/domains/compliance/secrets.ts';
import { repoRoot } from '../support/intent-copy.ts';
import { privateModelCache } from '../plan/ci-runner.ts';

const dirs: string[] = [];
const restoreCache = privateModelCache();
afterAll(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  restoreCache();
});

/** A copy of an example intent, with extra files. */
function copy(example: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-compliance-${example}-`));
  dirs.push(dir);
  cpSync(path.join(repoRoot, 'intents', example), dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

const IDS = ['compliance-bgp-auth', 'compliance-mgmt-plane', 'compliance-accept-any', 'compliance-tls-min', 'compliance-secrets', 'compliance-rules'];
function gates(dir: string) {
  return verifyStatic(loadModelSync(dir), { only: IDS }).results.map((r) => ({
    id: r.check.id,
    passed: r.passed,
    examined: r.examined,
    findings: r.findings.map((f) => `${f.severity} ${f.location ? `${path.basename(f.location.file)}:${f.location.line}:${f.location.col}` : '-'} ${f.message}`),
  }));
}
const findingsOf = (dir: string, id: string) => gates(dir).find((g) => g.id === id)!.findings;

// A GitHub token's shape (ghp_ and 36 characters); made up.
const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(3)}xYz123`;

describe('built-in gates, default profile', () => {
  it('dc1 passes every gate, each saying what it examined', () => {
    expect(gates(copy('dc1')).map((g) => `${g.id}: ${g.passed} ${g.examined} ${g.findings.length}`)).toEqual([
      'compliance-bgp-auth: true 8 sessions; the profile does not require authentication 0',
      'compliance-mgmt-plane: true 6 devices, management network 172.20.20.0/24 0',
      'compliance-accept-any: true 0 rules in 0 policies 0',
      'compliance-tls-min: true no https listener 0',
      'compliance-secrets: true 4 intent files 0',
      'compliance-rules: true 0 rules, 0 objects checked 0',
    ]);
  });

  it('an accept-any rule in fw1 is an error at its line; a narrower accept is not', () => {
    const dir = copy('fw1');
    const fw = path.join(dir, 'firewall.yaml');
    const text = readFileSync(fw, 'utf8');
    const anchor = '        - name: web-to-app\n';
    writeFileSync(fw, text.replace(anchor, '        - { name: allow-all, action: accept }\n        - { name: any-web, destination: web-tier, action: accept }\n' + anchor));
    const line = text.slice(0, text.indexOf(anchor)).split('\n').length;
    expect(findingsOf(dir, 'compliance-accept-any')).toEqual([`error firewall.yaml:${line}:11 policy 'tenants': rule 'allow-all' accepts any source to any destination, any service`]);
  });

  it('slb1: HAProxy pins TLS 1.2 (passes), the AS3 declarations pin nothing (a warning each, at the listener)', () => {
    expect(findingsOf(copy('slb1'), 'compliance-tls-min')).toEqual([
      'warning slb.yaml:63:11 service shop (https on 443): lb1/as3-blue.json pins no minimum TLS version (the f5-as3 default decides); the profile requires TLS >= 1.2',
      'warning slb.yaml:63:11 service shop (https on 443): lb2/as3-blue.json pins no minimum TLS version (the f5-as3 default decides); the profile requires TLS >= 1.2',
    ]);
  });

  it('reads the minimum each product is pinned to', () => {
    expect(pinnedTlsMin('haproxy', '    ssl-default-bind-options ssl-min-ver TLSv1.2\n')).toBe('1.2');
    expect(pinnedTlsMin('haproxy', 'bind :443 ssl crt x\n')).toBeUndefined();
    expect(pinnedTlsMin('nginx', '  ssl_protocols TLSv1 TLSv1.2 TLSv1.3;\n')).toBe('1.0');
    expect(pinnedTlsMin('nginx', '  ssl_protocols TLSv1.3;\n')).toBe('1.3');
    expect(pinnedTlsMin('f5-as3', '{"tls1_0Enabled": false, "tls1_1Enabled": false}')).toBe('1.2');
    expect(pinnedTlsMin('f5-as3', '{"tls1_0Enabled": false}')).toBeUndefined();
  });
});

describe('a strict profile and the organisation\'s CEL rules (compliance.yaml beside the intent)', () => {
  const POLICY = `compliance:
  profile:
    bgp_authentication: required
    management_network: 172.20.20.0/26
    tls_min_version: "1.3"
  severity:
    compliance-tls-min: error
  rules:
    - id: blue-host-mtu
      description: tenant networks of BLUE stay at the host MTU
      over: networks
      when: self.vrf == "BLUE"
      assert: self.mtu <= 1500
    - id: leaf-names
      over: devices
      when: self.role == "leaf"
      assert: self.name.matches("^leaf[0-9]+$")
    - id: no-vlan-20
      severity: warning
      over: networks
      assert: self.vlan != 20
    - id: owner-tag
      severity: info
      over: endpoints
      assert: self.owner != ""
`;

  it('every session unauthenticated, the spines managed outside the /26, the rules\' violations at the objects\' lines', () => {
    const dir = copy('dc1', { 'compliance.yaml': POLICY });
    const g = gates(dir);
    const by = (id: string) => g.find((x) => x.id === id)!;
    expect(by('compliance-bgp-auth').findings).toHaveLength(8);
    expect(by('compliance-bgp-auth').findings[0]).toMatch(/^error nodes\.yaml:\d+:\d+ BGP session \S+ is not authenticated; compliance\.profile\.bgp_authentication requires it \(netloom renders no TCP-MD5\/TCP-AO\)$/);
    expect(by('compliance-mgmt-plane').findings).toEqual([
      'error nodes.yaml:13:3 spine1 is managed on 172.20.20.101/24, outside the management network 172.20.20.0/26',
      'error nodes.yaml:14:3 spine2 is managed on 172.20.20.102/24, outside the management network 172.20.20.0/26',
    ]);
    expect(by('compliance-rules').examined).toBe('4 rules, 14 objects checked');
    expect(by('compliance-rules').findings).toEqual([
      "warning tenants.yaml:17:13 network app violates rule 'no-vlan-20'",
      ...['h1', 'h2', 'h3', 'h4', 'h5'].map((h, i) => `info endpoints.yaml:${6 + i}:5 rule 'owner-tag' cannot be evaluated on endpoint ${h}: No such key: owner`),
    ]);
    expect(by('compliance-rules').passed).toBe(true);
  });

  it('a severity can be changed or turned off', () => {
    const dir = copy('slb1', { 'compliance.yaml': 'compliance:\n  profile: { tls_min_version: "1.3" }\n  severity: { compliance-tls-min: error, compliance-mgmt-plane: off }\n' });
    const g = gates(dir);
    expect(g.find((x) => x.id === 'compliance-mgmt-plane')!.examined).toBe('off (compliance.severity.compliance-mgmt-plane at compliance.yaml:3)');
    expect(g.find((x) => x.id === 'compliance-tls-min')!.findings.filter((f) => f.includes('haproxy'))).toEqual([
      'error slb.yaml:63:11 service shop (https on 443): lb1/haproxy.cfg accepts TLS 1.2; the profile requires TLS >= 1.3',
      'error slb.yaml:63:11 service shop (https on 443): lb2/haproxy.cfg accepts TLS 1.2; the profile requires TLS >= 1.3',
    ]);
  });

  it('a rule that is not CEL is an intent error at its line, naming the rule', () => {
    const dir = copy('dc1', { 'compliance.yaml': 'compliance:\n  rules:\n    - id: broken\n      over: devices\n      assert: self.asn >\n' });
    let err: unknown;
    try {
      loadModelSync(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IntentError);
    expect((err as IntentError).diagnostics.map((d) => `${path.basename(d.loc.file)}:${d.loc.line}:${d.loc.col}: ${d.message}`)).toEqual(["compliance.yaml:5:15: compliance rule 'broken': assert is not a CEL expression: Unexpected token: EOF"]);
  });
});

describe('secrets in the intent', () => {
  it('tokens, private keys and literal credentials are found where they are, the value never shown', () => {
    const text = ['a: 1', `# the lab's deploy token: ${TOKEN}`, '-----BEGIN OPENSSH PRIVATE KEY-----', '  api_password: "hunter22"', '  api_password: ${GSLB_PASSWORD}', '  key_file: /etc/netloom/key.pem', '  secret: /etc/x'].join('\n');
    const hits = scanText('f.yaml', text);
    expect(hits.map((h) => `${h.location.line}:${h.location.col} ${h.kind} (${h.hint})`)).toEqual([
      '2:27 a GitHub token (ghp_…, 40 characters)',
      '3:1 a PEM private key (key block)',
      "4:17 a literal value for 'api_password' (hunt…, 8 characters)",
    ]);
  });

  it('verify --static exits 1 on a token in an intent comment, naming the kind and place only', () => {
    const dir = copy('dc1');
    appendFileSync(path.join(dir, 'endpoints.yaml'), `# lab access: ${TOKEN}\n`);
    const r = (() => {
      try {
        return { code: 0, out: execFileSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'verify', dir, '--static'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (e) {
        const x = e as { status: number; stdout: string; stderr: string };
        return { code: x.status, out: x.stdout + x.stderr };
      }
    })();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL {2}compliance-secrets {9}4 intent files\n {6}error: a GitHub token in the intent \(ghp_…, 40 characters\)\n {8}at \S+endpoints\.yaml:11:15$/m);
    expect(r.out).not.toContain(TOKEN.slice(4));
  });
});

describe('plan: the gate fails a change that adds a secret', () => {
  it('the new finding is marked new, the plan exits 1, the value is nowhere in the report', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'netloom-compliance-plan-'));
    dirs.push(repo);
    cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=c@t', '-c', 'user.name=c', ...a], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    appendFileSync(path.join(repo, 'intents/dc1/tenants.yaml'), `# tenant API: ${TOKEN}\n`);
    const out: string[] = [];
    const parsed = parseCommandArgs(planCommand, [path.join(repo, 'intents/dc1'), '--base', 'HEAD', '--format', 'json']);
    const code = await planCommand.run({ ...parsed, out: (l) => out.push(l), err: () => undefined });
    expect(code).toBe(1);
    const plan = JSON.parse(out.join('\n')) as { verification: { checks: { id: string; findings: { severity: string; message: string; location: { file: string; line: number }; new: boolean }[] }[] } };
    expect(plan.verification.checks.find((c) => c.id === 'compliance-secrets')!.findings).toEqual([
      { check: 'compliance-secrets', severity: 'error', message: 'a GitHub token in the intent (ghp_…, 40 characters)', location: { file: 'intents/dc1/tenants.yaml', line: 31, col: 15 }, new: true },
    ]);
    expect(out.join('\n')).not.toContain(TOKEN.slice(4));
  });

  it('violations the base had are not new: a leaf added under a profile requiring BGP authentication marks only its sessions new', async () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'netloom-compliance-plan-'));
    dirs.push(repo);
    cpSync(path.join(repoRoot, 'intents/dc1'), path.join(repo, 'intents/dc1'), { recursive: true });
    writeFileSync(path.join(repo, 'intents/dc1/compliance.yaml'), 'compliance:\n  profile: { bgp_authentication: required }\n');
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=c@t', '-c', 'user.name=c', ...a], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    const nodes = path.join(repo, 'intents/dc1/nodes.yaml');
    writeFileSync(nodes, readFileSync(nodes, 'utf8').replace('  leaf4: { group: leaves, id: 4 }', '  leaf4: { group: leaves, id: 4 }\n  leaf5: { group: leaves, id: 5 }'));
    git('commit', '-qam', 'leaf5');
    const out: string[] = [];
    const parsed = parseCommandArgs(planCommand, [path.join(repo, 'intents/dc1'), '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'json', '--fail-on', 'never']);
    expect(await planCommand.run({ ...parsed, out: (l) => out.push(l), err: () => undefined })).toBe(0);
    const plan = JSON.parse(out.join('\n')) as { verification: { checks: { id: string; findings: { message: string; new: boolean }[] }[] } };
    const auth = plan.verification.checks.find((c) => c.id === 'compliance-bgp-auth')!.findings;
    expect(auth).toHaveLength(10);
    expect(auth.filter((f) => f.new).map((f) => f.message)).toEqual([
      'BGP session leaf5:eth1--spine1:eth5 is not authenticated; compliance.profile.bgp_authentication requires it (netloom renders no TCP-MD5/TCP-AO)',
      'BGP session leaf5:eth2--spine2:eth5 is not authenticated; compliance.profile.bgp_authentication requires it (netloom renders no TCP-MD5/TCP-AO)',
    ]);
  });
});
