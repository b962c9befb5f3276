import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { boolOpt } from '../command.ts';
import { intentFileJsonSchema } from '../../intent/json-schema.ts';
import { modelsDir } from '../../model/platforms.ts';
import { CheckFailed } from '../../util/errors.ts';

export const SCHEMA_FILE = path.join(modelsDir, 'intent.schema.json');

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the intent JSON Schema (--write updates models/intent.schema.json, --check fails when stale)',
  usage: 'netloom schema [--write | --check]',
  options: {
    write: { type: 'boolean', help: 'update models/intent.schema.json' },
    check: { type: 'boolean', help: 'fail (exit 1) when models/intent.schema.json is stale' },
  },
  async run(ctx) {
    const text = JSON.stringify(intentFileJsonSchema(), null, 2) + '\n';
    if (boolOpt(ctx, 'write')) {
      writeFileSync(SCHEMA_FILE, text);
      ctx.out(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
    } else if (boolOpt(ctx, 'check')) {
      const current = readFileSync(SCHEMA_FILE, 'utf8');
      if (current !== text) throw new CheckFailed(`${SCHEMA_FILE} is stale: run 'netloom schema --write'`);
      ctx.out('intent schema is up to date');
    } else ctx.out(text.trimEnd());
    return 0;
  },
};
