/**
 * Prometheus exposition of the service's metrics (scraped with the read token): the service's
 * registry, then what each domain renders of its last poll's observation (GSLB member health
 * as probed from its DNS servers, `netloom_gslb_member_up`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { domains } from '../../domains/index.ts';
import { BEARER, type ApiContext } from '../context.ts';

export const metricsRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  const registry = monitor.metrics.registry;
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus metrics: BGP peers and prefixes, VTEPs, MACs, routes, probe RTT and loss, checks, polls, events by kind, GSLB member health', security: BEARER, produces: [registry.contentType], response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    const observed = monitor.latest?.observed ?? {};
    const own = domains().flatMap((d) => (d.verify.live?.metrics && observed[d.id] !== undefined ? [d.verify.live.metrics(observed[d.id])] : []));
    return (await registry.metrics()) + own.join('');
  });
};
