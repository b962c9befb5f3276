import { rmSync, statSync } from 'node:fs';
import type { Command } from '../command.ts';
import { stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { labUp } from '../../lab/index.ts';
import { intentDirArg } from '../intent-dir.ts';

export const labUpCommand: Command = {
  name: 'lab up',
  summary: 'bring a lab up (containerlab if present, else network namespaces + FRR)',
  usage: 'netloom lab up [DIR | FILE.clab.yml] [--name NAME] [--runtime auto|netns|containerlab]   (default intents/dc1)',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'lab name (default: the fabric or topology name)' },
    runtime: { type: 'string', arg: 'RUNTIME', choices: ['auto', 'netns', 'containerlab'], default: 'auto', help: 'containerlab when present (auto), or network namespaces + FRR' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress lines' },
    'keep-unsettled': { type: 'boolean', help: 'leave a lab built from an intent up when it does not settle (to inspect it), instead of taking it down' },
  },
  async run(ctx) {
    const target = intentDirArg(ctx.positionals[0], 'lab up');
    if (ctx.positionals.length > 1) throw new UsageError(`expected one topology, got ${ctx.positionals.length}`);
    let file = target;
    const keep = ctx.values['keep-unsettled'] === true;
    try {
      if (statSync(target).isDirectory()) {
        // An intent directory: its topology comes from the model (loaded only for this case).
        const { topologyFromModel } = await import('../../lab/topology-from-model.ts');
        const { topology, baseDir, running } = await topologyFromModel(target, { name: stringOpt(ctx, 'name') });
        let s;
        try {
          s = await labUp(topology as never, { name: stringOpt(ctx, 'name'), baseDir, runtime: stringOpt(ctx, 'runtime') as never, keepUnsettled: keep, log: ctx.values.quiet ? undefined : ctx.out });
        } catch (e) {
          // Nothing half-applied: a lab that failed to come up leaves no rendered run dir; a
          // running lab (refused, or not extended) keeps its own, which its nodes run from.
          if (!keep && !running) rmSync(baseDir, { recursive: true, force: true });
          throw e;
        }
        ctx.out(`lab ${s.name}: ${s.nodes.length} nodes up (state in ${s.stateDir})`);
        return 0;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no such file or directory: ${target}`);
      if (!(e as NodeJS.ErrnoException).code) throw e;
    }
    const runtime = stringOpt(ctx, 'runtime');
    const s = await labUp(file, { name: stringOpt(ctx, 'name'), runtime: runtime as never, log: ctx.values.quiet ? undefined : ctx.out });
    ctx.out(`lab ${s.name}: ${s.nodes.length} nodes up (state in ${s.stateDir})`);
    for (const n of s.nodes) ctx.out(`  ${n.name.padEnd(12)} ${n.role.padEnd(6)} ${n.netns}  mgmt ${n.mgmtIpv4 ?? '-'}`);
    if (s.ssh.config) ctx.out(`ssh: ssh -F ${s.ssh.config} NODE`);
    return 0;
  },
};
