import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { boolOpt } from '../command.ts';
import { intentFileJsonSchema, sitesJsonSchema } from '../../intent/json-schema.ts';
import { modelsDir } from '../../model/platforms.ts';
import { CheckFailed } from '../../util/errors.ts';

export const SCHEMA_FILE = path.join(modelsDir, 'intent.schema.json');
export const SITES_SCHEMA_FILE = path.join(modelsDir, 'sites.schema.json');

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the intent JSON Schema (--write updates models/intent.schema.json and models/sites.schema.json, --check fails when stale)',
  usage: 'netloom schema [--write | --check]',
  options: {
    write: { type: 'boolean', help: 'update models/intent.schema.json' },
    check: { type: 'boolean', help: 'fail (exit 1) when models/intent.schema.json is stale' },
  },
  async run(ctx) {
    const text = JSON.stringify(intentFileJsonSchema(), null, 2) + '\n';
    const files: [string, string][] = [[SCHEMA_FILE, text], [SITES_SCHEMA_FILE, JSON.stringify(sitesJsonSchema(), null, 2) + '\n']];
    if (boolOpt(ctx, 'write')) {
      for (const [f, t] of files) {
        writeFileSync(f, t);
        ctx.out(`wrote ${path.relative(process.cwd(), f)}`);
      }
    } else if (boolOpt(ctx, 'check')) {
      for (const [f, t] of files) {
        let current = '';
        try {
          current = readFileSync(f, 'utf8');
        } catch {
          // missing counts as stale
        }
        if (current !== t) throw new CheckFailed(`${f} is stale: run 'netloom schema --write'`);
      }
      ctx.out('intent schemas are up to date');
    } else ctx.out(text.trimEnd());
    return 0;
  },
};
