/**
 * Value types shared by the fabric's schema (schema.ts) and the domains' fragments
 * (src/domains/<id>/intent.ts). Kept apart from schema.ts because schema.ts imports the domain
 * registry: a domain's fragment importing schema.ts would load inside that cycle.
 */
import { z } from 'zod';
import { normalizeCidr, parseCidr } from 'cidr-tools';

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

const v4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const v6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/** Why `s` is not an address or prefix, or undefined when it is one (host bits zero). */
export function cidrProblem(s: string): string | undefined {
  const [addr, len, ...rest] = s.split('/');
  if (rest.length || !(v4.test(addr) || v6.test(addr)) || (len !== undefined && !/^\d{1,3}$/.test(len))) return `'${s}' is not an IPv4/IPv6 address or prefix like 10.0.0.0/24 or fd00::/64`;
  const max = v4.test(addr) ? 32 : 128;
  if (len !== undefined && Number(len) > max) return `'${s}': prefix length ${len} exceeds ${max}`;
  let start: bigint;
  let host: bigint;
  try {
    start = parseCidr(s).start;
    host = parseCidr(addr).start;
  } catch {
    return `'${s}' is not an IPv4/IPv6 address or prefix like 10.0.0.0/24 or fd00::/64`;
  }
  if (v4.test(addr) && addr.split('.').some((o) => Number(o) > 255)) return `'${s}' is not an IPv4 address (octet above 255)`;
  if (start !== host) return `'${s}' has host bits set (the prefix is ${normalizeCidr(s)})`;
  return undefined;
}

const ipv4Re = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** A dotted-quad IPv4 address. */
export const ipv4 = z.string().regex(ipv4Re, 'must be an IPv4 address like 10.0.0.1');
/** An IPv4 prefix, address/length. */
export const ipv4Prefix = z
  .string()
  .regex(/^[\d.]+\/\d{1,2}$/, 'must be an IPv4 prefix like 10.0.0.0/24')
  .refine((s) => ipv4Re.test(s.split('/')[0]) && Number(s.split('/')[1]) <= 32, 'must be an IPv4 prefix like 10.0.0.0/24');
/** A 4-byte AS number. */
export const asn = z.number().int().min(1, 'ASN must be between 1 and 4294967295').max(4294967295, 'ASN must be between 1 and 4294967295');
