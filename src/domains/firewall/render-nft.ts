/**
 * nftables view of the policies one device enforces: a `table inet netloom` (forward hook for
 * routed traffic, NAT in prerouting/postrouting) and, for stateless policies at networks, a
 * `table bridge netloom` for bridged traffic. Statements are built here; the templates
 * (templates/frr/partials/firewall/nft-*.hbs) lay out tables, sets and chains.
 */
import type { FabricModel } from '../../model/types.ts';
import { nftText } from '../../render/helpers.ts';
import type { FwAction, FwNatRule, FwPolicy, FwService } from './model.ts';
import { enforcementWord, srcText, FAMILIES, familyRule, familyServices, familySet, familySide, ident, policyScope, portText, ruleText, truncateBytes, type Family, type FamilyRule } from './render-common.ts';

export interface NftSet {
  name: string;
  type: 'ipv4_addr' | 'ipv6_addr';
  elements: string[];
}

export interface NftChain {
  name: string;
  title: string;
  lines: string[];
}

export interface NftTable {
  family: 'inet' | 'bridge';
  sets: NftSet[];
  /** Statements of the forward base chain: jumps into each policy's chain by scope. */
  forward: string[];
  chains: NftChain[];
  prerouting: string[];
  postrouting: string[];
}

export interface NftView {
  tables: NftTable[];
}

/** Named sets of one table: one per distinct prefix list, named after what the intent named. */
class SetRegistry {
  readonly sets: NftSet[] = [];
  private readonly byKey = new Map<string, string>();

  ref(elements: string[], f: Family, hint: string): string {
    const type = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const key = `${type} ${elements.join(',')}`;
    const known = this.byKey.get(key);
    if (known) return `@${known}`;
    let name = `${ident(hint)}_v${f}`;
    for (let i = 2; this.sets.some((s) => s.name === name); i++) name = `${ident(hint)}_${i}_v${f}`;
    this.sets.push({ name, type, elements });
    this.byKey.set(key, name);
    return `@${name}`;
  }
}

const addrKw = (f: Family) => (f === 4 ? 'ip' : 'ip6');

function addrClause(sets: SetRegistry, f: Family, dir: 'saddr' | 'daddr', side: { negate: boolean; prefixes: string[] } | null, hint: string): string {
  if (side === null) return '';
  const op = side.negate ? '!= ' : '';
  if (side.prefixes.length === 1) return `${addrKw(f)} ${dir} ${op}${side.prefixes[0]}`;
  return `${addrKw(f)} ${dir} ${op}${sets.ref(side.prefixes, f, hint)}`;
}

/** A side's set name: the object the intent named when it is the only one, else rule + side. */
function hintFor(refs: string[], fallback: string): string {
  return refs.length === 1 && /^[A-Za-z]/.test(refs[0]) ? refs[0] : fallback;
}

function portSet(list: FwService['dstPorts']): string {
  const items = list.map((r) => portText(r, '-'));
  return items.length === 1 ? items[0] : `{ ${items.join(', ')} }`;
}

/** The match of one service (protocol, ports or ICMP type and code). */
export function nftService(s: FwService): string {
  if (s.protocol === 'tcp' || s.protocol === 'udp') {
    const parts = [];
    if (s.srcPorts.length) parts.push(`${s.protocol} sport ${portSet(s.srcPorts)}`);
    if (s.dstPorts.length) parts.push(`${s.protocol} dport ${portSet(s.dstPorts)}`);
    return parts.length ? parts.join(' ') : `meta l4proto ${s.protocol}`;
  }
  if (s.protocol === 'icmp' || s.protocol === 'icmpv6') {
    if (!s.icmp.length) return `meta l4proto ${s.protocol === 'icmp' ? 'icmp' : 'ipv6-icmp'}`;
    if (s.icmp.length === 1) {
      const t = s.icmp[0];
      return `${s.protocol} type ${t.type}${t.code !== undefined ? ` ${s.protocol} code ${t.code}` : ''}`;
    }
    if (s.icmp.every((t) => t.code === undefined)) return `${s.protocol} type { ${s.icmp.map((t) => t.type).join(', ')} }`;
    return `${s.protocol} type . ${s.protocol} code { ${s.icmp.map((t) => `${t.type} . ${t.code ?? 0}`).join(', ')} }`;
  }
  return `meta l4proto ${s.protocol}`;
}

