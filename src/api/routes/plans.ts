/**
 * `GET /plans?base=REV&head=REV` (read): what merging a change of the served intent does, the
 * report `netloom plan --base REV --head REV --format F` prints, from a planner that keeps the
 * models it planned in memory by their git tree (src/plan/resident.ts), on a thread of its own
 * (src/plan/resident-worker.ts): a pull request's next push is planned against a base already
 * loaded, and the service's polls and streams go on meanwhile. Plans run one at a time; a plan
 * reads git and writes only netloom's model cache.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PLAN_FORMATS, type PlanFormat } from '../../plan/format.ts';
import { intentRepo, type IntentRepo } from '../../plan/git-revision.ts';
import { PlanReply, ResidentPlanWorker } from '../../plan/resident-worker.ts';
import { IntentError, UsageError } from '../../util/errors.ts';
import type { Severity } from '../../verify/findings.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { ErrorReply, js } from '../schemas.ts';

// A revision as git names one; never an option (resolveRevision refuses a leading '-' too).
const Rev = z.string().min(1).max(256).regex(/^[^\s-][^\s]*$/);
const PlanQuery = z.object({
  base: Rev,
  head: Rev,
  format: z.enum(PLAN_FORMATS).optional(),
  failOn: z.enum(['error', 'warning', 'never']).optional(),
  canary: z.number().int().min(1).max(1000).optional(),
  waveSize: z.number().int().min(1).max(1000).optional(),
});
export const planRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  // Started on the first request: a service nobody asks for plans holds no planner thread.
  let repo: IntentRepo | string | undefined;
  let worker: Promise<ResidentPlanWorker> | undefined;
  app.addHook('onClose', async () => {
    const w = await worker?.catch(() => undefined);
    await w?.close();
  });
  app.get<{ Querystring: z.infer<typeof PlanQuery> }>(
    '/plans',
    { schema: { tags: ['plans'], summary: 'the plan between two revisions of the served intent, as netloom plan reports it (models kept in memory by their git tree, on a thread of their own)', security: BEARER, querystring: js(PlanQuery), response: { 200: js(PlanReply), 400: js(ErrorReply), 422: js(ErrorReply) } } },
    async (req, reply) => {
      if (repo === undefined) {
        try {
          repo = intentRepo(monitor.model.intentDir);
        } catch (e) {
          repo = e instanceof UsageError ? e.message : String(e);
        }
      }
      if (typeof repo === 'string') throw new UsageError(`the service's intent cannot be planned: ${repo}`);
      const r = repo;
      // A thread that died (out of memory, a bug) is started again: its models are gone, not the service.
      if (!worker || !(await worker.then((w) => w.alive, () => false))) worker = ResidentPlanWorker.start(r);
      const q = req.query;
      try {
        return await (await worker).plan({ base: q.base, head: q.head, format: (q.format ?? 'json') as PlanFormat, failOn: (q.failOn ?? 'error') as Severity | 'never', canary: q.canary, waveSize: q.waveSize });
      } catch (e) {
        // An invalid intent at a revision is the plan's answer (netloom plan exits 1), not a bad request.
        if (e instanceof IntentError) return reply.code(422).send({ error: 'invalid-intent', message: e.message });
        throw e;
      }
    },
  );
};
