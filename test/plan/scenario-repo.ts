// A temporary git repository the plan tests commit scenarios into, one tag per commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ScenarioRepo {
  root: string;
  git(...args: string[]): string;
  /** Replaces `from` (which must be there) by `to` in a file of the repository. */
  edit(file: string, from: string, to: string): void;
  write(file: string, text: string): void;
  /** Commits everything and tags the commit. */
  commit(tag: string): void;
}

export function scenarioRepo(prefix: string): ScenarioRepo {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  git('init', '-q');
  return {
    root,
    git,
    edit(file, from, to) {
      const f = path.join(root, file);
      const text = readFileSync(f, 'utf8');
      if (!text.includes(from)) throw new Error(`${file} has no '${from}'`);
      writeFileSync(f, text.replace(from, to));
    },
    write(file, text) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    },
    commit(tag) {
      git('add', '-A');
      git('-c', 'user.email=plan@test', '-c', 'user.name=plan test', 'commit', '-qm', tag);
      git('tag', tag);
    },
  };
}
