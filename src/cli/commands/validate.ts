import type { Command } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync } from '../../model/index.ts';
import { summarize } from '../../model/summary.ts';
import { UsageError } from '../../util/errors.ts';
import { intentDirArg } from '../intent-dir.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'validate an intent directory and print a summary of the resolved fabric',
  usage: `netloom validate [DIR]   (default ${DEFAULT_INTENT_DIR})`,
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'validate'));
    for (const l of summarize(model)) ctx.out(l);
    return 0;
  },
};
