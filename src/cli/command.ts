import { parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';
import { UsageError } from '../util/errors.ts';

interface OptionBase {
  short?: string;
  /** One line for `--help`. */
  help: string;
}
/** A number is checked (whole, bounds) before a command sees it: `--timeout abc` is a usage error. */
export interface NumberOption extends OptionBase {
  type: 'number';
  /** Placeholder in help, e.g. SECONDS. */
  arg?: string;
  default?: number;
  integer?: boolean;
  min?: number;
  max?: number;
  multiple?: boolean;
}
export interface StringOption extends OptionBase {
  type: 'string';
  arg?: string;
  default?: string;
  /** The only values accepted (an enum flag). */
  choices?: readonly string[];
  multiple?: boolean;
}
export interface BooleanOption extends OptionBase {
  type: 'boolean';
}
export type OptionDef = NumberOption | StringOption | BooleanOption;

/** A command's options, declared once: parsing, validation, defaults and `--help` all derive from it. */
export type OptionSpec = Record<string, OptionDef>;

/**
 * One CLI command. Each lives in its own module under src/cli/commands and is listed in
 * src/cli/commands/index.ts. `name` may contain a space for sub-commands ("lab up").
 */
export interface Command {
  name: string;
  summary: string;
  /** Synopsis: positionals and the options that matter most (every option is listed by `--help`). */
  usage: string;
  options?: OptionSpec;
  /** Extra lines for `--help` (exit statuses, examples). */
  notes?: string[];
  run(ctx: CommandContext): Promise<number>;
}

export type OptionValue = string | number | boolean | (string | number)[] | undefined;

export interface CommandContext {
  /** Parsed and validated options, defaults applied; numbers are numbers. */
  values: Record<string, OptionValue>;
  positionals: string[];
  /** Arguments after a literal `--` (e.g. `lab exec NODE -- CMD...`). */
  rest: string[];
  out: (line: string) => void;
  err: (line: string) => void;
}

const HELP: BooleanOption = { type: 'boolean', short: 'h', help: 'this help' };

function specOf(cmd: Command): OptionSpec {
  return { ...(cmd.options ?? {}), help: HELP };
}

/** The nearest of `candidates` to a mistyped word, when it is near enough to be a likely typo. */
export function nearest(word: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const prefixed = candidates.filter((c) => c.startsWith(word));
  if (word.length >= 3 && prefixed.length === 1) return prefixed[0];
  const best = closest(word, candidates);
  return distance(word, best) <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

export function didYouMean(word: string, candidates: string[], show: (c: string) => string = (c) => c): string {
  const n = nearest(word, candidates);
  return n === undefined ? '' : ` (did you mean ${show(n)}?)`;
}

function convert(name: string, def: NumberOption | StringOption, raw: string): string | number {
  if (def.type === 'string') {
    if (def.choices && !def.choices.includes(raw)) {
      throw new UsageError(`--${name} must be one of ${def.choices.join(', ')}, got '${raw}'${didYouMean(raw, [...def.choices])}`);
    }
    return raw;
  }
  const re = def.integer ? /^-?\d+$/ : /^-?(\d+(\.\d*)?|\.\d+)$/;
  const n = Number(raw);
  const what = def.integer ? 'a whole number' : 'a number';
  if (!re.test(raw.trim()) || !Number.isFinite(n)) throw new UsageError(`--${name} expects ${what}, got '${raw}'`);
  if (def.min !== undefined && n < def.min) throw new UsageError(`--${name} must be at least ${def.min}, got ${raw}`);
  if (def.max !== undefined && n > def.max) throw new UsageError(`--${name} must be at most ${def.max}, got ${raw}`);
  return n;
}

export function parseCommandArgs(cmd: Command, argv: string[]): Pick<CommandContext, 'values' | 'positionals' | 'rest'> {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const rest = dd >= 0 ? argv.slice(dd + 1) : [];
  const spec = specOf(cmd);
  const config = Object.fromEntries(
    Object.entries(spec).map(([k, d]) => [k, { type: d.type === 'boolean' ? ('boolean' as const) : ('string' as const), ...(d.short ? { short: d.short } : {}) }]),
  );
  // Not strict: every token is checked here, so a mistake gets a message that says what to type.
  const { tokens } = parseArgs({ args: own, options: config, allowPositionals: true, strict: false, tokens: true });
  const values: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const fail: (msg: string) => never = (msg) => {
    throw new UsageError(`${msg}\nusage: ${cmd.usage}\n(netloom ${cmd.name} --help lists every option)`);
  };
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const def = spec[t.name];
    if (!def) fail(`unknown option '${t.rawName}'${didYouMean(t.name, Object.keys(spec), (c) => `--${c}`)}`);
    if (def.type === 'boolean') {
      if (t.value !== undefined) fail(`--${t.name} takes no value, got '${t.value}'`);
      values[t.name] = true;
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && !/^-\d/.test(t.value))) {
      fail(`--${t.name} expects ${def.arg ?? 'a value'}`);
    }
    const v = convert(t.name, def, t.value as string);
    if (def.multiple) values[t.name] = [...((values[t.name] as (string | number)[] | undefined) ?? []), v];
    else values[t.name] = v;
  }
  for (const [k, d] of Object.entries(spec)) {
    if (values[k] === undefined && d.type !== 'boolean' && d.default !== undefined) values[k] = d.default;
  }
  return { values, positionals, rest };
}

/** `--help` of a command: summary, synopsis, every option with its default, notes. */
export function commandHelp(cmd: Command): string {
  const rows = Object.entries(specOf(cmd)).map(([name, d]) => {
    const arg = d.type === 'boolean' ? '' : ` ${d.arg ?? (d.type === 'number' ? 'N' : d.choices ? d.choices.join('|') : 'VALUE')}`;
    const flag = `${d.short ? `-${d.short}, ` : '    '}--${name}${arg}${d.type !== 'boolean' && d.multiple ? ' ...' : ''}`;
    const notes = [
      ...(d.type === 'string' && d.choices && d.arg ? [d.choices.join(', ')] : []),
      ...(d.type !== 'boolean' && d.default !== undefined ? [`default ${d.default}`] : []),
    ];
    return [flag, `${d.help}${notes.length ? ` (${notes.join('; ')})` : ''}`];
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)));
  return [
    cmd.summary,
    '',
    `usage: ${cmd.usage}`,
    '',
    'options:',
    ...rows.map(([f, h]) => (f.length > width ? `  ${f}\n  ${' '.repeat(width)}  ${h}` : `  ${f.padEnd(width)}  ${h}`)),
    ...(cmd.notes ? ['', ...cmd.notes] : []),
  ].join('\n');
}

export function stringOpt(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return v === undefined ? undefined : String(v);
}

export function stringListOpt(ctx: CommandContext, name: string): string[] {
  const v = ctx.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function numberListOpt(ctx: CommandContext, name: string): number[] {
  const v = ctx.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(Number);
}

/** A number option; `fallback` only for defaults that depend on other options (the spec's default applies first). */
export function numberOpt(ctx: CommandContext, name: string, fallback?: number): number {
  const v = ctx.values[name];
  if (typeof v === 'number') return v;
  if (fallback === undefined) throw new Error(`option --${name} has no value and no default`);
  return fallback;
}

export function boolOpt(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}
