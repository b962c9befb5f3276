/**
 * Bearer tokens of the service, one per role: `read` (every GET), `operate` (poll now,
 * acknowledge an incident) and `admin` (the audit log, the token set). Each role includes the
 * ones before it. From NETLOOM_READ_TOKEN / NETLOOM_OPERATE_TOKEN / NETLOOM_ADMIN_TOKEN, else
 * from STATE_DIR/tokens.json, which the first start creates with mode 0600 (a file of the
 * first version, {read, write}, still loads: its write token is the admin token). A file may
 * hold a token's SHA-256 (`sha256:<hex>`) in its place, so no token is stored at rest. Tokens
 * are never printed or logged; only their SHA-256 stays in memory, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../util/errors.ts';

export const ROLES = ['read', 'operate', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `have` may do what `need` allows (admin > operate > read). */
export const roleCovers = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);

export interface TokenCheck {
  /** The role a presented token grants, if any. */
  roleOf(token: string): Role | undefined;
  /** Where the tokens come from (never the tokens). */
  source: string;
  /** Each configured role with a short fingerprint of its token's hash (never the token). */
  fingerprints(): { role: Role; fingerprint: string }[];
  /** Reads the token file again (rotation without restart); environment tokens do not change. */
  reload(): void;
}

const digest = (t: string) => createHash('sha256').update(t).digest();

/** A token file may hold a token's SHA-256 instead of the token (hashed at rest): `sha256:<64 hex>`. */
const HASHED = /^sha256:([0-9a-f]{64})$/;

/** What a token file holds for `token`, hashed (`netloom serve --hash-token`). */
export const hashedToken = (token: string): string => `sha256:${digest(token).toString('hex')}`;

type TokenSet = Partial<Record<Role, string>>;

const hashOf = (value: string): Buffer => {
  const m = HASHED.exec(value);
  return m ? Buffer.from(m[1], 'hex') : digest(value);
};

function checks(tokens: TokenSet): { role: Role; hash: Buffer }[] {
  // Highest role first: the first match is the most a token grants.
  return [...ROLES].reverse().flatMap((role) => (tokens[role] ? [{ role, hash: hashOf(tokens[role]!) }] : []));
}

export function tokenCheck(tokens: TokenSet, source: string, reread?: () => TokenSet): TokenCheck {
  let hashes = checks(tokens);
  return {
    source,
    roleOf(token) {
      const h = digest(token);
      // Every hash is compared, so the time taken does not tell which role matched.
      let found: Role | undefined;
      for (const x of hashes) if (timingSafeEqual(h, x.hash) && !found) found = x.role;
      return found;
    },
    fingerprints: () => hashes.map((x) => ({ role: x.role, fingerprint: createHash('sha256').update(x.hash).digest('hex').slice(0, 12) })).reverse(),
    reload() {
      if (reread) hashes = checks(reread());
    },
  };
}

export const TOKEN_FILE = 'tokens.json';
const MIN_LENGTH = 16;

function validated(set: TokenSet, where: string): TokenSet {
  if (!set.read || !set.admin) throw new EnvironmentError(`${where}: needs a read and an admin token (operate is optional)`);
  const given = ROLES.filter((r) => set[r] !== undefined);
  for (const r of given) {
    const v = set[r]!;
    if (v.startsWith('sha256:') && !HASHED.test(v)) throw new EnvironmentError(`${where}: the ${r} token's hash is not sha256: and 64 lower-case hex digits`);
    if (!HASHED.test(v) && v.length < MIN_LENGTH) throw new EnvironmentError(`${where}: the ${r} token is shorter than ${MIN_LENGTH} characters`);
  }
  // A token and its hash given for two roles are the same token.
  if (new Set(given.map((r) => hashOf(set[r]!).toString('hex'))).size !== given.length) throw new EnvironmentError(`${where}: every role needs a token of its own`);
  return set;
}

export function loadTokens(stateDir: string, env: NodeJS.ProcessEnv = process.env): TokenCheck {
  const fromEnv = { read: env.NETLOOM_READ_TOKEN, operate: env.NETLOOM_OPERATE_TOKEN, admin: env.NETLOOM_ADMIN_TOKEN ?? env.NETLOOM_WRITE_TOKEN };
  if (Object.values(fromEnv).some((v) => v)) {
    const names = 'NETLOOM_READ_TOKEN, NETLOOM_OPERATE_TOKEN, NETLOOM_ADMIN_TOKEN';
    return tokenCheck(validated(Object.fromEntries(Object.entries(fromEnv).filter(([, v]) => v)), `environment (${names})`), `environment (${names})`);
  }
  const file = path.join(stateDir, TOKEN_FILE);
  if (!existsSync(file)) {
    const fresh = Object.fromEntries(ROLES.map((r) => [r, randomBytes(32).toString('base64url')]));
    writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const read = (): TokenSet => {
    if ((statSync(file).mode & 0o077) !== 0) throw new EnvironmentError(`${file}: readable by others (mode ${(statSync(file).mode & 0o777).toString(8)}); chmod 600 it`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new EnvironmentError(`${file}: not JSON; delete it to generate new tokens`);
    }
    const t = (parsed ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return validated({ read: str(t.read), operate: str(t.operate), admin: str(t.admin) ?? str(t.write) }, file);
  };
  return tokenCheck(read(), file, read);
}
