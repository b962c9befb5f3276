import type { Command } from '../command.ts';
import { stringListOpt, stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import { renderModel } from '../../render/index.ts';
import { writeOutput } from '../../render/write.ts';
import { compareWithDir, summaryLine } from '../../render/compare.ts';
import { intentDirArg } from '../intent-dir.ts';

export const renderCommand: Command = {
  name: 'render',
  summary: 'Render every device configuration (and service nodes\' files) from the model (OUT/<device>/<file>, OUT/manifest.json)',
  usage: 'netloom render [DIR] (--out OUT | --diff OLD_OUT) [--device NAME ...] [--only-platform]',
  options: {
    out: { type: 'string', short: 'o', arg: 'OUT', help: 'write the configs and manifest.json here' },
    diff: { type: 'string', arg: 'OLD_OUT', help: 'print unified diffs against an earlier render' },
    device: { type: 'string', multiple: true, short: 'd', arg: 'NAME', help: 'only this device or service node (repeatable)' },
    'only-platform': { type: 'boolean', help: 'only the platforms\' own files, not the extra artifact sets (models/artifact-sets)' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError(`expected at most one intent directory, got ${ctx.positionals.length}`);
    const dir = intentDirArg(ctx.positionals[0], 'render');
    const out = stringOpt(ctx, 'out');
    const diffDir = stringOpt(ctx, 'diff');
    if (!out && !diffDir) throw new UsageError('give --out OUT (write files) and/or --diff OLD_OUT (compare)');
    const devices = stringListOpt(ctx, 'device');
    const model = loadModelSync(dir);
    const result = renderModel(model, { devices, artifactSets: ctx.values['only-platform'] ? [] : undefined });
    if (diffDir) {
      const c = compareWithDir(result, diffDir, devices.length ? new Set(devices) : undefined);
      for (const d of c.diffs) process.stdout.write(d);
      ctx.out(`render: ${summaryLine(c)} (against ${diffDir})`);
    }
    if (out) {
      const w = writeOutput(result, out, { partial: devices.length > 0 });
      const names = new Set(result.artifacts.map((a) => a.device));
      const nDevices = model.devices.filter((d) => names.has(d.name)).length;
      // Nodes of domains (load balancers) are not fabric devices: counted apart.
      const others = names.size - nDevices;
      ctx.out(`render: ${nDevices} devices${others ? `, ${others} service nodes` : ''}, ${result.artifacts.length} files in ${out} (${w.written.length} written, ${w.removed.length} removed), intent revision ${result.revision}`);
    }
    return 0;
  },
};
