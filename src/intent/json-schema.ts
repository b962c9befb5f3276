/**
 * The JSON Schema editors use for one intent *file*. A fabric is several files merged, so
 * each file may hold any subset of the top-level sections: the same schema with nothing
 * required at the top. Top-level `x-...` keys are extensions (anchors live there), ignored.
 */
import { z } from 'zod';
import { intentSchema } from './schema.ts';
import { multiSiteSchema } from './sites-schema.ts';

export function intentFileJsonSchema(): object {
  const perFile = intentSchema.partial();
  const s = z.toJSONSchema(perFile, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = s;
  return { $schema, $id: 'https://netloom.dev/schemas/intent.schema.json', title: 'netloom intent file', ...rest, patternProperties: { '^x-': {} } };
}

/** The JSON Schema of a multi-site directory's own files (sites.yaml, spanning domain sections). */
export function sitesJsonSchema(): object {
  const s = z.toJSONSchema(multiSiteSchema.partial(), { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = s;
  return { $schema, $id: 'https://netloom.dev/schemas/sites.schema.json', title: 'netloom multi-site intent (sites.yaml)', ...rest };
}
