import type { Command } from '../command.ts';
import { boolOpt, numberOpt, stringOpt } from '../command.ts';
import { CheckFailed, UsageError } from '../../util/errors.ts';
import { getLabState, waitConverged } from '../../lab/index.ts';
import { readLabModel } from '../../lab/expected-from-model.ts';
import { settleLab } from '../../lab/settle.ts';
import { labExpected } from '../../domains/index.ts';

export const labWaitCommand: Command = {
  name: 'lab wait',
  summary: 'wait until every BGP session is Established and every OSPF adjacency Full',
  usage: 'netloom lab wait --converged [--timeout SECONDS] [--name NAME]',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'the lab (default: the only lab up)' },
    converged: { type: 'boolean', help: 'wait for convergence (required: the only thing to wait for)' },
    timeout: { type: 'number', arg: 'SECONDS', min: 1, default: 60, help: 'give up after this long' },
  },
  async run(ctx) {
    if (!boolOpt(ctx, 'converged')) throw new UsageError('say what to wait for: --converged');
    const state = getLabState(stringOpt(ctx, 'name'));
    // A lab built from an intent must also have every session its model expects.
    const model = readLabModel(state.name);
    const timeoutMs = numberOpt(ctx, 'timeout') * 1000;
    if (model) {
      // ... and every leaf forwarding as the model says (repaired where FRR 8.4 lost router MACs).
      const expected = labExpected(model);
      const s = await settleLab(state, model, { timeoutMs, expected, log: ctx.out });
      if (!s.settled) throw new CheckFailed(`not converged after ${(s.elapsedMs / 1000).toFixed(1)} s:\n  ${s.pending.join('\n  ')}`);
      ctx.out(`lab ${state.name} converged in ${(s.elapsedMs / 1000).toFixed(1)} s (${expected.filter((e) => e.protocol === 'bgp').length / 2} BGP sessions, ${model.ospfAdjacencies.length} OSPF adjacencies expected by the model; every leaf's forwarding state as the model says)`);
      return 0;
    }
    const r = await waitConverged(state, { timeoutMs });
    if (!r.converged) throw new CheckFailed(`not converged after ${(r.elapsedMs / 1000).toFixed(1)} s:\n  ${r.pending.join('\n  ')}`);
    ctx.out(`lab ${r.status.name} converged in ${(r.elapsedMs / 1000).toFixed(1)} s`);
    return 0;
  },
};
