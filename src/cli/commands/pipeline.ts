import type { Command } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync } from '../../model/index.ts';
import { summarize } from '../../model/summary.ts';
import { UsageError } from '../../util/errors.ts';

/**
 * The main job on one fabric: every stage that exists, end to end. It grows with the
 * project; each stage prints a short section and stops the run on failure.
 */
export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'run the whole pipeline on an intent directory: validate and resolve the model',
  usage: `netloom pipeline [DIR]   (default ${DEFAULT_INTENT_DIR})`,
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const dir = ctx.positionals[0] ?? DEFAULT_INTENT_DIR;
    ctx.out(`== validate ${dir}`);
    const model = loadModelSync(dir);
    for (const l of summarize(model)) ctx.out(l);
    return 0;
  },
};
