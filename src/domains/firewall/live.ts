/**
 * The firewall's live checks (`verify --live` against a running lab):
 *  - live-firewall-probes: the probe plan of live-plan.ts run for real (listeners on the
 *    destinations, connections from the sources' namespaces); each probe whose outcome, or
 *    whose translated port, differs from the policy's prediction is a finding naming the pair,
 *    the service, the predicted verdict with its rule and `file:line`, and what was observed;
 *  - live-firewall-ruleset: every enforcing device's deployed netloom tables (the inet table
 *    in each VRF namespace, the bridge table in the device's own) equal its rendered
 *    nftables.conf by meaning (live-nft.ts), each difference named.
 * Only a lab has endpoints to probe from and namespaces to read: any other target gets both
 * checks "not applicable", as the fabric's probes do.
 */
import path from 'node:path';
import type { Device, FabricModel } from '../../model/types.ts';
import { labExec, type LabState } from '../../lab/index.ts';
import { startListeners } from '../../lab/listeners.ts';
import type { CommandHost } from '../../push/nft-ruleset.ts';
import { NFT_ARTIFACT, nftLayout, NftPushStep } from '../../push/nft-step.ts';
import { renderModel } from '../../render/index.ts';
import type { CheckInfo, CheckResult, Finding } from '../../verify/findings.ts';
import type { FabricGraph } from '../../verify/graph.ts';
import type { LiveTarget } from '../../verify/live/run.ts';
import { runServiceProbes, serviceProbeName, serviceProbeProblems, type ServiceProbeResult } from '../../verify/live/service-probes.ts';
import { compareNft, expectedFromText, readDeployedNft, ruleCounters } from './live-nft.ts';
import { hitKey, recordHits, type CounterReading, type HitRecord } from './hit-history.ts';
import { labDir } from '../../lab/state.ts';
import { firewallProbePlan, type FirewallProbe } from './live-plan.ts';
import type { FirewallModel } from './model.ts';
import type { FwPolicy, FwRule } from './model.ts';
import { ident, policiesOn, ruleText, srcText } from './render-common.ts';
import { firewallNodeArtifacts } from './render.ts';
import { servedAside } from './served-aside.ts';

/**
 * The policy rule a ruleset difference is about: the renderer comments each nft rule with the
 * rule's text (ruleText) in the policy's chain `pol_<policy>`, and compareNft names it so.
 */
