/**
 * SSH credentials for NETCONF sessions, from the environment, key files or an ssh-agent.
 * Secrets are kept off enumerable properties (so JSON.stringify / console.log / util.inspect
 * of a credentials object show `[redacted]`), and every text the session produces (error
 * messages, debug lines) passes through a Redactor that knows the secrets in use.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { EnvironmentError } from '../../util/errors.ts';

export interface CredentialsInit {
  username: string;
  password?: string;
  /** Private key text (OpenSSH or PEM). */
  privateKey?: string | Buffer;
  /** Path of a private key file, read at connect time. */
  privateKeyFile?: string;
  passphrase?: string;
  /** ssh-agent socket path, or true for $SSH_AUTH_SOCK. */
  agent?: string | true;
}

const SECRET_FIELDS = ['password', 'privateKey', 'passphrase'] as const;

/** Same shape as CredentialsInit; produced by `credentials()` with secrets hidden from printing. */
export type Credentials = CredentialsInit;

/**
 * Wraps credentials so that secrets stay usable (`c.password`) but are not enumerable, and
 * inspect/JSON print them as `[redacted]`.
 */
export function credentials(init: CredentialsInit): Credentials {
  const c: Record<string | symbol, unknown> = { username: init.username };
  if (init.privateKeyFile !== undefined) c.privateKeyFile = init.privateKeyFile;
  if (init.agent !== undefined) c.agent = init.agent;
  for (const f of SECRET_FIELDS) {
    if (init[f] !== undefined) Object.defineProperty(c, f, { value: init[f], enumerable: false });
  }
  const shown = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { ...c };
    for (const f of SECRET_FIELDS) if (init[f] !== undefined) o[f] = '[redacted]';
    return o;
  };
  Object.defineProperty(c, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(c, inspect.custom, { value: () => `Credentials ${inspect(shown())}`, enumerable: false });
  return c as unknown as Credentials;
}

/**
 * Credentials from the environment: NETLOOM_NETCONF_USERNAME (default $USER),
 * NETLOOM_NETCONF_PASSWORD, NETLOOM_NETCONF_KEY_FILE, NETLOOM_NETCONF_KEY_PASSPHRASE,
 * and the ssh-agent at $SSH_AUTH_SOCK when NETLOOM_NETCONF_AGENT=1 (or no other method is set).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env, prefix = 'NETLOOM_NETCONF'): Credentials {
  const username = env[`${prefix}_USERNAME`] ?? env.USER;
  if (!username) throw new EnvironmentError(`${prefix}_USERNAME is not set`);
  const init: CredentialsInit = { username };
  const pw = env[`${prefix}_PASSWORD`];
  if (pw) init.password = pw;
  const kf = env[`${prefix}_KEY_FILE`];
  if (kf) init.privateKeyFile = kf;
  const pp = env[`${prefix}_KEY_PASSPHRASE`];
  if (pp) init.passphrase = pp;
  const wantAgent = env[`${prefix}_AGENT`] === '1' || (!pw && !kf);
  if (wantAgent && env.SSH_AUTH_SOCK) init.agent = env.SSH_AUTH_SOCK;
  return credentials(init);
}

export interface ResolvedAuth {
  username: string;
  password?: string;
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
}

/** Reads the key file and resolves the agent socket; errors name files, never contents. */
export function resolveAuth(c: CredentialsInit): ResolvedAuth {
  const r: ResolvedAuth = { username: c.username };
  if (c.password !== undefined) r.password = c.password;
  if (c.passphrase !== undefined) r.passphrase = c.passphrase;
  if (c.privateKey !== undefined) r.privateKey = Buffer.isBuffer(c.privateKey) ? c.privateKey : Buffer.from(c.privateKey);
  else if (c.privateKeyFile !== undefined) {
    try {
      r.privateKey = readFileSync(c.privateKeyFile);
    } catch (e) {
      throw new EnvironmentError(`cannot read private key file ${c.privateKeyFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (c.agent !== undefined) {
    const sock = c.agent === true ? process.env.SSH_AUTH_SOCK : c.agent;
    if (!sock) throw new EnvironmentError('ssh-agent requested but SSH_AUTH_SOCK is not set');
    r.agent = sock;
  }
  if (r.password === undefined && r.privateKey === undefined && r.agent === undefined) {
    throw new EnvironmentError(`no SSH credentials for user ${c.username}: give a password, a private key (file) or an ssh-agent`);
  }
  return r;
}

/** Replaces every known secret (and each line of a multi-line one, e.g. a PEM key) with [REDACTED]. */
export class Redactor {
  private readonly secrets: string[] = [];

  constructor(auth?: ResolvedAuth) {
    if (auth) {
      this.add(auth.password);
      this.add(auth.passphrase);
      if (auth.privateKey) this.add(auth.privateKey.toString('utf8'));
    }
  }

  add(secret: string | undefined): void {
    if (!secret) return;
    const pieces = [secret, ...secret.split(/\r?\n/).map((l) => l.trim())];
    for (const p of pieces) {
      // Key armour lines (-----BEGIN ...) are not secret and would redact harmless text.
      if (p.length === 0 || p.startsWith('-----')) continue;
      if (!this.secrets.includes(p)) this.secrets.push(p);
    }
    this.secrets.sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
  }
}
