// The closing line of a CI run, from vitest's JSON report. The run fails when a test failed,
// a file did not load, or any test was skipped: in CI every prerequisite is installed, so a
// skip means a test that did not run.
import { existsSync, readFileSync, statSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file) || statSync(file).size === 0) {
  console.log('no test report (the typecheck or the test run stopped before writing one)');
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = [];
for (const f of r.testResults ?? []) {
  for (const t of f.assertionResults ?? []) {
    if (['pending', 'skipped', 'todo', 'disabled'].includes(t.status)) skipped.push(`${f.name.replace(process.cwd() + '/', '')} > ${t.fullName}`);
  }
}
const nSkipped = Math.max(skipped.length, r.numPendingTests + (r.numTodoTests ?? 0));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${nSkipped} skipped`);
for (const s of skipped) console.log(`  skipped: ${s}`);
if (r.numFailedTestSuites > 0) console.log(`${r.numFailedTestSuites} suite(s) failed (files or describe blocks, a file that did not load included)`);
process.exit(r.numFailedTests > 0 || r.numFailedTestSuites > 0 || nSkipped > 0 || r.success === false ? 1 : 0);
