// Credentials against the real sshd in front of netconfd: key files (plain and encrypted),
// ssh-agent, environment; secrets never appear in errors or debug logs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, credentialsFromEnv, NetconfSession, NetconfTransportError, type NetconfConnectOptions } from '../../src/push/netconf/index.ts';
import { netconfdMissing, startNetconfd, type NetconfdServer } from '../support/netconfd.ts';
import { inCI } from '../support/ci.ts';

const missing = netconfdMissing() ?? (existsSync('/usr/bin/ssh-agent') ? undefined : '/usr/bin/ssh-agent missing (openssh-client)');
const skip = missing !== undefined && !inCI;
if (skip) console.warn(`skipping NETCONF auth tests: ${missing}`);

const PASSPHRASE = 'pp-Zq8vW3-correct-horse';
const PASSWORD = 'pw-Hk2mX9-battery-staple';

describe.skipIf(skip)('NETCONF credentials and redaction', () => {
  let srv: NetconfdServer;
  let encKey: string;
  let agent: ChildProcess | undefined;
  let agentSock: string;
  const base = (): Omit<NetconfConnectOptions, 'credentials'> => ({ host: srv.host, port: srv.port, hostKey: { fingerprints: [srv.hostKeyFingerprint] }, connectTimeoutMs: 10_000 });

  beforeAll(async () => {
    srv = await startNetconfd({ name: 'nc-auth' });
    encKey = path.join(srv.dir, 'enc_key');
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', encKey]);
    srv.authorizeKey(readFileSync(encKey + '.pub', 'utf8'));
    agentSock = path.join(srv.dir, 'agent.sock');
    agent = spawn('/usr/bin/ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSock); i++) await new Promise((r) => setTimeout(r, 20));
    execFileSync('/usr/bin/ssh-add', ['-q', srv.privateKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
  });
  afterAll(async () => {
    if (agent?.pid !== undefined && agent.exitCode === null) agent.kill('SIGTERM');
    await srv?.stop();
  });

  it('an encrypted key with its passphrase authenticates; a wrong passphrase fails without echoing it', async () => {
    const logs: string[] = [];
    const s = await NetconfSession.connect({ ...base(), credentials: { username: 'root', privateKeyFile: encKey, passphrase: PASSPHRASE }, debug: (l) => logs.push(l) });
    expect(s.isOpen).toBe(true);
    await s.close();
    const wrong = 'pp-WRONG-' + PASSPHRASE;
    const err = await NetconfSession.connect({ ...base(), credentials: { username: 'root', privateKeyFile: encKey, passphrase: wrong }, debug: (l) => logs.push(l) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfTransportError);
    expect((err as NetconfTransportError).kind).toBe('auth');
    const everything = inspect(err) + String((err as Error).stack) + logs.join('\n');
    expect(logs.length).toBeGreaterThan(10);
    expect(everything).not.toContain(PASSPHRASE);
    expect(everything).not.toContain(readFileSync(encKey, 'utf8').split('\n')[1]);
  });

  it('a refused password and a refused key: error and debug log name the methods, never the secrets', async () => {
    const logs: string[] = [];
    // sshd here only allows public keys; the password is offered and must not leak anywhere.
    const err = await NetconfSession.connect({ ...base(), credentials: { username: 'root', password: PASSWORD, privateKey: readFileSync(encKey), passphrase: PASSPHRASE, }, debug: (l) => logs.push(l) })
      .then(async (s) => {
        // The encrypted key is authorised: this one gets in, after the password was refused.
        await s.close();
        return undefined;
      })
      .catch((e: unknown) => e);
    expect(err).toBeUndefined();
    expect(logs.join('\n')).toMatch(/password/i);
    const err2 = await NetconfSession.connect({ ...base(), credentials: { username: 'nobody-here', password: PASSWORD }, debug: (l) => logs.push(l) }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(NetconfTransportError);
    expect((err2 as NetconfTransportError).kind).toBe('auth');
    expect((err2 as Error).message).toMatch(/authentication failed for user nobody-here .*password/);
    const everything = inspect(err2) + String((err2 as Error).stack) + logs.join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(PASSPHRASE);
  });

  it('authenticates through an ssh-agent', async () => {
    const s = await NetconfSession.connect({ ...base(), credentials: { username: 'root', agent: agentSock } });
    expect(s.sessionId).toBeGreaterThan(0);
    await s.close();
  });

  it('takes credentials from the environment, and printing them shows no secret', async () => {
    const c = credentialsFromEnv({ NETLOOM_NETCONF_USERNAME: 'root', NETLOOM_NETCONF_KEY_FILE: encKey, NETLOOM_NETCONF_KEY_PASSPHRASE: PASSPHRASE });
    expect(inspect(c) + JSON.stringify(c)).not.toContain(PASSPHRASE);
    const s = await NetconfSession.connect({ ...base(), credentials: c });
    expect(s.isOpen).toBe(true);
    await s.close();
    // Agent from SSH_AUTH_SOCK when nothing else is configured.
    const viaAgent = credentialsFromEnv({ NETLOOM_NETCONF_USERNAME: 'root', SSH_AUTH_SOCK: agentSock });
    const s2 = await NetconfSession.connect({ ...base(), credentials: viaAgent });
    await s2.close();
    expect(inspect(credentials({ username: 'u', password: PASSWORD }))).not.toContain(PASSWORD);
  });

  it('an unreadable key file is reported by path', async () => {
    const err = await NetconfSession.connect({ ...base(), credentials: { username: 'root', privateKeyFile: path.join(srv.dir, 'nope') } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetconfTransportError);
    expect((err as Error).message).toContain('cannot read private key file');
  });
});
