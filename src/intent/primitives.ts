/**
 * Value types shared by the fabric's schema (schema.ts) and the domains' fragments
 * (src/domains/<id>/intent.ts). Kept apart from schema.ts because schema.ts imports the domain
 * registry: a domain's fragment importing schema.ts would load inside that cycle.
 */
import { z } from 'zod';

/** A name templates print unescaped: letters, digits, "_", "." and "-". */
export const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/, 'must start with a letter and contain only letters, digits, "_", "." or "-" (at most 63 characters)');

/**
 * Free text (a site code, a description): one line of printable characters, so it can land
 * in a CLI line, a quoted string or a shell script only as text (the render helpers escape
 * it for each syntax besides). Domains use it for their own free-text fields.
 */
export const freeText = z
  .string()
  .min(1)
  .max(240, 'must be at most 240 characters')
  .regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, 'must be one line of printable text (no line break, tab or other control character)');
