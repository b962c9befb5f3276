/**
 * `paths?src&dst[&proto&port]`: the predicted path (src/verify/trace.ts: VLAN, VNI, VTEPs,
 * spine layers with ECMP), the devices on it that have live problems now, and with a
 * protocol the firewall's verdict for that flow where the intent has policies.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { analysisCache } from '../../domains/firewall/analysis.ts';
import { firewallPolicies } from '../../domains/firewall/checks.ts';
import { hostPrefix, queryFlow, type Place } from '../../domains/firewall/flow-query.ts';
import type { FwService } from '../../domains/firewall/model.ts';
import type { Endpoint, FabricModel } from '../../model/types.ts';
import { findingDevice } from '../../service/finding-key.ts';
import { makeContext } from '../../verify/checks/types.ts';
import { traceEndpoints } from '../../verify/trace.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { ErrorReply, js, PathsQuery, PathsReply, ReachabilityQuery, ReachabilityReply, WhyReply } from '../schemas.ts';
import { endpointFlows, type Flow } from '../../verify/flows.ts';
import { UsageError } from '../../util/errors.ts';
import { findingJson } from '../../service/views.ts';
import { isObservedState } from '../../service/monitor.ts';

const place = (e: Endpoint): Place => ({ arg: e.name, kind: 'endpoint', prefixes: [e.ipv4, e.ipv6].filter((a): a is string => !!a).map(hostPrefix), leaves: [e.leaf] });

function firewallVerdict(model: FabricModel, src: string, dst: string, proto: FwService['protocol'], port?: number) {
  const policies = firewallPolicies(model);
  const service = `${proto}${port !== undefined ? `/${port}` : ''}`;
  if (!policies.length) return { service, verdict: 'no policy', policies: [] };
  const a = model.endpoints.find((e) => e.name === src)!;
  const b = model.endpoints.find((e) => e.name === dst)!;
  const isIcmp = proto === 'icmp' || proto === 'icmpv6';
  const svc: FwService = { protocol: proto, dstPorts: port !== undefined && !isIcmp ? [{ from: port, to: port }] : [], srcPorts: [], icmp: port !== undefined && isIcmp ? [{ type: port }] : [] };
  const r = queryFlow(model, policies, analysisCache(), place(a), place(b), [svc], ['new']);
  // Packet examples and counts hold bigints: the reply keeps what a person reads.
  return { service, verdict: r.verdict, policies: r.policies.map((p) => ({ policy: p.policy, enforcement: p.enforcement, devices: p.devices, filters: p.filters, decisions: p.decisions.map((d) => ({ action: d.action, rule: d.rule, kind: d.kind, location: d.location, packets: d.packets })) })) };
}

export const pathRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  const model = monitor.model;
  const ctx = makeContext(monitor.fg);
  app.get<{ Querystring: z.infer<typeof PathsQuery> }>('/paths', { schema: { tags: ['troubleshooting'], summary: 'the path between two endpoints (names or addresses) with ECMP, VTEPs, live problems on it, and the firewall verdict for proto/port', security: BEARER, querystring: js(PathsQuery), response: { 200: js(PathsReply), 400: js(ErrorReply) } } }, async (req) => {
    const { src, dst, proto, port } = req.query;
    const t = traceEndpoints(ctx, src, dst);
    const onPath = [...new Set(t.hops.flatMap((h) => h.devices))];
    const incidents = monitor.openIncidents();
    const liveProblems = onPath
      .map((device) => ({ device, findings: monitor.findingCount(device), incidents: incidents.filter((i) => i.devices.includes(device)).map((i) => i.id) }))
      .filter((x) => x.findings || x.incidents.length);
    return {
      src: t.src,
      dst: t.dst,
      forwarding: t.result.actual,
      expected: t.result.expected,
      asIntended: t.result.actual === t.result.expected,
      reason: t.result.reason ?? null,
      vni: t.result.vni ?? null,
      ecmp: t.ecmp,
      hops: t.hops,
      liveProblems,
      firewall: proto ? firewallVerdict(model, t.src, t.dst, proto, port) : null,
    };
  });

  // The matrix is the model's: computed once, on first use.
  let flows: Flow[] | undefined;
  app.get<{ Querystring: z.infer<typeof ReachabilityQuery> }>('/reachability', { schema: { tags: ['troubleshooting'], summary: 'the endpoint reachability matrix: what the intent asks, what the configuration gives, whether a ping answers, and what the last poll observed for each pair', security: BEARER, querystring: js(ReachabilityQuery), response: { 200: js(ReachabilityReply), 400: js(ErrorReply) } } }, async (req) => {
    const { src, dst, problems, limit = 1000 } = req.query;
    for (const name of [src, dst]) if (name && !model.endpoints.some((e) => e.name === name)) throw new UsageError(`no endpoint named '${name}' in fabric ${model.name}`);
    flows ??= endpointFlows(model, undefined, monitor.fg, ctx);
    const latest = monitor.latest;
    const observed = new Map<string, boolean>();
    for (const o of Object.values(latest?.observed ?? {}).filter(isObservedState)) for (const p of o.probes) if (p.family === 4) observed.set(`${p.src}>${p.dst}`, p.answered);
    const all = flows.filter((f) => (!src || f.src === src) && (!dst || f.dst === dst)).map((f) => {
      const seen = observed.get(`${f.src}>${f.dst}`);
      return {
        src: f.src, dst: f.dst, address: f.address, expected: f.expected, predicted: f.predicted,
        asIntended: f.expected === f.predicted, answers: f.answers,
        observed: seen === undefined ? ('not probed' as const) : seen ? ('answered' as const) : ('unanswered' as const),
        agrees: seen === undefined ? null : seen === f.answers,
        devices: f.devices,
      };
    });
    const rows = all.filter((r) => !problems || r.agrees === false || !r.asIntended);
    return {
      poll: latest ? { seq: latest.seq, time: latest.time } : null,
      pairs: all.length,
      disagreeing: all.filter((r) => r.agrees === false).length,
      notAsIntended: all.filter((r) => !r.asIntended).length,
      rows: rows.slice(0, limit),
      truncated: rows.length > limit,
    };
  });

  const WhyQuery = z.object({ src: z.string().min(1).max(128), dst: z.string().min(1).max(128) });
  app.get<{ Querystring: z.infer<typeof WhyQuery> }>('/why', { schema: { tags: ['troubleshooting'], summary: 'why src cannot reach dst: the prediction, the first device on the path where live state diverges, its findings and incidents, what their packet captures showed, the pings', security: BEARER, querystring: js(WhyQuery), response: { 200: js(WhyReply), 400: js(ErrorReply) } } }, async (req) => {
    const t = traceEndpoints(ctx, req.query.src, req.query.dst);
    // Devices in path order, source side first.
    const onPath = [...new Set(t.hops.flatMap((h) => h.devices))];
    const current = [...(monitor.latest?.findings ?? new Map())];
    const about = (device: string) => current.filter(([, f]) => findingDevice(f) === device || (f.elements?.devices ?? []).includes(device));
    const first = onPath.find((d) => about(d).length > 0);
    const pair = new Set([t.src, t.dst]);
    const probes = Object.values(monitor.latest?.observed ?? {}).filter(isObservedState).flatMap((o) => o.probes).filter((p) => pair.has(p.src) && pair.has(p.dst) && p.src === t.src);
    const forwards = t.result.actual === 'bridged' || t.result.actual === 'routed';
    // The pings are ICMP echo: a policy on the path may be why they go unanswered.
    const fw = firewallPolicies(model).length ? firewallVerdict(model, t.src, t.dst, 'icmp', 8) : null;
    const fwDenies = fw && fw.verdict !== 'accepted';
    const denyingRule = fw?.policies.flatMap((p) => p.decisions.filter((d) => d.action !== 'accept').map((d) => `${d.action} by ${d.rule} of policy ${p.policy} (${d.location})`))[0];
    const answer = !forwards
      ? `the model does not forward ${t.src} -> ${t.dst} (${t.result.actual}${t.result.reason ? `: ${t.result.reason}` : ''})${t.result.actual === t.result.expected ? ', as the intent asks' : ''}`
      : fwDenies && !first
        ? `predicted ${t.result.actual}; the firewall's verdict for icmp echo is ${fw!.verdict}${denyingRule ? `: ${denyingRule}` : ''}`
      : first
        ? `predicted ${t.result.actual}; live state first diverges at ${first} (${about(first).length} finding${about(first).length === 1 ? '' : 's'})`
        : probes.some((p) => !p.answered)
          ? `predicted ${t.result.actual}; no device on the path has findings, but the pings go unanswered`
          : `predicted ${t.result.actual}; no divergence observed on the path`;
    const incidentsAt = first ? monitor.openIncidents().filter((i) => i.devices.includes(first)) : [];
    return {
      src: t.src,
      dst: t.dst,
      predicted: t.result.actual,
      asIntended: t.result.actual === t.result.expected,
      answer,
      firstDivergence: first ?? null,
      findings: first ? about(first).map(([k, f]) => findingJson(k, f)) : [],
      incidents: incidentsAt.map((i) => i.id),
      captureEvidence: incidentsAt.flatMap((i) => (i.captures ?? []).flatMap((c) => c.findings.map((f) => ({ incident: i.id, device: c.device, interface: c.interface, severity: f.severity, message: f.message })))),
      probes: probes.map((p) => ({ family: p.family, address: p.address, answered: p.answered, detail: p.detail ?? null })),
      firewall: fw,
    };
  });
};
