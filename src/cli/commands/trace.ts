import { statSync } from 'node:fs';
import { stringOpt, type Command } from '../command.ts';
import { traceFirewallLines } from './fw.ts';
import { UsageError } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { makeContext } from '../../verify/checks/index.ts';
import { formatTrace, formatVipTrace, traceEndpoints, traceVip, vipTraceAsIntended, type TraceResult } from '../../verify/trace.ts';
import { domainTraceLines } from '../../domains/index.ts';
import type { FabricModel } from '../../model/types.ts';
import { analysisCache } from '../../domains/firewall/analysis.ts';
import { firewallPolicies } from '../../domains/firewall/checks.ts';
import { enforcedText, pathServices, servicesJson, servicesText, type PathServices } from '../../domains/firewall/path-services.ts';
import { intentDirArg } from '../intent-dir.ts';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'print the path between two endpoints (VLAN, VNI and VTEPs, spines with ECMP) from the model',
  usage: 'netloom trace SRC DST [DIR] [--service S] [--json]   (SRC/DST: endpoint names or addresses; DST may be a VIP)',
  options: {
    json: { type: 'boolean', help: 'the trace as JSON' },
    service: { type: 'string', arg: 'S', help: '(without it: one line with the services the policies on the path allow) also the firewall verdict of each policy on the path for this service (tcp/5432, udp/53, icmp/8, a service name, any)' },
  },
  async run(ctx) {
    if (ctx.positionals.length < 2 || ctx.positionals.length > 3) throw new UsageError(`expected SRC DST [DIR]\nusage: ${this.usage}`);
    const [src, dst, dir] = traceArgs(ctx.positionals);
    const model = loadModelSync(intentDirArg(dir, 'trace'));
    const cctx = makeContext(buildFabricGraph(model));
    // A service prefix (a VIP): the route to it, the path to each node announcing it, what is behind.
    const vt = traceVip(cctx, src, dst);
    if (vt) {
      const behind = vt.nodes.filter((n) => n.used).flatMap((n) => domainTraceLines(model, dst, n.node));
      const service = stringOpt(ctx, 'service');
      const reached = vt.legs.find((l) => l.result.actual === 'routed' || l.result.actual === 'bridged')?.result.actual ?? 'isolated';
      const fw = service === undefined ? undefined : traceFirewallLines(model, src, dst, service, reached);
      if (ctx.values.json) ctx.out(JSON.stringify({ ...vt, behind, ...(fw ? { firewall: { service, summary: fw.lines[0], ...fw.verdict } } : {}) }, null, 2));
      else for (const l of [...formatVipTrace(vt), ...(behind.length ? ['', ...behind] : []), ...(fw ? ['', ...fw.lines] : [])]) ctx.out(l);
      return vipTraceAsIntended(vt) ? 0 : 1;
    }
    const t = traceEndpoints(cctx, src, dst);
    const service = stringOpt(ctx, 'service');
    const fw = service === undefined ? undefined : traceFirewallLines(model, src, dst, service, t.result.actual);
    // Without --service: the services the policies on the path allow, when one is.
    const services = service === undefined ? traceServices(model, t) : undefined;
    if (ctx.values.json) ctx.out(JSON.stringify(fw ? { ...t, firewall: { service, summary: fw.lines[0], ...fw.verdict } } : services ? { ...t, firewall: { services: servicesJson(services) } } : t, null, 2));
    else for (const l of [...formatTrace(t), ...(fw ? ['', ...fw.lines] : []), ...(services ? [`firewall (${enforcedText(services)}): ${servicesText(services)}`] : [])]) ctx.out(l);
    return t.result.actual === t.result.expected ? 0 : 1;
  },
};

/**
 * SRC DST [DIR], or DIR SRC DST as `fw query` and the other commands take the directory first:
 * a first argument that is a directory while the last is not is the intent directory.
 */
function traceArgs(p: string[]): [string, string, string | undefined] {
  if (p.length === 3 && isDir(p[0]!) && !isDir(p[2]!)) return [p[1]!, p[2]!, p[0]];
  return [p[0]!, p[1]!, p[2]];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The firewall's services between the traced endpoints, when the fabric forwards them and a policy is on the path. */
function traceServices(model: FabricModel, t: TraceResult): PathServices | undefined {
  const policies = firewallPolicies(model);
  const fwd = t.result.actual;
  const a = model.endpoints.find((e) => e.name === t.src);
  const b = model.endpoints.find((e) => e.name === t.dst);
  if (!policies.length || !a || !b || (fwd !== 'bridged' && fwd !== 'routed')) return undefined;
  const s = pathServices(policies, analysisCache(), a, b, fwd);
  return s.policies.length ? s : undefined;
}
