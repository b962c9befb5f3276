import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { intentFileJsonSchema } from '../../src/intent/json-schema.ts';
import { generateFabricIntent, writeGeneratedIntent } from '../../src/intent/generate.ts';

describe('intent JSON Schema', () => {
  it('models/intent.schema.json is generated from the zod schema (run `netloom schema --write`)', () => {
    const checkedIn = readFileSync('models/intent.schema.json', 'utf8');
    expect(checkedIn).toBe(JSON.stringify(intentFileJsonSchema(), null, 2) + '\n');
  });

  it('every example file points editors at it', () => {
    for (const ex of ['intents/dc1', 'intents/dc2']) {
      for (const f of readdirSync(ex).filter((x) => x.endsWith('.yaml'))) {
        expect(readFileSync(`${ex}/${f}`, 'utf8').split('\n')[0], `${ex}/${f}`).toBe('# yaml-language-server: $schema=../../models/intent.schema.json');
      }
    }
  });

  it('a generated intent points editors at it from wherever it is written', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'netloom-gen-')), 'deep', 'fabric');
    try {
      writeGeneratedIntent(dir, generateFabricIntent({ pods: 1, spinesPerPod: 2, leavesPerPod: 2 }));
      const files = readdirSync(dir).filter((x) => x.endsWith('.yaml'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(readFileSync(path.join(dir, f), 'utf8').split('\n')[0])?.[1];
        expect(ref, f).toBeDefined();
        expect(path.resolve(dir, ref!)).toBe(path.resolve('models/intent.schema.json'));
        expect(existsSync(path.resolve(dir, ref!))).toBe(true);
      }
    } finally {
      rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true });
    }
  });

  it('describes the sections and rejects unknown keys', () => {
    const s = intentFileJsonSchema() as { properties: Record<string, { additionalProperties?: boolean }>; required?: string[]; additionalProperties?: boolean };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['fabric', 'pools', 'groups', 'nodes', 'links', 'tenants', 'endpoints', 'firewall', 'slb', 'gslb']));
    expect(s.required ?? []).toEqual([]);
    expect(s.additionalProperties).toBe(false);
    expect((s as { patternProperties?: object }).patternProperties).toEqual({ '^x-': {} });
  });
});
