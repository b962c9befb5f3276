// One temporary directory per test run: every suite's mkdtemp lands under it (TMPDIR is
// inherited by the forked workers), and the run removes only its own directory at the end.
// Several runs on one machine (developers, CI shards) therefore never delete each other's files.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const runDir = mkdtempSync(path.join(tmpdir(), 'netloom-test-run-'));
  // Traversable like /tmp itself: daemons running as other users (frr) reach files tests made.
  chmodSync(runDir, 0o755);
  process.env.TMPDIR = runDir;
  return () => rmSync(runDir, { recursive: true, force: true });
}
