// Adding or removing a leaf must never renumber anything else: every address, ASN, router id,
// point-to-point subnet, port, VNI, RD and RT of the other devices stays exactly as it was.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';

function withCopy<T>(src: string, edit: (dir: string) => void, fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-stab-'));
  try {
    cpSync(src, dir, { recursive: true });
    edit(dir);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function append(dir: string, file: string, text: string) {
  writeFileSync(path.join(dir, file), readFileSync(path.join(dir, file), 'utf8') + text);
}

const strip = <T extends object>(o: T) => JSON.parse(JSON.stringify(o, (k, v) => (k === 'source' ? undefined : v)));

/** Everything `before` had, about devices other than `changed`, is in `after` unchanged. */
function expectNoRenumbering(before: FabricModel, after: FabricModel, changed: string) {
  const afterDev = new Map(after.devices.map((d) => [d.name, d]));
  let compared = 0;
  for (const d of before.devices) {
    if (d.name === changed) continue;
    const a = afterDev.get(d.name)!;
    expect({ asn: a.asn, routerId: a.routerId, loopback: a.loopback, vtep: a.vtep, mgmt: a.mgmt }, d.name).toEqual({ asn: d.asn, routerId: d.routerId, loopback: d.loopback, vtep: d.vtep, mgmt: d.mgmt });
    const ifs = new Map(a.interfaces.map((i) => [`${i.kind}:${i.name}`, strip(i)]));
    for (const i of d.interfaces) {
      if (i.peer?.device === changed) continue;
      expect(ifs.get(`${i.kind}:${i.name}`), `${d.name} ${i.name}`).toEqual(strip(i));
      compared++;
    }
    const vlans = new Map(a.vlans.map((v) => [v.vlan, strip(v)]));
    for (const v of d.vlans) expect(vlans.get(v.vlan), `${d.name} VLAN ${v.vlan}`).toEqual(strip(v));
    expect(strip(a.vrfs)).toEqual(strip(d.vrfs));
  }
  const links = new Map(after.links.map((l) => [l.id, strip(l)]));
  for (const l of before.links) if (l.a.device !== changed && l.b.device !== changed) expect(links.get(l.id), `link ${l.id}`).toEqual(strip(l));
  const sessions = new Map(after.bgpSessions.map((s) => [s.id, strip(s)]));
  for (const s of before.bgpSessions) if (s.a.device !== changed && s.b.device !== changed) expect(sessions.get(s.id), s.id).toEqual(strip(s));
  const eps = new Map(after.endpoints.map((e) => [e.name, strip(e)]));
  for (const e of before.endpoints) if (e.leaf !== changed) expect(eps.get(e.name), e.name).toEqual(strip(e));
  expect(compared).toBeGreaterThan(10);
}

describe('stable numbering', () => {
  it('adding a leaf to dc1 (unnumbered eBGP) renumbers nothing else', () => {
    const before = loadModelSync('intents/dc1');
    const after = withCopy(
      'intents/dc1',
      (d) => {
        append(d, 'nodes.yaml', '  leaf5: { group: leaves, id: 5 }\n');
        append(d, 'endpoints.yaml', '  - { name: h9, leaf: leaf5, port: eth10, vlan: 20, ipv4: 10.10.20.19/24 }\n');
      },
      loadModelSync,
    );
    expect(after.devices.length).toBe(before.devices.length + 1);
    expect(after.bgpSessions.length).toBe(before.bgpSessions.length + 2);
    expectNoRenumbering(before, after, 'leaf5');
    expect(after.devices.find((d) => d.name === 'leaf5')).toMatchObject({ asn: 65105, routerId: '10.0.0.5', vtep: '10.0.1.5/32' });
  });

  it('adding a leaf with a lower id than existing ones to dc2 (numbered OSPF) renumbers nothing else', () => {
    const before = loadModelSync('intents/dc2');
    const after = withCopy('intents/dc2', (d) => append(d, 'nodes.yaml', '  leaf0: { role: leaf, platform: eos, id: 5 }\n'), loadModelSync);
    expectNoRenumbering(before, after, 'leaf0');
    const l = after.links.filter((x) => x.a.device === 'leaf0');
    expect(l.map((x) => x.prefix)).toEqual(['10.2.128.32/31', '10.2.128.34/31']);
  });

  it('removing a leaf renumbers nothing else', () => {
    const before = loadModelSync('intents/dc1');
    const after = withCopy(
      'intents/dc1',
      (d) => {
        writeFileSync(path.join(d, 'nodes.yaml'), readFileSync(path.join(d, 'nodes.yaml'), 'utf8').replace(/^ {2}leaf2:.*\n/m, ''));
        writeFileSync(path.join(d, 'endpoints.yaml'), readFileSync(path.join(d, 'endpoints.yaml'), 'utf8').replace(/^ {2}- \{ name: h2,.*\n/m, ''));
      },
      loadModelSync,
    );
    expect(after.devices.map((d) => d.name)).not.toContain('leaf2');
    // Compare the other way round: everything left is as it was.
    const beforeWithout = { ...before, devices: before.devices.filter((d) => d.name !== 'leaf2') };
    expectNoRenumbering(beforeWithout, after, 'leaf2');
  });

  it('resolution is deterministic: the same intent gives byte-identical JSON', () => {
    expect(JSON.stringify(loadModelSync('intents/dc2'))).toBe(JSON.stringify(loadModelSync('intents/dc2')));
  });
});
