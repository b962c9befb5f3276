// The model as a containerlab topology: validated against containerlab's own schema (the
// copy in ../shared, not the lab's), with every device, host and link of the model.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import AjvModule from 'ajv';
import { loadModelSync } from '../../src/model/index.ts';
import { buildTopology } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import { labUp } from '../../src/lab/index.ts';

const schemaFile = '../shared/schemas/clab.schema.json';

function validator() {
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const Ajv = AjvModule as unknown as typeof AjvModule.default;
  const ajv = new Ajv({ strict: false, allErrors: true });
  return ajv.compile(schema);
}

describe('containerlab topology export', () => {
  it('writes dc1 and dc2 files that validate against containerlab\'s schema', () => {
    const validate = validator();
    for (const ex of ['intents/dc1', 'intents/dc2']) {
      const dir = mkdtempSync(path.join(tmpdir(), 'netloom-topo-'));
      try {
        const file = path.join(dir, 'fabric.clab.yml');
        const r = spawnSync(process.execPath, ['src/cli/bin.mjs', 'lab', 'topology', ex, '--out', file], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const doc = parse(readFileSync(file, 'utf8'));
        const ok = validate(doc);
        expect(validate.errors ?? [], ex).toEqual([]);
        expect(ok).toBe(true);
        // Every bind points at a rendered file beside the topology.
        for (const n of Object.values(doc.topology.nodes) as { binds?: string[]; 'startup-config'?: string }[]) {
          for (const b of n.binds ?? []) expect(existsSync(path.join(dir, b.split(':')[0])), b).toBe(true);
          if (n['startup-config']) expect(existsSync(path.join(dir, n['startup-config'])), n['startup-config']).toBe(true);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('has every device, endpoint host and link of dc1', () => {
    const m = loadModelSync('intents/dc1');
    const t = buildTopology(m, { configDir: 'configs' });
    expect(Object.keys(t.topology.nodes).sort()).toEqual([...m.devices.map((d) => d.name), ...m.endpoints.map((e) => e.name)].sort());
    expect(t.topology.nodes.leaf1).toMatchObject({ kind: 'linux', 'mgmt-ipv4': '172.20.20.1', binds: ['configs/leaf1/frr.conf:/etc/frr/frr.conf', 'configs/leaf1/daemons:/etc/frr/daemons', 'configs/leaf1/network.sh:/etc/netloom/network.sh'] });
    expect(t.topology.links).toContainEqual({ endpoints: ['leaf3:eth2', 'spine2:eth3'], mtu: 9216 });
    expect(t.topology.links).toContainEqual({ endpoints: ['leaf1:eth11', 'h5:eth1'], mtu: 1500 });
    expect(t.topology.links).toHaveLength(m.links.length + m.endpoints.length);
    const h3 = t.topology.nodes.h3!.exec!;
    expect(h3).toContain('ip addr add 10.10.20.13/24 dev eth1');
    expect(h3).toContain('ip route add default via 10.10.20.1 dev eth1');
    expect(t.mgmt).toEqual({ network: 'netloom-dc1', 'ipv4-subnet': '172.20.20.0/24', 'ipv4-gw': '172.20.20.254' });
  });

  it('expects every model session from both ends', () => {
    const m = loadModelSync('intents/dc1');
    const e = expectedSessions(m);
    expect(e).toHaveLength(16);
    expect(e).toContainEqual({ node: 'spine2', protocol: 'bgp', peer: 'eth3' });
    const m2 = loadModelSync('intents/dc2');
    expect(expectedSessions(m2).filter((x) => x.protocol === 'ospf')).toHaveLength(24);
    expect(expectedSessions(m2)).toContainEqual({ node: 'leaf2', protocol: 'bgp', peer: '10.2.0.101' });
  });

  it('refuses to run dc2 (vendor kinds) in the namespace lab before creating anything', async () => {
    const m = loadModelSync('intents/dc2');
    const t = buildTopology(m, { configDir: path.resolve('test/render/golden/dc2'), name: 'nlrefuse' });
    const before = existsSync('/run/netns') ? spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout : '';
    await expect(labUp(t, { runtime: 'netns' })).rejects.toThrow(/arista_ceos|nokia_srlinux|cisco_n9kv/);
    const after = existsSync('/run/netns') ? spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout : '';
    expect(after).toBe(before);
  });
});
