import { writeFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { boolOpt, stringListOpt, stringOpt } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync } from '../../model/index.ts';
import { UsageError } from '../../util/errors.ts';
import { verifyStatic, topologyOf } from '../../verify/static.ts';
import { buildFabricGraph } from '../../verify/graph.ts';
import { formatReport, REPORT_FORMATS, summaryLine, type ReportFormat } from '../../verify/report/format.ts';
import type { VerifyReport } from '../../verify/findings.ts';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify the fabric: static checks on the model, or --live against a lab or inventory',
  usage: 'netloom verify [DIR] [--static|--live] [--target lab[:NAME]|INVENTORY.yaml] [--ssh] [--no-probes] [--check ID]... [--format text|md|junit|json] [--out FILE]',
  options: {
    static: { type: 'boolean' },
    live: { type: 'boolean' },
    target: { type: 'string' },
    ssh: { type: 'boolean' },
    'no-probes': { type: 'boolean' },
    check: { type: 'string', multiple: true },
    format: { type: 'string', short: 'f' },
    out: { type: 'string', short: 'o' },
  },
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected at most one intent directory');
    const format = (stringOpt(ctx, 'format') ?? 'text') as ReportFormat;
    if (!REPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
    const live = boolOpt(ctx, 'live');
    const stat = boolOpt(ctx, 'static') || !live;
    if (live && boolOpt(ctx, 'static')) throw new UsageError('choose --static or --live (default: --static)');
    const t0 = performance.now();
    const model = loadModelSync(ctx.positionals[0] ?? DEFAULT_INTENT_DIR);
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
