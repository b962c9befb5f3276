/** Intent fixtures for the render tests: copies of the examples, rewritten. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A copy of intents/<name> with each file passed through edit(fileName, text). */
const made: string[] = [];
// Temp intents live until the test process ends, then go.
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function editedIntent(name: string, edit: (file: string, text: string) => string): string {
  const src = path.join(repoRoot, 'intents', name);
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-render-${name}-`));
  made.push(dir);
  for (const f of readdirSync(src).filter((x) => x.endsWith('.yaml'))) {
    writeFileSync(path.join(dir, f), edit(f, readFileSync(path.join(src, f), 'utf8')));
  }
  return dir;
}

/**
 * dc2 with every node on FRR: exercises the OSPF underlay, numbered links and the iBGP
 * overlay with route reflectors in FRR's parser. Vendor port names become ethN.
 * keepDhcpRelay leaves dhcp_relay in (FRR cannot express it: the unsupported-feature case).
 */
export function dc2AsFrr(keepDhcpRelay = false): string {
  return editedIntent('dc2', (_f, t) => {
    let s = t.replace(/platform: (eos|nxos|junos|srlinux)/g, 'platform: frr');
    s = s.replace(/port: et-0\/0\/(\d+)/g, (_m, n) => `port: eth${Number(n) + 1}`);
    s = s.replace(/port: (?:Ethernet1\/|ethernet-1\/|Ethernet)(\d+)/g, 'port: eth$1');
    if (!keepDhcpRelay) s = s.replace(/^\s*dhcp_relay:.*\n/gm, '');
    return s;
  });
}

export interface Example {
  name: string;
  model: () => FabricModel;
  /** Render only the extra artifact sets (vendor templates belong to another area). */
  setsOnly: boolean;
}

export const examples: Example[] = [
  { name: 'dc1', model: () => loadModelSync(path.join(repoRoot, 'intents/dc1')), setsOnly: false },
  { name: 'dc2', model: () => loadModelSync(path.join(repoRoot, 'intents/dc2')), setsOnly: true },
  { name: 'dc2-frr', model: () => loadModelSync(dc2AsFrr()), setsOnly: false },
];

export function have(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

export const isRoot = process.getuid?.() === 0;

export const yangDir = '/usr/share/yuma/modules/ietf';

/** Module files (name@revision.yang) for yanglint. */
export function yangModuleFiles(names: string[]): string[] {
  const files = readdirSync(yangDir);
  return names.map((n) => {
    const f = files.find((x) => x.startsWith(`${n}@`) && x.endsWith('.yang'));
    if (!f) throw new Error(`YANG module ${n} not found in ${yangDir}`);
    return path.join(yangDir, f);
  });
}