/** Verdict statements of an action, one per line: reject answers TCP with a reset. */
function verdicts(action: FwAction, svc: FwService | null, bridge: boolean): { match: string; verdict: string }[] {
  if (action === 'accept') return [{ match: '', verdict: 'accept' }];
  // The bridge family's reject needs nft_reject_bridge, which kernels often lack: dropped there.
  if (action === 'drop' || bridge) return [{ match: '', verdict: 'drop' }];
  if (svc?.protocol === 'tcp') return [{ match: '', verdict: 'reject with tcp reset' }];
  if (svc) return [{ match: '', verdict: 'reject with icmpx port-unreachable' }];
  return [
    { match: 'meta l4proto tcp', verdict: 'reject with tcp reset' },
    { match: '', verdict: 'reject with icmpx port-unreachable' },
  ];
}

const join = (...parts: string[]) => parts.filter(Boolean).join(' ');

function ruleLines(sets: SetRegistry, pol: FwPolicy, fr: FamilyRule, bridge: boolean): string[] {
  const r = fr.rule;
  const base = `${pol.name}_${r.name}`;
  const src = addrClause(sets, fr.family, 'saddr', familySide(r.src, fr.family), hintFor(r.src.refs, `${base}_src`));
  const dst = addrClause(sets, fr.family, 'daddr', familySide(r.dst, fr.family), hintFor(r.dst.refs, `${base}_dst`));
  const state = r.state.length === 0 ? '' : r.state.length === 1 ? `ct state ${r.state[0]}` : `ct state { ${r.state.join(', ')} }`;
  const comment = `comment "${nftText(truncateBytes(ruleText(r), 120))}"`;
  const log = r.log ? `log prefix "${nftText(truncateBytes(`nl ${pol.name}/${r.name}`, 120))}: "` : '';
  const fam = fr.src === null && fr.dst === null ? `meta nfproto ${fr.family === 4 ? 'ipv4' : 'ipv6'}` : '';
  const out: string[] = [];
  for (const svc of fr.services ?? [null]) {
    for (const v of verdicts(r.action, svc, bridge)) {
      out.push(join(fam, src, dst, svc ? nftService(svc) : '', v.match, state, r.counter ? 'counter' : '', log, v.verdict, comment));
    }
  }
  return out;
}

/** Rules that apply to both families without naming an address are written once. */
function policyChain(sets: SetRegistry, pol: FwPolicy, bridge: boolean): NftChain {
  const lines: string[] = [];
  if (pol.stateful && !bridge) lines.push('ct state established,related accept');
  for (const r of pol.rules) {
    const both = FAMILIES.map((f) => familyRule(r, f));
    const neutral = r.services.every((s) => s.protocol !== 'icmp' && s.protocol !== 'icmpv6');
    if (both[0] && both[1] && !both[0].src && !both[0].dst && !both[1].src && !both[1].dst && neutral) {
      lines.push(...ruleLines(sets, pol, { ...both[0], family: 4 }, bridge).map((l) => l.replace(/^meta nfproto ipv4 /, '')));
      continue;
    }
    for (const fr of both) if (fr) lines.push(...ruleLines(sets, pol, fr, bridge));
  }
  for (const v of verdicts(pol.defaultAction, null, bridge)) lines.push(join(v.match, 'counter', v.verdict, `comment "default ${pol.defaultAction}"`));
  return { name: `pol_${ident(pol.name)}`, title: `policy ${pol.name} (${srcText(pol.source)}), ${enforcementWord(pol)}`, lines };
}

