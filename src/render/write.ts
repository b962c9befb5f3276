/**
 * Output directory: OUT/<device>/<artifact> for every device and OUT/manifest.json listing
 * each file with its sha256. Files a previous run listed and this run does not produce are
 * removed, so OUT always mirrors the model.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import type { RenderResult } from './index.ts';
import { EnvironmentError } from '../util/errors.ts';
import { LIMITS, readTextBounded, resolveInside } from '../util/safe-path.ts';

export interface ManifestEntry {
  device: string;
  platform: string;
  artifact: string;
  path: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  generator: 'netloom';
  fabric: string;
  /** Intent revision the files were rendered from. */
  revision: string;
  artifacts: ManifestEntry[];
}

export function manifestOf(r: RenderResult): Manifest {
  return {
    generator: 'netloom',
    fabric: r.fabric,
    revision: r.revision,
    artifacts: r.artifacts.map(({ device, platform, artifact, path: p, sha256, bytes }) => ({ device, platform, artifact, path: p, sha256, bytes })),
  };
}

/**
 * The manifest of a previous run, every entry checked: its path must stay inside `dir` (a
 * manifest is data anyone could have edited, and its paths are read and removed).
 */
export function readManifest(dir: string): Manifest | undefined {
  const f = resolveInside(dir, 'manifest.json', 'manifest');
  if (!existsSync(f)) return undefined;
  let m: Manifest;
  try {
    m = JSON.parse(readTextBounded(f, LIMITS.manifest, 'the manifest')) as Manifest;
  } catch (e) {
    if (e instanceof SyntaxError) throw new EnvironmentError(`${f}: not a netloom manifest (${e.message})`);
    throw e;
  }
  if (!m || typeof m !== 'object' || !Array.isArray(m.artifacts) || m.artifacts.some((a) => !a || typeof a.path !== 'string' || typeof a.device !== 'string')) {
    throw new EnvironmentError(`${f}: not a netloom manifest (expected artifacts with a device and a path)`);
  }
  for (const a of m.artifacts) resolveInside(dir, a.path, `${f}: entry`, { followFinal: false });
  return m;
}

/** A manifest entry's file, for reading: a symlink must not lead out of `dir` either. */
export function manifestFile(dir: string, rel: string): string {
  return resolveInside(dir, rel, `${path.join(dir, 'manifest.json')}: entry`);
}

/** Writes only files whose content changed; returns the paths written and removed. */
export function writeOutput(r: RenderResult, dir: string, opts: { partial?: boolean } = {}): { written: string[]; removed: string[] } {
  mkdirSync(dir, { recursive: true });
  const old = readManifest(dir);
  const written: string[] = [];
  const removed: string[] = [];
  const now = new Set(r.artifacts.map((a) => a.path));
  // Every path is checked before anything is written or removed.
  const files = r.artifacts.map((a) => resolveInside(dir, a.path, 'rendered file'));
  for (const [i, a] of r.artifacts.entries()) {
    const file = files[i];
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file) || readFileSync(file, 'utf8') !== a.content) {
      writeFileSync(file, a.content);
      written.push(a.path);
    }
    chmodSync(file, parseInt(a.mode, 8));
  }
  let entries = manifestOf(r).artifacts;
  if (old && opts.partial) {
    // --device: keep the other devices' entries of the previous run.
    const devices = new Set(r.artifacts.map((a) => a.device));
    entries = [...old.artifacts.filter((e) => !devices.has(e.device)), ...entries].sort((x, y) => x.path.localeCompare(y.path));
  } else if (old) {
    for (const e of old.artifacts) {
      if (now.has(e.path)) continue;
      const file = path.join(dir, e.path); // checked by readManifest
      if (existsSync(file)) rmSync(file);
      removed.push(e.path);
      const d = path.dirname(file);
      if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
    }
  }
  writeFileSync(resolveInside(dir, 'manifest.json', 'manifest'), JSON.stringify({ ...manifestOf(r), artifacts: entries }, null, 2) + '\n');
  return { written, removed };
}
