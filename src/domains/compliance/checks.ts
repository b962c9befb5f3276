/**
 * The compliance gates as static checks (`verify --static`, and `plan`, which marks the head's
 * violations new since the base and fails on them by --fail-on): built-in rules over the model
 * and the rendered load-balancer configs, each with its id, severity (the section's
 * `severity:` may change it or turn it off) and the intent line at fault, plus the
 * organisation's own CEL rules. Without a `compliance:` section the built-in rules hold the
 * fabric to the default profile (BGP authentication optional, TLS >= 1.2).
 */
import path from 'node:path';
import type { FabricModel, Interface } from '../../model/types.ts';
import { contains4, overlaps4, parseIpv4, parsePrefix4, type Prefix4 } from '../../model/ip.ts';
import { formatLocation, type SourceLocation } from '../../util/errors.ts';
import type { Finding, Severity } from '../../verify/findings.ts';
import type { CheckContext, StaticCheck } from '../../verify/checks/types.ts';
import type { FirewallModel, FwAddressMatch } from '../firewall/model.ts';
import type { SlbModel } from '../slb/model.ts';
import { slbArtifacts } from '../slb/render.ts';
import { celMessage, compileCel } from './cel.ts';
import type { RuleCollection } from './intent.ts';
import type { ComplianceModel } from './model.ts';
import { scanIntent } from './secrets.ts';

export const complianceOf = (m: FabricModel) => m.domains.compliance as ComplianceModel | undefined;
const fg = (ctx: CheckContext) => ctx.fg.model;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

type Body = (model: FabricModel, ctx: CheckContext, sev: Severity) => { findings: Finding[]; examined: string };

/** A built-in rule: its severity from the section (or off), its findings at that severity. */
function gate(id: string, title: string, severity: Severity, description: string, body: Body): StaticCheck {
  return {
    id, title, kind: 'static', layer: 'endpoint', severity, description,
    run(ctx) {
      const model = fg(ctx);
      const c = complianceOf(model);
      const set = c?.severity[id];
      if (set === 'off') return { findings: [], examined: `off (compliance.severity.${id} at ${path.basename(c!.severitySource.file)}:${c!.severitySource.line})` };
      return body(model, ctx, set ?? severity);
    },
  };
}

const finding = (check: string, severity: Severity, message: string, location: SourceLocation | undefined, evidence: Record<string, unknown> = {}): Finding => ({ check, severity, message, evidence, ...(location ? { location } : {}) });

const bgpAuth = gate('compliance-bgp-auth', 'BGP sessions authenticated where the profile demands', 'error', 'with compliance.profile.bgp_authentication: required, every BGP session must be authenticated (TCP-MD5 or TCP-AO); netloom renders no session authentication, so each session is named', (model, _ctx, sev) => {
  const c = complianceOf(model);
  if (c?.profile.bgpAuthentication !== 'required') return { findings: [], examined: `${plural(model.bgpSessions.length, 'session')}; the profile does not require authentication` };
  // Messages name no file: plan tells findings of two revisions apart by message.
  const findings = model.bgpSessions.map((s) => finding('compliance-bgp-auth', sev, `BGP session ${s.id} is not authenticated; compliance.profile.bgp_authentication requires it (netloom renders no TCP-MD5/TCP-AO)`, s.source, { session: s.id, profile: formatLocation(c.profile.source) }));
  return { findings, examined: plural(model.bgpSessions.length, 'session') };
});

