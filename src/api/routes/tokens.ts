/** The token set (admin): which roles have a token, by fingerprint; reload after rotating the file. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { BEARER, type ApiContext } from '../context.ts';
import { js } from '../schemas.ts';
import type { TokenCheck } from '../tokens.ts';

const TokenRow = z.object({ role: z.enum(['read', 'operate', 'admin']), fingerprint: z.string().describe('first 12 hex digits of SHA-256 of the token\'s SHA-256: tells tokens apart, reveals nothing') });
const TokenSet = z.object({ source: z.string(), tokens: z.array(TokenRow) });

export const tokenRoutes: FastifyPluginAsync<ApiContext & { tokens: TokenCheck }> = async (app, { store, tokens }) => {
  const set = () => ({ source: tokens.source, tokens: tokens.fingerprints() });
  app.get('/tokens', { schema: { tags: ['admin'], summary: 'the roles that have a token, with fingerprints (never a token)', security: BEARER, response: { 200: js(TokenSet) } }, config: { role: 'admin' } }, async () => set());

  app.post('/tokens/reload', { schema: { tags: ['admin'], summary: 'read the token file again (rotate tokens without a restart); audited', security: BEARER, response: { 200: js(TokenSet) } }, config: { role: 'admin' } }, async (req) => {
    const before = tokens.fingerprints().map((t) => `${t.role} ${t.fingerprint}`).join(', ');
    let outcome = 'reloaded';
    try {
      tokens.reload();
    } catch (e) {
      outcome = `refused: ${(e as Error).message}`;
      store.audit({ time: new Date().toISOString(), actor: `${req.role} token from ${req.ip}`, action: 'tokens-reload', target: tokens.source, outcome });
      throw Object.assign(new Error(outcome), { statusCode: 409 });
    }
    const after = tokens.fingerprints().map((t) => `${t.role} ${t.fingerprint}`).join(', ');
    store.audit({ time: new Date().toISOString(), actor: `${req.role} token from ${req.ip}`, action: 'tokens-reload', target: tokens.source, outcome: before === after ? 'unchanged' : `${outcome}: ${after}` });
    return set();
  });
};
