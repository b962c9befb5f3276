import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_INTENT_DIR } from '../model/index.ts';
import { UsageError } from '../util/errors.ts';

/** netloom's own copy of the default example, wherever the command is run from. */
const PROJECT_DEFAULT = fileURLToPath(new URL(`../../${DEFAULT_INTENT_DIR}`, import.meta.url));

/**
 * The intent directory a command works on: the one given, else `intents/dc1` under the
 * current directory, else the project's own example (netloom run from another directory).
 */
export function intentDirArg(given: string | undefined, command: string): string {
  if (given !== undefined) return given;
  if (existsSync(DEFAULT_INTENT_DIR)) return DEFAULT_INTENT_DIR;
  if (existsSync(PROJECT_DEFAULT)) return PROJECT_DEFAULT;
  throw new UsageError(`no intent directory given, and there is no ${DEFAULT_INTENT_DIR} here or in netloom's project: pass one (netloom ${command} DIR)`);
}
