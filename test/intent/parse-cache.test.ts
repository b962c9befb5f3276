// Intent files read back from the parse cache (src/intent/parse-cache.ts) give the model, the
// places and the diagnostics parsing them gives: for the examples, for anchors, aliases and
// merge keys (places naming the anchor), for the same files under another directory, and for
// every broken intent of test/intent/broken.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import { loadIntentDir } from '../../src/intent/load.ts';
import { validateSchema } from '../../src/intent/validate.ts';
import type { ParseCache } from '../../src/intent/parse-cache.ts';
import { IntentError, formatDiagnostic } from '../../src/util/errors.ts';

class Recording implements ParseCache {
  readonly map = new Map<string, string>();
  hits = 0;
  get(key: string) {
    const v = this.map.get(key);
    if (v !== undefined) this.hits++;
    return v;
  }
  set(key: string, packed: string) {
    this.map.set(key, packed);
  }
}

/** The model, or the diagnostics as printed. */
function outcome(dir: string, cache?: ParseCache): unknown {
  try {
    return loadModelSync(dir, cache ? { parseCache: cache } : {});
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
}

describe('the parse cache', () => {
  it('gives the examples\' models exactly, read back from it', () => {
    for (const ex of ['dc1', 'dc2', 'fw2', 'slb1', 'gslb1']) {
      const dir = `intents/${ex}`;
      const cache = new Recording();
      const plain = outcome(dir);
      expect(outcome(dir, cache)).toEqual(plain);
      expect(cache.map.size).toBeGreaterThan(0);
      const files = cache.map.size;
      expect(outcome(dir, cache)).toEqual(plain);
      expect(cache.hits).toBe(files);
    }
  });

  it('keeps the places of merged keys and aliases (the anchor named), and a copy elsewhere gets its own file names', () => {
    const cache = new Recording();
    const at = (dir: string) => validateSchema(loadIntentDir(dir, cache)).locator;
    at('test/intent/good/anchors');
    const hitsBefore = cache.hits;
    const copy = mkdtempSync(path.join(tmpdir(), 'netloom-parse-cache-'));
    try {
      cpSync('test/intent/good/anchors', copy, { recursive: true });
      const loc = at(copy);
      expect(cache.hits).toBeGreaterThan(hitsBefore);
      const file = path.join(copy, 'nodes.yaml');
      const rel = path.relative(process.cwd(), file);
      const shown = rel.startsWith('..') ? file : rel;
      expect(loc.at(['nodes', 'leaf1', 'role'])).toEqual({ file: shown, line: 12, col: 16, via: { anchor: 'leaf', file: shown, line: 5, col: 9 } });
      expect(loc.at(['nodes', 'leaf1', 'id'])).toEqual({ file: shown, line: 12, col: 27 });
      expect(outcome(copy, cache)).toEqual(outcome(copy));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('gives every broken intent\'s diagnostics exactly, cached or not', () => {
    const cache = new Recording();
    const broken = readdirSync('test/intent/broken').map((f) => path.join('test/intent/broken', f));
    expect(broken.length).toBeGreaterThan(30);
    for (const f of broken) {
      const plain = outcome(f);
      expect(plain).toBeInstanceOf(Array);
      expect(outcome(f, cache)).toEqual(plain);
      expect(outcome(f, cache)).toEqual(plain);
    }
    // Files that parse are kept (their errors come later, from the schema or the model).
    expect(cache.hits).toBeGreaterThan(20);
  });
});
