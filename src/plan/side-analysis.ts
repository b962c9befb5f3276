/**
 * A revision's analysis on the second core: a worker thread (side-analysis-thread.ts) loads the
 * revision's model itself while the main thread loads both models and diffs them, then builds
 * its analysis context and runs the static checks and the flows the plan asks for. Handing the
 * main thread's model over would cost a structured clone of it (what resolving it costs);
 * loading it twice in parallel costs CPU, not time, and only the small results cross back. The
 * plan stays synchronous: the main thread blocks on a shared counter the worker bumps with
 * every reply. Started only when NETLOOM_PLAN_WORKER asks: `always`, or `auto` for big intents
 * (a thread and a second model's memory: from WORKER_MIN_BYTES of intent files) on a machine
 * with two CPUs or more whose load average leaves one idle. The tests compare both paths, the
 * bench measures both.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Flow } from '../verify/flows.ts';
import type { IntentRepo } from './git-revision.ts';
import type { MemoCheck, SideAnalysis } from './plan.ts';

/** Intent files smaller than this are planned on one thread (a worker's start costs more than it saves). */
export const WORKER_MIN_BYTES = 256 * 1024;
/** Longest wait for one reply; past it (a worker that died) the main thread computes itself. */
const REPLY_WAIT_MS = 120_000;

/** What the worker is given: the revision (absent commit: the working tree) and the channel back. */
export interface SideJob {
  repo: IntentRepo;
  commit?: string;
  port: MessagePort;
  signal: SharedArrayBuffer;
}

export type SideReply = { kind: 'checks'; checks: Record<string, MemoCheck> } | { kind: 'flows'; key: string; flows: Flow[] } | { kind: 'failed'; message: string };

export interface SideAnalysisWorker extends SideAnalysis {
  /** Stops the worker (it holds a model's memory). */
  close(): void;
}

/** Bytes of the intent directory's files at the commit (the working tree when absent). */
function intentBytes(repo: IntentRepo, commit: string | undefined): number {
  if (commit) {
    try {
      const out = execFileSync('git', ['ls-tree', '-r', '-l', commit, '--', repo.dir || '.'], { cwd: repo.root, maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      return out.split('\n').reduce((sum, line) => sum + (Number(line.split(/\s+/)[3]) || 0), 0);
    } catch {
      return 0;
    }
  }
  let sum = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.isFile()) sum += statSync(path.join(dir, e.name)).size;
    }
  };
  try {
    walk(path.join(repo.root, repo.dir));
  } catch {
    return 0;
  }
  return sum;
}

function wanted(repo: IntentRepo, commit: string | undefined): boolean {
  const setting = process.env.NETLOOM_PLAN_WORKER;
  if (setting === 'always') return true;
  // Off unless asked for: on this project's shared two-CPU machine it has only been measured
  // slower (README, "Plan speed"); `auto` starts it where it can pay off.
  if (setting !== 'auto') return false;
  // A second core busy with other work makes the worker's second model load pure cost.
  const cores = availableParallelism();
  return cores >= 2 && loadavg()[0] <= cores - 1 && intentBytes(repo, commit) >= WORKER_MIN_BYTES;
}

/** tsx's ESM register API (its `import` export: the CommonJS one cannot register ESM hooks in a worker). */
export function tsxEsmApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const exp = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'];
  return pathToFileURL(path.join(path.dirname(pkg), exp.import.default)).href;
}

/**
 * The worker runs the TypeScript sources through tsx (the CLI's start bundle holds only the main
 * thread's modules). A worker that
 * cannot start says so on the channel, so the main thread never waits for it in vain.
 */
const boot = () => `const { workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import(${JSON.stringify(tsxEsmApi())});
  register();
  await import(${JSON.stringify(new URL('./side-analysis-thread.ts', import.meta.url).href)});
})().catch((e) => {
  workerData.port.postMessage({ kind: 'failed', message: String(e && e.message || e) });
  const signal = new Int32Array(workerData.signal);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});`;

class WorkerAnalysis implements SideAnalysisWorker {
  private readonly signal = new SharedArrayBuffer(4);
  private readonly counter = new Int32Array(this.signal);
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private failed = false;
  private checksReply?: Record<string, MemoCheck>;

  constructor(repo: IntentRepo, commit: string | undefined) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const job: SideJob = { repo, ...(commit ? { commit } : {}), port: port2, signal: this.signal };
    this.worker = new Worker(boot(), { eval: true, workerData: job, transferList: [port2] });
    this.worker.unref();
    // A worker that fails to start or throws is only a lost shortcut: the main thread computes.
    this.worker.on('error', () => undefined);
  }

  /** The next reply, waiting for it (the main thread has nothing else to do then). */
  private next(): SideReply | undefined {
    if (this.failed) return undefined;
    const deadline = Date.now() + REPLY_WAIT_MS;
    for (;;) {
      const seen = Atomics.load(this.counter, 0);
      const m = receiveMessageOnPort(this.port);
      if (m) {
        const reply = m.message as SideReply;
        if (reply.kind === 'failed') this.failed = true;
        return reply;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.failed = true;
        return undefined;
      }
      Atomics.wait(this.counter, 0, seen, Math.min(left, 1000));
    }
  }

  checks(ids: string[]): Map<string, MemoCheck> | undefined {
    while (!this.checksReply) {
      const r = this.next();
      if (!r || r.kind === 'failed') return undefined;
      if (r.kind === 'checks') this.checksReply = r.checks;
    }
    return new Map(ids.filter((id) => this.checksReply![id]).map((id) => [id, this.checksReply![id]]));
  }

  flows(endpoints: Set<string>): Flow[] | undefined {
    if (this.failed) return undefined;
    const list = [...endpoints].sort();
    const key = list.join('\n');
    this.port.postMessage({ endpoints: list });
    for (;;) {
      const r = this.next();
      if (!r || r.kind === 'failed') return undefined;
      if (r.kind === 'checks') this.checksReply = r.checks;
      else if (r.key === key) return r.flows;
    }
  }

  close(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/** A worker analysing the revision (the working tree when `commit` is absent), when worth it; undefined otherwise. */
export function startSideAnalysis(repo: IntentRepo, commit: string | undefined): SideAnalysisWorker | undefined {
  if (!wanted(repo, commit)) return undefined;
  try {
    return new WorkerAnalysis(repo, commit);
  } catch {
    return undefined;
  }
}
