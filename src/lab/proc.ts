import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EnvironmentError } from '../util/errors.ts';
import { BoundedOutput } from '../util/bounded-output.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  /** Bytes kept per stream; past it the program is killed and run rejects (default 64 MiB). */
  maxOutputBytes?: number;
}

/** Runs a program (no shell) and collects its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = new BoundedOutput(opts.maxOutputBytes);
    const err = new BoundedOutput(opts.maxOutputBytes);
    const collect = (b: BoundedOutput) => (d: Buffer) => {
      if (!b.push(d)) child.kill('SIGKILL');
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new EnvironmentError(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdout = out.text();
      const stderr = err.text();
      const r = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      const what = [cmd, ...args].join(' ');
      if (out.overflowed || err.overflowed) {
        reject(new EnvironmentError(`${what.length > 200 ? what.slice(0, 200) + '...' : what} printed more than ${out.describeLimit()} on ${out.overflowed ? 'stdout' : 'stderr'}; stopped it`));
      } else if (r.code !== 0 && !opts.allowFail) {
        reject(new EnvironmentError(`${what.length > 200 ? what.slice(0, 200) + '...' : what} failed (exit ${signal ?? r.code}): ${(stderr || stdout).trim().slice(0, 2000)}`));
      } else resolve(r);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first failure after all settle. */
export async function parallel<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
  return results;
}

/** A process's state letter and start time (clock ticks since boot: with the pid, it names one process). */
export function procStat(pid: number): { state: string; startTicks: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces) start at field 3, the state; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTicks: fields[22 - 3] };
  } catch {
    return undefined;
  }
}

/** Alive means present and not a zombie: PID 1 here reaps orphans only now and then. */
export function pidAlive(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function readPidFile(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. */
export async function stopPids(pids: number[], graceMs = 3000): Promise<void> {
  const live = pids.filter(pidAlive);
  for (const p of live) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (live.some(pidAlive) && Date.now() < deadline) await sleep(25);
  for (const p of live.filter(pidAlive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const hard = Date.now() + 2000;
  while (live.some(pidAlive) && Date.now() < hard) await sleep(25);
}
