import { readFileSync } from 'node:fs';
import path from 'node:path';
import { numberOpt, stringListOpt, stringOpt, boolOpt, type Command } from '../command.ts';
import { loadModelSync } from '../../model/index.ts';
import { UsageError } from '../../util/errors.ts';
import { intentDirArg } from '../intent-dir.ts';
import { isLoopback, parseListen } from '../../api/listen.ts';
import { hashedToken } from '../../api/tokens.ts';
import { hookName, type Webhook } from '../../service/webhooks.ts';
import { describePolling, describeRecovery, servicePolicy } from '../../service/policy.ts';
import type { DriftAction, ForwardingAction } from '../../domains/operations/intent.ts';
import { roleNames } from '../../domains/fabric/roles.ts';
import type { Role } from '../../model/types.ts';
import type { TableReads } from '../../verify/live/incremental.ts';

const mul = (v: number | undefined, k: number) => (v === undefined ? undefined : v * k);

/** --table-reads changed=100000 --table-reads admit=8 -> the default tables' reads a poll (TableReads). */
function tableReads(list: string[]): Partial<TableReads> {
  const out: Partial<TableReads> = {};
  for (const s of list) {
    const m = /^(admit|refresh|changed)=(\d{1,9})$/.exec(s);
    if (!m) throw new UsageError(`--table-reads expects admit=N, refresh=N or changed=N (a whole number), got '${s}'`);
    const n = Number(m[2]);
    if (n < 1) throw new UsageError(`--table-reads ${s}: must be at least 1`);
    out[m[1] as keyof TableReads] = n;
  }
  return out;
}

