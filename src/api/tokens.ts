/**
 * Bearer tokens of the service: `read` (every GET) and `write` (every mutating route). From
 * NETLOOM_READ_TOKEN / NETLOOM_WRITE_TOKEN, else from STATE_DIR/tokens.json, which the first
 * start creates with mode 0600. Tokens are never printed or logged; only their SHA-256 stays
 * in memory, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../util/errors.ts';

export type Role = 'read' | 'write';

export interface TokenCheck {
  /** The role a presented token grants, if any. */
  roleOf(token: string): Role | undefined;
  /** Where the tokens come from (never the tokens). */
  source: string;
}

const digest = (t: string) => createHash('sha256').update(t).digest();

export function tokenCheck(tokens: Record<Role, string>, source: string): TokenCheck {
  const hashes = { read: digest(tokens.read), write: digest(tokens.write) };
  return {
    source,
    roleOf(token) {
      const h = digest(token);
      if (timingSafeEqual(h, hashes.write)) return 'write';
      if (timingSafeEqual(h, hashes.read)) return 'read';
      return undefined;
    },
  };
}

export const TOKEN_FILE = 'tokens.json';

export function loadTokens(stateDir: string, env: NodeJS.ProcessEnv = process.env): TokenCheck {
  if (env.NETLOOM_READ_TOKEN || env.NETLOOM_WRITE_TOKEN) {
    if (!env.NETLOOM_READ_TOKEN || !env.NETLOOM_WRITE_TOKEN) throw new EnvironmentError('set both NETLOOM_READ_TOKEN and NETLOOM_WRITE_TOKEN, or neither (then the state directory\'s tokens.json is used)');
    if (env.NETLOOM_READ_TOKEN === env.NETLOOM_WRITE_TOKEN) throw new EnvironmentError('NETLOOM_READ_TOKEN and NETLOOM_WRITE_TOKEN must differ');
    return tokenCheck({ read: env.NETLOOM_READ_TOKEN, write: env.NETLOOM_WRITE_TOKEN }, 'environment (NETLOOM_READ_TOKEN, NETLOOM_WRITE_TOKEN)');
  }
  const file = path.join(stateDir, TOKEN_FILE);
  if (!existsSync(file)) {
    const fresh = { read: randomBytes(32).toString('base64url'), write: randomBytes(32).toString('base64url') };
    writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  if ((statSync(file).mode & 0o077) !== 0) throw new EnvironmentError(`${file}: readable by others (mode ${(statSync(file).mode & 0o777).toString(8)}); chmod 600 it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new EnvironmentError(`${file}: not JSON; delete it to generate new tokens`);
  }
  const t = parsed as Partial<Record<Role, unknown>>;
  if (typeof t.read !== 'string' || typeof t.write !== 'string' || t.read.length < 16 || t.write.length < 16 || t.read === t.write) throw new EnvironmentError(`${file}: needs two different "read" and "write" tokens of at least 16 characters`);
  return tokenCheck({ read: t.read, write: t.write }, file);
}
