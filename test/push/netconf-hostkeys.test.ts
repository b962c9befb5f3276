// Host key checks against files and fingerprints produced by OpenSSH's own ssh-keygen.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  entryMatchesHost,
  fingerprintSha256,
  knownHostsLine,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/push/netconf/hostkeys.ts';
import { inCI } from '../support/ci.ts';

const KEYGEN = '/usr/bin/ssh-keygen';
const missing = existsSync(KEYGEN) ? undefined : `${KEYGEN} missing (apt-get install openssh-client)`;
if (missing && !inCI) console.warn(`skipping host key tests: ${missing}`);

describe.skipIf(missing !== undefined && !inCI)('known_hosts and fingerprints', () => {
  let dir: string;
  let keyA: Buffer;
  let keyB: Buffer;
  let lineA: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'netloom-hostkeys-'));
    for (const n of ['a', 'b']) execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, n)]);
    lineA = readFileSync(path.join(dir, 'a.pub'), 'utf8').trim();
    keyA = Buffer.from(lineA.split(/\s+/)[1], 'base64');
    keyB = Buffer.from(readFileSync(path.join(dir, 'b.pub'), 'utf8').split(/\s+/)[1], 'base64');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fingerprint equals `ssh-keygen -lf` output', () => {
    const out = execFileSync(KEYGEN, ['-lf', path.join(dir, 'a.pub')], { encoding: 'utf8' });
    expect(out.split(/\s+/)[1]).toBe(fingerprintSha256(keyA));
  });

  it('matches [host]:port entries, plain host on port 22, wildcards and negation', () => {
    const [, type, b64] = `x ${lineA}`.split(/\s+/);
    const kh = parseKnownHosts(
      [`# comment`, `[10.9.9.9]:830,other ${type} ${b64}`, `plain.example ${type} ${b64}`, `*.lab,!bad.lab ${type} ${b64}`, ''].join('\n'),
    );
    expect(kh).toHaveLength(3);
    expect(entryMatchesHost(kh[0], '10.9.9.9', 830)).toBe(true);
    expect(entryMatchesHost(kh[0], '10.9.9.9', 22)).toBe(false);
    expect(entryMatchesHost(kh[0], '10.9.9.9', 831)).toBe(false);
    expect(entryMatchesHost(kh[1], 'plain.example', 22)).toBe(true);
    expect(entryMatchesHost(kh[1], 'plain.example', 830)).toBe(false);
    expect(entryMatchesHost(kh[2], 'leaf1.lab', 22)).toBe(true);
    expect(entryMatchesHost(kh[2], 'bad.lab', 22)).toBe(false);
  });

  it('matches entries hashed by `ssh-keygen -H` (including [host]:port)', () => {
    const f = path.join(dir, 'kh_hashed');
    writeFileSync(f, `[127.0.0.1]:2830 ${lineA.split(/\s+/).slice(0, 2).join(' ')}\nrouter9 ${lineA.split(/\s+/).slice(0, 2).join(' ')}\n`);
    execFileSync(KEYGEN, ['-H', '-f', f], { stdio: 'ignore' });
    const text = readFileSync(f, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain('127.0.0.1');
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 2830, keyA)).toMatchObject({ ok: true, how: 'known-hosts' });
    expect(verifyHostKey({ knownHostsFile: f }, 'router9', 22, keyA)).toMatchObject({ ok: true });
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 2830, keyB)).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 2831, keyA)).toMatchObject({ ok: false, problem: 'unknown' });
  });

  it('our own known_hosts lines (plain and hashed) are found by `ssh-keygen -F`', () => {
    const f = path.join(dir, 'kh_ours');
    writeFileSync(f, knownHostsLine('127.0.0.1', 4830, keyA) + '\n' + knownHostsLine('10.1.1.1', 830, keyB, true) + '\n');
    expect(execFileSync(KEYGEN, ['-F', '[127.0.0.1]:4830', '-f', f], { encoding: 'utf8' })).toContain('Host [127.0.0.1]:4830 found');
    expect(execFileSync(KEYGEN, ['-F', '[10.1.1.1]:830', '-f', f], { encoding: 'utf8' })).toContain('found: line 2');
  });

  it('pinned fingerprints: match accepts, anything else is a mismatch, even with acceptNew', () => {
    const fpA = fingerprintSha256(keyA);
    expect(verifyHostKey({ fingerprints: [fpA] }, 'h', 830, keyA)).toMatchObject({ ok: true, how: 'pinned' });
    expect(verifyHostKey({ fingerprints: [fpA + '='] }, 'h', 830, keyA)).toMatchObject({ ok: true });
    const f = path.join(dir, 'kh_pin');
    const v = verifyHostKey({ fingerprints: [fpA], acceptNew: true, knownHostsFile: f }, 'h', 830, keyB);
    expect(v).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(existsSync(f)).toBe(false);
  });

  it('unknown host: refused by default; acceptNew records it and the next check is a known-hosts match', () => {
    const f = path.join(dir, 'kh_new');
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 5830, keyA)).toMatchObject({ ok: false, problem: 'unknown' });
    expect(existsSync(f)).toBe(false);
    expect(verifyHostKey({ knownHostsFile: f, acceptNew: true }, '127.0.0.1', 5830, keyA)).toMatchObject({ ok: true, how: 'accepted-new' });
    expect(readFileSync(f, 'utf8')).toBe(knownHostsLine('127.0.0.1', 5830, keyA) + '\n');
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 5830, keyA)).toMatchObject({ ok: true, how: 'known-hosts' });
    // A changed key is not "new": acceptNew does not override a mismatch.
    expect(verifyHostKey({ knownHostsFile: f, acceptNew: true }, '127.0.0.1', 5830, keyB)).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(readFileSync(f, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('@revoked keys are refused, @cert-authority lines are not trusted as host keys', () => {
    const f = path.join(dir, 'kh_marked');
    const [type, b64] = lineA.split(/\s+/);
    writeFileSync(f, `@revoked * ${type} ${b64}\n@cert-authority [127.0.0.1]:6830 ${type} ${b64}\n`);
    expect(verifyHostKey({ knownHostsFile: f }, 'x', 22, keyA)).toMatchObject({ ok: false, problem: 'revoked' });
    writeFileSync(f, `@cert-authority [127.0.0.1]:6830 ${type} ${b64}\n`);
    expect(verifyHostKey({ knownHostsFile: f }, '127.0.0.1', 6830, keyA)).toMatchObject({ ok: false, problem: 'unknown' });
  });
});
