/** `s` as one POSIX shell word: single-quoted, a single quote inside closed, escaped and reopened. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
