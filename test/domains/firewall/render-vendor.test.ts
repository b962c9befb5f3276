/**
 * The firewall domain on vendor platforms: EOS, NX-OS and SR Linux ACLs and Junos SRX
 * security policies. No vendor parser runs here, so the firewall section of each leaf's file
 * is a golden file plus structure; and what a target cannot express stops the render naming
 * device, platform, feature, rule and intent line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadModelSync } from '../../../src/model/index.ts';
import { renderModel } from '../../../src/render/index.ts';
import { IntentError, formatDiagnostic } from '../../../src/util/errors.ts';
import { indentProblems, leftovers } from '../../render/eos-nxos-junos-srlinux.fixtures.ts';
import { cleanupCopies, fw1Copy, repoRoot, stateless, type Fw1Variant } from './fixtures.ts';

afterAll(cleanupCopies);

type Vendor = 'eos' | 'nxos' | 'srlinux' | 'junos';
/** Where each platform's firewall section starts in its file (it runs to the end). */
const sectionStart: Record<Vendor, RegExp> = {
  eos: /^! policy /,
  nxos: /^! policy /,
  srlinux: /^set \/ acl /,
  junos: /^set security zones /,
};
const variants: Record<Vendor, Fw1Variant> = {
  eos: { platform: 'eos', edit: stateless },
  nxos: { platform: 'nxos', edit: stateless },
  srlinux: { platform: 'srlinux', edit: stateless },
  // fw1 exactly as it is: SRX keeps state, rejects and NATs.
  junos: { platform: 'junos' },
};

function firewallSections(v: Vendor): Map<string, string> {
  const r = renderModel(loadModelSync(fw1Copy(variants[v])), { artifactSets: [] });
  const out = new Map<string, string>();
  for (const a of r.artifacts) {
    const lines = a.content.split('\n');
    const i = lines.findIndex((l) => sectionStart[v].test(l));
    if (i < 0) continue;
    const section = lines.slice(i).join('\n').replace(/\nend\n$/, '\n');
    out.set(a.device, section);
  }
  return out;
}

const rendered = Object.fromEntries((Object.keys(variants) as Vendor[]).map((v) => [v, firewallSections(v)])) as Record<Vendor, Map<string, string>>;

describe('vendor firewall sections: golden files (UPDATE_GOLDEN=1 rewrites them)', () => {
  for (const v of Object.keys(variants) as Vendor[]) {
    it(`fw1-${v}: every enforcing leaf matches test/render/golden/fw1-${v}/<leaf>/firewall`, () => {
      const dir = path.join(repoRoot, `test/render/golden/fw1-${v}`);
      const got = rendered[v];
      expect([...got.keys()].sort()).toEqual(['leaf1', 'leaf2', 'leaf3', 'leaf4']);
      for (const [dev, text] of got) {
        const file = path.join(dir, dev, 'firewall');
        if (process.env.UPDATE_GOLDEN === '1') {
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, text);
        }
        expect(existsSync(file), `${file} missing (UPDATE_GOLDEN=1)`).toBe(true);
        expect(text, `${v} ${dev}`).toBe(readFileSync(file, 'utf8'));
      }
      expect(readdirSync(dir).sort()).toEqual([...got.keys()].sort());
    });
  }
});

