// Every broken intent under test/intent/broken states, in trailing "# expect:" lines, the
// exact diagnostics (file:line:col: message) netloom must report - all of them, in order.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadModelSync } from '../../src/model/index.ts';
import { IntentError, formatDiagnostic } from '../../src/util/errors.ts';

const dir = 'test/intent/broken';
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function diagnosticsOf(path: string): string[] {
  try {
    loadModelSync(path);
  } catch (e) {
    if (e instanceof IntentError) return e.diagnostics.map(formatDiagnostic);
    throw e;
  }
  return [];
}

describe('broken intents', () => {
  it('has at least 40 fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  for (const f of fixtures) {
    it(f, () => {
      const path = `${dir}/${f}`;
      const expected = readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('# expect: '))
        .map((l) => l.slice('# expect: '.length));
      expect(expected.length).toBeGreaterThan(0);
      expect(diagnosticsOf(path)).toEqual(expected);
    });
  }

  it('reports keys defined twice across the files of one directory', () => {
    const d = 'test/intent/broken-dirs/split-files';
    expect(diagnosticsOf(d)).toEqual([
      `${d}/zz-extra.yaml:3:3: 'nodes.leaf1' is already defined at ${d}/nodes.yaml:6:3`,
      `${d}/zz-extra.yaml:5:3: 'fabric.name' is already defined at ${d}/fabric.yaml:2:3`,
    ]);
  });
});
