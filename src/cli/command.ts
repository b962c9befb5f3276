import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../util/errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * One CLI command. Each lives in its own module under src/cli/commands and is listed in
 * src/cli/commands/index.ts; the dispatcher parses options with node:util parseArgs.
 * `name` may contain a space for sub-commands ("lab up").
 */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options?: OptionSpec;
  run(ctx: CommandContext): Promise<number>;
}

export interface CommandContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  /** Arguments after a literal `--` (e.g. `lab exec NODE -- CMD...`). */
  rest: string[];
  out: (line: string) => void;
  err: (line: string) => void;
}

export function parseCommandArgs(cmd: Command, argv: string[]): Pick<CommandContext, 'values' | 'positionals' | 'rest'> {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const rest = dd >= 0 ? argv.slice(dd + 1) : [];
  try {
    const { values, positionals } = parseArgs({
      args: own,
      options: { help: { type: 'boolean', short: 'h' }, ...(cmd.options ?? {}) },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as CommandContext['values'], positionals, rest };
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${cmd.usage}`);
  }
}

export function stringOpt(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} expects a value`);
  return v;
}

export function stringListOpt(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function numberOpt(ctx: CommandContext, name: string, fallback: number): number {
  const v = stringOpt(ctx, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} expects a non-negative number, got '${v}'`);
  return n;
}

export function boolOpt(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}
