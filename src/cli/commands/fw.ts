/**
 * `netloom fw query|search|diff`: questions to the firewall policies of an intent, answered by
 * the packet-set analysis (src/domains/firewall/analysis*.ts, flow-query.ts) from the model.
 */
import type { Command, CommandContext } from '../command.ts';
import { boolOpt, stringListOpt, stringOpt } from '../command.ts';
import { UsageError, formatLocation as where } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import type { FabricModel } from '../../model/types.ts';
import { size } from '../../verify/packet-set/index.ts';
import { analysisCache } from '../../domains/firewall/analysis.ts';
import { search } from '../../domains/firewall/analysis-query.ts';
import { countText, deciderText, policyChangeLines, policyChanges } from '../../domains/firewall/policy-diff.ts';
import { firewallPolicies } from '../../domains/firewall/checks.ts';
import { queryFlow, type FlowVerdict, type Place } from '../../domains/firewall/flow-query.ts';
import type { FwAction, FwConnState, FwPolicy, FwService } from '../../domains/firewall/model.ts';
import { formatPacket } from '../../domains/firewall/packet-text.ts';
import { intentDirArg } from '../intent-dir.ts';
import { findPolicy, resolvePlace, resolveService } from './fw-args.ts';

const STATES = ['new', 'established', 'related', 'invalid'] as const;
const PAST: Record<FwAction, string> = { accept: 'accepted', drop: 'dropped', reject: 'rejected' };

function loadPolicies(dir: string | undefined, command: string): { model: FabricModel; policies: FwPolicy[] } {
  const model = loadModelSync(intentDirArg(dir, command));
  const policies = firewallPolicies(model);
  if (!policies.length) throw new UsageError(`${model.name} has no firewall policy (no firewall: section in its intent)`);
  return { model, policies };
}

function onePositional(ctx: CommandContext, usage: string, max = 1): string | undefined {
  if (ctx.positionals.length > max) throw new UsageError(`unexpected argument '${ctx.positionals[max]}'\nusage: ${usage}`);
  return ctx.positionals[0];
}

const placeText = (p: Place) => `${p.arg}${p.kind === 'address' ? '' : ` (${p.prefixes.join(', ')})`}${p.leaves.length ? ` behind ${p.leaves.join(', ')}` : ''}`;

function formatQuery(src: Place, dst: Place, service: string, state: string, r: FlowVerdict): string[] {
  const lines = [`${placeText(src)} -> ${placeText(dst)}, ${service}, ${state} connections`];
  if (!r.policies.length) lines.push('no firewall policy (of those asked about) is enforced on the leaves of this flow');
  for (const p of r.policies) {
    lines.push(`policy ${p.policy} (${p.enforcement}) on ${p.devices.map((d) => `${d.device} (${d.side})`).join(', ')}:`);
    for (const n of p.nat) lines.push(`  destination NAT by rule ${n.rule} at ${n.location}: to ${n.to}${n.packets !== '1' ? ` (${countText(n.packets)} packets)` : ''}`);
    if (!p.filters) {
      lines.push(`  does not filter this flow (outside its scope${p.enforcement === 'inter-vrf' ? ': not between two of its VRFs' : ''})`);
      continue;
    }
    for (const d of p.decisions) {
      lines.push(`  ${d.action} by ${deciderText(d.rule, d.location)}${d.afterNat ? ` (after ${d.afterNat})` : ''}`);
      lines.push(`    e.g. ${formatPacket(d.example)}${d.packets !== '1' ? `, one of ${countText(d.packets)} packets` : ''}`);
    }
  }
  lines.push(`verdict: ${r.verdict}${r.policies.some((p) => p.filters) ? '' : ' (no policy filters this flow)'}`);
  return lines;
}

/**
 * `netloom trace SRC DST --service S`: the firewall's say on a traced flow, after the fabric's.
 * `forwards` is the fabric's prediction for the pair (bridged or routed).
 */
