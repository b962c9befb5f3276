/**
 * The worker side of src/plan/side-analysis.ts: loads one revision's model itself (from the
 * working tree, or exported from git into its own temporary directory), builds its analysis
 * context, and answers with what plan.ts would compute on the main thread: the flows among a
 * set of endpoints (asked for once the semantic diff names them, served between two checks)
 * and every static check's result, repository-relative. Nothing but those small results
 * crosses back: the model stays here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadModelSync } from '../model/index.ts';
import { buildFabricGraph } from '../verify/graph.ts';
import { makeContext } from '../verify/checks/index.ts';
import { endpointFlows } from '../verify/flows.ts';
import { allStaticChecks } from '../domains/index.ts';
import { exportIntent, revisionPaths, type ExportedIntent } from './git-revision.ts';
import { IntentFileCache } from './model-cache.ts';
import { runChecks, type MemoCheck, type PlanSide } from './plan.ts';
import type { SideJob, SideReply } from './side-analysis.ts';

const job = workerData as SideJob;
const port: MessagePort = job.port;
const signal = new Int32Array(job.signal);

function send(reply: SideReply): void {
  port.postMessage(reply);
  // The main thread may be blocked waiting (Atomics.wait): wake it.
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

let exported: ExportedIntent | undefined;
try {
  let root = job.repo.root;
  let dir = path.join(job.repo.root, job.repo.dir);
  if (job.commit) {
    exported = exportIntent(job.repo, job.commit);
    root = exported.root;
    dir = exported.dir ?? '';
  }
  if (!dir || !existsSync(dir)) throw new Error('the intent directory does not exist at this revision');
  // Files the main thread's plans parsed before are read back (this thread writes none).
  const model = loadModelSync(dir, { parseCache: new IntentFileCache(), placesRoot: root });
  const side: PlanSide = { rev: '', model, ...revisionPaths(root) };
  const ctx = makeContext(buildFabricGraph(model));
  const serve = (msg: { endpoints: string[] }) => {
    const flows = endpointFlows(model, new Set(msg.endpoints), ctx.fg, ctx);
    send({ kind: 'flows', key: msg.endpoints.join('\n'), flows });
  };
  const pending = () => {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) serve(m.message as { endpoints: string[] });
  };
  const checks: Record<string, MemoCheck> = {};
  for (const c of allStaticChecks()) {
    pending();
    const [{ id, ...r }] = runChecks(side, ctx, [c.id]);
    checks[id] = r;
  }
  send({ kind: 'checks', checks });
  port.on('message', serve);
} catch (e) {
  send({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
} finally {
  exported?.cleanup();
}
