import type { Command } from '../command.ts';
import { boolOpt, stringOpt } from '../command.ts';
import { ControlPlane } from '../../verify/sim/control-plane.ts';
import { formatRib } from '../../verify/sim/format.ts';
import { loadModelSync } from '../../model/index.ts';
import { summarize } from '../../model/summary.ts';
import { UsageError } from '../../util/errors.ts';
import { intentDirArg } from '../intent-dir.ts';

export const modelCommand: Command = {
  name: 'model',
  summary: 'print the resolved source-of-truth model (--json for the whole model); --rib DEVICE: its simulated routing table',
  usage: `netloom model [DIR] [--json] [--rib DEVICE [--vrf VRF]]`,
  options: {
    json: { type: 'boolean', help: 'the whole model (or with --rib the routes) as JSON (default: a summary)' },
    rib: { type: 'string', arg: 'DEVICE', help: "the device's routing table as the control-plane simulation computes it" },
    vrf: { type: 'string', arg: 'VRF', help: 'with --rib: the VRF (default: the default VRF)' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'model'));
    const rib = stringOpt(ctx, 'rib');
    const vrf = stringOpt(ctx, 'vrf') ?? 'default';
    if (stringOpt(ctx, 'vrf') && !rib) throw new UsageError('--vrf needs --rib DEVICE');
    if (rib) {
      const d = model.devices.find((x) => x.name === rib);
      if (!d) throw new UsageError(`no device '${rib}' (devices: ${model.devices.slice(0, 20).map((x) => x.name).join(', ')}${model.devices.length > 20 ? ', ...' : ''})`);
      if (vrf !== 'default' && !d.vrfs.some((v) => v.name === vrf)) throw new UsageError(`${rib} has no VRF '${vrf}' (VRFs: default${d.vrfs.map((v) => `, ${v.name}`).join('')})`);
      const routes = new ControlPlane(model).rib(rib, vrf);
      if (boolOpt(ctx, 'json')) ctx.out(JSON.stringify(routes, null, 2));
      else for (const l of formatRib(rib, vrf, routes)) ctx.out(l);
      return 0;
    }
    if (boolOpt(ctx, 'json')) ctx.out(JSON.stringify(model, null, 2));
    else for (const l of summarize(model)) ctx.out(l);
    return 0;
  },
};
