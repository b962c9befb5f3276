/**
 * The HTTP API of `netloom serve`: Fastify with one plugin per area, JSON Schema (from zod)
 * on every request and reply, the OpenAPI 3.1 document at /openapi.json and its docs page at
 * /docs, the web view at /ui/. Everything but /health, /openapi.json, /docs and the web view's
 * files needs a bearer token: `read` for GET, `operate` for every other method, `admin` for
 * the audit log and the token set. HTTPS when given a certificate and key; every client held
 * to a request rate (@fastify/rate-limit), lower on mutating routes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { NetloomError } from '../util/errors.ts';
import type { ApiContext, RouteConfig } from './context.ts';
import { roleCovers, type TokenCheck } from './tokens.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { controlRoutes } from './routes/control.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { planRoutes } from './routes/plans.ts';
import { deviceRoutes } from './routes/devices.ts';
import { findingRoutes } from './routes/findings.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { pathRoutes } from './routes/paths.ts';
import { statusRoutes } from './routes/status.ts';
import { streamRoutes } from './routes/stream.ts';
import { topologyRoutes } from './routes/topology.ts';
import { webRoutes } from './routes/web.ts';

export interface ServerOptions {
  /** PEM certificate chain and private key: the API speaks HTTPS only. */
  tls?: { cert: Buffer; key: Buffer };
  /** Requests per minute per client address, all routes; mutating routes get a tenth. 0: no limit. */
  ratePerMinute?: number;
}

/** Default request budget of one client address: 100 requests/s; 10/s on mutating routes. */
export const DEFAULT_RATE_PER_MINUTE = 6000;

export async function buildServer(ctx: ApiContext, tokens: TokenCheck, o: ServerOptions = {}): Promise<FastifyInstance> {
  // No request logging: a logged header or URL must never carry a token.
  // forceCloseConnections: open event streams must not keep a stopping service alive.
  const base = { logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true, ajv: { customOptions: { removeAdditional: false } } } as const;
  const app = (o.tls ? Fastify({ ...base, https: { cert: o.tls.cert, key: o.tls.key, minVersion: 'TLSv1.2' } }) : Fastify(base)) as unknown as FastifyInstance;
  app.decorateRequest('role', undefined);

  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'bad-request', message: err.message });
    // netloom's own errors (an unknown endpoint in a path query...) are the caller's to fix.
    if (err instanceof NetloomError) return reply.code(400).send({ error: 'bad-request', message: err.message });
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(code).send({ error: code === 500 ? 'internal' : code === 429 ? 'too-many-requests' : 'bad-request', message: code === 500 ? 'internal error' : err.message });
  });

  const rate = o.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE;
  if (rate > 0) {
    // Before the token check (an onRequest hook of the root): guessing tokens costs budget too.
    await app.register(rateLimit, {
      global: true,
      max: (req) => (req.method === 'GET' || req.method === 'HEAD' ? rate : Math.max(1, Math.floor(rate / 10))),
      keyGenerator: (req) => `${req.method === 'GET' || req.method === 'HEAD' ? 'r' : 'w'}|${req.ip}`,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, c) => Object.assign(new Error(`rate limit: ${c.max} requests a minute from this address; retry in ${c.after}`), { statusCode: 429 }),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'netloom serve', version: '1', description: `Continuous verification of fabric ${ctx.monitor.model.name} against its intent: findings, events, incidents, metrics, expected vs observed state.` },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'one token per role, each including the ones before: read (every GET), operate (every other method), admin (the audit log and the token routes)' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true }, config: { role: 'public' } satisfies RouteConfig }, async () => app.swagger());
  app.get('/health', { schema: { tags: ['status'], summary: 'liveness (no token)', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } } }, config: { role: 'public' } satisfies RouteConfig }, async () => ({ ok: true }));

  await app.register(webRoutes);

  // Every API route lives in this child context, so the token check applies to all of them
  // and to nothing else (docs, the OpenAPI document).
  await app.register(async (api) => {
    // preParsing: after the rate limit (a route-level onRequest hook) and before any body is read.
    api.addHook('preParsing', async (req, reply, payload) => {
      const cfg = (req.routeOptions.config ?? {}) as RouteConfig;
      const need = cfg.role ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'operate');
      if (need === 'public') return payload;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      const role = m ? tokens.roleOf(m[1]) : undefined;
      if (!role) return reply.code(401).header('www-authenticate', 'Bearer realm="netloom"').send({ error: 'unauthorized', message: m ? 'unknown token' : 'a bearer token is required (Authorization: Bearer TOKEN)' });
      if (!roleCovers(role, need)) return reply.code(403).send({ error: 'forbidden', message: `this route needs the ${need} role (the token given is ${role})` });
      req.role = role;
      return payload;
    });
    for (const plugin of [statusRoutes, deviceRoutes, topologyRoutes, pathRoutes, findingRoutes, streamRoutes, metricsRoutes, controlRoutes, rolloutRoutes, planRoutes]) await api.register(plugin, ctx);
    await api.register(tokenRoutes, { ...ctx, tokens });
  });
  return app;
}
