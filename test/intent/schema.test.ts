import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { intentFileJsonSchema } from '../../src/intent/json-schema.ts';

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

  it('describes the sections and rejects unknown keys', () => {
    const s = intentFileJsonSchema() as { properties: Record<string, { additionalProperties?: boolean }>; required?: string[]; additionalProperties?: boolean };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['fabric', 'pools', 'groups', 'nodes', 'links', 'tenants', 'endpoints', 'firewall', 'slb', 'gslb']));
    expect(s.required ?? []).toEqual([]);
    expect(s.additionalProperties).toBe(false);
    expect((s as { patternProperties?: object }).patternProperties).toEqual({ '^x-': {} });
  });
});
