/**
 * Paths netloom did not choose (entries of a manifest it reads back, names inside files
 * written by others) are resolved only inside their directory: a `..`, an absolute path or a
 * symlink leading out is refused before anything is read or removed. And files netloom reads
 * whole have a size bound, so a wrong or hostile file gives an error, not gigabytes of memory.
 */
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.ts';

/** A path that would leave its directory: exit code 2, nothing read or removed. */
export class UnsafePathError extends EnvironmentError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

/** The nearest existing ancestor of p (p itself if it exists), without following a final symlink. */
function existingAncestor(p: string): string {
  let cur = p;
  for (;;) {
    try {
      lstatSync(cur);
      return cur;
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

/**
 * `dir/rel` as an absolute path, or UnsafePathError when `rel` is absolute, empty, holds a NUL
 * byte, climbs out with `..`, or reaches outside `dir` through a symlink. `what` names the
 * reference in the message (e.g. "out/manifest.json entry").
 *
 * `followFinal`: for reading, a final symlink must point inside too; for removal it need not
 * (removing a symlink removes the link, not its target).
 */
export function resolveInside(dir: string, rel: string, what: string, opts: { followFinal?: boolean } = {}): string {
  const followFinal = opts.followFinal ?? true;
  const bad = (why: string) => new UnsafePathError(`${what} '${rel}' ${why}; refusing to touch it (expected a path inside ${dir})`);
  if (typeof rel !== 'string' || rel === '') throw bad('is empty');
  if (rel.includes('\0')) throw bad('contains a NUL byte');
  if (path.isAbsolute(rel)) throw bad('is absolute');
  const root = path.resolve(dir);
  const abs = path.resolve(root, rel);
  if (!isInside(root, abs) || abs === root) throw bad('leaves its directory');
  if (!existsSync(root)) return abs;
  const realRoot = realpathSync.native(root);
  // Symlinks: where the path really lands must be inside the real root too.
  const probe = followFinal ? existingAncestor(abs) : existingAncestor(path.dirname(abs));
  let real: string;
  try {
    real = realpathSync.native(probe);
  } catch {
    throw bad('goes through a dangling symlink');
  }
  if (!isInside(realRoot, real)) throw bad('leaves its directory through a symlink');
  return abs;
}

/** Byte bounds of the files netloom reads whole (README "Limits"). */
export const LIMITS = {
  intentFile: 16 * 1024 * 1024,
  manifest: 64 * 1024 * 1024,
  inventory: 16 * 1024 * 1024,
  topology: 16 * 1024 * 1024,
} as const;

function mib(n: number): string {
  return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
}

/** The file as UTF-8, or EnvironmentError when it is larger than `maxBytes` (checked before reading). */
export function readTextBounded(file: string, maxBytes: number, what: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new EnvironmentError(`${file}: ${what} is ${size.toLocaleString('en-US')} bytes, more than the ${mib(maxBytes)} netloom accepts`);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.toString('utf8', 0, off);
  } finally {
    closeSync(fd);
  }
}