export function traceFirewallLines(model: FabricModel, srcArg: string, dstArg: string, serviceArg: string, forwards: string): { lines: string[]; verdict?: FlowVerdict } {
  const policies = firewallPolicies(model);
  const head = `${srcArg} -> ${dstArg} ${serviceArg}`;
  if (!policies.length) return { lines: [`${head}: ${forwards}, no firewall policy in this intent`] };
  const src = resolvePlace(model, srcArg, 'SRC');
  const dst = resolvePlace(model, dstArg, 'DST');
  const r = queryFlow(model, policies, analysisCache(), src, dst, resolveService(policies, serviceArg, '--service'), ['new']);
  const fabricForwards = forwards === 'bridged' || forwards === 'routed';
  const deny = r.policies.flatMap((p) => p.decisions.filter((d) => d.action !== 'accept').map((d) => ({ p, d })))[0];
  const on = (p: { devices: { device: string }[] }) => p.devices.map((d) => d.device).join(', ');
  let summary: string;
  if (!fabricForwards) summary = `${head}: not forwarded by the fabric (${forwards})${r.verdict === 'denied' ? '; the firewall denies it as well' : ''}`;
  else if (r.verdict === 'accepted') summary = `${head}: ${forwards}, accepted${r.policies.some((p) => p.filters) ? ' by the firewall' : ' (no policy filters it)'}`;
  else summary = `${head}: ${r.verdict === 'denied' ? 'denied' : 'partly denied'} by ${deciderText(deny!.d.rule, deny!.d.location)} (${deny!.d.action}) of policy ${deny!.p.policy} on ${on(deny!.p)}`;
  const detail = formatQuery(src, dst, serviceArg, 'new', r).slice(1).map((l) => `  ${l}`);
  return { lines: [summary, ...detail], verdict: r };
}

export const fwQueryCommand: Command = {
  name: 'fw query',
  summary: 'the verdict of every firewall policy on the path of a flow, with the deciding rule and its line',
  usage: 'netloom fw query [DIR] --from SRC --to DST [--service tcp/443] [--state new] [--policy P] [--json]',
  options: {
    from: { type: 'string', arg: 'SRC', help: 'source: an endpoint, network or VRF name, or an address or prefix' },
    to: { type: 'string', arg: 'DST', help: 'destination, as --from' },
    service: { type: 'string', arg: 'SERVICE', default: 'any', help: 'tcp/443, udp/53, tcp/8000-8080, icmp/8, a service the policies name, or any' },
    state: { type: 'string', choices: STATES, default: 'new', help: 'connection state of the packets' },
    policy: { type: 'string', arg: 'P', help: 'only this policy' },
    json: { type: 'boolean', help: 'the answer as JSON' },
  },
  notes: ['A policy is on the path when the source\'s or destination\'s leaf enforces it; it filters the flow when the flow is in its scope.', 'exit 0 with the answer (whatever the verdict), 2 on a usage error'],
  async run(ctx) {
    const dir = onePositional(ctx, this.usage);
    const from = stringOpt(ctx, 'from');
    const to = stringOpt(ctx, 'to');
    if (!from || !to) throw new UsageError(`--from and --to are required\nusage: ${this.usage}`);
    const { model, policies } = loadPolicies(dir, 'fw query');
    const only = stringOpt(ctx, 'policy') === undefined ? undefined : findPolicy(policies, stringOpt(ctx, 'policy')!).name;
    const src = resolvePlace(model, from, '--from');
    const dst = resolvePlace(model, to, '--to');
    const serviceArg = stringOpt(ctx, 'service')!;
    const services = resolveService(policies, serviceArg, '--service');
    const state = stringOpt(ctx, 'state') as FwConnState;
    const r = queryFlow(model, policies, analysisCache(), src, dst, services, [state], only);
    if (boolOpt(ctx, 'json')) ctx.out(JSON.stringify({ from: src, to: dst, service: serviceArg, state, ...r }, null, 2));
    else for (const l of formatQuery(src, dst, serviceArg, state, r)) ctx.out(l);
    return 0;
  },
};

