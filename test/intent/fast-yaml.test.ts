// The js-yaml event path (src/intent/fast-yaml.ts) gives exactly what the `yaml` document path
// gives, value and places, or declines: over every YAML file of the repository (examples,
// fixtures, broken intents), generated fabrics, random intents, thousands of texts emitted in
// random styles, and thousands of randomly broken texts (where it must decline whenever `yaml`
// reports an error). A file it takes is never one `yaml` would refuse or read differently.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fastParseFile } from '../../src/intent/fast-yaml.ts';
import { Origins, yamlParseFile } from '../../src/intent/load.ts';
import { generateFabricIntent } from '../../src/intent/generate.ts';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import type { Diagnostic } from '../../src/util/errors.ts';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

const root = path.resolve(import.meta.dirname, '../..');

/** Value and places as one comparable tree (NaN and -0 spelled out). */
function snapshot(v: unknown, o: Origins): unknown {
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN!' : Object.is(v, -0) ? '-0!' : v;
  if (typeof v !== 'object' || v === null) return v;
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return { self: o.selfOf(v), entries: entries.map(([k, x]) => [k, o.get(v, k), snapshot(x, o)]) };
}

type Outcome = { taken: boolean; yamlErrors: number };

/** Both paths over one text: equal when the fast path takes it, and never taking what `yaml` refuses. */
function compare(file: string, text: string): Outcome {
  const fo = new Origins();
  const fast = fastParseFile(file, text, fo);
  const yo = new Origins();
  const errors: Diagnostic[] = [];
  let slow: Record<string, unknown> | undefined;
  try {
    slow = yamlParseFile(file, text, yo, errors);
  } catch (e) {
    // The yaml path's own limits (alias bombs) throw nothing but diagnostics; anything else is a bug.
    throw new Error(`${file}: the yaml path threw: ${String(e)}`);
  }
  if (fast !== undefined) {
    if (errors.length) throw new Error(`${file}: taken by the fast path, but yaml says ${errors.map((e) => `${e.loc.line}:${e.loc.col} ${e.message}`).join('; ')}\n---\n${text}`);
    expect(snapshot(fast, fo), `${file}\n---\n${text}`).toEqual(snapshot(slow, yo));
  }
  return { taken: fast !== undefined, yamlErrors: errors.length };
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === '.git' || e === 'out') continue;
    const p = path.join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(e) && st.size < 4 << 20) out.push(p);
  }
  return out;
}

/** A seeded generator of [0, 1) (pure-rand, as the random intents): failures reproduce. */
function rng(seed: number): () => number {
  const g = xoroshiro128plus(seed);
  return () => uniformInt(g, 0, 0xfffffff) / 0x10000000;
}

const SCALARS = ['leaf1', 'eth1', '10.0.0.1/31', '65001', '0', '-7', '+3', '0o17', '0x1F', '0x1g', '1.50', '.5', '1e3', '-1.2E-2', '.inf', '-.Inf', '.nan', 'true', 'False', 'TRUE', 'yes', 'no', 'on', 'null', '~', 'Null', 'a b', 'a:b', 'a#b', 'x-y_z', '2026-12-03', '1_000', '0b101', '12:30', 'n', 'T', 'é', 'ü-π', '192.168.0.1', 'fe80::1', '-', '--x', 'a - b', 'rt 1:1', '007', '1.', '+.5', '3.0', "it's", 'say "hi"', 'back\\slash', 'tab\tin', 'line\nbreak', 'percent %x', '[x]', '{y}', 'a, b', '@at', '`tick', '&amp', '*star', '!bang', '|pipe', '>gt', '?q', ': colon', 'trail ', ' lead'];

