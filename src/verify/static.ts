/** Runs the static questions over one shared graph and assembles a report. */
import type { FabricModel } from '../model/types.ts';
import { UsageError } from '../util/errors.ts';
import type { CheckResult, Finding, VerifyReport } from './findings.ts';
import { buildFabricGraph, type FabricGraph } from './graph.ts';
import { makeContext, type CheckContext, type StaticCheck } from './checks/index.ts';
import { allStaticChecks } from '../domains/index.ts';

export interface StaticOptions {
  /** Only these check ids. */
  only?: string[];
  graph?: FabricGraph;
  ctx?: CheckContext;
}

export function runCheck(check: StaticCheck, ctx: CheckContext): CheckResult {
  const t0 = performance.now();
  const { findings, examined, details } = check.run(ctx);
  return { check: info(check), passed: !findings.some((f: Finding) => f.severity === 'error'), findings, examined, ...(details?.length ? { details } : {}), ms: performance.now() - t0 };
}

function info(c: StaticCheck) {
  return { id: c.id, title: c.title, kind: c.kind, layer: c.layer, severity: c.severity, description: c.description };
}

export function topologyOf(model: FabricModel): VerifyReport['topology'] {
  return {
    devices: model.devices.map((d) => ({ name: d.name, role: d.role })),
    links: model.links.map((l) => ({ id: `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`, a: l.a.device, b: l.b.device })),
  };
}

export function verifyStatic(model: FabricModel, opts: StaticOptions = {}): VerifyReport {
  const t0 = performance.now();
  const fg = opts.graph ?? buildFabricGraph(model);
  const ctx = opts.ctx ?? makeContext(fg);
  // Every registered domain's questions; ids are unique across domains (src/domains).
  const staticChecks = allStaticChecks();
  const unknown = (opts.only ?? []).filter((id) => !staticChecks.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`unknown check ${unknown.join(', ')} (checks: ${staticChecks.map((c) => c.id).join(', ')})`);
  const checks = opts.only?.length ? staticChecks.filter((c) => opts.only!.includes(c.id)) : staticChecks;
  const results = checks.map((c) => runCheck(c, ctx));
  return { fabric: model.name, revision: model.revision, mode: 'static', results, topology: topologyOf(model), ms: performance.now() - t0 };
}