export const fwSearchCommand: Command = {
  name: 'fw search',
  summary: 'example packets a policy decides with an action, with the rule deciding each (like Batfish searchFilters)',
  usage: 'netloom fw search [DIR] --policy P [--action accept|drop|reject] [--src X] [--dst Y] [--service S]... [--not-service S]... [--json]',
  options: {
    policy: { type: 'string', arg: 'P', help: 'the policy (needed when the intent has several)' },
    action: { type: 'string', choices: ['accept', 'drop', 'reject'], help: 'only packets decided so' },
    src: { type: 'string', arg: 'X', help: 'source: endpoint, network, VRF, address or prefix (default any)' },
    dst: { type: 'string', arg: 'Y', help: 'destination, as --src (default any)' },
    service: { type: 'string', arg: 'S', multiple: true, help: 'any of these services (tcp/443, a service name...)' },
    'not-service': { type: 'string', arg: 'S', multiple: true, help: 'none of these services' },
    state: { type: 'string', choices: STATES, default: 'new', help: 'connection state of the packets' },
    json: { type: 'boolean', help: 'the hits as JSON' },
  },
  notes: ['One example packet per deciding rule, in rule order; exit 0 whether or not packets were found.'],
  async run(ctx) {
    const dir = onePositional(ctx, this.usage);
    const { model, policies } = loadPolicies(dir, 'fw search');
    const name = stringOpt(ctx, 'policy');
    if (!name && policies.length > 1) throw new UsageError(`--policy is required: ${model.name} has ${policies.length} policies (${policies.map((p) => p.name).join(', ')})`);
    const policy = name ? findPolicy(policies, name) : policies[0]!;
    const svc = (opt: string): FwService[] => stringListOpt(ctx, opt).flatMap((s) => resolveService(policies, s, `--${opt}`));
    const src = stringOpt(ctx, 'src') ? resolvePlace(model, stringOpt(ctx, 'src')!, '--src') : undefined;
    const dst = stringOpt(ctx, 'dst') ? resolvePlace(model, stringOpt(ctx, 'dst')!, '--dst') : undefined;
    const action = stringOpt(ctx, 'action') as FwAction | undefined;
    const state = stringOpt(ctx, 'state') as FwConnState;
    const hits = search(policy, { src: src?.prefixes, dst: dst?.prefixes, services: svc('service'), notServices: svc('not-service'), states: [state], action });
    const rows = hits.map((h) => ({ action: h.action, rule: h.rule.name, location: where(h.rule.source), example: h.packet, packets: size(h.set).toString() }));
    if (boolOpt(ctx, 'json')) {
      ctx.out(JSON.stringify({ policy: policy.name, action: action ?? null, hits: rows }, null, 2));
      return 0;
    }
    const what = [action ? PAST[action] : 'decided', src ? `from ${src.arg}` : '', dst ? `to ${dst.arg}` : ''].filter(Boolean).join(' ');
    ctx.out(`policy ${policy.name}: packets ${what}${rows.length ? '' : ': none'}`);
    for (const r of rows) ctx.out(`  ${r.action} by ${deciderText(r.rule, r.location)}\n    e.g. ${formatPacket(r.example)}, one of ${countText(r.packets)} packets`);
    return 0;
  },
};

export const fwDiffCommand: Command = {
  name: 'fw diff',
  summary: 'flows two versions of the intent decide differently, per policy, with the rules responsible (like Batfish compareFilters)',
  usage: 'netloom fw diff OLD_DIR NEW_DIR [--policy P] [--json]',
  options: {
    policy: { type: 'string', arg: 'P', help: 'only this policy' },
    json: { type: 'boolean', help: 'the differences as JSON' },
  },
  notes: ['exit 0 with the answer (with or without differences), 1 when an intent is invalid, 2 on a usage error'],
  async run(ctx) {
    const [oldDir, newDir] = ctx.positionals;
    if (!oldDir || !newDir || ctx.positionals.length > 2) throw new UsageError(`expected OLD_DIR NEW_DIR\nusage: ${this.usage}`);
    const before = firewallPolicies(loadModelSync(oldDir));
    const after = firewallPolicies(loadModelSync(newDir));
    const name = stringOpt(ctx, 'policy');
    const names = [...new Set([...before, ...after].map((p) => p.name))];
    if (name && !names.includes(name)) findPolicy([...new Map([...before, ...after].map((p) => [p.name, p])).values()], name);
    const out = policyChanges(before, after, name);
    if (boolOpt(ctx, 'json')) {
      ctx.out(JSON.stringify({ old: oldDir, new: newDir, policies: out }, null, 2));
      return 0;
    }
    for (const p of out) for (const l of policyChangeLines(p)) ctx.out(l);
    return 0;
  },
};
