import type { Command } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { makeContext } from '../../verify/checks/index.ts';
import { formatTrace, traceEndpoints } from '../../verify/trace.ts';
import { intentDirArg } from '../intent-dir.ts';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'print the path between two endpoints (VLAN, VNI and VTEPs, spines with ECMP) from the model',
  usage: 'netloom trace SRC DST [DIR] [--json]   (SRC/DST: endpoint names or addresses)',
  options: { json: { type: 'boolean', help: 'the trace as JSON' } },
  async run(ctx) {
    const [src, dst, dir] = ctx.positionals;
    if (!src || !dst || ctx.positionals.length > 3) throw new UsageError(`expected SRC DST [DIR]\nusage: ${this.usage}`);
    const model = loadModelSync(intentDirArg(dir, 'trace'));
    const t = traceEndpoints(makeContext(buildFabricGraph(model)), src, dst);
    if (ctx.values.json) ctx.out(JSON.stringify(t, null, 2));
    else for (const l of formatTrace(t)) ctx.out(l);
    return t.result.actual === t.result.expected ? 0 : 1;
  },
};
