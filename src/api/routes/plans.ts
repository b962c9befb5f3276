/**
 * `GET /plans?base=REV&head=REV` (read): what merging a change of the served intent does, the
 * report `netloom plan --base REV --head REV --format F` prints, from a planner that keeps the
 * models it planned in memory by their git tree (src/plan/resident.ts): a pull request's next
 * push is planned against a base already loaded. Plans run one at a time; a plan reads git and
 * writes only netloom's model cache.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PLAN_FORMATS, type PlanFormat } from '../../plan/format.ts';
import { planReport, residentPlannerFor, type ResidentPlanner } from '../../plan/resident.ts';
import { UsageError } from '../../util/errors.ts';
import type { Severity } from '../../verify/findings.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { ErrorReply, js } from '../schemas.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
const Side = z.object({ rev: z.string(), commit: z.string().nullable(), resident: z.boolean() });
const PlanReply = z.object({
  fabric: z.string(),
  base: Side,
  head: Side,
  /** 'fail': findings at or above failOn, or waves apply would refuse (netloom plan's exit 1). */
  result: z.enum(['ok', 'fail']),
  failing: z.number().int(),
  format: z.string(),
  report: z.string(),
  /** Markdown cut to fit one pull-request comment: the whole report is `full`. */
  cut: z.boolean(),
  full: z.string().optional(),
  /** Wall milliseconds of the plan (both models, the diff, the checks, the report). */
  ms: z.number(),
  /** Where they went, phase by phase. */
  phases: z.record(z.string(), z.number()),
});

export const planRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  let planner: ResidentPlanner | string | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  app.get<{ Querystring: z.infer<typeof PlanQuery> }>(
    '/plans',
    { schema: { tags: ['plans'], summary: 'the plan between two revisions of the served intent, as netloom plan reports it (models kept in memory by their git tree)', security: BEARER, querystring: js(PlanQuery), response: { 200: js(PlanReply), 400: js(ErrorReply) } } },
    async (req) => {
      planner ??= residentPlannerFor(monitor.model.intentDir);
      const p = planner;
      if (typeof p === 'string') throw new UsageError(`the service's intent cannot be planned: ${p}`);
      const q = req.query;
      const format = (q.format ?? 'json') as PlanFormat;
      const failOn = (q.failOn ?? 'error') as Severity | 'never';
      const run = async () => {
        const t0 = performance.now();
        const phases: Record<string, number> = {};
        const r = p.plan(q.base, q.head, { canary: q.canary, waveSize: q.waveSize, failOn, timings: phases });
        const t1 = performance.now();
        const report = planReport(r, format, failOn, VERSION);
        const ms = performance.now() - t0;
        phases[`report (${format})`] = performance.now() - t1;
        // After the reply: what this plan added goes to the disk cache (the next service start reads it).
        setImmediate(() => p.save());
        const side = (s: typeof r.base, resident: boolean) => ({ rev: s.rev, commit: s.commit ?? null, resident });
        return { fabric: r.plan.fabric, base: side(r.base, r.resident.base), head: side(r.head, r.resident.head), result: r.failing.length ? 'fail' : 'ok', failing: r.failing.length, format, report: report.text, cut: report.cut, ...(report.full ? { full: report.full } : {}), ms: Math.round(ms), phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])) };
      };
      const next = queue.then(run, run);
      queue = next.catch(() => undefined);
      return next;
    },
  );
};
