/**
 * iptables-restore view (iptables and ip6tables files) of the policies one device enforces:
 * the `filter` table (FORWARD jumps into a chain per policy by scope) and, with NAT rules,
 * the `nat` table. A rule's prefix lists are exact per family (render-common.ts), so each
 * rule is the lines of source x destination x service; iptables-restore loads a table as one
 * transaction.
 */
import type { FabricModel } from '../../model/types.ts';
import { iptText } from '../../render/helpers.ts';
import type { FwAction, FwAddressMatch, FwNatRule, FwPolicy, FwService } from './model.ts';
import { enforcementWord, srcText, familyRule, familyServices, familySet, familySide, policyScope, portText, ruleText, truncateBytes, type Family } from './render-common.ts';

export interface IptView {
  family: Family;
  /** User chains of the filter table, in order. */
  chains: { name: string; title: string }[];
  filter: string[];
  nat: string[];
}

function serviceArgs(s: FwService, f: Family): string[] {
  if (s.protocol === 'tcp' || s.protocol === 'udp') {
    const src = s.srcPorts.length ? s.srcPorts : [null];
    const dst = s.dstPorts.length ? s.dstPorts : [null];
    return src.flatMap((sp) => dst.map((dp) => [`-p ${s.protocol}`, sp ? `--sport ${portText(sp, ':')}` : '', dp ? `--dport ${portText(dp, ':')}` : ''].filter(Boolean).join(' ')));
  }
  if (s.protocol === 'icmp' || s.protocol === 'icmpv6') {
    const p = f === 4 ? '-p icmp' : '-p ipv6-icmp';
    const opt = f === 4 ? '--icmp-type' : '--icmpv6-type';
    if (!s.icmp.length) return [p];
    return s.icmp.map((t) => `${p} ${opt} ${t.type}${t.code !== undefined ? `/${t.code}` : ''}`);
  }
  return [`-p ${s.protocol}`];
}

function targets(action: FwAction, tcp: boolean | undefined, f: Family): { extra: string; target: string }[] {
  if (action === 'accept') return [{ extra: '', target: '-j ACCEPT' }];
  if (action === 'drop') return [{ extra: '', target: '-j DROP' }];
  const unreach = `-j REJECT --reject-with ${f === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`;
  if (tcp === true) return [{ extra: '', target: '-j REJECT --reject-with tcp-reset' }];
  if (tcp === false) return [{ extra: '', target: unreach }];
  return [
    { extra: '-p tcp', target: '-j REJECT --reject-with tcp-reset' },
    { extra: '', target: unreach },
  ];
}

const join = (...parts: string[]) => parts.filter(Boolean).join(' ');

export function policyChainName(i: number): string {
  return `NL-P${i}`;
}

function policyLines(pol: FwPolicy, chain: string, f: Family): string[] {
  const out: string[] = [];
  if (pol.stateful) out.push(`-A ${chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
  for (const r of pol.rules) {
    const fr = familyRule(r, f);
    if (!fr) continue;
    const comment = `-m comment --comment "${iptText(truncateBytes(ruleText(r), 250))}"`;
    const state = r.state.length ? `-m conntrack --ctstate ${r.state.map((s) => s.toUpperCase()).join(',')}` : '';
    const log = r.log ? `-j LOG --log-prefix "${iptText(truncateBytes(`nl ${r.name}: `, 29))}"` : '';
    for (const s of sideArgs(r.src, fr.src, f, '-s')) {
      for (const d of sideArgs(r.dst, fr.dst, f, '-d')) {
        for (const svc of fr.services ?? [null]) {
          for (const sa of svc ? serviceArgs(svc, f) : ['']) {
            for (const t of targets(r.action, svc ? svc.protocol === 'tcp' : undefined, f)) {
              const m = join(`-A ${chain}`, s, d, sa, t.extra, state, comment);
              if (log) out.push(`${m} ${log}`);
              out.push(`${m} ${t.target}`);
            }
          }
        }
      }
    }
  }
  for (const t of targets(pol.defaultAction, undefined, f)) out.push(join(`-A ${chain}`, t.extra, `-m comment --comment "default ${pol.defaultAction}"`, t.target));
  return out;
}

/** Address arguments of one side: `! -d P` for the complement of one prefix, else one line per prefix. */
function sideArgs(m: FwAddressMatch, list: string[] | null, f: Family, flag: '-s' | '-d'): string[] {
  const side = familySide(m, f);
  if (side?.negate && side.prefixes.length === 1) return [`! ${flag} ${side.prefixes[0]}`];
  return list === null ? [''] : list.map((p) => `${flag} ${p}`);
}

function scopeJumps(pol: FwPolicy, chain: string, model: FabricModel, f: Family): string[] {
  const key = f === 4 ? 'v4' : 'v6';
  const scope = policyScope(pol, model);
  const out: string[] = [];
  if (pol.enforcement.kind === 'inter-vrf') {
    for (const a of scope) for (const b of scope) if (a !== b) for (const s of a[key]) for (const d of b[key]) out.push(`-A NL-FORWARD -s ${s} -d ${d} -j ${chain}`);
  } else {
    const all = scope.flatMap((m) => m[key]);
    for (const p of all) out.push(`-A NL-FORWARD -s ${p} -j ${chain}`, `-A NL-FORWARD -d ${p} -j ${chain}`);
  }
  return out;
}

function natLines(pol: FwPolicy, n: FwNatRule, f: Family): string[] {
  if (n.to?.address && n.to.address.includes(':') !== (f === 6)) return [];
  const src = familySet(n.src, f);
  const dst = familySet(n.dst, f);
  const services = familyServices(n.services, f);
  if ((src && !src.length) || (dst && !dst.length) || (services && !services.length)) return [];
  const chain = n.kind === 'dnat' ? 'PREROUTING' : 'POSTROUTING';
  const to = n.to?.address ? (f === 6 && n.to.port ? `[${n.to.address}]` : n.to.address) + (n.to.port ? `:${n.to.port}` : '') : '';
  const target = n.kind === 'masquerade' ? '-j MASQUERADE' : n.kind === 'snat' ? `-j SNAT --to-source ${to}` : `-j DNAT --to-destination ${to}`;
  const comment = `-m comment --comment "${iptText(truncateBytes(`${pol.name}/${n.name}`, 250))}"`;
  const out: string[] = [];
  for (const s of src ?? [null]) for (const d of dst ?? [null]) for (const svc of services ?? [null]) for (const sa of svc ? serviceArgs(svc, f) : ['']) out.push(join(`-A ${chain}`, s ? `-s ${s}` : '', d ? `-d ${d}` : '', sa, comment, target));
  return out;
}

export function iptView(policies: FwPolicy[], model: FabricModel, f: Family): IptView {
  const chains = [{ name: 'NL-FORWARD', title: 'jumps into each policy by scope' }];
  const filter: string[] = ['-A FORWARD -j NL-FORWARD'];
  const body: string[] = [];
  const nat: string[] = [];
  policies.forEach((p, i) => {
    const chain = policyChainName(i);
    chains.push({ name: chain, title: `policy ${p.name} (${srcText(p.source)}), ${enforcementWord(p)}` });
    filter.push(...scopeJumps(p, chain, model, f));
    body.push(...policyLines(p, chain, f));
    for (const n of p.nat) nat.push(...natLines(p, n, f));
  });
  return { family: f, chains, filter: [...filter, ...body], nat };
}