const mgmtPlane = gate('compliance-mgmt-plane', 'management plane restricted to the management network', 'error', 'every device is managed on an address inside the management network (profile.management_network, default pools.mgmt); no other interface carries an address of it, and it overlaps no fabric pool or tenant subnet (so no tenant or underlay route reaches it)', (model, ctx, sev) => {
  const c = complianceOf(model);
  const text = c?.profile.managementNetwork ?? model.fabric.pools.mgmt;
  const net = parsePrefix4(text);
  const findings: Finding[] = [];
  const add = (message: string, loc: SourceLocation | undefined, evidence: Record<string, unknown>) => findings.push(finding('compliance-mgmt-plane', sev, message, loc, { managementNetwork: text, ...evidence }));
  const inNet = (cidr: string) => {
    const slash = cidr.indexOf('/');
    return contains4(net, parseIpv4(slash < 0 ? cidr : cidr.slice(0, slash)));
  };
  const carries = (i: Interface) => (!!i.ipv4 && inNet(i.ipv4)) || (i.ipv4Secondary ?? []).some((a) => !!a && inNet(a));
  // Whether the fabric's own addresses (management, loopbacks, fabric ports) are all as they
  // should be: the usual answer, from the fabric alone, so a plan's head built from its base
  // takes the base's and reads only the access ports (a quarter of a million interfaces at
  // 5,000 devices).
  const fabricClean = ctx.fg.model === model && ctx.fg.fabricMemo(`compliance-mgmt-fabric:${text}`, () => model.devices.every((d) => inNet(d.mgmt.ipv4) && d.interfaces.every((i) => i.kind === 'mgmt' || i.kind === 'access' || !carries(i))));
  for (const d of model.devices) {
    if (!fabricClean && !inNet(d.mgmt.ipv4)) add(`${d.name} is managed on ${d.mgmt.ipv4}, outside the management network ${text}`, d.source, { device: d.name, mgmt: d.mgmt.ipv4 });
    for (const i of d.interfaces) {
      if (i.kind === 'mgmt' || (fabricClean && (i.kind !== 'access' || (!i.ipv4 && !i.ipv4Secondary)))) continue;
      const carried = (a: string) => add(`${d.name} ${i.name} (${i.kind}) carries ${a}, an address of the management network ${text}`, d.source, { device: d.name, interface: i.name, address: a });
      if (i.ipv4 && inNet(i.ipv4)) carried(i.ipv4);
      if (i.ipv4Secondary) for (const a of i.ipv4Secondary) if (a && inNet(a)) carried(a);
    }
  }
  const pools: [string, string | undefined][] = [['loopback', model.fabric.pools.loopback], ['vtep', model.fabric.pools.vtep], ['p2p', model.fabric.pools.p2p]];
  for (const [name, p] of pools) if (p && overlaps4(net, parsePrefix4(p))) add(`the management network ${text} overlaps the ${name} pool ${p}`, model.fabric.source, { pool: name, prefix: p });
  for (const n of model.networks) if (n.subnet && overlaps4(net, parsePrefix4(n.subnet) as Prefix4)) add(`network ${n.name} (${n.subnet}, VRF ${n.vrf}) overlaps the management network ${text}`, n.source, { network: n.name, subnet: n.subnet });
  return { findings, examined: `${plural(model.devices.length, 'device')}, management network ${text}` };
});

/** Any address: the rule named nothing narrower (no object, or `any`), nothing excluded, not negated. */
const anyAddress = (m: FwAddressMatch) => !m.negate && m.exclude.length === 0 && (m.refs.length === 0 || m.refs.includes('any') || (m.include.includes('0.0.0.0/0') && m.include.includes('::/0')));

const acceptAny = gate('compliance-accept-any', 'no firewall rule accepts any to any', 'error', 'no rule of any policy accepts every source to every destination for every service (whatever connection state): such a rule disables the policy behind it', (model, _ctx, sev) => {
  const policies = (model.domains.firewall as FirewallModel | undefined)?.policies ?? [];
  const findings: Finding[] = [];
  let rules = 0;
  for (const p of policies) {
    for (const r of p.rules) {
      rules++;
      if (r.action === 'accept' && anyAddress(r.src) && anyAddress(r.dst) && r.services.length === 0 && r.state.length === 0) {
        findings.push(finding('compliance-accept-any', sev, `policy '${p.name}': rule '${r.name}' accepts any source to any destination, any service`, r.source, { policy: p.name, rule: r.name }));
      }
    }
  }
  return { findings, examined: `${plural(rules, 'rule')} in ${plural(policies.length, 'policy', 'policies')}` };
});

/**
 * The lowest TLS version a rendered file of a load-balancer node lets an https listener
 * accept, when the file pins one: HAProxy's ssl-min-ver, nginx's ssl_protocols, AS3's
 * TLS_Server tls1_xEnabled switches. Undefined: the product's default decides.
 */
export function pinnedTlsMin(target: string, content: string): string | undefined {
  if (target === 'haproxy') return /ssl-min-ver TLSv(1\.[0-3])/.exec(content)?.[1];
  if (target === 'nginx') {
    const m = /ssl_protocols([^;]*);/.exec(content);
    const v = m ? [...m[1].matchAll(/TLSv(1(?:\.[1-3])?)/g)].map((x) => (x[1] === '1' ? '1.0' : x[1])).sort() : [];
    return v[0];
  }
  if (target === 'f5-as3') {
    const off = (v: string) => new RegExp(`"tls${v}Enabled"\\s*:\\s*false`).test(content);
    return off('1_0') && off('1_1') ? (off('1_2') ? '1.3' : '1.2') : undefined;
  }
  return undefined;
}