/** Jumps of the forward chain: inter-vrf between each ordered pair of VRFs, networks both ways. */
function scopeJumps(sets: SetRegistry, pol: FwPolicy, model: FabricModel): string[] {
  const chain = `pol_${ident(pol.name)}`;
  const scope = policyScope(pol, model);
  const out: string[] = [];
  for (const f of FAMILIES) {
    const key = f === 4 ? 'v4' : 'v6';
    const ref = (m: (typeof scope)[number]) => (m[key].length === 1 ? m[key][0] : sets.ref(m[key], f, `${pol.name}_${m.name}`));
    if (pol.enforcement.kind === 'inter-vrf' || pol.enforcement.kind === 'node') {
      for (const a of scope) for (const b of scope) if (a !== b && a[key].length && b[key].length) out.push(`${addrKw(f)} saddr ${ref(a)} ${addrKw(f)} daddr ${ref(b)} jump ${chain}`);
    } else {
      const all = scope.flatMap((m) => m[key]);
      if (!all.length) continue;
      const r = all.length === 1 ? all[0] : sets.ref(all, f, `${pol.name}_networks`);
      out.push(`${addrKw(f)} saddr ${r} jump ${chain}`, `${addrKw(f)} daddr ${r} jump ${chain}`);
    }
  }
  return out;
}

function natLines(sets: SetRegistry, pol: FwPolicy, n: FwNatRule): string[] {
  const out: string[] = [];
  const toFamily: Family | undefined = n.to?.address ? (n.to.address.includes(':') ? 6 : 4) : undefined;
  for (const f of FAMILIES) {
    if (toFamily && toFamily !== f) continue;
    const src = familySet(n.src, f);
    const dst = familySet(n.dst, f);
    const services = familyServices(n.services, f);
    if ((src && !src.length) || (dst && !dst.length) || (services && !services.length)) continue;
    const base = `${pol.name}_${n.name}`;
    const s = addrClause(sets, f, 'saddr', familySide(n.src, f), hintFor(n.src.refs, `${base}_src`));
    const d = addrClause(sets, f, 'daddr', familySide(n.dst, f), hintFor(n.dst.refs, `${base}_dst`));
    const fam = !s && !d ? `meta nfproto ${f === 4 ? 'ipv4' : 'ipv6'}` : '';
    const to = n.to?.address ? (f === 6 && n.to.port ? `[${n.to.address}]` : n.to.address) + (n.to.port ? `:${n.to.port}` : '') : '';
    const action = n.kind === 'masquerade' ? 'masquerade' : `${n.kind} ${addrKw(f)} to ${to}`;
    const comment = `comment "${nftText(truncateBytes(`${pol.name}/${n.name}`, 120))}"`;
    for (const svc of services ?? [null]) out.push(join(fam, s, d, svc ? nftService(svc) : '', action, comment));
  }
  return out;
}

export function nftView(policies: FwPolicy[], model: FabricModel): NftView {
  const inetSets = new SetRegistry();
  const inet: NftTable = { family: 'inet', sets: inetSets.sets, forward: [], chains: [], prerouting: [], postrouting: [] };
  const bridgeSets = new SetRegistry();
  const bridge: NftTable = { family: 'bridge', sets: bridgeSets.sets, forward: [], chains: [], prerouting: [], postrouting: [] };
  for (const p of policies) {
    inet.forward.push(...scopeJumps(inetSets, p, model));
    inet.chains.push(policyChain(inetSets, p, false));
    for (const n of p.nat) (n.kind === 'dnat' ? inet.prerouting : inet.postrouting).push(...natLines(inetSets, p, n));
    // Bridged traffic inside a network: the bridge family has no conntrack on every kernel,
    // so only stateless policies are enforced there.
    if (p.enforcement.kind === 'network' && !p.stateful) {
      bridge.forward.push(...scopeJumps(bridgeSets, p, model));
      bridge.chains.push(policyChain(bridgeSets, p, true));
    }
  }
  return { tables: bridge.chains.length ? [inet, bridge] : [inet] };
}
