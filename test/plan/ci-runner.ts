/**
 * Runs the netloom steps of the pipeline examples (examples/ci) as the CI systems would: a
 * GitHub Actions job's `run:` steps in order under `bash -eo pipefail` (their `${{ }}`
 * expressions from a context the test gives, `$GITHUB_OUTPUT` collected for later steps), a
 * GitLab CI job's `script:` lines under `bash -e`. Steps that only install netloom or talk to
 * the CI system (`uses:`, `after_script:`) are not run: `netloom` is a shim on PATH running this
 * work tree's CLI.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../support/intent-copy.ts';

export interface StepResult {
  name: string;
  code: number;
  out: string;
  err: string;
}

/** A directory holding `netloom`, running this work tree's CLI (as `npm ci` would put it on PATH). */
export function netloomShim(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-ci-bin-'));
  const bin = path.join(dir, 'netloom');
  writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, 'src/cli/bin.mjs'))} "$@"\n`);
  chmodSync(bin, 0o755);
  return dir;
}

/**
 * The plan's model cache (src/plan/model-cache.ts) in a directory of the test's own, so tests
 * leave nothing in the home directory; returns the restore.
 */
export function privateModelCache(): () => void {
  const prev = process.env.NETLOOM_CACHE_DIR;
  const dir = mkdtempSync(path.join(tmpdir(), 'netloom-test-cache-'));
  process.env.NETLOOM_CACHE_DIR = dir;
  return () => {
    if (prev === undefined) delete process.env.NETLOOM_CACHE_DIR;
    else process.env.NETLOOM_CACHE_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  };
}

const example = (name: string) => parse(readFileSync(path.join(repoRoot, 'examples/ci', name), 'utf8')) as Record<string, unknown>;

function bash(script: string, flags: string[], cwd: string, env: Record<string, string>, shim: string): { code: number; out: string; err: string } {
  const r = spawnSync('bash', ['--noprofile', '--norc', ...flags, '-c', script], {
    cwd,
    env: {
      PATH: `${shim}:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
      NETLOOM_STATE_DIR: process.env.NETLOOM_STATE_DIR ?? '',
      ...(process.env.NETLOOM_CACHE_DIR ? { NETLOOM_CACHE_DIR: process.env.NETLOOM_CACHE_DIR } : {}),
      ...env,
    },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** YAML scalars as the CI systems pass them: strings. */
const strings = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));

interface GhStep {
  name?: string;
  id?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}

/**
 * A GitHub Actions job's `run:` steps but the install, in order, until one fails (as the runner
 * stops). `context` answers `${{ github.* }}`; `env` overrides the workflow's.
 */
export function runGithubJob(job: string, o: { cwd: string; shim: string; context: Record<string, string>; env?: Record<string, string> }): StepResult[] {
  const wf = example('github-actions.yml') as { env: Record<string, string>; jobs: Record<string, { steps: GhStep[] }> };
  const outputs: Record<string, string> = {};
  const expr = (s: string) =>
    s.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, e: string) => {
      const v = e.startsWith('steps.') ? outputs[e] : o.context[e];
      if (v === undefined) throw new Error(`github-actions.yml: no value for \${{ ${e} }} in the test`);
      return v;
    });
  const results: StepResult[] = [];
  for (const step of wf.jobs[job].steps) {
    if (!step.run || step.name === 'install netloom') continue;
    const outFile = path.join(mkdtempSync(path.join(tmpdir(), 'netloom-ci-out-')), 'output');
    writeFileSync(outFile, '');
    const env = { ...strings(wf.env), ...o.env, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(String(v))])), GITHUB_OUTPUT: outFile };
    const r = bash(expr(step.run), ['-eo', 'pipefail'], o.cwd, env, o.shim);
    for (const line of readFileSync(outFile, 'utf8').split('\n')) {
      const m = /^([^=]+)=(.*)$/.exec(line);
      if (m && step.id) outputs[`steps.${step.id}.outputs.${m[1]}`] = m[2];
    }
    results.push({ name: step.name ?? step.run, ...r });
    if (r.code !== 0) break;
  }
  return results;
}

/** A GitLab CI job's `script:` (not `before_script:`, the install, nor `after_script:`) with the file's and the job's variables. */
export function runGitlabJob(job: string, o: { cwd: string; shim: string; variables: Record<string, string> }): StepResult {
  const ci = example('gitlab-ci.yml') as { variables: Record<string, string> } & Record<string, { script: string[] }>;
  const r = bash(ci[job].script.join('\n'), ['-e'], o.cwd, { ...strings(ci.variables), ...o.variables }, o.shim);
  return { name: job, ...r };
}
