import { readFileSync } from 'node:fs';
import { commands } from './commands/index.ts';
import { commandHelp, didYouMean, parseCommandArgs, type Command } from './command.ts';
import { exitCodeFor, IntentError, NetloomError } from '../util/errors.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'netloom - fabric intent -> source of truth -> configs -> verified, running fabric',
    '',
    'usage: netloom <command> [options]   (netloom <command> --help for details)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'exit codes: 0 ok, 1 invalid intent or failed check, 2 usage or environment error',
  ].join('\n');
}

/** Longest command name that prefixes argv wins, so "lab up" beats a hypothetical "lab". */
function findCommand(argv: string[]): { cmd: Command; args: string[] } | undefined {
  let best: { cmd: Command; args: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, args: argv.slice(words.length) };
    }
  }
  return best;
}

function unknownCommand(argv: string[]): string {
  const group = commands.filter((c) => c.name.startsWith(argv[0] + ' ')).map((c) => c.name.split(' ')[1]);
  if (group.length) {
    const sub = argv[1];
    const what = sub === undefined || sub.startsWith('-') ? 'expected a sub-command' : `unknown sub-command '${sub}'${didYouMean(sub, group, (c) => `${argv[0]} ${c}`)}`;
    return `netloom ${argv[0]}: ${what}; one of: ${group.join(', ')}`;
  }
  const firstWords = [...new Set(commands.map((c) => c.name.split(' ')[0]))];
  return `netloom: unknown command '${argv[0]}'${didYouMean(argv[0], firstWords)}; 'netloom --help' lists them`;
}

function debugging(): boolean {
  const v = process.env.NETLOOM_DEBUG ?? '';
  return v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Prints an error the way its class says: netloom's own errors are messages, anything else a bug. */
function report(e: unknown, where: string, err: (l: string) => void): void {
  if (e instanceof IntentError) {
    for (const line of e.message.split('\n')) err(line);
    err(`${e.diagnostics.length} error${e.diagnostics.length === 1 ? '' : 's'}`);
  } else if (e instanceof NetloomError) {
    err(`${where}: ${e.message}`);
  } else {
    // A bug (TypeError, RangeError, a library's error): still no stack trace unless asked for.
    err(`${where}: internal error: ${e instanceof Error ? e.message : String(e)}`);
    if (debugging()) err(e instanceof Error ? (e.stack ?? '') : '');
    else err('(a bug in netloom: NETLOOM_DEBUG=1 shows where)');
  }
}

export async function main(argv: string[]): Promise<number> {
  const out = (l: string) => process.stdout.write(l + '\n');
  const err = (l: string) => process.stderr.write(l + '\n');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(help());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    out(pkg.version);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    err(unknownCommand(argv));
    return 2;
  }
  try {
    const parsed = parseCommandArgs(found.cmd, found.args);
    if (parsed.values.help) {
      out(commandHelp(found.cmd));
      return 0;
    }
    return await found.cmd.run({ ...parsed, out, err });
  } catch (e) {
    report(e, `netloom ${found.cmd.name}`, err);
    return exitCodeFor(e);
  }
}
