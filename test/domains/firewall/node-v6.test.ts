// The firewall node's IPv6 between VRFs, statically: its legs' IPv6 addresses (allocated, or
// given and checked), its IPv6 announcements, and ping predictions per family: an IPv6 ping
// crosses only where the node routes IPv6 between the two VRFs and its policy passes an ICMPv6
// echo (the lab half: test/lab/firewall-node-v6.test.ts).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { predictProbes } from '../../../src/verify/live/probes.ts';
import { firewallProbePlan } from '../../../src/domains/firewall/live-plan.ts';
import { repoRoot } from './fixtures.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The dual-stack fixture, with its files edited as text. */
function v6(edit: Record<string, (text: string) => string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-fwv6-'));
  dirs.push(dir);
  cpSync(path.join(repoRoot, 'test/domains/firewall/fixtures/node-v6'), dir, { recursive: true });
  for (const [file, f] of Object.entries(edit)) writeFileSync(path.join(dir, file), f(readFileSync(path.join(dir, file), 'utf8')));
  return dir;
}

const pings = (dir: string, family: 4 | 6) =>
  Object.fromEntries(predictProbes(loadModelSync(dir)).filter((p) => p.family === family && ['h1>h2', 'h2>h3', 'h1>h4'].includes(`${p.src}>${p.dst}`)).map((p) => [`${p.src}>${p.dst}`, `${p.predicted} ${p.answers ? 'answered' : 'silent'}`]));

