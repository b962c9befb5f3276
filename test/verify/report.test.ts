import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { verifyStatic } from '../../src/verify/static.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { formatReport } from '../../src/verify/report/format.ts';
import { model, root } from './helpers.ts';
import { allStaticChecks } from '../../src/domains/index.ts';

// Every registered domain's checks run (the firewall's pass on dc1: it has no policy).
const CHECKS = allStaticChecks().length;

function broken() {
  const m = model('dc1');
  m.links.splice(m.links.findIndex((l) => l.a.device === 'leaf1' && l.b.device === 'spine1'), 1);
  return verifyStatic(m);
}

describe('report formats', () => {
  it('markdown: summary table, failures first with location, fabric picture with the failed elements red', () => {
    const md = formatReport(broken(), 'md');
    expect(md).toMatch(/^## netloom verify: :x: 2 checks failed/);
    const rows = md.split('\n').filter((l) => l.startsWith('| :'));
    expect(rows[0]).toMatch(/^\| :x: \| `underlay-ecmp`/);
    expect(rows[1]).toMatch(/^\| :x: \| `single-points-of-failure`/);
    expect(md).toContain('at `intents/dc1/nodes.yaml:15:3`');
    expect(md).toContain('```mermaid');
    expect(md).toContain('style n_leaf1 fill:#fdd,stroke:#d00,stroke-width:2px');
    // leaf1:eth2--spine2:eth1 is the bridge: the first remaining link drawn, index 0.
    expect(md).toContain('linkStyle 0 stroke:#d00,stroke-width:3px');
  });
  it('detail lines (the firewall services per endpoint pair of fw2) in text, markdown and junit', () => {
    const r = verifyStatic(loadModelSync(path.join(root, 'intents/fw2')), { only: ['firewall-endpoint-services'] });
    const first = r.results[0]!.details![0]!;
    expect(first).toMatch(/^web1 -> app1 \(routed\): firewall allows tcp\/8080 \(rule web-to-app, intents\/fw2\/firewall.yaml:28:11\)/);
    expect(formatReport(r, 'text').split('\n')[1]).toBe(`      ${first}`);
    const md = formatReport(r, 'md');
    expect(md).toContain('### `firewall-endpoint-services`: Endpoint reachability matrix: services the firewall allows\n\n- web1 -> app1 (routed): firewall allows tcp/8080');
    const x = new XMLParser({ ignoreAttributes: false }).parse(formatReport(r, 'junit'));
    expect(x.testsuites.testsuite.testcase['system-out']).toContain(first);
  });
  it('junit: one testcase per check, failures carry the findings', () => {
    const x = new XMLParser({ ignoreAttributes: false }).parse(formatReport(broken(), 'junit'));
    const cases = x.testsuites.testsuite.testcase as { '@_name': string; failure?: { '@_message': string } }[];
    expect(cases).toHaveLength(CHECKS);
    expect(x.testsuites['@_failures']).toBe('2');
    expect(cases.filter((c) => c.failure).map((c) => c['@_name'])).toEqual(['underlay-ecmp', 'single-points-of-failure']);
  });
  it('json round-trips with a summary', () => {
    const j = JSON.parse(formatReport(broken(), 'json'));
    expect(j.summary).toEqual({ checks: CHECKS, failed: 2, passed: false });
  });
});

describe('CLI', () => {
  const cli = path.join(root, 'src/cli/bin.mjs');
  it('verify exits 0 on dc1 and 1 on a broken intent, writing --out', () => {
    expect(spawnSync(process.execPath, [cli, 'verify', 'intents/dc1', '--format', 'json'], { cwd: root }).status).toBe(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-verify-'));
    cpSync(path.join(root, 'intents/dc1'), dir, { recursive: true });
    // Valid intent, weak fabric: leaf1 uplinked to spine2 only.
    const f = path.join(dir, 'nodes.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('leaf1: { group: leaves, id: 1 }', 'leaf1: { group: leaves, id: 1, uplinks: [spine2] }'));
    const out = path.join(dir, 'report.xml');
    const r = spawnSync(process.execPath, [cli, 'verify', dir, '--format', 'junit', '--out', out], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`dc1 (static): ${CHECKS - 2}/${CHECKS} checks passed, 2 failed`);
    expect(readFileSync(out, 'utf8')).toContain('<failure message="leaf1 &lt;-&gt; leaf2, leaf3, leaf4: 1 equal-cost underlay path, the design promises 2 (3 VTEP pairs); no underlay link to spine1"');
    rmSync(dir, { recursive: true, force: true });
  });
  it('trace prints the path with VNI, VTEPs and ECMP', () => {
    const out = execFileSync(process.execPath, [cli, 'trace', 'h1', '10.10.10.12', 'intents/dc1'], { cwd: root, encoding: 'utf8' });
    expect(out).toContain('h1 -> h2: bridged over VNI 10010, 2 equal-cost underlay paths; as intended');
    expect(out).toContain('leaf1: VXLAN encapsulation, L2 VNI 10010, VTEP 10.0.1.1 -> 10.0.1.2');
    expect(out).toContain('spine1 | spine2  (ECMP 2 next hops)');
  });
});
