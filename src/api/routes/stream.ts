/**
 * `/events/stream`: events as Server-Sent Events. A client that reconnects with Last-Event-ID
 * (or ?after=ID) first gets what it missed from the store, then the live stream, so nothing
 * stored is lost between two connections.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ServiceEvent } from '../../service/store.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { js } from '../schemas.ts';

const StreamQuery = z.object({ after: z.number().int().min(0).optional() });

export const streamRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, store }) => {
  app.get<{ Querystring: z.infer<typeof StreamQuery> }>('/events/stream', { schema: { tags: ['events'], summary: 'events as Server-Sent Events (text/event-stream); resumes after Last-Event-ID', security: BEARER, querystring: js(StreamQuery), produces: ['text/event-stream'] } }, async (req, reply) => {
    const header = req.headers['last-event-id'];
    const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    let last = fromHeader ?? req.query.after;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': netloom events\n\n');
    const send = (e: ServiceEvent) => {
      if (last !== undefined && e.id <= last) return;
      last = e.id;
      res.write(`id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    // Subscribe first, then replay: an event stored in between is sent once (ids only grow).
    const queued: ServiceEvent[] = [];
    let replaying = true;
    const unsubscribe = monitor.bus.subscribe((e) => (replaying ? queued.push(e) : send(e)));
    if (last !== undefined) for (const e of store.events({ after: last, limit: 10_000 })) send(e);
    replaying = false;
    for (const e of queued) send(e);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
};
