/** `netloom render --diff OLD_OUT`: rendered artifacts against a previous output directory. */
import { existsSync, readFileSync } from 'node:fs';
import type { RenderResult } from './index.ts';
import { manifestFile, readManifest } from './write.ts';
import { unifiedDiff } from './diff.ts';

export interface Comparison {
  /** Per device: changed / unchanged / added / removed. */
  devices: { device: string; status: 'changed' | 'unchanged' | 'added' | 'removed' }[];
  /** Unified diffs of changed, added and removed artifacts, device by device. */
  diffs: string[];
}

export function compareWithDir(r: RenderResult, oldDir: string, devicesOnly?: Set<string>): Comparison {
  const old = readManifest(oldDir);
  const oldPaths = old ? old.artifacts.map((e) => e.path) : [];
  const oldDevices = new Set(old ? old.artifacts.map((e) => e.device) : []);
  const byDevice = new Map<string, { status: Comparison['devices'][number]['status']; diffs: string[] }>();
  const read = (p: string) => {
    const f = manifestFile(oldDir, p);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const entry = (d: string) => {
    let e = byDevice.get(d);
    if (!e) byDevice.set(d, (e = { status: oldDevices.has(d) ? 'unchanged' : 'added', diffs: [] }));
    return e;
  };
  for (const a of r.artifacts) {
    const e = entry(a.device);
    const had = oldPaths.includes(a.path);
    const before = had ? read(a.path) : '';
    const d = unifiedDiff(before, a.content, had ? `a/${a.path}` : '/dev/null', `b/${a.path}`);
    if (d) {
      e.diffs.push(d);
      if (e.status === 'unchanged') e.status = 'changed';
    }
  }
  const now = new Set(r.artifacts.map((a) => a.path));
  for (const p of oldPaths) {
    const dev = old!.artifacts.find((e) => e.path === p)!.device;
    if (now.has(p) || (devicesOnly && !devicesOnly.has(dev))) continue;
    const rendered = r.artifacts.some((a) => a.device === dev);
    const e = byDevice.get(dev) ?? { status: 'removed' as const, diffs: [] };
    if (rendered && e.status === 'unchanged') e.status = 'changed';
    e.diffs.push(unifiedDiff(read(p), '', `a/${p}`, '/dev/null'));
    byDevice.set(dev, e);
  }
  const names = [...byDevice.keys()].sort();
  return {
    devices: names.map((device) => ({ device, status: byDevice.get(device)!.status })),
    diffs: names.flatMap((n) => byDevice.get(n)!.diffs),
  };
}

export function summaryLine(c: Comparison): string {
  const count = (s: string) => c.devices.filter((d) => d.status === s).length;
  return `${count('changed')} changed, ${count('unchanged')} unchanged, ${count('added')} added, ${count('removed')} removed`;
}
