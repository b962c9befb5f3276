import type { Command } from '../command.ts';
import { numberOpt, stringOpt } from '../command.ts';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../intent/generate.ts';
import { UsageError } from '../../util/errors.ts';

export const genCommand: Command = {
  name: 'gen',
  summary: 'generate an intent directory of a given shape (--avd: the 5,000-device AVD benchmark shape)',
  usage: 'netloom gen --out DIR [--avd] [--super-spines N] [--pods N] [--spines N] [--leaves N] [--tenants N] [--networks N] [--underlay ebgp-unnumbered|ebgp|ospf] [--name NAME]',
  options: {
    out: { type: 'string' },
    avd: { type: 'boolean' },
    name: { type: 'string' },
    'super-spines': { type: 'string' },
    pods: { type: 'string' },
    spines: { type: 'string' },
    leaves: { type: 'string' },
    tenants: { type: 'string' },
    networks: { type: 'string' },
    underlay: { type: 'string' },
  },
  async run(ctx) {
    const out = stringOpt(ctx, 'out');
    if (!out) throw new UsageError('--out DIR is required');
    const base = ctx.values.avd ? AVD_BENCHMARK_SHAPE : {};
    const underlay = stringOpt(ctx, 'underlay') ?? 'ebgp-unnumbered';
    if (!['ebgp-unnumbered', 'ebgp', 'ospf'].includes(underlay)) throw new UsageError(`--underlay must be ebgp-unnumbered, ebgp or ospf`);
    const files = generateFabricIntent({
      ...base,
      name: stringOpt(ctx, 'name') ?? 'gen',
      superSpines: numberOpt(ctx, 'super-spines', base.superSpines ?? 0),
      pods: numberOpt(ctx, 'pods', base.pods ?? 1),
      spinesPerPod: numberOpt(ctx, 'spines', base.spinesPerPod ?? 2),
      leavesPerPod: numberOpt(ctx, 'leaves', base.leavesPerPod ?? 4),
      tenants: numberOpt(ctx, 'tenants', base.tenants ?? 2),
      networksPerVrf: numberOpt(ctx, 'networks', base.networksPerVrf ?? 2),
      underlay: underlay as 'ebgp',
    });
    writeGeneratedIntent(out, files);
    ctx.out(`wrote ${files.map((f) => f.name).join(', ')} to ${out}`);
    return 0;
  },
};
