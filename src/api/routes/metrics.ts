/** Prometheus exposition of the service's metrics (scraped with the read token). */
import type { FastifyPluginAsync } from 'fastify';
import { BEARER, type ApiContext } from '../context.ts';

export const metricsRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  const registry = monitor.metrics.registry;
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus metrics: BGP peers and prefixes, VTEPs, MACs, routes, probe RTT and loss, checks, polls, events by kind', security: BEARER, produces: [registry.contentType], response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