describe('vendor firewall sections: structure', () => {
  it('nothing unrendered; EOS and NX-OS blocks indent one level; flat CLIs are one command per line', () => {
    for (const v of Object.keys(variants) as Vendor[]) for (const text of rendered[v].values()) expect(leftovers(text), v).toEqual([]);
    for (const text of rendered.eos.values()) expect(indentProblems(text, 3)).toEqual([]);
    for (const text of rendered.nxos.values()) expect(indentProblems(text, 2)).toEqual([]);
    for (const text of rendered.srlinux.values()) for (const l of text.trimEnd().split('\n')) expect(l).toMatch(/^set \/ acl (acl-filter \S+ type ipv[46] |interface irb0\.\d+ )\S/);
    for (const text of rendered.junos.values()) for (const l of text.trimEnd().split('\n')) expect(l).toMatch(/^set (security (zones|address-book|policies|nat) |applications application )\S/);
  });

  it('every ACL a leaf defines is applied on its SVIs, and every applied ACL is defined', () => {
    for (const v of ['eos', 'nxos'] as const) {
      for (const [dev, text] of rendered[v]) {
        const defined = [...text.matchAll(/^ipv?6? ?access-list (\S+)$/gm)].map((m) => m[1]).sort();
        const applied = [...new Set([...text.matchAll(/(?:access-group|traffic-filter) (\S+) (?:in|out)$/gm)].map((m) => m[1]))].sort();
        expect(applied, `${v} ${dev}`).toEqual(defined);
        expect(defined.length).toBeGreaterThan(0);
      }
    }
    // leaf1 carries BLUE (web) and RED (db): one ACL per VRF and family, inbound on its SVI.
    const eos1 = rendered.eos.get('leaf1')!;
    expect(eos1).toContain('interface Vlan10\n   ip access-group NL-TENANTS-BLUE in\n   ipv6 access-group NL-TENANTS-BLUE-V6 in\n');
    expect(eos1).toContain('   40 deny tcp 10.10.10.0/24 10.20.30.0/24 eq 5432 log\n');
    const srl1 = rendered.srlinux.get('leaf1')!;
    expect(srl1).toContain('set / acl interface irb0.30 input acl-filter nl-tenants-red type ipv4\n');
    // SRX: zones are VRFs, app-to-db only from GREEN to RED, the default last in each pair.
    const srx = rendered.junos.get('leaf3')!;
    expect([...srx.matchAll(/policy (tenants-app_to_db) description/g)].length).toBe(1);
    expect(srx).toContain('set security policies from-zone nl-GREEN to-zone nl-RED policy tenants-app_to_db then permit\n');
    expect(srx).toContain('policy tenants-monitoring_echo match destination-address-excluded\n');
    expect(srx).toContain('set security nat destination pool nl-tenants-app_forward address 10.10.20.13/32 port 8080\n');
    expect(srx).toContain('set security nat destination rule-set nl-tenants rule app_forward then destination-nat pool nl-tenants-app_forward\n');
  });

  it('SR Linux: one entry per port range, each with its own sequence number', () => {
    const edit = (fw: any) => {
      stateless(fw);
      fw.services['app-http'].ports = [8080, '9000-9001'];
    };
    const text = renderModel(loadModelSync(fw1Copy({ platform: 'srlinux', edit })), { artifactSets: [], devices: ['leaf1'] }).artifacts[0].content;
    const entries = (acl: string) => [...text.matchAll(new RegExp(`acl-filter ${acl} type ipv4 entry (\\d+) (match transport destination-port \\S+.*)$`, 'gm'))].map((m) => `${m[1]} ${m[2]}`);
    expect(entries('nl-tenants-blue').slice(0, 4)).toEqual([
      '10 match transport destination-port operator eq',
      '10 match transport destination-port value 8080',
      '20 match transport destination-port range start 9000',
      '20 match transport destination-port range end 9001',
    ]);
  });

  it('a networks policy filters in and out on the networks\' SVIs, with no scope to stay out of', () => {
    const edit = (fw: any) => {
      fw.policies = [{ name: 'local', enforcement: { kind: 'networks', networks: ['web'] }, stateful: false, rules: [{ name: 'ssh', source: 'monitoring', services: 'tcp/22', action: 'accept' }] }];
    };
    const text = renderModel(loadModelSync(fw1Copy({ platform: 'eos', edit })), { artifactSets: [], devices: ['leaf2'] }).artifacts[0].content;
    expect(text).toContain('ip access-list NL-LOCAL\n   10 remark ssh\n   20 permit tcp 10.10.10.11/32 any eq 22\n   30 remark default drop\n   40 deny ip any any\n');
    expect(text).toContain('interface Vlan10\n   ip access-group NL-LOCAL in\n   ip access-group NL-LOCAL out\n   ipv6 access-group NL-LOCAL-V6 in\n   ipv6 access-group NL-LOCAL-V6 out\n');
  });

  it('free text is escaped for the syntax it lands in', () => {
    const comment = 'say "hi" \\ $(reboot); # no';
    const edit = (fw: any) => {
      stateless(fw);
      fw.policies[0].rules[0].comment = comment;
    };
    const junosEdit = (fw: any) => {
      fw.policies[0].rules[0].comment = comment;
    };
    const text = (p: Vendor) => renderModel(loadModelSync(fw1Copy({ platform: p, edit: p === 'junos' ? junosEdit : edit })), { artifactSets: [], devices: ['leaf1'] }).artifacts[0].content;
    const quoted = (l: string) => /"((?:[^"\\]|\\.)*)"$/.exec(l)?.[1];
    const srl = text('srlinux').split('\n').find((l) => l.includes('entry 10 description'))!;
    expect(quoted(srl)).toBe('web-to-app: say \\"hi\\" \\\\ $(reboot); # no (owner team-web)');
    const junos = text('junos').split('\n').find((l) => l.includes('policy tenants-web_to_app description'))!;
    expect(quoted(junos)).toBe('web-to-app: say \\"hi\\" \\\\ $(reboot); # no (owner team-web)');
    expect(text('eos')).toContain('   10 remark web-to-app: say "hi" \\ $(reboot); # no (owner team-web)\n');
  });
});

