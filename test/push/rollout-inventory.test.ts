// Inventory files: zod-validated YAML with file:line:col errors; secrets are refused, references kept.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsFor, loadInventory } from '../../src/push/inventory.ts';
import { IntentError } from '../../src/util/errors.ts';
import { parseFragment, sameTrees } from '../../src/push/xml-tree.ts';
import { summaryTable } from '../../src/push/rollout.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-inv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const FP = 'SHA256:' + 'A'.repeat(43);

describe('inventory', () => {
  it('loads devices with defaults, resolving key paths against the file', () => {
    const inv = loadInventory(
      file('ok.yaml', `defaults:\n  username: admin\n  credentials: { key_file: keys/id }\n  host_key: { known_hosts: kh }\ndevices:\n  leaf1: { address: 192.0.2.1, transport: ssh }\n  leaf2: { address: 192.0.2.2, transport: netconf, credentials: { password_env: LEAF2_PW }, host_key: { fingerprint: "${FP}" } }\n`),
    );
    expect(inv.devices.map((d) => [d.name, d.port, d.username])).toEqual([['leaf1', 22, 'admin'], ['leaf2', 830, 'admin']]);
    expect(inv.devices[0].credentials.keyFile).toBe(path.join(dir, 'keys/id'));
    expect(inv.devices[1].hostKey).toEqual({ fingerprints: [FP] });
    expect(() => credentialsFor(inv.devices[1], {})).toThrow(/environment variable LEAF2_PW \(named by the inventory\) is not set/);
    const c = credentialsFor(inv.devices[1], { LEAF2_PW: 's3cret' });
    expect(c.password).toBe('s3cret');
    expect(JSON.stringify(inv)).not.toContain('s3cret');
  });

  it('reports errors with file:line:col, and refuses inline passwords', () => {
    const p = file('bad.yaml', `devices:\n  leaf1:\n    address: 192.0.2.1\n    transport: telnet\n  leaf2:\n    address: 192.0.2.2\n    transport: ssh\n    credentials: { password: hunter2 }\n    host_key: { fingerprint: "${FP}" }\n  leaf3: { address: 192.0.2.3, transport: ssh, colour: red }\n`);
    let err: IntentError | undefined;
    try {
      loadInventory(p);
    } catch (e) {
      err = e as IntentError;
    }
    expect(err).toBeInstanceOf(IntentError);
    const msgs = err!.message.split('\n');
    expect(msgs.find((m) => m.includes('transport'))).toMatch(new RegExp(`^${p}:4:16: devices\\.leaf1\\.transport`));
    expect(msgs.find((m) => m.includes('password'))).toMatch(new RegExp(`^${p}:8:30: .*password_env`));
    expect(msgs.find((m) => m.includes('colour'))).toMatch(new RegExp(`^${p}:10:48: `));
    expect(err!.message).not.toContain('hunter2');
    // The intent's wording, not zod's.
    expect(msgs).toContain(`${p}:4:16: devices.leaf1.transport: expected one of ssh, netconf, got 'telnet'`);
    expect(msgs).toContain(`${p}:10:48: devices.leaf3.colour: unknown key 'colour'`);
    expect(msgs).toContain(`${p}:8:30: devices.leaf2.credentials.password: passwords are not written into inventories: name an environment variable with password_env`);
    const missing = file('missing.yaml', 'devices:\n  leaf1: { transport: ssh }\n');
    expect(() => loadInventory(missing)).toThrow(`${missing}:2:3: devices.leaf1: required key 'address' is missing`);
  });

  it('needs credentials and a host key pin for every device', () => {
    const p = file('nopin.yaml', `devices:\n  leaf1: { address: 192.0.2.1, transport: ssh }\n`);
    expect(() => loadInventory(p)).toThrow(new RegExp(`${p}:2:10: devices.leaf1: no credentials[\\s\\S]*no host key pin`));
  });
});

describe('NETCONF config comparison', () => {
  it('ignores prefixes, whitespace and list order; sees value changes', () => {
    const a = parseFragment('<interfaces xmlns="urn:x" xmlns:t="urn:t"><interface><name>b</name><type>t:eth</type></interface><interface><name>a</name></interface></interfaces>');
    const b = parseFragment('<x:interfaces xmlns:x="urn:x">\n  <x:interface><x:name>a</x:name></x:interface>\n  <x:interface><x:name>b</x:name><x:type xmlns:ift="urn:t">ift:eth</x:type></x:interface>\n</x:interfaces>');
    expect(sameTrees(a, b)).toBe(true);
    const c = parseFragment('<interfaces xmlns="urn:x"><interface><name>b</name><type xmlns:t="urn:other">t:eth</type></interface><interface><name>a</name></interface></interfaces>');
    expect(sameTrees(a, c)).toBe(false);
  });
});

describe('summary table', () => {
  it('has one aligned row per device', () => {
    const t = summaryTable([
      { device: 'leaf1', transport: 'ssh', action: 'applied', reason: 'frr.conf' },
      { device: 'spine10', transport: 'netconf', action: 'rolled back', reason: 'postcheck: x\nmore' },
    ]);
    expect(t).toEqual(['DEVICE   TRANSPORT  ACTION       REASON', 'leaf1    ssh        applied      frr.conf', 'spine10  netconf    rolled back  postcheck: x']);
  });
});
