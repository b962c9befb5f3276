import path from 'node:path';
import { numberOpt, stringListOpt, stringOpt, boolOpt, type Command } from '../command.ts';
import { loadModelSync } from '../../model/index.ts';
import { UsageError } from '../../util/errors.ts';
import { intentDirArg } from '../intent-dir.ts';
import { isLoopback, parseListen } from '../../api/listen.ts';
import { hookName, type Webhook } from '../../service/webhooks.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'verify continuously: poll the target, raise events and incidents, serve the API, metrics and OpenAPI docs',
  usage: 'netloom serve [DIR] --target lab[:NAME]|INVENTORY.yaml [--listen 127.0.0.1:8080] [--state-dir D] [--period S] [--drift off|reapply] [--webhook URL] [--alertmanager URL]',
  options: {
    target: { type: 'string', arg: 'lab[:NAME]|INVENTORY.yaml', default: 'lab', help: 'what to poll: a running lab or the inventory netloom apply reads' },
    listen: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:8080', help: 'where the API listens' },
    'state-dir': { type: 'string', arg: 'D', default: '.netloom/serve', help: 'database and tokens.json (created with mode 0700/0600)' },
    period: { type: 'number', arg: 'SECONDS', default: 10, min: 1, max: 3600, help: 'poll period' },
    concurrency: { type: 'number', arg: 'N', default: 4, integer: true, min: 1, max: 256, help: 'device commands running at once' },
    'no-probes': { type: 'boolean', help: 'skip the endpoint ping matrix on each poll' },
    ssh: { type: 'boolean', help: 'on a lab: collect over SSH, as for real devices' },
    webhook: { type: 'string', arg: 'URL', multiple: true, help: 'POST every event as JSON here (repeatable)' },
    drift: { type: 'string', arg: 'off|reapply', choices: ['off', 'reapply'], default: 'off', help: 'recovery policy: reapply re-applies the intended config of a device whose running config drifted, through the rollout engine (audited)' },
    'recovery-interval': { type: 'number', arg: 'SECONDS', default: 600, min: 10, help: 'with --drift reapply: least time between two re-applies of one device' },
    alertmanager: { type: 'string', arg: 'URL', multiple: true, help: 'POST incidents, flapping and anomalies as Alertmanager v2 alerts here, e.g. http://am:9093/api/v2/alerts (repeatable)' },
  },
  notes: [
    'tokens: NETLOOM_READ_TOKEN and NETLOOM_WRITE_TOKEN, else STATE_DIR/tokens.json (generated on first start); GET routes need read or write, every other method write',
    'routes: GET /openapi.json lists them; the docs page is /docs',
    'runs until SIGINT or SIGTERM',
  ],
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const { host, port } = parseListen(stringOpt(ctx, 'listen')!);
    const webhooks: Webhook[] = [
      ...stringListOpt(ctx, 'webhook').map((url) => ({ url, format: 'json' as const })),
      ...stringListOpt(ctx, 'alertmanager').map((url) => ({ url, format: 'alertmanager' as const })),
    ];
    for (const h of webhooks) if (!/^https?:\/\/./.test(h.url)) throw new UsageError(`--${h.format === 'json' ? 'webhook' : 'alertmanager'} expects an http(s) URL, got '${hookName(h.url)}'`);
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'serve'));
    const periodMs = numberOpt(ctx, 'period') * 1000;
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
        periodMs,
        concurrency: numberOpt(ctx, 'concurrency'),
        probes: !boolOpt(ctx, 'no-probes'),
        recovery: { drift: stringOpt(ctx, 'drift') as 'off' | 'reapply', minIntervalMs: numberOpt(ctx, 'recovery-interval') * 1000 },
      },
      webhooks,
      report: ctx.err,
    });
    ctx.out(`netloom serve: fabric ${model.name} (${model.revision}), ${svc.monitor.targetDescription}, polling every ${periodMs / 1000} s, drift: ${stringOpt(ctx, 'drift')}`);
    ctx.out(`API on ${svc.url} (OpenAPI ${svc.url}/openapi.json, docs ${svc.url}/docs); tokens from ${svc.tokenSource}`);
    if (!isLoopback(host)) ctx.err(`warning: listening on ${host}, beyond loopback, without TLS: tokens cross the network in clear`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await svc.close();
    return 0;
  },
};