export function ruleOfDifference(policies: readonly FwPolicy[], line: string): FwRule | undefined {
  const m = /^chain \S+ \S+ (\S+): rule (.*)$/.exec(line);
  if (!m) return undefined;
  const pol = policies.find((p) => `pol_${ident(p.name)}` === m[1]);
  const named = (pol?.rules ?? []).filter((r) => {
    const t = ruleText(r);
    return m[2].startsWith(t) && /^(#\d+)?(:| |$)/.test(m[2].slice(t.length));
  });
  return named.sort((a, b) => ruleText(b).length - ruleText(a).length)[0];
}

export const LIVE_FIREWALL_CHECKS: CheckInfo[] = [
  { id: 'live-firewall-probes', title: 'Real connections get the verdicts the policies predict', kind: 'live', layer: 'endpoint', severity: 'error', description: 'for every endpoint pair the fabric forwards and every tcp/udp service the policies name, a connection from the source\'s namespace to a listener on the destination: accepted flows connect, rejected ones are refused, dropped ones time out, port-forwarded ones arrive at the translated port' },
  { id: 'live-firewall-ruleset', title: 'Deployed nftables rulesets equal the rendered ones', kind: 'live', layer: 'endpoint', severity: 'error', description: "each enforcing device's netloom tables (inet in every VRF namespace, bridge in its own) mean what its rendered nftables.conf says: no missing, extra or changed rule, set element, hook or policy" },
  { id: 'live-firewall-hits', title: 'Rule hit counters: unused rules, expired rules still matching', kind: 'live', layer: 'endpoint', severity: 'info', description: "every counted rule's packets on every device enforcing it, remembered between reads (the lab's state directory): a rule no packet has matched since a time is named with that time (info), an expired rule that still matches traffic is a warning" },
];

const PROBE_DEADLINE_MS = 1500;

export interface FirewallObserved {
  /** Why the checks do not apply to this target. */
  notApplicable?: string;
  /** Probes were turned off (`verify --live --no-probes`): the rulesets are still read. */
  probesOff?: boolean;
  probes: { probe: FirewallProbe; result: ServiceProbeResult }[];
  /** Device -> differences (empty: as rendered); `error` when the tables could not be read. */
  rulesets: { device: string; netns?: string; differences: string[]; error?: string; counters?: CounterReading[] }[];
  /** Each counted rule instance read this time, with its remembered history (hit-history.ts). */
  hits?: { readAt: string; instances: (CounterReading & HitRecord)[] };
}

/** Commands in a lab node's namespace, as the nft helpers run them over SSH. */
function labHost(lab: LabState, device: string): CommandHost {
  return { exec: (command, opts) => labExec(lab, device, ['sh', '-c', command], { timeoutMs: opts?.timeoutMs ?? 30_000, ...(opts?.stdin !== undefined ? { input: opts.stdin } : {}) }) };
}

async function deviceRuleset(lab: LabState, model: FabricModel, d: Device): Promise<FirewallObserved['rulesets']> {
  const file = renderModel(model, { devices: [d.name] }).artifacts.find((a) => a.device === d.name && a.artifact === NFT_ARTIFACT);
  if (!file) return [];
  const host = labHost(lab, d.name);
  // Read back where the push step put each table (src/push/nft-step.ts).
  const layout = nftLayout(file.content, await new NftPushStep(d.name, host).vrfNamespaces());
  const out: FirewallObserved['rulesets'] = [];
  for (const part of layout) {
    try {
      const want = await expectedFromText(part.text);
      const have = await readDeployedNft(host, { ...(part.netns ? { netns: part.netns } : {}), tables: part.tables });
      const counters = ruleCounters(have).flatMap((c) => (c.policy && c.rule ? [{ device: d.name, ...(part.netns ? { netns: part.netns } : {}), policy: c.policy, rule: c.rule, packets: c.packets }] : []));
      out.push({ device: d.name, ...(part.netns ? { netns: part.netns } : {}), differences: compareNft(want, have), counters });
    } catch (e) {
      out.push({ device: d.name, ...(part.netns ? { netns: part.netns } : {}), differences: [], error: (e as Error).message });
    }
  }
  return out;
}

/** A firewall node's ruleset: its own namespace against its rendered nftables.conf (render.ts). */
async function nodeRuleset(lab: LabState, model: FabricModel, node: string): Promise<FirewallObserved['rulesets']> {
  const file = firewallNodeArtifacts(model).find((a) => a.node === node);
  if (!file) return [];
  try {
    const want = await expectedFromText(file.content);
    const have = await readDeployedNft(labHost(lab, node));
    const counters = ruleCounters(have).flatMap((c) => (c.policy && c.rule ? [{ device: node, policy: c.policy, rule: c.rule, packets: c.packets }] : []));
    return [{ device: node, differences: compareNft(want, have), counters }];
  } catch (e) {
    return [{ device: node, differences: [], error: (e as Error).message }];
  }
}

export async function collectFirewall(target: LiveTarget, model: FabricModel, opts: { probes?: boolean; graph?: FabricGraph } = {}): Promise<FirewallObserved> {
  const fw = model.domains?.firewall as FirewallModel | undefined;
  if (!fw?.policies.length) return { probes: [], rulesets: [] };
  if (!target.lab) return { notApplicable: `${target.describe}: firewall probes and ruleset reads run only against a lab`, probes: [], rulesets: [] };
  const lab = target.lab;
  const hosts = new Set(lab.nodes.map((n) => n.name));
  const nodes = fw.policies.flatMap((p) => (p.enforcement.kind === 'node' && hosts.has(p.enforcement.node) ? [p.enforcement.node] : []));
  const rulesets = (await Promise.all([
    ...model.devices.filter((d) => hosts.has(d.name) && policiesOn(d.name, fw).length).map((d) => deviceRuleset(lab, model, d)),
    ...nodes.map((n) => nodeRuleset(lab, model, n)),
  ])).flat();
  const readings = rulesets.flatMap((r) => r.counters ?? []);
  const now = new Date();
  const history = recordHits(path.join(labDir(lab.name), 'firewall-hits.json'), readings, now);
  // One instance per key read this time (a rule's IPv4 and IPv6 halves are one), with its history.
  const read = new Map(readings.map((r) => [hitKey(r), r]));
  const hits = { readAt: now.toISOString(), instances: [...read].map(([k, r]) => ({ ...r, ...history[k] })) };
  if (opts.probes === false) return { probesOff: true, probes: [], rulesets, hits };
  const plan = await servedAside(model, firewallProbePlan(model, opts.graph, { deadlineMs: PROBE_DEADLINE_MS, hosts }));
  for (const [node, ports] of plan.listeners) await startListeners(lab, node, ports);
  const results = await runServiceProbes(lab, plan.probes, { sources: 8 });
  return { probes: plan.probes.map((probe, i) => ({ probe, result: results[i] })), rulesets, hits };
}

/** Observed state -> the two checks' results (pure). */
export function compareFirewall(model: FabricModel, observed: FirewallObserved): CheckResult[] {
  const t0 = performance.now();
  const [probeCheck, rulesetCheck] = LIVE_FIREWALL_CHECKS;
  const epSource = (name: string) => model.endpoints.find((e) => e.name === name)?.source;
  const probeFindings: Finding[] = observed.probes.flatMap(({ probe: p, result: r }) => {
    const [problem] = serviceProbeProblems([p], [r]);
    if (!problem) return [];
    const decisive = p.verdicts.find((v) => v.action === p.action) ?? p.verdicts[0];
    return [{
      check: probeCheck.id,
      severity: 'error' as const,
      message: `${p.src} -> ${p.dst} ${p.service}${p.nat ? ` at ${p.address}` : ''} (${p.forwarding}): predicted ${p.expect}: ${p.why}; observed ${r.outcome !== p.expect ? r.outcome : `${r.outcome}, but the listener saw ${r.reply ? `${r.reply.endpoint} ${r.reply.dst} port ${r.reply.port}` : 'nothing'}`}${r.detail ? ` [${r.detail}]` : ''}`,
      evidence: {
        probe: serviceProbeName(p), service: p.service, forwarding: p.forwarding, predicted: p.expect, action: p.action,
        verdicts: p.verdicts.map((v) => ({ policy: v.policy, rule: v.rule, action: v.action, at: `${v.source.file}:${v.source.line}` })),
        observed: r.outcome, reply: r.reply ?? null, detail: r.detail ?? null, ms: r.ms,
      },
      location: decisive?.source ?? p.nat?.source ?? epSource(p.src),
      elements: { endpoints: [p.src, p.dst] },
    }];
  });
  const fw = model.domains?.firewall as FirewallModel | undefined;
  const rulesetFindings: Finding[] = observed.rulesets.flatMap((s) => {
    const where = `${s.device}${s.netns ? ` (${s.netns})` : ''}`;
    const device = model.devices.find((d) => d.name === s.device) ?? model.serviceNodes?.find((n) => n.name === s.device);
    const lines = s.error ? [`tables not read: ${s.error}`] : s.differences;
    return lines.map((l) => {
      const rule = ruleOfDifference(policiesOn(s.device, fw), l);
      return {
        check: rulesetCheck.id,
        severity: 'error' as const,
        message: `${where}: ${l}${rule ? ` [rule ${rule.name}, ${srcText(rule.source)}]` : ''}`,
        evidence: { device: s.device, netns: s.netns ?? null, difference: l, rule: rule?.name ?? null },
        location: rule?.source ?? device?.source,
        elements: { devices: [s.device] },
      };
    });
  });
  const hits = hitFindings(fw, observed.hits);
  const ms = performance.now() - t0;
  const na = observed.notApplicable ? `not applicable (${observed.notApplicable})` : !fw?.policies.length ? 'no firewall policy' : undefined;
  const outcomes = new Map<string, number>();
  for (const { result } of observed.probes) outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
  const probeSummary = `${observed.probes.length} probes${outcomes.size ? ` (${[...outcomes].map(([o, n]) => `${n} ${o}`).join(', ')})` : ''}`;
  const nsCount = observed.rulesets.length;
  return [
    { check: probeCheck, passed: probeFindings.length === 0, findings: probeFindings, examined: na ?? (observed.probesOff ? 'not run (--no-probes)' : probeSummary), ms },
    { check: rulesetCheck, passed: rulesetFindings.length === 0, findings: rulesetFindings, examined: na ?? `${new Set(observed.rulesets.map((s) => s.device)).size} devices, ${nsCount} namespaces`, ms },
    { check: LIVE_FIREWALL_CHECKS[2], passed: !hits.findings.some((f) => f.severity === 'error'), findings: hits.findings, examined: na ?? hits.examined, ms },
  ];
}

/** Per counted rule: hit since when, on which devices; unused ones (info) and expired ones still matching (warning). */
function hitFindings(fw: FirewallModel | undefined, hits: FirewallObserved['hits']): { findings: Finding[]; examined: string } {
  if (!hits || !fw) return { findings: [], examined: 'no counters read' };
  const check = LIVE_FIREWALL_CHECKS[2].id;
  const findings: Finding[] = [];
  const today = hits.readAt.slice(0, 10);
  let used = 0;
  let counted = 0;
  let expiredHit = 0;
  for (const pol of fw.policies) {
    for (const rule of pol.rules.filter((r) => r.counter)) {
      const inst = hits.instances.filter((i) => i.policy === ident(pol.name) || i.policy === pol.name).filter((i) => i.rule === rule.name || i.rule === ident(rule.name));
      if (!inst.length) continue;
      counted++;
      const where = (xs: typeof inst) => xs.map((i) => `${i.device}${i.netns ? ` (${i.netns})` : ''}`).join(', ');
      const lastHit = inst.map((i) => i.lastHit).filter((t): t is string => !!t).sort().at(-1);
      const packets = inst.reduce((n, i) => n + i.packets, 0);
      const at = `${srcText(rule.source)}`;
      if (!lastHit) {
        const since = inst.map((i) => i.firstRead).sort()[0];
        findings.push({
          check, severity: 'info',
          message: `rule ${rule.name} (${at}) of policy ${pol.name}: no packet matched since ${since} (first read; 0 packets on ${where(inst)})`,
          evidence: { policy: pol.name, rule: rule.name, since, packets, devices: inst.map((i) => i.device) },
          location: rule.source, elements: { devices: [...new Set(inst.map((i) => i.device))] },
        });
      } else {
        used++;
        if (lastHit !== hits.readAt) {
          findings.push({
            check, severity: 'info',
            message: `rule ${rule.name} (${at}) of policy ${pol.name}: no packet matched since ${lastHit} (${packets} packets in all on ${where(inst)})`,
            evidence: { policy: pol.name, rule: rule.name, since: lastHit, packets, devices: inst.map((i) => i.device) },
            location: rule.source, elements: { devices: [...new Set(inst.map((i) => i.device))] },
          });
        }
      }
      if (rule.expires && rule.expires < today && packets > 0) {
        expiredHit++;
        findings.push({
          check, severity: 'warning',
          message: `rule ${rule.name} (${at}) of policy ${pol.name} expired on ${rule.expires} and still matches traffic: ${packets} packets (last ${lastHit ?? 'unknown'}) on ${where(inst.filter((i) => i.packets > 0))}`,
          evidence: { policy: pol.name, rule: rule.name, expires: rule.expires, packets, lastHit: lastHit ?? null },
          location: rule.source, elements: { devices: [...new Set(inst.filter((i) => i.packets > 0).map((i) => i.device))] },
        });
      }
    }
  }
  return { findings, examined: `${counted} counted rules: ${used} matched since first read, ${counted - used} never${expiredHit ? `, ${expiredHit} expired but matching` : ''}` };
}
