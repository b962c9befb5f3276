import { stringOpt, type Command } from '../command.ts';
import { traceFirewallLines } from './fw.ts';
import { UsageError } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { makeContext } from '../../verify/checks/index.ts';
import { formatTrace, traceEndpoints } from '../../verify/trace.ts';
import { intentDirArg } from '../intent-dir.ts';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'print the path between two endpoints (VLAN, VNI and VTEPs, spines with ECMP) from the model',
  usage: 'netloom trace SRC DST [DIR] [--service S] [--json]   (SRC/DST: endpoint names or addresses)',
  options: {
    json: { type: 'boolean', help: 'the trace as JSON' },
    service: { type: 'string', arg: 'S', help: 'also the firewall verdict of each policy on the path for this service (tcp/5432, udp/53, icmp/8, a service name, any)' },
  },
  async run(ctx) {
    const [src, dst, dir] = ctx.positionals;
    if (!src || !dst || ctx.positionals.length > 3) throw new UsageError(`expected SRC DST [DIR]\nusage: ${this.usage}`);
    const model = loadModelSync(intentDirArg(dir, 'trace'));
    const t = traceEndpoints(makeContext(buildFabricGraph(model)), src, dst);
    const service = stringOpt(ctx, 'service');
    const fw = service === undefined ? undefined : traceFirewallLines(model, src, dst, service, t.result.actual);
    if (ctx.values.json) ctx.out(JSON.stringify(fw ? { ...t, firewall: { service, summary: fw.lines[0], ...fw.verdict } } : t, null, 2));
    else for (const l of [...formatTrace(t), ...(fw ? ['', ...fw.lines] : [])]) ctx.out(l);
    return t.result.actual === t.result.expected ? 0 : 1;
  },
};
