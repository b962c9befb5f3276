/**
 * The API over a monitor of an intent whose target refuses every command (every device's
 * collection fails): the real server, store and views without a lab.
 */
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.ts';
import { tokenCheck } from '../../src/api/tokens.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { Monitor } from '../../src/service/monitor.ts';
import { openSqliteStore } from '../../src/service/sqlite-store.ts';
import { DeviceViews } from '../../src/service/views.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import type { Collector } from '../../src/verify/live/collector.ts';

export const refusing: Collector = { name: 'refusing', run: async () => ({ ok: false, stdout: '', error: 'connection refused' }), close: async () => {} };

/** The server and its monitor (store at `dbFile`), after one poll when `poll` is set. */
export async function refusingService(intentDir: string, dbFile: string, tokens: Parameters<typeof tokenCheck>[0], o: { poll?: boolean } = {}): Promise<{ app: FastifyInstance; monitor: Monitor }> {
  const model = loadModelSync(intentDir);
  const fg = buildFabricGraph(model);
  const monitor = new Monitor(model, fg, { collector: refusing, describe: 'refusing target' }, openSqliteStore(dbFile), { probes: false });
  if (o.poll) await monitor.pollOnce();
  const app = await buildServer({ monitor, store: monitor.store, views: new DeviceViews(model, fg) }, tokenCheck(tokens, 'test'), { ratePerMinute: 0 });
  return { app, monitor };
}
