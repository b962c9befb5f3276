/**
 * Command execution over SSH (ssh2) for the FRR driver: one connection per device, commands
 * run through `exec` with optional stdin (uploads are `cat > file` with the content on stdin,
 * so no sftp-server is needed on the device). The host key is verified by the NETCONF client's
 * policy code (pins and known_hosts); credentials never reach a message.
 */
import { shq } from '../util/shell-quote.ts';
import { Client, type ConnectConfig } from 'ssh2';
import { Redactor, verifyHostKey, type CredentialsInit, type HostKeyPolicy, type HostKeyVerdict } from './netconf/index.ts';
import { resolveAuth } from './netconf/credentials.ts';
import { DeviceError } from './errors.ts';
import { DEFAULT_RETRY, withSessionRetry, type RetryListener, type RetryPolicy } from './retry.ts';
import { BoundedOutput } from '../util/bounded-output.ts';

export interface SshTarget {
  device: string;
  host: string;
  port: number;
  credentials: CredentialsInit;
  hostKey: HostKeyPolicy;
  connectTimeoutMs?: number;
}

export interface ExecOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export class SshExec {
  private closed = false;
  private readonly onGone = new Set<() => void>();

  private constructor(
    private readonly client: Client,
    readonly target: SshTarget,
    private readonly redactor: Redactor,
    readonly hostKeyFingerprint: string,
  ) {
    // A command in flight when the connection dies (keepalives unanswered) fails now, not at its timeout.
    client.on('close', () => {
      this.closed = true;
      for (const f of this.onGone) f();
      this.onGone.clear();
    });
  }

