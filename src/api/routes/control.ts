/** Mutating routes (operate role, audited): poll now, acknowledge an incident; and the audit log (admin). */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BEARER, type ApiContext } from '../context.ts';
import { AuditRow, ErrorReply, Incident, IncidentId, js, PollReply } from '../schemas.ts';

export const controlRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, store }) => {
  const audit = (req: FastifyRequest, action: string, target: string, outcome: string) => store.audit({ time: new Date().toISOString(), actor: `${req.role ?? 'unknown'} token from ${req.ip}`, action, target, outcome });

  app.post('/poll', { schema: { tags: ['control'], summary: 'poll the target now and answer with the result', security: BEARER, response: { 200: js(PollReply) } } }, async (req) => {
    const r = await monitor.pollOnce();
    const failing = r.results.reduce((n, x) => n + x.findings.filter((f) => f.severity === 'error').length, 0);
    audit(req, 'poll', monitor.targetDescription, `poll ${r.seq}: ${failing} failing`);
    return { seq: r.seq, time: r.time, ms: r.ms, failing, openIncidents: monitor.openIncidents().length };
  });

  app.post<{ Params: z.infer<typeof IncidentId> }>('/incidents/:id/acknowledge', { schema: { tags: ['control'], summary: 'mark an incident as seen by someone', security: BEARER, params: js(IncidentId), response: { 200: js(Incident), 404: js(ErrorReply) } } }, async (req, reply) => {
    const ok = monitor.acknowledge(req.params.id, new Date().toISOString());
    audit(req, 'acknowledge', req.params.id, ok ? 'acknowledged' : 'no such incident');
    if (!ok) return reply.code(404).send({ error: 'not-found', message: `no incident '${req.params.id}'` });
    return ok;
  });

  app.get<{ Querystring: { limit?: number } }>('/audit', { schema: { tags: ['control'], summary: 'the audit log of mutating requests and policy actions, newest first (admin)', security: BEARER, querystring: js(z.object({ limit: z.number().int().min(1).max(10000).optional() })), response: { 200: js(z.array(AuditRow)) } }, config: { role: 'admin' } }, async (req) => store.auditLog(req.query.limit ?? 100));
};
