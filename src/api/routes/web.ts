/**
 * The web view's files (no token: they hold no data; the page asks for a read token and calls
 * the API with it). cytoscape.js is served from its npm package, so the page needs no network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync } from 'fastify';
// The browser runs cytoscape; the service only serves its file (this import is erased).
import type {} from 'cytoscape';

const asset = (name: string) => readFileSync(new URL(`../web/${name}`, import.meta.url), 'utf8');
const cytoscapeFile = () => readFileSync(createRequire(import.meta.url).resolve('cytoscape/dist/cytoscape.min.js'), 'utf8');

/** The page's ES modules (a fixed list: a request never names a file on disk). */
const MODULES = ['app.js', 'api.js', 'dom.js', 'layout.js', 'graph.js', 'detail.js', 'timeline.js', 'pathview.js'];

export const webRoutes: FastifyPluginAsync = async (app) => {
  const files: Record<string, { type: string; body: () => string }> = {
    '': { type: 'text/html; charset=utf-8', body: () => asset('index.html') },
    ...Object.fromEntries(MODULES.map((m) => [m, { type: 'text/javascript; charset=utf-8', body: () => asset(m) }])),
    'cytoscape.min.js': { type: 'text/javascript; charset=utf-8', body: cytoscapeFile },
  };
  const cache = new Map<string, string>();
  const config = { role: 'public' as const };
  app.get('/', { schema: { hide: true }, config }, async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { file: string } }>('/ui/:file', { schema: { hide: true }, config }, async (req, reply) => {
    const f = files[req.params.file];
    if (!f) return reply.code(404).send({ error: 'not-found', message: `no file '${req.params.file}'` });
    if (!cache.has(req.params.file)) cache.set(req.params.file, f.body());
    return reply.type(f.type).header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'").send(cache.get(req.params.file));
  });
  app.get('/ui/', { schema: { hide: true }, config }, async (_req, reply) => reply.type(files[''].type).header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'").send(asset('index.html')));
};
