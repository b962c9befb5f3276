import type { Command } from '../command.ts';
import { stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { labExec } from '../../lab/index.ts';

export const labExecCommand: Command = {
  name: 'lab exec',
  summary: 'run a command inside a lab node',
  usage: 'netloom lab exec NODE [--name LAB] -- CMD [ARGS...]',
  options: { name: { type: 'string', arg: 'LAB', help: 'the lab (default: the only lab up)' } },
  notes: [
    "On the network-namespace runtime every node shares this host's processes: `pkill bgpd` run in a node stops every node's bgpd. Stop one node's daemon by its own pid file, which the node sees at /var/run/frr: netloom lab exec spine1 -- sh -c 'kill $(cat /var/run/frr/bgpd.pid)'",
  ],
  async run(ctx) {
    const node = ctx.positionals[0];
    if (!node || ctx.rest.length === 0) throw new UsageError(`usage: ${this.usage}`);
    const r = await labExec(stringOpt(ctx, 'name'), node, ctx.rest, { inherit: true });
    return r.code;
  },
};
