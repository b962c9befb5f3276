/**
 * The firewall node statically (intents/fw3): what it announces into each VRF follows the policy
 * (subnet pairs it never accepts between stay isolated by routing), the ping predictions ask its
 * policy whether an echo request and its reply pass, `trace` to a port-forward address names the
 * NAT rule behind it, and the node's ruleset passes `nft -c`.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadModelSync } from '../../../src/model/index.ts';
import { predictProbes } from '../../../src/verify/live/probes.ts';
import { firewallNodeArtifacts } from '../../../src/domains/firewall/render.ts';
import { repoRoot } from './fixtures.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** intents/fw3 with its policy's rules edited. */
function fw3(edit?: (rules: any[]) => any[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-fw3-'));
  dirs.push(dir);
  cpSync(path.join(repoRoot, 'intents/fw3'), dir, { recursive: true });
  if (edit) {
    const f = path.join(dir, 'firewall.yaml');
    const doc = parse(readFileSync(f, 'utf8'));
    doc.firewall.policies[0].rules = edit(doc.firewall.policies[0].rules);
    writeFileSync(f, stringify(doc));
  }
  return dir;
}

const announced = (dir: string) => loadModelSync(dir).serviceNodes![0].advertise.map((a) => `${a.vrf} ${a.prefix}${a.via ? ` via ${a.via}` : ''}`);
const pings = (dir: string) => Object.fromEntries(predictProbes(loadModelSync(dir)).filter((p) => ['h1>h2', 'h2>h1', 'h1>h3', 'h2>h3', 'h1>h4'].includes(`${p.src}>${p.dst}`)).map((p) => [`${p.src}>${p.dst}`, `${p.predicted} ${p.answers ? 'answered' : 'silent'}`]));

describe('firewall node (intents/fw3), statically', () => {
  it('announces into each VRF the subnets the policy accepts anything between, both ways', () => {
    expect(announced(fw3())).toEqual([
      'APP 10.30.10.0/24 via WEB', 'DB 10.30.10.0/24 via WEB', 'DB 10.30.20.0/24 via APP', 'WEB 10.30.20.0/24 via APP',
      'APP 10.30.30.0/24 via DB', 'WEB 10.30.30.0/24 via DB', 'WEB 10.30.99.80/32',
    ]);
    // Without the echo rule web and db share nothing accepted: neither is announced to the other.
    expect(announced(fw3((rules) => rules.filter((r) => r.name !== 'echo')))).toEqual([
      'APP 10.30.10.0/24 via WEB', 'DB 10.30.20.0/24 via APP', 'WEB 10.30.20.0/24 via APP', 'APP 10.30.30.0/24 via DB', 'WEB 10.30.99.80/32',
    ]);
  });

  it("pings through the node are predicted answered only when its policy passes the echo request and the reply", () => {
    expect(pings(fw3())).toEqual({ 'h1>h2': 'routed answered', 'h2>h1': 'routed answered', 'h1>h3': 'routed answered', 'h2>h3': 'routed answered', 'h1>h4': 'bridged answered' });
    // No echo rule: web -> app is still routed (tcp/8080 is allowed) but a ping dies at the node; web -> db is not routed at all.
    expect(pings(fw3((rules) => rules.filter((r) => r.name !== 'echo')))).toEqual({ 'h1>h2': 'routed silent', 'h2>h1': 'routed silent', 'h1>h3': 'isolated silent', 'h2>h3': 'routed silent', 'h1>h4': 'bridged answered' });
    // Stateless: the reply needs a rule of its own.
    const stateless = fw3((rules) => rules);
    const f = path.join(stateless, 'firewall.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('stateful: true', 'stateful: false'));
    expect(pings(stateless)['h1>h2']).toBe('routed silent');
  });

  it('trace to the port-forward address: the route, the path to the node, the NAT rule behind', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'trace', 'h4', '10.30.99.80', fw3()], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('h4 -> 10.30.99.80 (VRF WEB, announced by fw1 on leaf3): 1 node reached, route 10.30.99.80/32 bgp via 10.0.1.3 (leaf3)');
    expect(r.stdout).toContain('fw1: dnat app-forward (firewall.yaml:68) of policy tenants: 10.30.99.80 tcp/80 -> 10.30.20.12:8080, then the policy\'s rules');
  });

  it("the node's ruleset passes nft -c in a scratch namespace", () => {
    const [file] = firewallNodeArtifacts(loadModelSync(fw3()));
    expect(file.node).toBe('fw1');
    const ns = `fwnode-scratch-${process.pid}`;
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], { input: file.content, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
