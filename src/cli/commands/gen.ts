import type { Command } from '../command.ts';
import { numberOpt, stringOpt } from '../command.ts';
import { AVD_BENCHMARK_SHAPE, generateFabricIntent, writeGeneratedIntent } from '../../intent/generate.ts';
import { UsageError } from '../../util/errors.ts';

export const genCommand: Command = {
  name: 'gen',
  summary: 'generate an intent directory of a given shape (--avd: the 5,000-device AVD benchmark shape)',
  usage: 'netloom gen --out DIR [--avd] [--super-spines N] [--pods N] [--spines N] [--leaves N] [--tenants N] [--networks N] [--underlay ebgp-unnumbered|ebgp|ospf] [--name NAME]',
  options: {
    out: { type: 'string', arg: 'DIR', help: 'directory to write the intent files into (required)' },
    avd: { type: 'boolean', help: `the AVD benchmark shape (${AVD_BENCHMARK_SHAPE.pods} pods, ${AVD_BENCHMARK_SHAPE.leavesPerPod} leaves per pod...); the options below override it` },
    name: { type: 'string', default: 'gen', help: 'fabric name' },
    'super-spines': { type: 'number', integer: true, min: 0, help: `super-spines (default 0, --avd ${AVD_BENCHMARK_SHAPE.superSpines ?? 0})` },
    pods: { type: 'number', integer: true, min: 1, help: `pods (default 1, --avd ${AVD_BENCHMARK_SHAPE.pods ?? 1})` },
    spines: { type: 'number', integer: true, min: 1, help: `spines per pod (default 2, --avd ${AVD_BENCHMARK_SHAPE.spinesPerPod ?? 2})` },
    leaves: { type: 'number', integer: true, min: 1, help: `leaves per pod (default 4, --avd ${AVD_BENCHMARK_SHAPE.leavesPerPod ?? 4})` },
    tenants: { type: 'number', integer: true, min: 0, help: `tenants (default 2, --avd ${AVD_BENCHMARK_SHAPE.tenants ?? 2})` },
    networks: { type: 'number', integer: true, min: 0, help: `networks per VRF (default 2, --avd ${AVD_BENCHMARK_SHAPE.networksPerVrf ?? 2})` },
    underlay: { type: 'string', arg: 'UNDERLAY', choices: ['ebgp-unnumbered', 'ebgp', 'ospf'], default: 'ebgp-unnumbered', help: 'underlay routing' },
  },
  async run(ctx) {
    const out = stringOpt(ctx, 'out');
    if (!out) throw new UsageError('--out DIR is required');
    const base = ctx.values.avd ? AVD_BENCHMARK_SHAPE : {};
    const underlay = stringOpt(ctx, 'underlay');
    const files = generateFabricIntent({
      ...base,
      name: stringOpt(ctx, 'name')!,
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
