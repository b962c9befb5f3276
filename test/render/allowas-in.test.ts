/**
 * Leaves sharing an ASN over eBGP (leaf pairs here) get allowas-in on every platform, in every
 * address family their sessions carry; spines (whose shared ASN is by design) do not. FRR's
 * config goes through FRR's own parser; the vendor CLIs are compared with golden files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { cleanupIntentCopies, compareGolden, dc1Copy, fileOf, renderDir, type VendorPlatform } from './eos-nxos-junos-srlinux.fixtures.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';

afterAll(cleanupIntentCopies);

function pairs(dir: string): string {
  const edit = (file: string, fn: (doc: any) => void) => {
    const p = path.join(dir, file);
    const doc = parse(readFileSync(p, 'utf8'));
    fn(doc);
    writeFileSync(p, stringify(doc));
  };
  edit('fabric.yaml', (doc) => {
    doc.fabric.asn.leaf_scheme = 'per-leaf-pair';
  });
  edit('nodes.yaml', (doc) => {
    doc.nodes.leaf1.pair = 'leaf2';
    doc.nodes.leaf2.pair = 'leaf1';
    doc.nodes.leaf3.pair = 'leaf4';
    doc.nodes.leaf4.pair = 'leaf3';
  });
  return dir;
}

const expected: Record<VendorPlatform, { underlay: 'ebgp-unnumbered' | 'ebgp'; lines: string[] }> = {
  eos: { underlay: 'ebgp', lines: ['   neighbor UNDERLAY allowas-in 1', '   neighbor EVPN-OVERLAY allowas-in 1'] },
  nxos: { underlay: 'ebgp', lines: ['      allowas-in 1'] },
  junos: { underlay: 'ebgp', lines: ['set protocols bgp group UNDERLAY family inet unicast loops 2', 'set protocols bgp group EVPN-OVERLAY family evpn signaling loops 2'] },
  srlinux: { underlay: 'ebgp', lines: ['set / network-instance default protocols bgp group underlay as-path-options allow-own-as 1', 'set / network-instance default protocols bgp group overlay as-path-options allow-own-as 1'] },
};

describe('allowas-in for leaves sharing an ASN', () => {
  for (const [platform, e] of Object.entries(expected) as [VendorPlatform, (typeof expected)[VendorPlatform]][]) {
    it(`${platform}: on the leaves' underlay and EVPN sessions, not on the spines`, () => {
      const { files } = renderDir(pairs(dc1Copy({ platform, underlay: e.underlay })));
      for (const leaf of ['leaf1', 'leaf2', 'leaf3', 'leaf4']) {
        const text = fileOf(files, leaf);
        for (const l of e.lines) expect(text.split('\n'), `${platform} ${leaf}`).toContain(l);
      }
      if (platform === 'nxos') expect(fileOf(files, 'leaf1').split('\n').filter((l) => l === '      allowas-in 1')).toHaveLength(4);
      for (const spine of ['spine1', 'spine2']) expect(fileOf(files, spine)).not.toMatch(/allowas-in|loops 2|allow-own-as/);
      expect(compareGolden(`dc1-pair-${platform}-${e.underlay}`, files)).toEqual([]);
    });
  }

  it('frr: per neighbour in ipv4 unicast and l2vpn evpn, accepted by FRR\'s parser', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nl-allowas-'));
    try {
      const m = loadModelSync(path.join(import.meta.dirname, '../verify/fixtures/dc1-pair'));
      const conf = renderModel(m, { devices: ['leaf1', 'spine1'], artifactSets: [] }).artifacts.filter((a) => a.artifact === 'frr.conf');
      const leaf = conf.find((a) => a.device === 'leaf1')!.content;
      const af = (name: string) => leaf.slice(leaf.indexOf(` address-family ${name}`), leaf.indexOf(' exit-address-family', leaf.indexOf(` address-family ${name}`)));
      for (const name of ['ipv4 unicast', 'l2vpn evpn']) expect(af(name)).toMatch(/  neighbor eth1 activate\n  neighbor eth1 allowas-in 1\n/);
      expect(af('ipv4 unicast').match(/allowas-in 1/g)).toHaveLength(2);
      expect(af('l2vpn evpn').match(/allowas-in 1/g)).toHaveLength(2);
      expect(conf.find((a) => a.device === 'spine1')!.content).not.toContain('allowas-in');
      const f = path.join(dir, 'frr.conf');
      writeFileSync(f, leaf);
      const r = spawnSync('vtysh', ['-C', '-f', f], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).not.toMatch(/Unknown command|line \d+:/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
