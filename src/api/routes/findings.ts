/** Current findings, stored events and incidents, with filters. */
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { findingDevice } from '../../service/finding-key.ts';
import { findingJson } from '../../service/views.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { CaptureRef, ErrorReply, Event, EventsQuery, Finding, FindingsQuery, Incident, IncidentDetail, IncidentId, IncidentsQuery, js } from '../schemas.ts';

export const findingRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, store }) => {
  app.get<{ Querystring: z.infer<typeof FindingsQuery> }>('/findings', { schema: { tags: ['troubleshooting'], summary: 'findings announced at the last poll (after flap damping)', security: BEARER, querystring: js(FindingsQuery), response: { 200: js(z.array(Finding)) } } }, async (req) => {
    const { device, check } = req.query;
    return [...(monitor.latest?.findings ?? new Map())]
      .filter(([, f]) => (!device || findingDevice(f) === device || (f.elements?.devices ?? []).includes(device)) && (!check || f.check === check))
      .map(([k, f]) => findingJson(k, f));
  });

  app.get<{ Querystring: z.infer<typeof EventsQuery> }>('/events', { schema: { tags: ['events'], summary: 'stored events: newest first, or oldest first after an id', security: BEARER, querystring: js(EventsQuery), response: { 200: js(z.array(Event)) } } }, async (req) => store.events(req.query));

  app.get<{ Querystring: z.infer<typeof IncidentsQuery> }>('/incidents', { schema: { tags: ['incidents'], summary: 'incidents: the failed elements that explain the findings', security: BEARER, querystring: js(IncidentsQuery), response: { 200: js(z.array(Incident)) } } }, async (req) => store.incidents(req.query));

  app.get<{ Params: z.infer<typeof IncidentId> }>('/incidents/:id', { schema: { tags: ['incidents'], summary: 'one incident with the findings it explains', security: BEARER, params: js(IncidentId), response: { 200: js(IncidentDetail), 404: js(ErrorReply) } } }, async (req, reply) => {
    const i = store.incident(req.params.id);
    if (!i) return reply.code(404).send({ error: 'not-found', message: `no incident '${req.params.id}'` });
    const current = monitor.latest?.findings ?? new Map();
    return { ...i, explains: i.findings.flatMap((k) => (current.has(k) ? [findingJson(k, current.get(k)!)] : [])) };
  });

  app.get<{ Params: z.infer<typeof CaptureRef> }>('/incidents/:id/captures/:n', { schema: { tags: ['incidents'], summary: "an incident's n-th packet capture (pcap file)", security: BEARER, params: js(CaptureRef), response: { 404: js(ErrorReply) } } }, async (req, reply) => {
    // The path comes from the incident id's own pattern and a number, never from a name.
    const file = monitor.captures?.file(req.params.id, req.params.n);
    if (!file) return reply.code(404).send({ error: 'not-found', message: `no capture ${req.params.n} of incident '${req.params.id}'` });
    return reply.type('application/vnd.tcpdump.pcap').header('content-disposition', `attachment; filename="${req.params.id}-${req.params.n}.pcap"`).send(createReadStream(file));
  });
};
