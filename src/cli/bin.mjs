#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx netloom` never runs a stale build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