  static connect(t: SshTarget): Promise<SshExec> {
    const where = `${t.device} (${t.host}:${t.port})`;
    let auth;
    try {
      auth = resolveAuth(t.credentials);
    } catch (e) {
      return Promise.reject(new DeviceError(t.device, 'auth', `${where}: ${(e as Error).message}`));
    }
    const redactor = new Redactor(auth);
    return new Promise((resolve, reject) => {
      const client = new Client();
      let verdict: HostKeyVerdict | undefined;
      let done = false;
      const fail = (kind: DeviceError['kind'], msg: string): void => {
        if (done) return;
        done = true;
        client.destroy();
        reject(new DeviceError(t.device, kind, `${where}: ${redactor.redact(msg)}`));
      };
      client.on('error', (err: Error & { level?: string }) => {
        if (verdict && !verdict.ok) return fail('hostkey', verdict.message);
        if (err.level === 'client-authentication') return fail('auth', `authentication failed for user ${auth.username}`);
        fail('unreachable', err.message);
      });
      client.on('close', () => fail('unreachable', 'connection closed during set-up'));
      client.on('ready', () => {
        if (done) return;
        done = true;
        resolve(new SshExec(client, t, redactor, verdict && verdict.ok ? verdict.fingerprint : ''));
      });
      const cfg: ConnectConfig = {
        host: t.host,
        port: t.port,
        username: auth.username,
        readyTimeout: t.connectTimeoutMs ?? 15_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(t.hostKey, t.host, t.port, key);
          return verdict.ok;
        },
      };
      if (auth.password !== undefined) cfg.password = auth.password;
      if (auth.privateKey !== undefined) cfg.privateKey = auth.privateKey;
      if (auth.passphrase !== undefined) cfg.passphrase = auth.passphrase;
      if (auth.agent !== undefined) cfg.agent = auth.agent;
      try {
        client.connect(cfg);
      } catch (e) {
        fail('auth', (e as Error).message);
      }
    });
  }

  /** Runs a shell command line; never throws for a non-zero exit (callers decide). */
  exec(command: string, opts: { stdin?: string; timeoutMs?: number; maxOutputBytes?: number } = {}): Promise<ExecOutput> {
    const t = this.target;
    if (this.closed) return Promise.reject(new DeviceError(t.device, 'unreachable', `${t.device}: SSH connection is gone`));
    return new Promise((resolve, reject) => {
      const gone = () => {
        clearTimeout(timer);
        reject(new DeviceError(t.device, 'unreachable', `${t.device}: SSH connection lost during '${command.slice(0, 80)}'`));
      };
      this.onGone.add(gone);
      const timer = setTimeout(() => {
        this.onGone.delete(gone);
        reject(new DeviceError(t.device, 'timeout', `${t.device}: '${command.slice(0, 80)}' did not finish within ${opts.timeoutMs ?? 120_000} ms`));
      }, opts.timeoutMs ?? 120_000);
      this.client.exec(command, (err, ch) => {
        if (err) {
          clearTimeout(timer);
          this.onGone.delete(gone);
          return reject(new DeviceError(t.device, 'unreachable', `${t.device}: ${this.redactor.redact(err.message)}`));
        }
        const out = new BoundedOutput(opts.maxOutputBytes);
        const errs = new BoundedOutput(opts.maxOutputBytes);
        let code = -1;
        const collect = (b: BoundedOutput) => (d: Buffer) => {
          if (!b.push(d)) ch.close();
        };
        ch.on('data', collect(out));
        ch.stderr.on('data', collect(errs));
        ch.on('exit', (c: number | null) => {
          code = c ?? -1;
        });
        ch.on('close', () => {
          clearTimeout(timer);
          this.onGone.delete(gone);
          if (out.overflowed || errs.overflowed) {
            return reject(new DeviceError(t.device, 'command', `${t.device}: '${command.slice(0, 80)}' printed more than ${out.describeLimit()} on ${out.overflowed ? 'stdout' : 'stderr'}; stopped it`));
          }
          resolve({ code, stdout: out.text(), stderr: errs.text() });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /** exec that throws a DeviceError naming the step when the command fails. */
  async run(step: string, command: string, opts: { stdin?: string; timeoutMs?: number; kind?: DeviceError['kind'] } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
      throw new DeviceError(this.target.device, opts.kind ?? 'command', `${this.target.device}: ${step} failed (exit ${r.code}): ${detail.slice(0, 600)}`);
    }
    return r.stdout;
  }

  /** Writes a file through `cat >` (keeps owner and mode, works on bind-mounted targets). */
  async writeFile(path: string, content: string, mode?: string): Promise<void> {
    await this.run(`writing ${path}`, writeCommand(path, mode), { stdin: content });
  }

  /**
   * Writes a file and runs `then` in the same SSH round trip (a rollout's steps are round
   * trips in series: the one-VLAN bench spends most of its time there). Throws naming `step`
   * when either fails; returns `then`'s stdout.
   */
  async writeFileThen(path: string, content: string, step: string, then: string, opts: { mode?: string; timeoutMs?: number; kind?: DeviceError['kind'] } = {}): Promise<string> {
    const write = writeCommand(path, opts.mode);
    const r = await this.exec(`${write} || exit 97; ${then}`, { stdin: content, timeoutMs: opts.timeoutMs });
    if (r.code === 97) throw new DeviceError(this.target.device, 'command', `${this.target.device}: writing ${path} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    if (r.code !== 0) {
      const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
      throw new DeviceError(this.target.device, opts.kind ?? 'command', `${this.target.device}: ${step} failed (exit ${r.code}): ${detail.slice(0, 600)}`);
    }
    return r.stdout;
  }

  /** File content, or undefined when the file does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const r = await this.exec(`if [ -f ${shq(path)} ]; then cat ${shq(path)}; else exit 3; fi`);
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new DeviceError(this.target.device, 'command', `${this.target.device}: reading ${path} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  get isOpen(): boolean {
    return !this.closed && (this.client as unknown as { _sock?: { writable?: boolean } })._sock?.writable !== false;
  }

  close(): void {
    try {
      this.client.end();
    } catch {
      // already gone
    }
  }

  /** Drops the connection without a goodbye (the peer may not be answering). */
  destroy(): void {
    this.client.destroy();
  }
}

/**
 * SshExec that survives a session that stops answering: a command that timed out or lost its
 * connection is run again on a fresh connection (retry.ts). Every command the FRR driver runs
 * is safe to run twice (uploads, idempotent network.sh, frr-reload.py, reads).
 */
export class RetryingSsh {
  private conn: SshExec | undefined;
  retry: RetryPolicy = DEFAULT_RETRY;
  onRetry?: RetryListener;

  constructor(readonly target: SshTarget) {}

  private call<T>(step: string, f: (c: SshExec) => Promise<T>): Promise<T> {
    const fresh = async () => {
      this.conn?.destroy();
      this.conn = undefined;
      this.conn = await SshExec.connect(this.target);
    };
    return withSessionRetry(step, this.retry, { fresh, onRetry: this.onRetry, wrap: (e) => e }, () => {
      if (!this.conn) throw new DeviceError(this.target.device, 'unreachable', `${this.target.device}: not connected`);
      return f(this.conn);
    });
  }

  async connect(): Promise<void> {
    if (this.conn?.isOpen) return;
    await withSessionRetry('connect', this.retry, { fresh: async () => undefined, onRetry: this.onRetry, wrap: (e) => e }, async () => {
      this.conn?.destroy();
      this.conn = await SshExec.connect(this.target);
    });
  }

  get isOpen(): boolean {
    return !!this.conn?.isOpen;
  }

  exec(command: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<ExecOutput> {
    return this.call(command.slice(0, 60), (c) => c.exec(command, opts));
  }

  run(step: string, command: string, opts: { stdin?: string; timeoutMs?: number; kind?: DeviceError['kind'] } = {}): Promise<string> {
    return this.call(step, (c) => c.run(step, command, opts));
  }

  writeFile(path: string, content: string, mode?: string): Promise<void> {
    return this.call(`writing ${path}`, (c) => c.writeFile(path, content, mode));
  }

  readFile(path: string): Promise<string | undefined> {
    return this.call(`reading ${path}`, (c) => c.readFile(path));
  }

  writeFileThen(path: string, content: string, step: string, then: string, opts: { mode?: string; timeoutMs?: number; kind?: DeviceError['kind'] } = {}): Promise<string> {
    return this.call(step, (c) => c.writeFileThen(path, content, step, then, opts));
  }

  close(): void {
    this.conn?.close();
    this.conn = undefined;
  }
}

export { shq };

/**
 * Shell that writes stdin to `path` through a temporary file, then copies it over the target
 * (keeping owner and mode, and working on a bind-mounted file). The temporary name carries the
 * shell's pid: lab nodes bind-mount single files, so the directory beside them can be one that
 * several nodes share, and concurrent writes (a rollback of three leaves) must not collide.
 */
export function writeCommand(path: string, mode?: string): string {
  const q = shq(path);
  const tmp = `${q}.netloom-tmp.$$`;
  return `mkdir -p "$(dirname ${q})" && cat > ${tmp} && cat ${tmp} > ${q} && rm -f ${tmp}${mode ? ` && chmod ${mode} ${q}` : ''}`;
}