const tlsMin = gate('compliance-tls-min', 'https listeners accept no TLS below the profile\'s minimum', 'warning', 'every rendered load-balancer file serving an https listener pins a minimum TLS version (HAProxy ssl-min-ver, nginx ssl_protocols, AS3 tls1_0Enabled/tls1_1Enabled false) at or above compliance.profile.tls_min_version (default 1.2); a file that pins none leaves it to the product\'s default', (model, ctx, sev) => {
  const slb = model.domains.slb as SlbModel | undefined;
  const https = (slb?.services ?? []).filter((s) => s.listeners.some((l) => l.protocol === 'https'));
  if (!https.length) return { findings: [], examined: 'no https listener' };
  const min = complianceOf(model)?.profile.tlsMinVersion ?? '1.2';
  const arts = ctx.memo('slb-artifacts', () => slbArtifacts(model).artifacts);
  const findings: Finding[] = [];
  let files = 0;
  for (const s of https) {
    const l = s.listeners.find((x) => x.protocol === 'https')!;
    for (const a of arts.filter((x) => s.nodes.includes(x.node) && x.content.includes(s.name))) {
      files++;
      const pinned = pinnedTlsMin(a.target, a.content);
      if (pinned === undefined) findings.push(finding('compliance-tls-min', sev, `service ${s.name} (https on ${l.port}): ${a.node}/${a.name} pins no minimum TLS version (the ${a.target} default decides); the profile requires TLS >= ${min}`, l.source, { service: s.name, node: a.node, file: a.name }));
      else if (pinned < min) findings.push(finding('compliance-tls-min', sev, `service ${s.name} (https on ${l.port}): ${a.node}/${a.name} accepts TLS ${pinned}; the profile requires TLS >= ${min}`, l.source, { service: s.name, node: a.node, file: a.name, pinned }));
    }
  }
  return { findings, examined: `${plural(https.length, 'https service')}, ${plural(files, 'rendered file')}` };
});

const secrets = gate('compliance-secrets', 'no secrets in the intent', 'error', 'the intent\'s files hold no private key, cloud or forge token, or literal value of a credential-named key (password, secret, token, api_key, community, psk...): credentials belong in the inventory\'s store; the value is never shown', (model, _ctx, sev) => {
  const { files, hits } = scanIntent(model.intentDir);
  return { findings: hits.map((h) => finding('compliance-secrets', sev, `${h.kind} in the intent (${h.hint})`, h.location, { kind: h.kind })), examined: plural(files, 'intent file') };
});

/** The model's objects a user rule iterates, each as the JSON CEL sees (without its source location) and where it is. */
function collection(model: FabricModel, over: RuleCollection): { key: string; self: unknown; source: SourceLocation }[] {
  const strip = <T extends { source: SourceLocation }>(o: T) => {
    const { source: _s, ...rest } = o;
    return JSON.parse(JSON.stringify(rest)) as unknown;
  };
  const named = <T extends { source: SourceLocation }>(list: T[], key: (o: T) => string) => list.map((o) => ({ key: key(o), self: strip(o), source: o.source }));
  switch (over) {
    case 'devices': return named(model.devices, (d) => `device ${d.name}`);
    case 'links': return named(model.links, (l) => `link ${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`);
    case 'bgpSessions': return named(model.bgpSessions, (s) => `BGP session ${s.id}`);
    case 'vrfs': return named(model.vrfs, (v) => `VRF ${v.name}`);
    case 'networks': return named(model.networks, (n) => `network ${n.name}`);
    case 'endpoints': return named(model.endpoints, (e) => `endpoint ${e.name}`);
    case 'firewallRules':
      return ((model.domains.firewall as FirewallModel | undefined)?.policies ?? []).flatMap((p) => p.rules.map((r) => ({ key: `rule ${p.name}/${r.name}`, self: { policy: p.name, ...(strip(r) as object) }, source: r.source })));
    case 'slbServices': return named((model.domains.slb as SlbModel | undefined)?.services ?? [], (s) => `service ${s.name}`);
  }
}

const userRules = gate('compliance-rules', 'the organisation\'s own rules (CEL)', 'error', 'each rule of compliance.rules: its `assert` (CEL, `self` bound to each object of `over`, `fabric` to the fabric settings) holds for every object its `when` selects; a violation is located at the object\'s intent line and carries the rule\'s severity', (model, ctx) => {
  const c = complianceOf(model);
  const findings: Finding[] = [];
  let checked = 0;
  const fabric = JSON.parse(JSON.stringify({ name: model.name, ...model.fabric, source: undefined })) as unknown;
  for (const r of c?.rules ?? []) {
    const when = r.when === undefined ? undefined : compileCel(r.when);
    const assert = compileCel(r.assert);
    const what = `rule '${r.id}'${r.description ? ` (${r.description})` : ''}`;
    for (const o of ctx.memo(`compliance-collection:${r.over}`, () => collection(model, r.over))) {
      const vars = { self: o.self, fabric };
      let verdict: unknown;
      try {
        if (when && when(vars) !== true) continue;
        checked++;
        verdict = assert(vars);
      } catch (e) {
        findings.push(finding('compliance-rules', r.severity, `${what} cannot be evaluated on ${o.key}: ${celMessage(e)}`, o.source, { rule: r.id, ruleAt: formatLocation(r.source) }));
        continue;
      }
      if (verdict !== true) findings.push(finding('compliance-rules', r.severity, `${o.key} violates ${what}${verdict === false ? '' : ` (the assertion gave ${JSON.stringify(verdict)}, not a boolean)`}`, o.source, { rule: r.id, assert: r.assert, ruleAt: formatLocation(r.source) }));
    }
  }
  return { findings, examined: `${plural(c?.rules.length ?? 0, 'rule')}, ${plural(checked, 'object')} checked` };
});

export const complianceChecks: StaticCheck[] = [bgpAuth, mgmtPlane, acceptAny, tlsMin, secrets, userRules];
