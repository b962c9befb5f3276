import { readFileSync } from 'node:fs';
import { commands } from './commands/index.ts';
import { parseCommandArgs, type Command } from './command.ts';
import { exitCodeFor, IntentError } from '../util/errors.ts';

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
    const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
    if (group.length) {
      err(`netloom ${argv[0]}: expected one of: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`);
    } else {
      err(`netloom: unknown command '${argv[0]}'\n\n${help()}`);
    }
    return 2;
  }
  try {
    const parsed = parseCommandArgs(found.cmd, found.args);
    if (parsed.values.help) {
      out(`${found.cmd.summary}\n\nusage: ${found.cmd.usage}`);
      return 0;
    }
    return await found.cmd.run({ ...parsed, out, err });
  } catch (e) {
    if (e instanceof IntentError) {
      for (const line of e.message.split('\n')) err(line);
      err(`${e.diagnostics.length} error${e.diagnostics.length === 1 ? '' : 's'}`);
    } else if (e instanceof Error && e.name !== 'Error') {
      // netloom's own error classes (usage, environment, failed checks, device and NETCONF
      // errors) carry a message meant for the user.
      err(`netloom ${found.cmd.name}: ${e.message}`);
    } else {
      // An unexpected bug: still no stack trace unless asked for, but say it is one.
      err(`netloom ${found.cmd.name}: internal error: ${(e as Error)?.message ?? String(e)}`);
      if (process.env.NETLOOM_DEBUG) err((e as Error)?.stack ?? '');
    }
    return exitCodeFor(e);
  }
}
