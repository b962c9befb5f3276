/**
 * An intent directory as it was at a git revision, read with the `git` CLI into a temporary
 * directory (`git archive`), so the user's work tree, index and HEAD are never touched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../util/errors.ts';

function git(cwd: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('git', args, { cwd, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

function gitError(e: unknown): string {
  const err = e as { stderr?: Buffer; code?: string; message: string };
  if (err.code === 'ENOENT') throw new EnvironmentError('git is not installed (netloom plan reads the intent from git)');
  return (err.stderr?.toString() ?? err.message).trim().split('\n')[0];
}

export interface IntentRepo {
  /** Absolute path of the work tree's top level. */
  root: string;
  /** The intent directory relative to `root`, '/'-separated ('' for the top level). */
  dir: string;
}

/** The git work tree holding DIR; a usage error when DIR is not in one. */
export function intentRepo(dir: string): IntentRepo {
  const abs = path.resolve(dir);
  let probe = abs;
  while (!existsSync(probe)) probe = path.dirname(probe);
  let root: string;
  try {
    root = git(probe, ['rev-parse', '--show-toplevel']).toString().trim();
  } catch (e) {
    throw new UsageError(`${dir} is not inside a git work tree (${gitError(e)}): netloom plan reads the intent at each revision from git`);
  }
  const rel = path.relative(root, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`${dir} is outside the git work tree at ${root}`);
  return { root, dir: rel.split(path.sep).join('/') };
}

/** The commit a revision names (`git rev-parse REV^{commit}`). */
export function resolveRevision(repo: IntentRepo, rev: string, option: string): string {
  if (rev.startsWith('-')) throw new UsageError(`${option} '${rev}' is not a revision`);
  try {
    return git(repo.root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).toString().trim();
  } catch {
    throw new UsageError(`${option} '${rev}' is no revision of the repository at ${repo.root} (git rev-parse found no commit by that name)`);
  }
}

/** Commit -> the intent directory's tree there (null: none), per repository and directory: a commit never changes. */
const trees = new Map<string, string | null>();

/**
 * The git tree of the intent directory at a commit (a full id, as resolveRevision gives it),
 * or undefined when the directory did not exist there. Asked once per commit: the model cache
 * keys its entries by it and the export reads it, several times a plan.
 */
export function intentTree(repo: IntentRepo, commit: string): string | undefined {
  const key = `${repo.root}\0${repo.dir}\0${commit}`;
  let tree = trees.get(key);
  if (tree === undefined) {
    try {
      // `<id> tree <size>`, or `... missing` (a path that is a file there is no intent directory either).
      const spec = `${commit}:${repo.dir}`;
      if (spec.includes('\n')) {
        // A line of --batch-check cannot name it: two asks.
        tree = git(repo.root, ['cat-file', '-t', spec]).toString().trim() === 'tree' ? git(repo.root, ['rev-parse', '--verify', '--quiet', spec]).toString().trim() : null;
      } else {
        const [id, type] = git(repo.root, ['cat-file', '--batch-check'], Buffer.from(`${spec}\n`)).toString().trim().split(' ');
        tree = type === 'tree' ? id : null;
      }
    } catch {
      tree = null;
    }
    // Only a full commit id names one commit for ever (a branch moves).
    if (/^[0-9a-f]{40,64}$/.test(commit)) trees.set(key, tree);
  }
  return tree ?? undefined;
}

/** True when the intent directory exists at the commit. */
function existsAt(repo: IntentRepo, commit: string): boolean {
  return repo.dir === '' || intentTree(repo, commit) !== undefined;
}

export interface ExportedIntent {
  /** The intent directory inside the export, or undefined when it did not exist at the commit. */
  dir?: string;
  /** The export's root: the repository's top level as it was at the commit. */
  root: string;
  cleanup(): void;
}

/** The intent directory at a commit, written under a new temporary directory at its repository path. */
export function exportIntent(repo: IntentRepo, commit: string): ExportedIntent {
  const root = mkdtempSync(path.join(tmpdir(), 'netloom-plan-'));
  try {
    return exportIntentInto(repo, commit, root);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** The intent directory at a commit, written under `root` (created) at its repository path; cleanup removes `root`. */
export function exportIntentInto(repo: IntentRepo, commit: string, root: string): ExportedIntent {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  if (!existsAt(repo, commit)) return { root, cleanup };
  try {
    const tar = git(repo.root, ['archive', '--format=tar', commit, '--', repo.dir || '.']);
    execFileSync('tar', ['-x', '-f', '-', '-C', root], { input: tar, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (e) {
    throw new EnvironmentError(`reading ${repo.dir || '.'} at ${commit.slice(0, 12)} from git: ${gitError(e)}`);
  }
  return { root, dir: path.join(root, repo.dir), cleanup };
}

/**
 * A revision's file names as its model records them when loaded with `placesRoot` its root
 * (src/intent/load.ts): relative to the repository already (an absolute one, from outside the
 * loader, is made so), and read from that root.
 */
export function revisionPaths(root: string): { repoPath(file: string): string; filePath(file: string): string } {
  return {
    repoPath: (f) => (path.isAbsolute(f) ? path.relative(root, f).split(path.sep).join('/') : f),
    filePath: (f) => path.resolve(root, f),
  };
}
