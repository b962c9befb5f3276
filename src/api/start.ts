/**
 * Assembles `netloom serve`: the model loaded once, the target resolved once, the store and
 * tokens under the state directory, the monitor polling, webhooks attached, the API listening.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { FabricModel } from '../model/types.ts';
import { buildFabricGraph } from '../verify/graph.ts';
import { resolveTarget } from '../verify/live/run.ts';
import { EnvironmentError } from '../util/errors.ts';
import { Monitor, type MonitorConfig } from '../service/monitor.ts';
import type { CaptureRule } from '../service/incident-capture.ts';
import { DEFAULT_POLLING, DEFAULT_RECOVERY, describePolling, describeRecovery } from '../service/policy.ts';
import { recoverInterruptedRollouts, recoverOrphansBeforePoll } from '../service/rollout-recovery.ts';
import type { AuditEntry, NewEvent } from '../service/store.ts';
import { openSqliteStore } from '../service/sqlite-store.ts';
import type { ServiceStore } from '../service/store.ts';
import { DeviceViews } from '../service/views.ts';
import { attachWebhooks, type Webhook } from '../service/webhooks.ts';
import { buildServer } from './server.ts';
import { loadTokens } from './tokens.ts';
import path from 'node:path';

export interface ServeOptions {
  model: FabricModel;
  target: string;
  transport?: 'exec' | 'ssh';
  host: string;
  port: number;
  stateDir: string;
  monitor: Partial<Omit<MonitorConfig, 'capture'>> & { capture?: Partial<CaptureRule> | false };
  webhooks: Webhook[];
  report: (line: string) => void;
  /** PEM files: the API speaks HTTPS only. */
  tls?: { certFile: string; keyFile: string };
  /** Requests per minute per client address (0: none); default DEFAULT_RATE_PER_MINUTE. */
  ratePerMinute?: number;
}

export interface RunningService {
  app: FastifyInstance;
  monitor: Monitor;
  store: ServiceStore;
  url: string;
  tokenSource: string;
  close(): Promise<void>;
}

export async function startService(o: ServeOptions): Promise<RunningService> {
  // The target and the TLS files first: a wrong one leaves nothing behind (no state directory, no tokens).
  const target = resolveTarget(o.target, { transport: o.transport });
  const tls = o.tls ? readTls(o.tls.certFile, o.tls.keyFile) : undefined;
  if (target.lab && target.lab.status !== 'running') throw new EnvironmentError(`lab ${target.lab.name} is ${target.lab.status}`);
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const tokens = loadTokens(o.stateDir);
  const store = openSqliteStore(path.join(o.stateDir, 'netloom.db'));
  const fg = buildFabricGraph(o.model);
  const monitor = new Monitor(o.model, fg, target, store, { ...o.monitor, capture: o.monitor.capture === false ? false : { ...o.monitor.capture, stateDir: o.stateDir } });
  // The policy the service runs with, and where each part came from, opens its audit trail.
  store.audit({ time: new Date().toISOString(), actor: 'service', action: 'start', target: `${o.model.name} (${o.model.revision}), ${target.describe}`, outcome: `${describeRecovery(monitor.config.recovery ?? DEFAULT_RECOVERY)}; ${describePolling(monitor.config.polling ?? { ...DEFAULT_POLLING, defaultMs: monitor.config.periodMs })}` });
  const detach = attachWebhooks(monitor.bus, o.webhooks, o.model.name, o.report);
  let app: FastifyInstance;
  try {
    app = await buildServer({ monitor, store, views: new DeviceViews(o.model, fg) }, tokens, { tls, ratePerMinute: o.ratePerMinute });
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    detach();
    store.close();
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new EnvironmentError(`cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
    throw e;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  // A rollout a killed process left half-applied is finished before anything judges the fabric.
  const origin = target.lab ? `lab:${target.lab.name}` : target.inventory?.origin ?? path.resolve(o.target);
  const hooks = { emit: (e: NewEvent) => monitor.announce(e), audit: (e: AuditEntry) => store.audit(e), report: o.report };
  await recoverInterruptedRollouts(hooks, origin).catch((e: Error) => o.report(`recovery of interrupted rollouts failed: ${e.message}`));
  // And one an apply killed beside the running service leaves, before the poll that would judge it.
  monitor.config.beforePoll = recoverOrphansBeforePoll(hooks, origin);
  monitor.start();
  return {
    app,
    monitor,
    store,
    url: `${tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    tokenSource: tokens.source,
    async close() {
      await app.close();
      await monitor.stop();
      detach();
      store.close();
    },
  };
}

/** The certificate and its key, read once; a key others can read is refused, as the token file is. */
export function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (f: string, what: string) => {
    try {
      return readFileSync(f);
    } catch (e) {
      throw new EnvironmentError(`--tls-${what} ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
  };
  const cert = read(certFile, 'cert');
  const key = read(keyFile, 'key');
  const mode = statSync(keyFile).mode;
  if ((mode & 0o077) !== 0) throw new EnvironmentError(`--tls-key ${keyFile}: readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  if (!/-----BEGIN CERTIFICATE-----/.test(cert.toString('latin1'))) throw new EnvironmentError(`--tls-cert ${certFile}: not a PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) throw new EnvironmentError(`--tls-key ${keyFile}: not a PEM private key`);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new EnvironmentError(`--tls-cert/--tls-key: the key does not fit the certificate, or either is unreadable (${(e as Error).message})`);
  }
  return { cert, key };
}