/** A random intent-like value. */
function randomValue(r: () => number, depth: number): unknown {
  const x = r();
  if (depth > 3 || x < 0.45) {
    const s = SCALARS[Math.floor(r() * SCALARS.length)];
    return r() < 0.15 ? Math.floor(r() * 100000) : r() < 0.05 ? r() < 0.5 : s;
  }
  if (x < 0.7) return Array.from({ length: Math.floor(r() * 4) + (depth ? 0 : 1) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 4) + 1;
  for (let i = 0; i < n; i++) o[r() < 0.85 ? `k${Math.floor(r() * 6)}` : SCALARS[Math.floor(r() * SCALARS.length)]] = randomValue(r, depth + 1);
  return o;
}

/** A scalar in a random style: plain where it may be (yaml decides what it means), else quoted. */
function scalarText(r: () => number, v: unknown, flow: boolean): string {
  const s = String(v);
  const y = r();
  if (y < 0.55 && /^[^\s'"#,\[\]{}&*!|>%@`?:-][^\n\t#,\[\]{}]*$/.test(s) && !/[:]\s|\s$/.test(s) && !(flow && /[,\[\]{}]/.test(s))) return s;
  if (y < 0.8 && !/[\n\t\\]/.test(s)) return `'${s.replace(/'/g, "''")}'`;
  return JSON.stringify(s);
}

/** YAML text for a value in random styles (block or flow collections, indents, comments, blank lines). */
function emit(r: () => number, v: unknown, indent: number, step: number, flow = false): string {
  const pad = ' '.repeat(indent);
  const comment = () => (r() < 0.1 ? '  # note: a, b' : '');
  if (typeof v !== 'object' || v === null) return scalarText(r, v, flow);
  if (flow || r() < 0.2) {
    if (Array.isArray(v)) return `[${v.map((x) => emit(r, x, indent, step, true)).join(r() < 0.5 ? ', ' : ',')}]`;
    return `{${Object.entries(v).map(([k, x]) => `${scalarText(r, k, true)}: ${emit(r, x, indent, step, true)}`).join(', ')}}`;
  }
  const lines: string[] = [];
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    for (const x of v) {
      const inner = typeof x === 'object' && x !== null && !(Array.isArray(x) ? !x.length : !Object.keys(x).length);
      if (inner && r() < 0.5) lines.push(`${pad}-${comment()}\n${emit(r, x, indent + step, step)}`);
      else if (inner && !Array.isArray(x) && r() < 0.7) lines.push(`${pad}- ${emit(r, x, indent + 2, step).trimStart()}`);
      else lines.push(`${pad}- ${inner ? emit(r, x, indent, step, true) : emit(r, x, indent, step)}${comment()}`);
      if (r() < 0.05) lines.push('');
    }
    return lines.join('\n');
  }
  const entries = Object.entries(v);
  if (!entries.length) return '{}';
  for (const [k, x] of entries) {
    const inner = typeof x === 'object' && x !== null && !(Array.isArray(x) ? !x.length : !Object.keys(x).length);
    const key = scalarText(r, k, false);
    if (inner) {
      // A block sequence under a key may sit at the key's own indentation.
      const ind = Array.isArray(x) && r() < 0.3 ? indent : indent + step;
      lines.push(`${pad}${key}:${comment()}\n${emit(r, x, ind, step)}`);
    } else lines.push(`${pad}${key}: ${emit(r, x, indent + step, step)}${comment()}`);
    if (r() < 0.05) lines.push(r() < 0.5 ? '' : `${pad}# a comment line`);
  }
  return lines.join('\n');
}

/** One random edit of a text. */
function mutate(r: () => number, text: string): string {
  const at = Math.floor(r() * (text.length + 1));
  const pieces = [':', ' ', '-', '\n', '{', '}', '[', ']', ',', '#', "'", '"', '  ', '\n  ', '- ', ': ', '&a ', '*a', '!!str ', '<<: ', '? ', '|', '>', '%', '\t', 'x', '0', '\\'];
  const y = r();
  if (y < 0.4) return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 3));
  if (y < 0.85) return text.slice(0, at) + pieces[Math.floor(r() * pieces.length)] + text.slice(at);
  const lines = text.split('\n');
  const l = Math.floor(r() * lines.length);
  lines.splice(l, 0, lines[Math.floor(r() * lines.length)]);
  return lines.join('\n');
}

describe('the js-yaml event path of intent files', () => {
  it('reads every YAML file of the repository as the yaml path does, or declines', () => {
    const files = yamlFiles(root).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`));
    expect(files.length).toBeGreaterThan(150);
    let taken = 0;
    for (const f of files) if (compare(path.relative(root, f), readFileSync(f, 'utf8')).taken) taken++;
    // Most files are plain (the rest use anchors, merge keys, block scalars, or are broken on purpose).
    expect(taken).toBeGreaterThan(files.length / 2);
  });

  it('takes the generated fabrics and random intents, equal to the yaml path', () => {
    const sets = [
      generateFabricIntent({ pods: 2, spinesPerPod: 2, leavesPerPod: 6, superSpines: 2, tenants: 3, networksPerVrf: 2, endpointsPerLeaf: 2 }),
      ...Array.from({ length: 20 }, (_, i) => intentFiles(randomIntent(1000 + i))),
    ];
    let n = 0;
    for (const files of sets) {
      for (const f of files) {
        const o = compare(f.name, f.text);
        // Generated files are plain: every one takes the fast path.
        expect(o.taken, f.name).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
  });

  it('agrees on 3,000 texts emitted in random styles', () => {
    const r = rng(20261206);
    let taken = 0;
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      const top = typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { top: v };
      const text = `${r() < 0.1 ? '---\n' : ''}${r() < 0.2 ? '# header\n' : ''}${emit(r, top, 0, r() < 0.7 ? 2 : 4)}\n`;
      if (compare(`r${i}.yaml`, text).taken) taken++;
    }
    // Nulls, multi-line and odd scalars decline; most texts do not hold one.
    expect(taken).toBeGreaterThan(1000);
  });

  it('declines every randomly broken text yaml refuses, and reads the rest as yaml does', () => {
    const r = rng(7);
    const bases = [
      ...yamlFiles(path.join(root, 'intents')).map((f) => readFileSync(f, 'utf8')).filter((t) => t.length < 20_000),
      ...generateFabricIntent({ pods: 1, spinesPerPod: 2, leavesPerPod: 3, tenants: 2, endpointsPerLeaf: 1 }).map((f) => f.text),
    ];
    let refused = 0;
    let taken = 0;
    for (let i = 0; i < 4000; i++) {
      let text = bases[Math.floor(r() * bases.length)];
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) text = mutate(r, text);
      const o = compare(`m${i}.yaml`, text);
      if (o.yamlErrors) refused++;
      if (o.taken) taken++;
    }
    // The edits break many texts and leave many readable: both sides of the rule are exercised.
    expect(refused).toBeGreaterThan(500);
    expect(taken).toBeGreaterThan(500);
  });
});
