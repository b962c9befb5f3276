/**
 * `netloom plan --server URL`: the plan asked of a running `netloom serve` (GET /plans), which
 * keeps the models it planned in memory; printed and written as the local plan is, with the
 * same exit codes. The token comes from $NETLOOM_TOKEN or --token-file, never the command line
 * (a process list shows it).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CheckFailed, EnvironmentError, UsageError } from '../util/errors.ts';
import { readTextBounded } from '../util/safe-path.ts';
import type { PlanReply } from '../plan/resident-worker.ts';

export interface ServedPlanOptions {
  server: string;
  tokenFile?: string;
  base: string;
  head: string;
  format: string;
  failOn: string;
  canary?: number;
  waveSize?: number;
  out?: string;
  print(line: string): void;
  note(line: string): void;
}

/** A plan takes seconds when the service has no model of the base yet. */
const TIMEOUT_MS = 600_000;

function token(o: ServedPlanOptions): string {
  if (o.tokenFile !== undefined) return readTextBounded(o.tokenFile, 4096, 'a token file').trim();
  const t = process.env.NETLOOM_TOKEN?.trim();
  if (!t) throw new UsageError('--server needs a token with the read role: set NETLOOM_TOKEN or give --token-file FILE');
  return t;
}

/** The exit code: 0 when the plan passes, 1 when it fails (as netloom plan's). */
export async function servedPlan(o: ServedPlanOptions): Promise<number> {
  let url: URL;
  try {
    url = new URL('plans', o.server.endsWith('/') ? o.server : `${o.server}/`);
  } catch {
    throw new UsageError(`--server '${o.server}' is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server '${o.server}': http or https only`);
  const q = { base: o.base, head: o.head, format: o.format, failOn: o.failOn, ...(o.canary !== undefined ? { canary: String(o.canary) } : {}), ...(o.waveSize !== undefined ? { waveSize: String(o.waveSize) } : {}) };
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token(o)}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    throw new EnvironmentError(`netloom serve at ${url.origin} did not answer: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as Partial<PlanReply> & { message?: string };
  if (res.status === 422) throw new CheckFailed(body.message ?? 'the intent is invalid at a revision');
  if (res.status === 400) throw new UsageError(body.message ?? 'the service refused the request');
  if (res.status === 401 || res.status === 403) throw new UsageError(`netloom serve at ${url.origin}: ${body.message ?? res.statusText}`);
  if (res.status !== 200 || typeof body.report !== 'string') throw new EnvironmentError(`netloom serve at ${url.origin} answered ${res.status}: ${body.message ?? res.statusText}`);
  const reply = body as PlanReply;
  if (o.out !== undefined) {
    writeFileSync(o.out, reply.report);
    if (reply.cut && reply.full !== undefined) {
      // The name the served comment links to, beside the report.
      const fullName = path.join(path.dirname(o.out), 'plan.full.md');
      writeFileSync(fullName, reply.full);
      o.note(`the Markdown report was cut to fit one comment; the full report: ${fullName}`);
    }
    o.print(`plan served by ${url.origin}: ${reply.base.rev} -> ${reply.head.rev}, result ${reply.result}${reply.failing ? ` (${reply.failing} failing)` : ''}, ${reply.ms} ms; report: ${o.out}`);
  } else {
    o.print(reply.report.replace(/\n$/, ''));
    if (reply.cut && reply.full !== undefined) o.note('the Markdown report was cut to fit one comment (--out FILE writes the full report beside it)');
  }
  return reply.result === 'fail' ? 1 : 0;
}
