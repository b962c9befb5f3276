/**
 * FRR over SSH (ssh2): one connection per device, reused for every command, the host key
 * pinned (a lab records each node's key; an inventory gives it). Secrets stay in memory.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { EnvironmentError } from '../../util/errors.ts';
import type { Collector, CommandResult } from './collector.ts';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyFile: string;
  /** `ssh-ed25519 AAAA...`: the only host key accepted. */
  hostKey?: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class SshCollector implements Collector {
  readonly name: string;
  private readonly targets: Map<string, SshTarget>;
  private readonly conns = new Map<string, Promise<Client>>();
  constructor(name: string, targets: Map<string, SshTarget>) {
    this.name = name;
    this.targets = targets;
  }

  private connect(device: string): Promise<Client> {
    let p = this.conns.get(device);
    if (p) return p;
    const t = this.targets.get(device);
    if (!t) return Promise.reject(new EnvironmentError(`no SSH target for ${device}`));
    p = new Promise<Client>((resolve, reject) => {
      const c = new Client();
      const wantKey = t.hostKey?.trim().split(/\s+/)[1];
      c.on('ready', () => resolve(c));
      c.on('error', (e) => reject(new EnvironmentError(`ssh ${t.username}@${t.host}:${t.port} (${device}): ${e.message}`)));
      c.connect({
        host: t.host,
        port: t.port,
        username: t.username,
        privateKey: readFileSync(t.privateKeyFile),
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer) => !wantKey || key.toString('base64') === wantKey,
      });
    });
    this.conns.set(device, p);
    p.catch(() => this.conns.delete(device));
    return p;
  }

  async run(device: string, command: string): Promise<CommandResult> {
    const c = await this.connect(device);
    return new Promise((resolve, reject) => {
      c.exec(`vtysh -c ${shellQuote(command)}`, (err, stream) => {
        if (err) return reject(new EnvironmentError(`${device}: ${err.message}`));
        let out = '';
        let errOut = '';
        stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
        stream.stderr.on('data', (d: Buffer) => (errOut += d.toString('utf8')));
        stream.on('close', (code: number | null) => {
          if (code === 0) resolve({ ok: true, stdout: out });
          else resolve({ ok: false, stdout: out, error: (errOut || out).trim().split('\n')[0] || `exit ${code}` });
        });
      });
    });
  }

  async close(): Promise<void> {
    for (const p of this.conns.values()) {
      try {
        (await p).end();
      } catch {
        // A connection that never opened has nothing to close.
      }
    }
    this.conns.clear();
  }
}
