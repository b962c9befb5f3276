import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { verifyStatic } from '../../src/verify/static.ts';
import type { Finding } from '../../src/verify/findings.ts';
import { intentFiles, type RandomIntent } from '../../src/intent/random.ts';
import { writeGeneratedIntent, type GeneratedFile } from '../../src/intent/generate.ts';
import { parseBgpSummary, parseEvpnMacs, parseEvpnVniDetail, parseRoutes, type DeviceObservation } from '../../src/verify/live/observed.ts';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const cache = new Map<string, string>();

/** A model of test/verify/fixtures. */
export const fixture = (name: string) => loadModelSync(path.join(root, 'test/verify/fixtures', name));

/** The model with every session's allowas-in removed (leaves sharing an ASN then drop each other's routes). */
export function withoutAllowAs(m: FabricModel): FabricModel {
  for (const s of m.bgpSessions) {
    delete s.a.allowAsIn;
    delete s.b.allowAsIn;
  }
  return m;
}

/** A fresh, mutable copy of an example's model (loaded once per file). */
export function model(dir: 'dc1' | 'dc2'): FabricModel {
  if (!cache.has(dir)) cache.set(dir, JSON.stringify(loadModelSync(path.join(root, 'intents', dir))));
  return JSON.parse(cache.get(dir)!) as FabricModel;
}

/**
 * The model of an example intent with some of its files edited: how a fault that an intent
 * can express is built (each edit must change its file). Returns the model and where it came from.
 */
export function brokenIntent(example: 'dc1' | 'dc2', edits: Record<string, (text: string) => string>): { model: FabricModel; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-verify-${example}-`));
  try {
    cpSync(path.join(root, 'intents', example), dir, { recursive: true });
    for (const [file, edit] of Object.entries(edits)) {
      const f = path.join(dir, file);
      const before = readFileSync(f, 'utf8');
      const after = edit(before);
      if (after === before) throw new Error(`the edit of ${example}/${file} changed nothing`);
      writeFileSync(f, after);
    }
    return { model: loadModelSync(dir), dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The model of a fidelity regression fixture's minimised intent (a fabric the lab once disagreed on). */
export function regressionModel(seed: number): FabricModel {
  const { intent } = JSON.parse(readFileSync(path.join(root, 'test/fidelity/regressions', `${seed}.json`), 'utf8')) as { intent: RandomIntent };
  return generatedModel(intentFiles(intent));
}

/** The model of generated intent files (written to a directory removed after). */
export function generatedModel(files: GeneratedFile[]): FabricModel {
  const dir = mkdtempSync(path.join(tmpdir(), 'nl-generated-'));
  try {
    writeGeneratedIntent(dir, files);
    return loadModelSync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function failures(m: FabricModel, check?: string): Finding[] {
  const r = verifyStatic(m, check ? { only: [check] } : {});
  return r.results.flatMap((x) => x.findings).filter((f) => f.severity === 'error');
}

const fixtures = path.join(root, 'test/verify/fixtures/dc1-lab');
const fx = (dev: string, what: string) => JSON.parse(readFileSync(path.join(fixtures, `${dev}.${what}.json`), 'utf8').trim() || '{}');

/** Device observations parsed from FRR 8.4 JSON recorded in the dc1 lab (vtysh -N <ns> -c '... json'). */
export function recordedObservations(): DeviceObservation[] {
  return ['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2'].map((d) => {
    const leaf = d.startsWith('leaf');
    return {
      device: d,
      errors: {},
      bgp: parseBgpSummary(fx(d, 'bgp-vrf-all-summary')),
      ...(leaf ? { vnis: parseEvpnVniDetail(fx(d, 'evpn-vni-detail')), macs: parseEvpnMacs(fx(d, 'evpn-mac-vni-all')) } : {}),
      routes: { default: parseRoutes('default', fx(d, 'ip-route-vrf-all')) },
    };
  });
}
