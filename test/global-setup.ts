// One temporary directory per test run: every suite's mkdtemp lands under it (TMPDIR is
// inherited by the forked workers), and the run removes only its own directory at the end.
// Several runs on one machine (developers, CI shards) therefore never delete each other's files.
//
// Labs made during the run record this process as their holder (NETLOOM_LAB_HOLDER_PID, inherited
// by workers and the CLI processes tests start). A run killed before its cleanup leaves labs whose
// holder is gone; this run reclaims them first, so a lab test never fails on "already up".
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { reclaimOrphanedLabs } from '../src/lab/lifecycle.ts';

export default async function setup(): Promise<() => void> {
  const runDir = mkdtempSync(path.join(tmpdir(), 'netloom-test-run-'));
  // Traversable like /tmp itself: daemons running as other users (frr) reach files tests made.
  chmodSync(runDir, 0o755);
  process.env.TMPDIR = runDir;
  process.env.NETLOOM_LAB_HOLDER_PID = String(process.pid);
  const reclaimed = await reclaimOrphanedLabs();
  if (reclaimed.length) console.log(`took down lab(s) left by a killed test run: ${reclaimed.join(', ')}`);
  return () => rmSync(runDir, { recursive: true, force: true });
}
