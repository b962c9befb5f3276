/** Service status, the last poll's check results and the verification history. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DEFAULT_POLLING, DEFAULT_RECOVERY } from '../../service/policy.ts';
import { DEFAULT_TABLE_READS } from '../../verify/live/incremental.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { CheckRow, HistoryQuery, HistoryRow, js, Status } from '../schemas.ts';

export const statusRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, store }) => {
  app.get('/status', { schema: { tags: ['status'], summary: 'what the service watches and how its last poll went', security: BEARER, response: { 200: js(Status) } } }, async () => {
    const l = monitor.latest;
    return {
      fabric: monitor.model.name,
      revision: monitor.model.revision,
      target: monitor.targetDescription,
      periodMs: monitor.config.periodMs,
      polling: monitor.config.polling ?? { ...DEFAULT_POLLING, defaultMs: monitor.config.periodMs },
      recovery: monitor.config.recovery ?? DEFAULT_RECOVERY,
      lastPoll: l ? { seq: l.seq, time: l.time, ms: l.ms, failing: l.failing, pending: l.pending, owedTables: l.owed } : null,
      openIncidents: monitor.openIncidents().length,
      tableReads: { ...DEFAULT_TABLE_READS, ...monitor.config.tables },
    };
  });

  app.get('/checks', { schema: { tags: ['status'], summary: 'every live check at the last poll: passed, errors, warnings', security: BEARER, response: { 200: js(z.array(CheckRow)) } } }, async () =>
    (monitor.latest?.results ?? []).map((r) => ({
      id: r.check.id,
      title: r.check.title,
      layer: r.check.layer,
      passed: r.passed,
      errors: r.findings.filter((f) => f.severity === 'error').length,
      warnings: r.findings.filter((f) => f.severity === 'warning').length,
      examined: r.examined,
    })),
  );

  app.get<{ Querystring: z.infer<typeof HistoryQuery> }>('/history', { schema: { tags: ['status'], summary: 'verification history, newest first', security: BEARER, querystring: js(HistoryQuery), response: { 200: js(z.array(HistoryRow)) } } }, async (req) => store.verifications(req.query.limit ?? 100));
};
