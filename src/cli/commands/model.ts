import type { Command } from '../command.ts';
import { boolOpt } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync } from '../../model/index.ts';
import { summarize } from '../../model/summary.ts';
import { UsageError } from '../../util/errors.ts';

export const modelCommand: Command = {
  name: 'model',
  summary: 'print the resolved source-of-truth model (--json for the whole model)',
  usage: `netloom model [DIR] [--json]`,
  options: { json: { type: 'boolean' } },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const model = loadModelSync(ctx.positionals[0] ?? DEFAULT_INTENT_DIR);
    if (boolOpt(ctx, 'json')) ctx.out(JSON.stringify(model, null, 2));
    else for (const l of summarize(model)) ctx.out(l);
    return 0;
  },
};
