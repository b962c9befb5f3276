/**
 * Test harness: a real yuma123 netconfd behind its own OpenSSH sshd on a free loopback port.
 * Each instance gets a temp dir with its own sshd_config, host key, client key, netconfd
 * socket (`--ncxserver-sockname`, paired with the port in the netconf-subsystem line) and
 * YUMA_HOME (netconfd writes startup-cfg.xml on every commit), so instances coexist across
 * parallel test files. Needs root (sshd privilege separation, root login) and the Debian
 * packages netconfd + openssh-server; see lab/netconf/README.md.
 *
 *   const srv = await startNetconfd();
 *   const s = await NetconfSession.connect({ host: srv.host, port: srv.port,
 *     credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile } });
 *   ...
 *   await srv.stop();
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintSha256 } from '../../src/push/netconf/hostkeys.ts';
import type { CredentialsInit } from '../../src/push/netconf/credentials.ts';

export const NETCONFD = '/usr/sbin/netconfd';
export const SSHD = '/usr/sbin/sshd';
export const NETCONF_SUBSYSTEM = '/usr/sbin/netconf-subsystem';
export const YUMA_IETF_MODULES = '/usr/share/yuma/modules/ietf';

/** Modules loaded by default: interfaces with IPv4/IPv6 addressing, routing. */
export const DEFAULT_MODULES = ['ietf-interfaces', 'iana-if-type', 'ietf-ip', 'ietf-routing'];

export interface NetconfdServer {
  host: string;
  port: number;
  /** Host key as `ssh-keygen -lf` prints it: SHA256:base64. */
  hostKeyFingerprint: string;
  /** known_hosts line for this server (`[127.0.0.1]:PORT ssh-ed25519 AAAA...`). */
  knownHostsLine: string;
  /** A known_hosts file containing exactly that line. */
  knownHostsFile: string;
  username: string;
  /** Private key (OpenSSH format) authorised for `username`. */
  privateKeyFile: string;
  credentials: CredentialsInit;
  dir: string;
  /** Unix socket between netconf-subsystem and netconfd. */
  socketPath: string;
  netconfdPid: number;
  netconfdLog(): string;
  sshdLog(): string;
  /** SIGSTOP / SIGCONT netconfd: lets tests make the server stop answering without dropping TCP. */
  pauseNetconfd(): void;
  resumeNetconfd(): void;
  /** SIGSTOP / SIGCONT the per-connection sshd processes (children of the listener): a peer that vanished without closing TCP. */
  pauseSshSessions(): number[];
  resumeSshSessions(pids: number[]): void;
  /**
   * SIGSTOP the netconf-subsystem processes of the sessions open now: SSH keeps answering
   * (keepalives), NETCONF does not - a session that stops answering RPCs, as netconfd 2.13's
   * now and then do. Resume with resumeSshSessions.
   */
  pauseNetconfSubsystems(): number[];
  /** Authorises another public key (OpenSSH one-line format) for `username`. */
  authorizeKey(publicKeyLine: string): void;
  /** Kills sshd and netconfd (by pid) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartNetconfdOptions {
  modules?: string[];
  /** Extra netconfd arguments, e.g. `--idle-timeout=5`. */
  netconfdArgs?: string[];
  /** netconfd --log-level (default info). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'debug2';
  /** Prefix of the temp dir, to tell instances apart in logs. */
  name?: string;
}

/** Why netconfd tests cannot run here, or undefined when they can. */
export function netconfdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'netconfd tests need root (sshd privilege separation and root login)';
  for (const f of [NETCONFD, SSHD, NETCONF_SUBSYSTEM, '/usr/bin/ssh-keygen']) {
    if (!existsSync(f)) return `${f} is missing (apt-get install netconfd openssh-server)`;
  }
  if (!existsSync(path.join(YUMA_IETF_MODULES, 'ietf-interfaces@2014-05-08.yang'))) return `${YUMA_IETF_MODULES} lacks ietf-interfaces`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number, alive: () => string | undefined): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    const dead = alive();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await sleep(25);
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

async function kill(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.pid === undefined || exited(p)) return;
  const done = new Promise<void>((r) => p.once('exit', () => r()));
  // A paused (SIGSTOP) process would not act on SIGTERM.
  p.kill('SIGCONT');
  p.kill('SIGTERM');
  const t = setTimeout(() => {
    if (!exited(p)) p.kill('SIGKILL');
  }, 3000);
  await done;
  clearTimeout(t);
}

/** Child processes of `pid`, recursively (Linux /proc). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return out;
  }
  for (const k of kids) out.push(k, ...descendants(k));
  return out;
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** lab/netconf/sshd_config.template with this instance's dir, port and socket filled in. */
export const SSHD_CONFIG_TEMPLATE = fileURLToPath(new URL('../../lab/netconf/sshd_config.template', import.meta.url));

