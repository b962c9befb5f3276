#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx netloom` never runs a stale build.
import { register } from 'tsx/esm/api';

// A reader that goes away (`netloom ... | head`) is not an error: later output is dropped and
// the command still finishes what it started (a lab or a rollout is never left half-done).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') return;
    process.exitCode = 2;
    if (stream === process.stdout) process.stderr.write(`netloom: cannot write output: ${e.message}\n`);
  });
}

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// A failed write to stdout (set above) outranks a command that thought it succeeded.
process.exitCode = Math.max(code, Number(process.exitCode ?? 0));