describe('firewall node, IPv6 between VRFs (fw3 dual-stack), statically', () => {
  it('gives each leg an IPv6 address in its network and announces the IPv6 subnets as the IPv4 ones', () => {
    const m = loadModelSync(v6());
    const fw1 = m.serviceNodes![0]!;
    expect(fw1.legs.map((l) => l.ipv6)).toEqual(['fd00:30:110:0:ffff:ffff:ffff:fffe/64', 'fd00:30:120:0:ffff:ffff:ffff:fffe/64', 'fd00:30:130:0:ffff:ffff:ffff:fffe/64']);
    const routes = (six: boolean) => fw1.advertise.filter((a) => a.prefix.includes(':') === six && a.via).map((a) => `${a.vrf} via ${a.via}`).sort();
    expect(routes(true)).toEqual(routes(false));
    // A given address is used as given.
    const given = loadModelSync(v6({ 'firewall.yaml': (t) => t.replace('APP: { network: app-fw, port: eth11 }', "APP: { network: app-fw, port: eth11, ipv6: 'fd00:30:120::6' }") }));
    expect(given.serviceNodes![0]!.legs.find((l) => l.vrf === 'APP')!.ipv6).toBe('fd00:30:120::6/64');
  });

  it('an IPv6 leg address outside its network, or the gateway, is an error at its line', () => {
    for (const [addr, message] of [['fd00:30:99::6', 'fd00:30:99::6 is not in network \'app-fw\' (fd00:30:120::/64)'], ['fd00:30:120::1', "fd00:30:120::1 is the gateway of network 'app-fw'"]]) {
      const dir = v6({ 'firewall.yaml': (t) => t.replace('APP: { network: app-fw, port: eth11 }', `APP: { network: app-fw, port: eth11, ipv6: '${addr}' }`) });
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'validate', dir], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`firewall.yaml:33:54:`);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('IPv6 pings across VRFs are predicted answered only where the node routes IPv6 and its policy passes ICMPv6 echo', () => {
    const answered = { 'h1>h2': 'routed answered', 'h2>h3': 'routed answered', 'h1>h4': 'bridged answered' };
    expect(pings(v6(), 6)).toEqual(answered);
    // Transit networks without IPv6: the node routes IPv4 only; IPv6 stays within each VRF.
    const v4only = v6({ 'tenants.yaml': (t) => t.replace(/(name: \w+-fw, [^}]*?), subnet6: '[^']+', gateway6: '[^']+'/g, '$1') });
    expect(loadModelSync(v4only).serviceNodes![0]!.legs.map((l) => l.ipv6)).toEqual([undefined, undefined, undefined]);
    expect(pings(v4only, 4)).toEqual(answered);
    expect(pings(v4only, 6)).toEqual({ 'h1>h2': 'routed silent', 'h2>h3': 'routed silent', 'h1>h4': 'bridged answered' });
    // The echo rule without ICMPv6: IPv4 pings cross, IPv6 ones die at the node.
    const noEcho6 = v6({ 'firewall.yaml': (t) => t.replace('services: [ping, ping6]', 'services: [ping]') });
    expect(pings(noEcho6, 4)).toEqual(answered);
    expect(pings(noEcho6, 6)).toEqual({ 'h1>h2': 'routed silent', 'h2>h3': 'routed silent', 'h1>h4': 'bridged answered' });
  });

  it('an IPv6 port forward: its address announced into the VRFs of its sources, probed from them, and translated in fw query', () => {
    const m = loadModelSync(v6());
    const fw1 = m.serviceNodes![0]!;
    // Both port-forward addresses, each into WEB only (the NAT rules take web-tier as source).
    expect(fw1.advertise.filter((a) => a.via === undefined).map((a) => `${a.vrf} ${a.prefix}`)).toEqual(['WEB 10.30.99.80/32', 'WEB fd00:30:99::80/128']);
    const nat = firewallProbePlan(m).probes.filter((p) => p.nat).map((p) => `${p.family} ${p.src} ${p.address} ${p.service} -> ${p.dst} ${p.action} ${p.reply?.dst ?? ''} ${(p.via ?? []).join(',')}`);
    expect(nat).toEqual([
      '4 h1 10.30.99.80 tcp/80 -> tcp/8080 -> h2 accept 10.30.20.12 fw1', '4 h4 10.30.99.80 tcp/80 -> tcp/8080 -> h2 accept 10.30.20.12 fw1',
      '6 h1 fd00:30:99::80 tcp/80 -> tcp/8080 -> h2 accept fd00:30:20::12 fw1', '6 h4 fd00:30:99::80 tcp/80 -> tcp/8080 -> h2 accept fd00:30:20::12 fw1',
    ]);
    const q = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'fw', 'query', v6(), '--from', 'h1', '--to', 'fd00:30:99::80', '--service', 'http'], { encoding: 'utf8' });
    expect(q.status).toBe(0);
    expect(q.stdout).toMatch(/destination NAT by rule app-forward6 at .*firewall\.yaml:76:11: to \[fd00:30:20::12\]:8080/);
    expect(q.stdout).toMatch(/accept by rule web-to-app at .*firewall\.yaml:38:11 \(after app-forward6\)/);
    expect(q.stdout).toContain('verdict: accepted');
  });

  it('a NAT rule translating between families is an error at its to: no target translates between IPv4 and IPv6', () => {
    const dir = v6({ 'firewall.yaml': (t) => t.replace("to: '[fd00:30:20::12]:8080'", 'to: 10.30.20.12:8080') });
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'validate', dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("firewall.yaml:81:15: NAT rule 'app-forward6' of policy 'tenants': '10.30.20.12' is IPv4 but the destination holds IPv6 addresses only; NAT translates within one family (no NAT64)");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the reachability matrix with ports gives each port forward, either family, its translated verdict with the rule and line', () => {
    const dir = v6({ 'firewall.yaml': (t) => t.replace("to: '[fd00:30:20::12]:8080'", "to: '[fd00:30:20::12]:22'") });
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'verify', '--static', dir, '--format', 'json', '--check', 'firewall-endpoint-services'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout).results[0] as { examined: string; details: string[] };
    expect(res.examined).toContain('; 4 port-forwarded flows (3 accepted)');
    const at = (line: number) => `${dir}/firewall.yaml:${line}:11`;
    expect(res.details.filter((l) => l.includes('port forward'))).toEqual([
      `h1 -> 10.30.99.80:80 (port forward app-forward at ${at(70)}, to 10.30.20.12:8080 on h2): accepted: accept by rule web-to-app (${at(38)}) of policy tenants`,
      `h4 -> 10.30.99.80:80 (port forward app-forward at ${at(70)}, to 10.30.20.12:8080 on h2): accepted: accept by rule web-to-app (${at(38)}) of policy tenants`,
      // Forwarded to ssh: only the admin host h1 may log in.
      `h1 -> [fd00:30:99::80]:80 (port forward app-forward6 at ${at(76)}, to [fd00:30:20::12]:22 on h2): accepted: accept by rule admin-ssh (${at(59)}) of policy tenants`,
      `h4 -> [fd00:30:99::80]:80 (port forward app-forward6 at ${at(76)}, to [fd00:30:20::12]:22 on h2): denied: drop by the default (${dir}/firewall.yaml:25:7) of policy tenants`,
    ]);
  });
});
