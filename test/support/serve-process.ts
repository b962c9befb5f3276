/** `netloom serve` as a separate process, for lab tests: started, its API address read from its output, stopped. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './intent-copy.ts';

export interface ServeProcess {
  /** http://127.0.0.1:PORT */
  base: string;
  /** Everything it printed so far (for failure messages). */
  output: () => string;
  /** SIGTERM, and wait for it to exit. */
  stop: () => Promise<void>;
}

/** Services still running when the test process exits (a test failed before stopping its own) are killed with it, not left polling a lab that is gone. */
const running = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts `netloom serve ARGS --listen 127.0.0.1:0` with `env` added; resolves once it prints its API address (30 s at most). */
export async function startServe(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'serve', ...args, '--listen', '127.0.0.1:0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const end = Date.now() + 30_000;
  for (;;) {
    const base = /API on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    if (base) return { base, output: () => output, stop };
    if (child.exitCode !== null || Date.now() > end) {
      await stop();
      throw new Error(`netloom serve did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
