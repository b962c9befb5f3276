/**
 * Error classes shared by every stage. The CLI maps them to exit codes and prints only
 * their messages: users never see a stack trace for an expected failure.
 */

/** A position inside an intent file; lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
  /** The value came through a YAML alias used here: where its anchor defines it. */
  via?: { anchor: string; file: string; line: number; col: number };
}

export interface Diagnostic {
  loc: SourceLocation;
  message: string;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const v = d.loc.via;
  return `${formatLocation(d.loc)}: ${d.message}${v ? ` (from &${v.anchor} at ${formatLocation(v)})` : ''}`;
}

/**
 * The root of every failure netloom expects and explains: its message is written for the
 * user, and the CLI prints it as is. Anything else that reaches the CLI (a TypeError, a
 * RangeError...) is a bug and is reported as an internal error.
 */
export class NetloomError extends Error {}

/** Invalid intent (schema or semantic): exit code 1, every diagnostic printed. */
export class IntentError extends NetloomError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'IntentError';
    this.diagnostics = diagnostics;
  }
}

/** A check that ran and failed (verification, post-check, rollout): exit code 1. */
export class CheckFailed extends NetloomError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** Bad command line: exit code 2. */
export class UsageError extends NetloomError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something missing or broken in the environment (a binary, a permission, a lab): exit code 2. */
export class EnvironmentError extends NetloomError {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof IntentError || err instanceof CheckFailed) return 1;
  if (err instanceof UsageError || err instanceof EnvironmentError) return 2;
  return 2;
}