/** --poll spine=30 --poll leaf=5 -> periods in ms by role. */
function rolePeriods(list: string[]): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {};
  for (const s of list) {
    const m = /^([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(s);
    if (!m || !(roleNames as readonly string[]).includes(m[1])) throw new UsageError(`--poll expects ROLE=SECONDS with ROLE one of ${roleNames.join(', ')}, got '${s}'`);
    const sec = Number(m[2]);
    if (sec < 1 || sec > 3600) throw new UsageError(`--poll ${s}: a poll period is between 1 and 3600 seconds`);
    out[m[1] as Role] = sec * 1000;
  }
  return out;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'verify continuously: poll the target, raise events and incidents, serve the API, metrics and OpenAPI docs',
  usage: 'netloom serve [DIR] --target lab[:NAME]|INVENTORY.yaml [--listen 127.0.0.1:8080] [--state-dir D] [--period S] [--poll ROLE=S]... [--table-reads KEY=N]... [--drift off|alert|reapply] [--forwarding off|resync] [--webhook URL] [--alertmanager URL]',
  options: {
    target: { type: 'string', arg: 'lab[:NAME]|INVENTORY.yaml', default: 'lab', help: 'what to poll: a running lab or the inventory netloom apply reads' },
    listen: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:8080', help: 'where the API listens' },
    'state-dir': { type: 'string', arg: 'D', default: '.netloom/serve', help: 'database and tokens.json (created with mode 0700/0600)' },
    period: { type: 'number', arg: 'SECONDS', min: 1, max: 3600, help: 'poll period of every device whose role has none of its own (default: the intent\'s operations.polling.default, else 10)' },
    poll: { type: 'string', arg: 'ROLE=SECONDS', multiple: true, help: 'poll period of one device role, e.g. spine=30 (repeatable; over the intent\'s operations.polling.roles)' },
    'table-reads': { type: 'string', arg: 'KEY=N', multiple: true, help: 'default tables read a poll (repeatable): admit=N devices taken in a poll until all are (default 24), refresh=N tables re-read for their slow refresh (default 24), changed=N routes of the tables whose version moved (default 250000; the rest owed to later polls)' },
    concurrency: { type: 'number', arg: 'N', default: 4, integer: true, min: 1, max: 256, help: 'device commands running at once' },
    'no-probes': { type: 'boolean', help: 'skip the endpoint ping matrix on each poll' },
    ssh: { type: 'boolean', help: 'on a lab: collect over SSH, as for real devices' },
    webhook: { type: 'string', arg: 'URL', multiple: true, help: 'POST every event as JSON here (repeatable)' },
    drift: { type: 'string', arg: 'off|alert|reapply', choices: ['off', 'alert', 'reapply'], help: 'recovery policy over the intent\'s operations.recovery.drift (default off): alert reports drift with its diff, reapply re-applies the intended config through the rollout engine (audited)' },
    forwarding: { type: 'string', arg: 'off|resync', choices: ['off', 'resync'], help: "recovery policy over the intent's operations.recovery.forwarding (default off): resync re-announces the EVPN VRF routes of a leaf whose kernel forwarding state diverges from the model (live-fabric-forwarding), then reads it again (audited)" },
    'recovery-interval': { type: 'number', arg: 'SECONDS', min: 10, help: 'least time between two re-applies of one device (over operations.recovery.min_interval; default 600)' },
    'max-recoveries-per-hour': { type: 'number', arg: 'N', integer: true, min: 1, max: 60, help: 're-applies in any hour, across the fabric (over operations.recovery.max_per_hour; default 6)' },
    'capture-seconds': { type: 'number', arg: 'SECONDS', default: 4, min: 0, max: 60, help: 'on a lab: capture this long on the interfaces of each new incident\'s element and attach the pcap analyze findings (0: no captures)' },
    'tls-cert': { type: 'string', arg: 'FILE', help: 'PEM certificate (chain) for HTTPS; with --tls-key' },
    'tls-key': { type: 'string', arg: 'FILE', help: 'PEM private key for HTTPS (mode 0600); with --tls-cert' },
    'rate-limit': { type: 'number', arg: 'N', integer: true, min: 0, max: 10_000_000, default: 6000, help: 'requests a minute per client address (a tenth on mutating routes); 0: no limit' },
    'hash-token': { type: 'boolean', help: 'read a token on standard input, print what tokens.json may hold in its place (sha256:<hex>: no token at rest), and exit' },
    alertmanager: { type: 'string', arg: 'URL', multiple: true, help: 'POST incidents, flapping and anomalies as Alertmanager v2 alerts here, e.g. http://am:9093/api/v2/alerts (repeatable)' },
  },
  notes: [
    'tokens: NETLOOM_READ_TOKEN, NETLOOM_OPERATE_TOKEN, NETLOOM_ADMIN_TOKEN, else STATE_DIR/tokens.json (generated on first start); GET routes need read, every other method operate, the audit log and token routes admin',
    'routes: GET /openapi.json lists them; the docs page is /docs',
    'runs until SIGINT or SIGTERM',
  ],
  async run(ctx) {
    if (ctx.values['hash-token'] === true) {
      const token = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (token.length < 16 || /\s/.test(token)) throw new UsageError('--hash-token: standard input must be one token of 16 characters or more, without spaces');
      ctx.out(hashedToken(token));
      return 0;
    }
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const { host, port } = parseListen(stringOpt(ctx, 'listen')!);
    const webhooks: Webhook[] = [
      ...stringListOpt(ctx, 'webhook').map((url) => ({ url, format: 'json' as const })),
      ...stringListOpt(ctx, 'alertmanager').map((url) => ({ url, format: 'alertmanager' as const })),
    ];
    for (const h of webhooks) if (!/^https?:\/\/./.test(h.url)) throw new UsageError(`--${h.format === 'json' ? 'webhook' : 'alertmanager'} expects an http(s) URL, got '${hookName(h.url)}'`);
    const certFile = stringOpt(ctx, 'tls-cert');
    const keyFile = stringOpt(ctx, 'tls-key');
    if (!certFile !== !keyFile) throw new UsageError('--tls-cert and --tls-key go together');
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'serve'));
    const given = (name: string) => (ctx.values[name] === undefined ? undefined : numberOpt(ctx, name));
    const tables = tableReads(stringListOpt(ctx, 'table-reads'));
    const policy = servicePolicy(model, {
      drift: stringOpt(ctx, 'drift') as DriftAction | undefined,
      forwarding: stringOpt(ctx, 'forwarding') as ForwardingAction | undefined,
      minIntervalMs: mul(given('recovery-interval'), 1000),
      maxPerHour: given('max-recoveries-per-hour'),
      periodMs: mul(given('period'), 1000),
      roles: rolePeriods(stringListOpt(ctx, 'poll')),
    });
    // Fastify and SQLite load only for this command.
    const { startService } = await import('../../api/start.ts');
    const svc = await startService({
      model,
      target: stringOpt(ctx, 'target')!,
      transport: boolOpt(ctx, 'ssh') ? 'ssh' : 'exec',
      host,
      port,
      stateDir: path.resolve(stringOpt(ctx, 'state-dir')!),
      monitor: {
        polling: policy.polling,
        concurrency: numberOpt(ctx, 'concurrency'),
        probes: !boolOpt(ctx, 'no-probes'),
        capture: numberOpt(ctx, 'capture-seconds') > 0 ? { seconds: numberOpt(ctx, 'capture-seconds') } : false,
        recovery: policy.recovery,
        tables,
      },
      webhooks,
      report: ctx.err,
      tls: certFile && keyFile ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } : undefined,
      ratePerMinute: numberOpt(ctx, 'rate-limit'),
    });
    ctx.out(`netloom serve: fabric ${model.name} (${model.revision}), ${svc.monitor.targetDescription}, ${describePolling(policy.polling)}, ${describeRecovery(policy.recovery)}`);
    ctx.out(`API on ${svc.url} (OpenAPI ${svc.url}/openapi.json, docs ${svc.url}/docs); tokens from ${svc.tokenSource}`);
    if (!isLoopback(host) && !certFile) ctx.err(`warning: listening on ${host}, beyond loopback, without TLS: tokens cross the network in clear (--tls-cert, --tls-key)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await svc.close();
    return 0;
  },
};
