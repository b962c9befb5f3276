/**
 * The HTTP API of `netloom serve`: Fastify with one plugin per area, JSON Schema (from zod)
 * on every request and reply, the OpenAPI 3.1 document at /openapi.json and its docs page at
 * /docs, the web view at /ui/. Everything but /health, /openapi.json, /docs and the web view's
 * files needs a bearer token: `read` for GET, `write` for every other method (and the audit log).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { NetloomError } from '../util/errors.ts';
import type { ApiContext, RouteConfig } from './context.ts';
import type { TokenCheck } from './tokens.ts';
import { controlRoutes } from './routes/control.ts';
import { deviceRoutes } from './routes/devices.ts';
import { findingRoutes } from './routes/findings.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { pathRoutes } from './routes/paths.ts';
import { statusRoutes } from './routes/status.ts';
import { streamRoutes } from './routes/stream.ts';
import { topologyRoutes } from './routes/topology.ts';
import { webRoutes } from './routes/web.ts';

export async function buildServer(ctx: ApiContext, tokens: TokenCheck): Promise<FastifyInstance> {
  // No request logging: a logged header or URL must never carry a token.
  // forceCloseConnections: open event streams must not keep a stopping service alive.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true, ajv: { customOptions: { removeAdditional: false } } });
  app.decorateRequest('role', undefined);

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'bad-request', message: err.message });
    // netloom's own errors (an unknown endpoint in a path query...) are the caller's to fix.
    if (err instanceof NetloomError) return reply.code(400).send({ error: 'bad-request', message: err.message });
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(code).send({ error: code === 500 ? 'internal' : 'bad-request', message: code === 500 ? 'internal error' : err.message });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'netloom serve', version: '1', description: `Continuous verification of fabric ${ctx.monitor.model.name} against its intent: findings, events, incidents, metrics, expected vs observed state.` },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true }, config: { role: 'public' } satisfies RouteConfig }, async () => app.swagger());
  app.get('/health', { schema: { tags: ['status'], summary: 'liveness (no token)', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } } }, config: { role: 'public' } satisfies RouteConfig }, async () => ({ ok: true }));

  await app.register(webRoutes);

  // Every API route lives in this child context, so the token check applies to all of them
  // and to nothing else (docs, the OpenAPI document).
  await app.register(async (api) => {
    api.addHook('onRequest', async (req, reply) => {
      const cfg = (req.routeOptions.config ?? {}) as RouteConfig;
      const need = cfg.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
      if (need === 'public') return;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const role = m ? tokens.roleOf(m[1]) : undefined;
      if (!role) return reply.code(401).header('www-authenticate', 'Bearer realm="netloom"').send({ error: 'unauthorized', message: m ? 'unknown token' : 'a bearer token is required (Authorization: Bearer TOKEN)' });
      if (need === 'write' && role !== 'write') return reply.code(403).send({ error: 'forbidden', message: 'this route needs the write token' });
      req.role = role;
    });
    for (const plugin of [statusRoutes, deviceRoutes, topologyRoutes, pathRoutes, findingRoutes, streamRoutes, metricsRoutes, controlRoutes]) await api.register(plugin, ctx);
  });
  return app;
}
