#!/usr/bin/env node
// Runs the TypeScript sources, never a stale build: as one module compiled from them and kept
// while they are unchanged (start-bundle.mjs), or else through tsx.
import { bundledMain } from './start-bundle.mjs';

// A reader that goes away (`netloom ... | head`) is not an error: later output is dropped and
// the command still finishes what it started (a lab or a rollout is never left half-done).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') return;
    process.exitCode = 2;
    if (stream === process.stdout) process.stderr.write(`netloom: cannot write output: ${e.message}\n`);
  });
}

async function loadMain() {
  const bundle = await bundledMain();
  if (bundle) {
    process.setSourceMapsEnabled(true);
    try {
      return await import(bundle);
    } catch (e) {
      // Only a bundle that another start replaced meanwhile; an error while evaluating is real.
      if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(bundle.replace('file://', ''))) throw e;
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('./main.ts');
}

const { main } = await loadMain();
const code = await main(process.argv.slice(2));
// A failed write to stdout (set above) outranks a command that thought it succeeded.
process.exitCode = Math.max(code, Number(process.exitCode ?? 0));