describe('what a target cannot express stops the render', () => {
  const diagnostics = (v: Fw1Variant): string[] => {
    try {
      renderModel(loadModelSync(fw1Copy(v)), { artifactSets: [] });
    } catch (e) {
      if (e instanceof IntentError) return e.diagnostics.map(formatDiagnostic).map((d) => d.replace(/^.*?firewall\.yaml/, 'firewall.yaml'));
      throw e;
    }
    return [];
  };

  it('fw1 as it is on EOS: state, reject and NAT, each with its rule and line, per leaf', () => {
    const d = diagnostics({ platform: 'eos' });
    expect(d.filter((x) => x.includes('leaf1'))).toEqual([
      "firewall.yaml:24:7: device leaf1: platform eos does not support feature 'stateful' (policy 'tenants')",
      "firewall.yaml:45:11: device leaf1: platform eos does not support feature 'reject' (rule 'db-deny' of policy 'tenants')",
      "firewall.yaml:59:11: device leaf1: platform eos does not support feature 'nat-dnat' (NAT rule 'app-forward' of policy 'tenants')",
    ]);
    expect(d.length).toBe(12);
  });

  it('Junos SRX: no per-rule state match, no ICMP types in NAT, no distributed (networks) enforcement', () => {
    const d = diagnostics({
      platform: 'junos',
      edit: (fw) => {
        fw.policies[0].rules[0].state = ['new'];
        fw.policies[0].nat.push({ name: 'ping-vip', kind: 'dnat', destination: '10.10.20.101', services: ['ping'], to: '10.10.20.13' });
        fw.policies.push({ name: 'local', enforcement: { kind: 'networks', networks: ['web'] }, rules: [] });
      },
    });
    expect(d.filter((x) => x.includes('leaf1'))).toEqual([
      // (lines of the copy, which the edit rewrote)
      "firewall.yaml:62:11: device leaf1: platform junos does not support feature 'conn-state' (rule 'web-to-app' of policy 'tenants')",
      "firewall.yaml:105:11: device leaf1: platform junos does not support feature 'nat-icmp-types' (NAT rule 'ping-vip' of policy 'tenants')",
      "firewall.yaml:111:7: device leaf1: platform junos does not support enforcement 'networks' (policy 'local')",
    ]);
  });

  it('a stateless ACL target renders a stateless policy; SR Linux refuses reject as a default', () => {
    expect(diagnostics({ platform: 'nxos', edit: stateless })).toEqual([]);
    const d = diagnostics({ platform: 'srlinux', edit: (fw) => { stateless(fw); fw.policies[0].default = 'reject'; } });
    expect(d.filter((x) => x.includes('leaf2'))).toEqual(["firewall.yaml:51:7: device leaf2: platform srlinux does not support feature 'reject' (default of policy 'tenants')"]);
  });
});