function sshdConfig(dir: string, port: number, sock: string): string {
  const vars: Record<string, string> = { DIR: dir, PORT: String(port), SOCK: sock };
  return readFileSync(SSHD_CONFIG_TEMPLATE, 'utf8').replace(/@(DIR|PORT|SOCK)@/g, (_, k: string) => vars[k]);
}

async function startOnce(opts: StartNetconfdOptions): Promise<NetconfdServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `netloom-${opts.name ?? 'netconfd'}-`));
  const home = path.join(dir, 'home');
  // netconfd keeps startup-cfg.xml and its txid in $YUMA_HOME/data (not under $HOME/.yuma).
  mkdirSync(path.join(home, 'data'), { recursive: true });
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_ed25519');
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'netloom-test-host', '-f', hostKey]);
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'netloom-test-client', '-f', clientKey]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(clientKey + '.pub'), { mode: 0o600 });
  const [keyType, keyB64] = readFileSync(hostKey + '.pub', 'utf8').trim().split(/\s+/);
  const port = await freePort();
  const sock = path.join(dir, 'ncxserver.sock');
  writeFileSync(path.join(dir, 'sshd_config'), sshdConfig(dir, port, sock));
  const ndLog = path.join(dir, 'netconfd.log');
  const sshdLogFile = path.join(dir, 'sshd.log');

  const modules = opts.modules ?? DEFAULT_MODULES;
  const ndArgs = [
    ...modules.map((m) => `--module=${m}`),
    '--target=candidate',
    '--no-startup',
    '--superuser=root',
    `--port=${port}`,
    `--ncxserver-sockname=${sock}`,
    `--log=${ndLog}`,
    `--log-level=${opts.logLevel ?? 'info'}`,
    ...(opts.netconfdArgs ?? []),
  ];
  const env = { ...process.env, HOME: home, YUMA_HOME: home };
  const nd = spawn(NETCONFD, ndArgs, { env, stdio: ['ignore', 'ignore', 'ignore'], cwd: dir });
  let sshd: ChildProcess | undefined;
  // Safety net if the test process exits without stop() (a failed afterAll, a worker teardown).
  const onExit = (): void => {
    for (const p of [nd, sshd]) if (p && !exited(p)) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    await kill(nd);
    await kill(sshd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'netconfd',
      // netconfd binds and listens on its socket once the modules are loaded.
      () => existsSync(sock),
      20_000,
      () => (exited(nd) ? `exited (${nd.exitCode ?? nd.signalCode}); log:\n${readOr(ndLog)}` : undefined),
    );
    const errFd = openSync(sshdLogFile, 'a');
    sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', errFd, errFd], cwd: dir });
    closeSync(errFd);
    const s = sshd;
    await waitFor(
      'sshd',
      () => readOr(sshdLogFile).includes(`Server listening on 127.0.0.1 port ${port}`),
      10_000,
      () => (exited(s) ? `exited (${s.exitCode ?? s.signalCode}); log:\n${readOr(sshdLogFile)}` : undefined),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const knownHostsLine = `[127.0.0.1]:${port} ${keyType} ${keyB64}`;
  const knownHostsFile = path.join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, knownHostsLine + '\n');
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port,
    hostKeyFingerprint: fingerprintSha256(Buffer.from(keyB64, 'base64')),
    knownHostsLine,
    knownHostsFile,
    username: 'root',
    privateKeyFile: clientKey,
    credentials: { username: 'root', privateKeyFile: clientKey },
    dir,
    socketPath: sock,
    netconfdPid: nd.pid!,
    netconfdLog: () => readOr(ndLog),
    pauseNetconfd: () => void nd.kill('SIGSTOP'),
    resumeNetconfd: () => void nd.kill('SIGCONT'),
    pauseSshSessions: () => {
      const pids = descendants(sshd!.pid!);
      for (const p of pids) process.kill(p, 'SIGSTOP');
      return pids;
    },
    pauseNetconfSubsystems: () => {
      const pids = descendants(sshd!.pid!).filter((p) => readOr(`/proc/${p}/comm`).startsWith('netconf-subsys'));
      for (const p of pids) process.kill(p, 'SIGSTOP');
      return pids;
    },
    resumeSshSessions: (pids: number[]) => {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGCONT');
        } catch {
          // already gone
        }
      }
    },
    authorizeKey: (line: string) => appendFileSync(path.join(dir, 'authorized_keys'), line.trim() + '\n'),
    sshdLog: () => readOr(sshdLogFile),
    stop: () => (stopped ??= stop()),
  };
}

/** Starts sshd + netconfd; retries on a port race with another process. */
export async function startNetconfd(opts: StartNetconfdOptions = {}): Promise<NetconfdServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      last = e;
      if (!/Address already in use|Bind to port/i.test(String((e as Error).message))) throw e;
    }
  }
  throw last;
}
