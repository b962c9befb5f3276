import { writeFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { boolOpt, didYouMean, stringListOpt, stringOpt } from '../command.ts';
import { allLiveChecks, allStaticChecks } from '../../domains/index.ts';
import { loadModelSync } from '../../model/index.ts';
import { UsageError } from '../../util/errors.ts';
import { verifyStatic, topologyOf } from '../../verify/static.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { formatReport, REPORT_FORMATS, summaryLine, type ReportFormat } from '../../verify/report/format.ts';
import type { VerifyReport } from '../../verify/findings.ts';
import { intentDirArg } from '../intent-dir.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify the fabric: static checks on the model, or --live against a lab or inventory',
  usage: 'netloom verify [DIR] [--static|--live] [--target lab[:NAME]|INVENTORY.yaml] [--ssh] [--no-probes] [--check ID]... [--format text|md|junit|json] [--out FILE]',
  options: {
    static: { type: 'boolean', help: 'graph checks of the model (the default)' },
    live: { type: 'boolean', help: 'compare a running fabric with the model' },
    target: { type: 'string', arg: 'lab[:NAME]|INVENTORY.yaml', help: 'with --live: the lab or the inventory to verify (default lab)' },
    ssh: { type: 'boolean', help: 'with --live on a lab: collect over SSH, as for real devices' },
    'no-probes': { type: 'boolean', help: 'with --live: skip the endpoint ping matrix' },
    check: { type: 'string', arg: 'ID', multiple: true, help: 'only this check (repeatable)' },
    format: { type: 'string', short: 'f', arg: 'FORMAT', choices: REPORT_FORMATS, default: 'text', help: 'report format' },
    out: { type: 'string', short: 'o', arg: 'FILE', help: 'write the report here (a summary line on stderr)' },
  },
  notes: [`static checks: ${allStaticChecks().map((c) => c.id).join(', ')}`, `live checks: ${allLiveChecks().map((c) => c.id).join(', ')}`],
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const format = stringOpt(ctx, 'format') as ReportFormat;
    const live = boolOpt(ctx, 'live');
    const stat = !live;
    if (live && boolOpt(ctx, 'static')) throw new UsageError('choose --static or --live (default: --static)');
    const liveOnly = ['target', 'ssh', 'no-probes'].filter((o) => ctx.values[o] !== undefined);
    if (!live && liveOnly.length) throw new UsageError(`${liveOnly.map((o) => `--${o}`).join(', ')} ${liveOnly.length === 1 ? 'applies' : 'apply'} only with --live (static checks read the model, not a device)`);
    const known = (live ? allLiveChecks() : allStaticChecks()).map((c) => c.id);
    for (const id of stringListOpt(ctx, 'check')) {
      if (!known.includes(id)) throw new UsageError(`--check ${id}: no ${live ? 'live' : 'static'} check has this id${didYouMean(id, known)}; the ${live ? 'live' : 'static'} checks are ${known.join(', ')}`);
    }
    const t0 = performance.now();
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'verify'));
    const graph = buildFabricGraph(model);
    let report: VerifyReport;
    if (stat) {
      report = verifyStatic(model, { only: stringListOpt(ctx, 'check'), graph });
    } else {
      const { verifyLive } = await import('../../verify/live/run.ts');
      const r = await verifyLive(model, stringOpt(ctx, 'target') ?? 'lab', { transport: boolOpt(ctx, 'ssh') ? 'ssh' : 'exec', probes: !boolOpt(ctx, 'no-probes'), graph });
      const only = stringListOpt(ctx, 'check');
      report = { fabric: model.name, revision: model.revision, mode: 'live', target: r.target, results: only.length ? r.results.filter((x) => only.includes(x.check.id)) : r.results, topology: topologyOf(model), ms: 0 };
    }
    report.ms = performance.now() - t0;
    const text = formatReport(report, format);
    const out = stringOpt(ctx, 'out');
    if (out) {
      writeFileSync(out, text);
      ctx.err(summaryLine(report));
    } else process.stdout.write(text);
    return report.results.every((x) => x.passed) ? 0 : 1;
  },
};
