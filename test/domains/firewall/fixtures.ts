/** Intent copies of intents/fw1 for the firewall tests: other platforms, other policies. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadPlatforms } from '../../../src/model/index.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');
export const fixturesDir = path.join(import.meta.dirname, 'fixtures');

const made: string[] = [];
export function cleanupCopies(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Fw1Variant {
  /** Every node on this platform (ports renamed, a numbered eBGP underlay where needed). */
  platform?: 'frr' | 'eos' | 'nxos' | 'junos' | 'srlinux';
  /** Replaces firewall.yaml with this fixture file. */
  firewall?: string;
  /** Edits the parsed firewall section. */
  edit?: (fw: any) => void;
}

export function fw1Copy(v: Fw1Variant = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'hfb-fw1-'));
  made.push(dir);
  cpSync(path.join(repoRoot, 'intents/fw1'), dir, { recursive: true });
  const ed = (file: string, fn: (doc: any) => void) => {
    const p = path.join(dir, file);
    const doc = parse(readFileSync(p, 'utf8'));
    fn(doc);
    writeFileSync(p, stringify(doc));
  };
  if (v.firewall) cpSync(path.join(fixturesDir, v.firewall), path.join(dir, 'firewall.yaml'));
  if (v.platform && v.platform !== 'frr') {
    const def = loadPlatforms().get(v.platform)!;
    ed('nodes.yaml', (d) => {
      for (const g of Object.values<any>(d.groups)) g.platform = v.platform;
    });
    ed('endpoints.yaml', (d) => {
      for (const e of d.endpoints) e.port = def.portName(Number(/^eth(\d+)$/.exec(e.port)![1]));
    });
    ed('fabric.yaml', (d) => {
      d.fabric.underlay = 'ebgp';
      d.pools.p2p = '10.0.128.0/20';
    });
  }
  if (v.edit) ed('firewall.yaml', (d) => v.edit!(d.firewall));
  return dir;
}

/** fw1's policy as ACL targets can express it: stateless, drop instead of reject, no NAT. */
export function stateless(fw: any): void {
  for (const p of fw.policies) {
    p.stateful = false;
    p.nat = [];
    for (const r of p.rules) if (r.action === 'reject') r.action = 'drop';
  }
}
