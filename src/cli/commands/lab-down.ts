import type { Command } from '../command.ts';
import { stringOpt } from '../command.ts';
import { labDown } from '../../lab/index.ts';

export const labDownCommand: Command = {
  name: 'lab down',
  summary: 'remove a lab and everything it created',
  usage: 'netloom lab down [--name NAME]',
  options: { name: { type: 'string', arg: 'NAME', help: 'the lab to remove (default: the only lab up)' } },
  async run(ctx) {
    const name = stringOpt(ctx, 'name');
    const removed = await labDown(name);
    ctx.out(removed ? `lab ${name ?? ''} removed`.replace('  ', ' ') : `no lab ${name ?? ''} is up; nothing to do`.replace('  ', ' '));
    return 0;
  },
};
