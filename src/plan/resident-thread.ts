/**
 * The worker side of src/plan/resident-worker.ts: one ResidentPlanner, its models kept here
 * between requests, answering each request with the report and saving what the plan added to
 * the disk cache once the answer is out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IntentError, NetloomError } from '../util/errors.ts';
import type { IntentRepo } from './git-revision.ts';
import { planReport, ResidentPlanner } from './resident.ts';
import type { PlanRequest, PlanResponse } from './resident-worker.ts';

const { repo, version } = workerData as { repo: IntentRepo; version: string };
const planner = new ResidentPlanner(repo);
const port = parentPort!;

port.on('message', (req: PlanRequest) => {
  let res: PlanResponse;
  try {
    const t0 = performance.now();
    const phases: Record<string, number> = {};
    const r = planner.plan(req.base, req.head, { canary: req.canary, waveSize: req.waveSize, failOn: req.failOn, timings: phases });
    const t1 = performance.now();
    const report = planReport(r, req.format, req.failOn, version);
    phases[`report (${req.format})`] = performance.now() - t1;
    const side = (s: typeof r.base, resident: boolean) => ({ rev: s.rev, commit: s.commit ?? null, resident });
    res = {
      id: req.id,
      ok: true,
      reply: { fabric: r.plan.fabric, base: side(r.base, r.resident.base), head: side(r.head, r.resident.head), result: r.failing.length ? 'fail' : 'ok', failing: r.failing.length, format: req.format, report: report.text, cut: report.cut, ...(report.full ? { full: report.full } : {}), ms: Math.round(performance.now() - t0), phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v)])) },
    };
  } catch (e) {
    res = { id: req.id, ok: false, error: e instanceof IntentError ? { kind: 'intent', message: e.message, diagnostics: e.diagnostics } : e instanceof NetloomError ? { kind: 'usage', message: e.message } : { kind: 'internal', message: String((e as Error)?.stack ?? e) } };
  }
  port.postMessage(res);
  // After the answer: what the plan added goes to the disk cache (the next start reads it).
  if (res.ok) setImmediate(() => planner.save());
});
