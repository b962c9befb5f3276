// YAML anchors, aliases and merge keys in intents, and top-level `x-` extension keys.
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { loadIntentDir } from '../../src/intent/load.ts';
import { validateSchema } from '../../src/intent/validate.ts';
import { IntentError, formatDiagnostic } from '../../src/util/errors.ts';

describe('anchors, aliases and merge keys', () => {
  it('dc1 written with merge keys instead of groups renders the same configs', () => {
    const plain = renderModel(loadModelSync('intents/dc1')).artifacts.map((a) => [a.path, a.content]);
    const anchored = renderModel(loadModelSync('test/intent/good/anchors')).artifacts.map((a) => [a.path, a.content]);
    expect(anchored).toEqual(plain);
  });

  it('explicit keys win over merged ones, earlier merge sources over later ones; x- keys are dropped', () => {
    const { intent, locator } = validateSchema(loadIntentDir('test/intent/good/anchors'));
    expect(intent.nodes.leaf2).toMatchObject({ role: 'leaf', platform: 'frr', id: 2 });
    expect(Object.keys(intent)).not.toContain('x-leaf');
    // A merged value points at the merge key's alias use, naming the anchor's own place.
    expect(locator.at(['nodes', 'leaf1', 'role'])).toEqual({
      file: 'test/intent/good/anchors/nodes.yaml', line: 12, col: 16,
      via: { anchor: 'leaf', file: 'test/intent/good/anchors/nodes.yaml', line: 5, col: 9 },
    });
    expect(locator.at(['nodes', 'leaf1', 'id'])).toEqual({ file: 'test/intent/good/anchors/nodes.yaml', line: 12, col: 27 });
  });

  it('an alias bomb is refused with a diagnostic, not expanded', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    let diags: string[] = [];
    try {
      loadIntentDir(writeTemp(lines.join('\n') + '\n'));
    } catch (e) {
      if (!(e instanceof IntentError)) throw e;
      diags = e.diagnostics.map(formatDiagnostic);
    }
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatch(/aliases expand to more than 100,000 values/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
function writeTemp(text: string): string {
  const d = mkdtempSync(path.join(tmpdir(), 'netloom-anchors-'));
  writeFileSync(path.join(d, 'bomb.yaml'), text);
  return d;
}
