/**
 * SSH host key verification against OpenSSH known_hosts files and pinned fingerprints.
 * Supported known_hosts syntax: comma-separated host patterns with `*`/`?` wildcards and
 * `!` negation, `[host]:port` for non-22 ports, hashed names (`|1|salt|hmac-sha1`), and the
 * `@revoked` marker. `@cert-authority` lines are skipped: host certificates are not accepted.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HostKeyProblem } from './errors.ts';

export interface KnownHostEntry {
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Raw host field: comma-separated patterns, or a hashed `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** `ssh-keygen -lf` style fingerprint: "SHA256:" + unpadded base64 of sha256(key blob). */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

export function normaliseFingerprint(fp: string): string {
  const t = fp.trim();
  const body = t.startsWith('SHA256:') ? t.slice(7) : t;
  return 'SHA256:' + body.replace(/=+$/, '');
}

/** Key type name stored at the start of an SSH wire-format public key. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const n = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + n).toString('latin1');
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l || l.startsWith('#')) continue;
    const f = l.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@revoked' || f[0] === '@cert-authority') {
      marker = f[0] === '@revoked' ? 'revoked' : 'cert-authority';
      f.shift();
    } else if (f[0].startsWith('@')) continue;
    if (f.length < 3) continue;
    const key = Buffer.from(f[2], 'base64');
    if (key.length === 0) continue;
    const e: KnownHostEntry = { line: i + 1, hosts: f[0], keyType: f[1], key };
    if (marker) e.marker = marker;
    out.push(e);
  }
  return out;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(s);
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|');
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

export function entryMatchesHost(e: KnownHostEntry, host: string, port: number): boolean {
  const name = hostKeyName(host, port);
  if (e.hosts.startsWith('|')) return hashedMatch(e.hosts, name);
  let matched = false;
  for (const p of e.hosts.split(',')) {
    if (!p) continue;
    const neg = p.startsWith('!');
    const pat = neg ? p.slice(1) : p;
    if (wildcardMatch(pat, name)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

export function knownHostsLine(host: string, port: number, keyBlob: Buffer, hashed = false): string {
  const name = hostKeyName(host, port);
  return `${hashed ? hashHostName(name) : name} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}`;
}

export interface HostKeyPolicy {
  /** OpenSSH known_hosts file. Missing file = no known hosts. */
  knownHostsFile?: string;
  /** Pinned fingerprints, `SHA256:...` as `ssh-keygen -lf` prints them. */
  fingerprints?: string[];
  /**
   * Trust a host with no known key and record it to `knownHostsFile` (trust on first use).
   * Never the default; a changed key is refused even with this set.
   */
  acceptNew?: boolean;
  /** Record accepted keys with hashed host names (like `HashKnownHosts yes`). */
  hashNew?: boolean;
}

export type HostKeyVerdict =
  | { ok: true; how: 'pinned' | 'known-hosts' | 'accepted-new'; fingerprint: string }
  | { ok: false; problem: HostKeyProblem; fingerprint: string; message: string };

export function verifyHostKey(policy: HostKeyPolicy, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const fingerprint = fingerprintSha256(keyBlob);
  const name = hostKeyName(host, port);
  const pins = (policy.fingerprints ?? []).map(normaliseFingerprint);
  const entries =
    policy.knownHostsFile && existsSync(policy.knownHostsFile)
      ? parseKnownHosts(readFileSync(policy.knownHostsFile, 'utf8')).filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, host, port))
      : [];
  const same = (e: KnownHostEntry): boolean => e.key.length === keyBlob.length && timingSafeEqual(e.key, keyBlob);
  const revoked = entries.find((e) => e.marker === 'revoked' && same(e));
  if (revoked) {
    return { ok: false, problem: 'revoked', fingerprint, message: `host key ${fingerprint} of ${name} is marked @revoked in ${policy.knownHostsFile}:${revoked.line}` };
  }
  if (pins.includes(fingerprint)) return { ok: true, how: 'pinned', fingerprint };
  const known = entries.filter((e) => !e.marker);
  if (known.some(same)) return { ok: true, how: 'known-hosts', fingerprint };
  if (known.length > 0 || pins.length > 0) {
    const where = known.length > 0 ? `${policy.knownHostsFile}:${known.map((e) => e.line).join(',')}` : 'the pinned fingerprints';
    return {
      ok: false,
      problem: 'mismatch',
      fingerprint,
      message: `HOST KEY MISMATCH for ${name}: it presented ${keyTypeOf(keyBlob)} ${fingerprint}, which does not match ${where}; refusing to connect (possible man-in-the-middle, or the host was reinstalled)`,
    };
  }
  if (policy.acceptNew && policy.knownHostsFile) {
    mkdirSync(path.dirname(policy.knownHostsFile), { recursive: true });
    appendFileSync(policy.knownHostsFile, knownHostsLine(host, port, keyBlob, policy.hashNew) + '\n', { mode: 0o600 });
    return { ok: true, how: 'accepted-new', fingerprint };
  }
  return {
    ok: false,
    problem: 'unknown',
    fingerprint,
    message:
      `unknown host ${name} (${keyTypeOf(keyBlob)} ${fingerprint}): no known_hosts entry` +
      (policy.knownHostsFile ? ` in ${policy.knownHostsFile}` : ' (no known_hosts file given)') +
      ' and no pinned fingerprint; pin it or connect once with acceptNew',
  };
}
