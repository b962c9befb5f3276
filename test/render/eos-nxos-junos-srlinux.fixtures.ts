/**
 * Shared fixtures of the vendor template tests (eos, nxos, junos, srlinux): intent copies with
 * platforms swapped, the rendered files, golden-file comparison and structural checks.
 * There is no vendor parser for these CLIs on our machines, so besides golden files the tests
 * check structure: what each CLI's loader would reject first.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadModelSync, loadPlatforms, type FabricModel } from '../../src/model/index.ts';
import { renderModel, type RenderedArtifact } from '../../src/render/index.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const goldenRoot = path.join(repoRoot, 'test/render/golden');
export type VendorPlatform = 'eos' | 'nxos' | 'junos' | 'srlinux';
export const vendorPlatforms: VendorPlatform[] = ['eos', 'nxos', 'junos', 'srlinux'];

const tempDirs: string[] = [];

/** Removes every intent copy made by this test file. */
export function cleanupIntentCopies(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Dc1Variant {
  platform: VendorPlatform;
  /** Underlay of the copy; 'ebgp' adds a p2p pool. */
  underlay: 'ebgp-unnumbered' | 'ebgp' | 'ospf';
  /** Extra YAML merged into tenants (e.g. dhcp_relay). */
  tweakTenants?: (tenants: any[]) => void;
  /** Extra changes to the parsed endpoints list. */
  tweakEndpoints?: (endpoints: any[]) => void;
}

/**
 * intents/dc1 copied into a temp dir with every node on `platform`, the endpoint ports renamed
 * to that platform's port names (eth10 -> Ethernet10, et-0/0/9, ...) and the underlay changed.
 */
export function dc1Copy(v: Dc1Variant): string {
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-render-${v.platform}-`));
  tempDirs.push(dir);
  cpSync(path.join(repoRoot, 'intents/dc1'), dir, { recursive: true });
  const def = loadPlatforms().get(v.platform)!;
  const edit = (file: string, fn: (doc: any) => void) => {
    const p = path.join(dir, file);
    const doc = parse(readFileSync(p, 'utf8'));
    fn(doc);
    writeFileSync(p, stringify(doc));
  };
  edit('nodes.yaml', (doc) => {
    for (const g of Object.values<any>(doc.groups)) g.platform = v.platform;
  });
  edit('endpoints.yaml', (doc) => {
    for (const e of doc.endpoints) e.port = def.portName(Number(/^eth(\d+)$/.exec(e.port)![1]));
    v.tweakEndpoints?.(doc.endpoints);
  });
  edit('fabric.yaml', (doc) => {
    doc.fabric.underlay = v.underlay;
    if (v.underlay !== 'ebgp-unnumbered') doc.pools.p2p = '10.0.128.0/20';
    if (v.underlay === 'ospf') {
      doc.fabric.overlay = { transport: 'ibgp' };
      doc.fabric.asn = { fabric: 65000 };
    }
  });
  if (v.tweakTenants) edit('tenants.yaml', (doc) => v.tweakTenants!(doc.tenants));
  return dir;
}

export function renderDir(dir: string, devices?: string[]): { model: FabricModel; files: RenderedArtifact[] } {
  const model = loadModelSync(dir);
  const res = renderModel(model, { devices, artifactSets: [] });
  return { model, files: res.artifacts };
}

/** The one platform artifact of a device. */
export function fileOf(files: RenderedArtifact[], device: string): string {
  const f = files.filter((a) => a.device === device);
  if (f.length !== 1) throw new Error(`expected one artifact for ${device}, got ${f.map((x) => x.artifact).join(', ') || 'none'}`);
  return f[0].content;
}

/** Artifact names of the vendor platforms: golden directories are shared with other renderers. */
const vendorArtifacts = new Set(vendorPlatforms.flatMap((p) => loadPlatforms().get(p)?.render?.artifacts.map((a) => a.name) ?? []));

/**
 * Compares rendered files with test/render/golden/<example>/<device>/<artifact>; with
 * UPDATE_GOLDEN=1 rewrites them instead. Only vendor artifacts are touched: a device directory
 * may also hold files of other artifact sets (netconf-ietf) owned by other tests.
 * Returns the paths that differ.
 */
export function compareGolden(example: string, files: RenderedArtifact[]): string[] {
  const dir = path.join(goldenRoot, example);
  const update = process.env.UPDATE_GOLDEN === '1';
  const diffs: string[] = [];
  const want = new Set(files.map((f) => f.path));
  for (const d of new Set(files.map((f) => f.device))) {
    const dd = path.join(dir, d);
    if (!existsSync(dd)) continue;
    for (const a of readdirSync(dd)) {
      if (!vendorArtifacts.has(a) || want.has(`${d}/${a}`)) continue;
      // A vendor golden file no longer rendered (e.g. the device changed platform).
      if (update) rmSync(path.join(dd, a));
      else diffs.push(`golden only: ${example}/${d}/${a}`);
    }
  }
  for (const f of files) {
    const p = path.join(dir, f.path);
    if (update) {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, f.content);
    } else if (!existsSync(p)) diffs.push(`missing golden file ${path.relative(repoRoot, p)}`);
    else if (readFileSync(p, 'utf8') !== f.content) diffs.push(`differs from ${path.relative(repoRoot, p)}`);
  }
  return diffs;
}

/** Leftovers of a broken template: unrendered mustaches or stringified JS values. */
export function leftovers(text: string): string[] {
  const bad: string[] = [];
  text.split('\n').forEach((l, i) => {
    if (/\{\{|\}\}|undefined|\[object Object\]|\bNaN\b|\bnull\b/.test(l)) bad.push(`${i + 1}: ${l}`);
  });
  return bad;
}

/**
 * Indented block CLIs (EOS: 3 spaces per level, NX-OS: 2): every indent is a multiple of the
 * unit and at most one level deeper than the line before; "!" and "end" sit at column 0.
 */
export function indentProblems(text: string, unit: number): string[] {
  const bad: string[] = [];
  let prev = 0;
  text.split('\n').forEach((l, i) => {
    if (l === '') return;
    const ind = l.length - l.trimStart().length;
    const t = l.trim();
    if (t.startsWith('!')) {
      // comment/separator: allowed at any level not deeper than the block it closes
      if (ind % unit !== 0 || ind > prev) bad.push(`${i + 1}: bad separator indent: ${l}`);
      return;
    }
    if (ind % unit !== 0) bad.push(`${i + 1}: indent ${ind} is not a multiple of ${unit}: ${l}`);
    else if (ind > prev + unit) bad.push(`${i + 1}: indent jumps from ${prev} to ${ind}: ${l}`);
    if (/\s{2,}/.test(t)) bad.push(`${i + 1}: double space inside a command: ${l}`);
    prev = ind;
  });
  return bad;
}

/** dc1 tweaks every vendor variant gets: a DHCP relay on "web" and h5 as a tagged (trunk) port. */
export function dc1Tweaks(): Pick<Dc1Variant, 'tweakTenants' | 'tweakEndpoints'> {
  return {
    tweakTenants: (tenants) => {
      tenants[0].vrfs[0].networks[0].dhcp_relay = ['10.10.255.10'];
    },
    tweakEndpoints: (endpoints) => {
      endpoints.find((e) => e.name === 'h5').tagged = true;
    },
  };
}

/** The lines of an indented CLI block: the header line and everything indented below it. */
export function block(text: string, header: string): string[] {
  const lines = text.split('\n');
  const i = lines.indexOf(header);
  if (i < 0) return [];
  const out = [lines[i]];
  const ind = header.length - header.trimStart().length;
  for (let j = i + 1; j < lines.length; j++) {
    const l = lines[j];
    if (l.trim() === '' || l.trim() === '!') {
      if (ind === 0) break;
      continue;
    }
    if (l.length - l.trimStart().length <= ind) break;
    out.push(l);
  }
  return out;
}

/**
 * Splits a flat-CLI line into tokens: words, "quoted strings" and [ lists ]. Returns an
 * error string for unbalanced quotes or brackets.
 */
export function tokens(line: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      if (line[i + 1] === ' ') return 'double space';
      i++;
      continue;
    }
    if (line[i] === '"') {
      const j = line.indexOf('"', i + 1);
      if (j < 0) return 'unbalanced quote';
      out.push(line.slice(i, j + 1));
      i = j + 1;
    } else if (line[i] === '[') {
      const j = line.indexOf(']', i + 1);
      if (j < 0) return 'unbalanced [';
      const inner = line.slice(i + 1, j);
      if (!/^ \S.* $/.test(inner) || inner.includes('[')) return `bad list [${inner}]`;
      out.push(line.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ') j++;
      const t = line.slice(i, j);
      if (/["\[\]]/.test(t)) return `stray quote or bracket in ${t}`;
      out.push(t);
      i = j;
    }
  }
  return out;
}

/** Lines that are neither empty nor comments (# for the flat CLIs). */
export function commands(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}
