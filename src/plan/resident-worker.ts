/**
 * The service's planner on a worker thread of its own: a plan of the 5,000-device shape takes
 * a second of CPU cold and holds two models, which must not stall the monitor's polls, event
 * streams and API on the main thread. The worker keeps its models between requests (the point
 * of planning in a process that stays up) and has a young generation sized for them: a plan
 * allocates some 300 MB over a heap of that size, and the default's many small scavenges cost
 * it 40 ms (measured: 403 ms -> 352 ms served). It runs the sources compiled into one module,
 * as the CLI does (src/cli/start-bundle.mjs), else through tsx.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { bundled } from '../cli/start-bundle.mjs';
import { IntentError, UsageError, type Diagnostic } from '../util/errors.ts';
import type { Severity } from '../verify/findings.ts';
import type { PlanFormat } from './format.ts';
import type { IntentRepo } from './git-revision.ts';
import { tsxEsmApi } from './side-analysis.ts';

export interface PlanRequest {
  id: number;
  base: string;
  head: string;
  format: PlanFormat;
  failOn: Severity | 'never';
  canary?: number;
  waveSize?: number;
}

const PlanSideReply = z.object({ rev: z.string(), commit: z.string().nullable(), resident: z.boolean() });
/** What GET /plans answers (its JSON Schema too), as the planner thread gives it. */
export const PlanReply = z.object({
  fabric: z.string(),
  base: PlanSideReply,
  head: PlanSideReply,
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
export type PlanReply = z.infer<typeof PlanReply>;

export type PlanResponse = { id: number; ok: true; reply: PlanReply } | { id: number; ok: false; error: { kind: 'intent'; message: string; diagnostics: Diagnostic[] } | { kind: 'usage' | 'internal'; message: string } };

/** The worker's young generation: 3 semi-spaces of 64 MB (V8's --max-semi-space-size=64). */
export const PLAN_YOUNG_GENERATION_MB = 192;

const root = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const threadTs = new URL('./resident-thread.ts', import.meta.url);

export class ResidentPlanWorker {
  private readonly pending = new Map<number, { resolve: (r: PlanReply) => void; reject: (e: Error) => void }>();
  private next = 1;
  private dead?: Error;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: PlanResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (!this.pending.size) worker.unref();
      if (m.ok) p.resolve(m.reply);
      else if (m.error.kind === 'intent') p.reject(new IntentError(m.error.diagnostics));
      else if (m.error.kind === 'usage') p.reject(new UsageError(m.error.message));
      else p.reject(new Error(`the planner failed: ${m.error.message}`));
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => fail(new Error(`the planner's thread exited (${code})`)));
    // Idle, it never keeps a stopping service alive; a plan asked for is waited for.
    worker.unref();
  }

  /** A planner of `repo` on its own thread, from the compiled sources when they can be had. */
  static async start(repo: IntentRepo): Promise<ResidentPlanWorker> {
    const workerData = { repo, version: VERSION };
    const resourceLimits = { maxYoungGenerationSizeMb: PLAN_YOUNG_GENERATION_MB };
    const bundle = process.env.NETLOOM_NO_BUNDLE ? undefined : await bundled(root, fileURLToPath(threadTs), path.join(root, 'node_modules/.cache/netloom-plan-thread'));
    if (bundle) return new ResidentPlanWorker(new Worker(new URL(bundle), { workerData, resourceLimits }));
    const boot = `(async () => {
  const { register } = await import(${JSON.stringify(tsxEsmApi())});
  register();
  await import(${JSON.stringify(threadTs.href)});
})();`;
    return new ResidentPlanWorker(new Worker(boot, { eval: true, workerData, resourceLimits }));
  }

  plan(req: Omit<PlanRequest, 'id'>): Promise<PlanReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (!this.pending.size) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  /** Usable still (a thread that died is started again by its owner). */
  get alive(): boolean {
    return !this.dead;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
