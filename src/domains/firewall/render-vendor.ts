/**
 * Vendor views of the policies one device enforces: stateless ACLs on the tenant SVIs (Arista
 * EOS, Cisco NX-OS, Nokia SR Linux) and Junos SRX zone-based security policies. What a target
 * cannot express (state, reject, NAT...) never reaches here: the domain's features stop the
 * render first (index.ts). ACL entries are source x destination x service of each rule's exact
 * prefix lists, restricted to the policy's scope.
 */
import type { FabricModel } from '../../model/types.ts';
import type { DeviceView } from '../../render/view.ts';
import { oneLine, quotedText } from '../../render/helpers.ts';
import { overlapCidr } from 'cidr-tools';
import type { FwAction, FwAddressMatch, FwPolicy, FwPortRange, FwService } from './model.ts';
import { srcText, FAMILIES, familyRule, familySet, ident, policyScope, portText, ruleText, truncateBytes, type Family } from './render-common.ts';
import { subtract } from './resolve.ts';

export type AclSyntax = 'eos' | 'nxos' | 'srlinux';

export interface AclView {
  name: string;
  family: Family;
  title: string;
  /** EOS / NX-OS: each entry's text after the sequence number. */
  entries: { seq: number; text: string }[];
  /** SR Linux: each entry's `set` suffixes after `entry N`. */
  srl: { seq: number; lines: string[] }[];
  counters: boolean;
}

export interface AclApply {
  /** SVI: Vlan10 (EOS/NX-OS) or the IRB subinterface (SR Linux). */
  vlan: number;
  acl: string;
  family: Family;
  direction: 'in' | 'out';
}

export interface VendorAclView {
  acls: AclView[];
  /** Per SVI, the ACLs it applies. */
  apply: { vlan: number; acls: AclApply[] }[];
}

const intersect = (a: string[] | null, scope: string[]): string[] => (a === null ? scope : subtract(a, subtract(a, scope)));

/** A port operator for EOS/NX-OS ("eq 80", "range 8000 8080"). */
const portOp = (r: { from: number; to: number }) => (r.from === r.to ? `eq ${r.from}` : `range ${r.from} ${r.to}`);

/** The protocol and per-port-combination suffixes of a service on a CLI ACL line. */
function cliService(s: FwService | null, f: Family, syntax: 'eos' | 'nxos'): { proto: string; srcOp: string; dstOp: string; tail: string }[] {
  if (!s) return [{ proto: f === 4 ? 'ip' : 'ipv6', srcOp: '', dstOp: '', tail: '' }];
  if (s.protocol === 'tcp' || s.protocol === 'udp') {
    const src = s.srcPorts.length ? s.srcPorts : [null];
    const dst = s.dstPorts.length ? s.dstPorts : [null];
    return src.flatMap((sp) => dst.map((dp) => ({ proto: String(s.protocol), srcOp: sp ? portOp(sp) : '', dstOp: dp ? portOp(dp) : '', tail: '' })));
  }
  if (s.protocol === 'icmp' || s.protocol === 'icmpv6') {
    const proto = f === 4 ? 'icmp' : syntax === 'eos' ? 'icmpv6' : 'icmp';
    if (!s.icmp.length) return [{ proto, srcOp: '', dstOp: '', tail: '' }];
    return s.icmp.map((t) => ({ proto, srcOp: '', dstOp: '', tail: `${t.type}${t.code !== undefined ? ` ${t.code}` : ''}` }));
  }
  return [{ proto: String(s.protocol), srcOp: '', dstOp: '', tail: '' }];
}

const cliAction = (a: FwAction) => (a === 'accept' ? 'permit' : 'deny');
const join = (...parts: string[]) => parts.filter(Boolean).join(' ');

/** One ACL: the policy's rules (restricted to src/dst scope), then its default, then what is out of scope. */
function acl(syntax: AclSyntax, pol: FwPolicy, name: string, f: Family, srcScope: string[] | null, dstScope: string[] | null): AclView {
  const entries: AclView['entries'] = [];
  const srl: AclView['srl'] = [];
  let seq = 10;
  const add = (action: FwAction, src: string | null, dst: string | null, svc: FwService | null, log: boolean, remark?: string) => {
    if (syntax === 'srlinux') {
      // One entry per port combination: an entry's match holds one range per direction.
      for (const lines of srlEntry(action, src, dst, svc, f, log, remark)) {
        srl.push({ seq, lines });
        seq += 10;
      }
      return;
    }
    if (remark) {
      entries.push({ seq, text: `remark ${oneLine(truncateBytes(remark, 90))}` });
      seq += 10;
    }
    for (const c of cliService(svc, f, syntax)) {
      entries.push({ seq, text: join(cliAction(action), c.proto, src ?? 'any', c.srcOp, dst ?? 'any', c.dstOp, c.tail, log ? 'log' : '') });
      seq += 10;
    }
  };
  const scoped = (list: string[] | null, scope: string[] | null) => (scope === null ? list : intersect(list, scope));
  for (const r of pol.rules) {
    const fr = familyRule(r, f);
    if (!fr) continue;
    const src = scoped(fr.src, srcScope);
    const dst = scoped(fr.dst, dstScope);
    if ((src && !src.length) || (dst && !dst.length)) continue;
    let first = true;
    for (const s of src ?? [null]) for (const d of dst ?? [null]) for (const svc of fr.services ?? [null]) {
      add(r.action, s, d, svc, r.log, first ? ruleText(r) : undefined);
      first = false;
    }
  }
  let first = true;
  for (const s of srcScope ?? [null]) for (const d of dstScope ?? [null]) {
    add(pol.defaultAction, s, d, null, false, first ? `default ${pol.defaultAction}` : undefined);
    first = false;
  }
  // Traffic outside the policy's scope crosses the same SVI: it passes.
  if (srcScope !== null || dstScope !== null) add('accept', null, null, null, false, 'outside the policy');
  return { name, family: f, title: `policy ${pol.name} (${srcText(pol.source)})`, entries, srl, counters: pol.rules.some((r) => r.counter) };
}

/** SR Linux `entry N ...` suffixes of one match (one service); several per port combination. */
function srlEntry(action: FwAction, src: string | null, dst: string | null, svc: FwService | null, f: Family, log: boolean, remark?: string): string[][] {
  const ipk = f === 4 ? 'ipv4' : 'ipv6';
  const combos: string[][] = [];
  const base: string[] = [];
  if (remark) base.push(`description "${quotedText(truncateBytes(remark, 200))}"`);
  if (src) base.push(`match ${ipk} source-ip prefix ${src}`);
  if (dst) base.push(`match ${ipk} destination-ip prefix ${dst}`);
  const proto = (p: string | number) => (f === 4 ? `match ipv4 protocol ${p}` : `match ipv6 next-header ${p}`);
  const act = [`action ${action === 'accept' ? 'accept' : 'drop'}${log ? ' log true' : ''}`];
  const port = (dir: 'source-port' | 'destination-port', r: { from: number; to: number }) =>
    r.from === r.to ? [`match transport ${dir} operator eq`, `match transport ${dir} value ${r.from}`] : [`match transport ${dir} range start ${r.from}`, `match transport ${dir} range end ${r.to}`];
  if (!svc) combos.push([...base, ...act]);
  else if (svc.protocol === 'tcp' || svc.protocol === 'udp') {
    for (const sp of svc.srcPorts.length ? svc.srcPorts : [null]) for (const dp of svc.dstPorts.length ? svc.dstPorts : [null]) {
      combos.push([...base, proto(svc.protocol), ...(sp ? port('source-port', sp) : []), ...(dp ? port('destination-port', dp) : []), ...act]);
    }
  } else if (svc.protocol === 'icmp' || svc.protocol === 'icmpv6') {
    const ik = f === 4 ? 'icmp' : 'icmp6';
    const pname = f === 4 ? 'icmp' : 'icmp6';
    if (!svc.icmp.length) combos.push([...base, proto(pname), ...act]);
    for (const t of svc.icmp) combos.push([...base, proto(pname), `match ${ipk} ${ik} type ${t.type}`, ...(t.code !== undefined ? [`match ${ipk} ${ik} code [ ${t.code} ]`] : []), ...act]);
  } else combos.push([...base, proto(svc.protocol), ...act]);
  return combos;
}

const aclName = (syntax: AclSyntax, s: string) => (syntax === 'srlinux' ? `nl-${s.toLowerCase()}` : `NL-${s.toUpperCase()}`);

/** ACLs and where they apply: inter-vrf, one per VRF inbound on its SVIs; networks, one in and out. */
export function aclView(syntax: AclSyntax, policies: FwPolicy[], view: DeviceView, model: FabricModel): VendorAclView {
  const acls: AclView[] = [];
  const apply: AclApply[] = [];
  for (const p of policies) {
    const scope = policyScope(p, model);
    for (const f of FAMILIES) {
      const key = f === 4 ? 'v4' : 'v6';
      const fam = f === 4 ? '' : '-V6';
      if (p.enforcement.kind === 'inter-vrf') {
        for (const own of scope) {
          const vlans = view.vlans.filter((v) => v.vrf === own.name && (f === 4 ? v.gateway4 : v.gateway6));
          const others = scope.filter((m) => m !== own).flatMap((m) => m[key]);
          if (!vlans.length || !own[key].length || !others.length) continue;
          const name = aclName(syntax, `${ident(p.name)}-${ident(own.name)}${fam}`);
          acls.push(acl(syntax, p, name, f, own[key], others));
          for (const v of vlans) apply.push({ vlan: v.vlan, acl: name, family: f, direction: 'in' });
        }
      } else {
        const vlans = view.vlans.filter((v) => p.enforcement.kind === 'network' && p.enforcement.networks.includes(v.name) && (f === 4 ? v.gateway4 : v.gateway6));
        if (!vlans.length) continue;
        const name = aclName(syntax, `${ident(p.name)}${fam}`);
        acls.push(acl(syntax, p, name, f, null, null));
        for (const v of vlans) apply.push({ vlan: v.vlan, acl: name, family: f, direction: 'in' }, { vlan: v.vlan, acl: name, family: f, direction: 'out' });
      }
    }
  }
  apply.sort((a, b) => a.vlan - b.vlan || a.family - b.family || a.direction.localeCompare(b.direction));
  const byVlan: VendorAclView['apply'] = [];
  for (const a of apply) {
    const last = byVlan.at(-1);
    if (last?.vlan === a.vlan) last.acls.push(a);
    else byVlan.push({ vlan: a.vlan, acls: [a] });
  }
  return { acls, apply: byVlan };
}

// ---- Junos SRX ----------------------------------------------------------------------------

export interface SrxView {
  zones: { name: string; interfaces: string[] }[];
  addresses: { name: string; prefix: string }[];
  applications: { name: string; lines: string[] }[];
  /** `set security nat ...` suffixes: destination and source rule-sets, pools. */
  nat: string[];
  /** `*Excluded`: the addresses are what the policy does not match (SRX source-address-excluded). */
  policies: { from: string; to: string; name: string; src: string[]; dst: string[]; srcExcluded: boolean; dstExcluded: boolean; apps: string[]; then: string[]; description?: string }[];
}

function srxAddrName(prefix: string): string {
  return `nl-${prefix.replace(/[:/.]/g, '_')}`;
}

function srxApplication(s: FwService): { name: string; lines: string[] } {
  const lines: string[] = [];
  let name: string;
  if (s.protocol === 'tcp' || s.protocol === 'udp') {
    const dst = s.dstPorts.map((r) => portText(r, '-'));
    const src = s.srcPorts.map((r) => portText(r, '-'));
    name = `nl-${s.protocol}${src.length ? `-s${src.join('_')}` : ''}${dst.length ? `-${dst.join('_')}` : ''}`;
    const terms = (dst.length ? dst : [null]).flatMap((d) => (src.length ? src : [null]).map((sp) => ({ d, sp })));
    terms.forEach((t, i) => {
      const term = terms.length > 1 ? `term t${i + 1} ` : '';
      lines.push(`${term}protocol ${s.protocol}`);
      if (t.sp) lines.push(`${term}source-port ${t.sp}`);
      lines.push(`${term}destination-port ${t.d ?? '0-65535'}`);
    });
  } else if (s.protocol === 'icmp' || s.protocol === 'icmpv6') {
    const p = s.protocol === 'icmp' ? 'icmp' : 'icmp6';
    name = `nl-${p}${s.icmp.map((t) => `-${t.type}${t.code !== undefined ? `.${t.code}` : ''}`).join('')}`;
    const list = s.icmp.length ? s.icmp : [null];
    list.forEach((t, i) => {
      const term = list.length > 1 ? `term t${i + 1} ` : '';
      lines.push(`${term}protocol ${p}`);
      if (t) lines.push(`${term}${p}-type ${t.type}`);
      if (t?.code !== undefined) lines.push(`${term}${p}-code ${t.code}`);
    });
  } else {
    name = `nl-proto-${s.protocol}`;
    lines.push(`protocol ${s.protocol}`);
  }
  return { name, lines };
}

/** Zones are the VRFs (their IRB units); one policy per rule and zone pair, the default last. */
export function srxView(policies: FwPolicy[], view: DeviceView, model: FabricModel): SrxView {
  const out: SrxView = { zones: [], addresses: [], applications: [], policies: [], nat: [] };
  const addr = (list: string[]): string[] => {
    return list.map((p) => {
      const name = srxAddrName(p);
      if (!out.addresses.some((a) => a.name === name)) out.addresses.push({ name, prefix: p });
      return name;
    });
  };
  for (const p of policies) {
    if (p.enforcement.kind !== 'inter-vrf') continue;
    const scope = policyScope(p, model);
    for (const m of scope) {
      const zone = `nl-${ident(m.name)}`;
      if (!out.zones.some((z) => z.name === zone)) out.zones.push({ name: zone, interfaces: view.vlans.filter((v) => v.vrf === m.name).map((v) => `irb.${v.vlan}`) });
    }
    for (const a of scope) for (const b of scope) {
      if (a === b) continue;
      const from = `nl-${ident(a.name)}`;
      const to = `nl-${ident(b.name)}`;
      for (const r of p.rules) {
        if (!FAMILIES.some((f) => familyRule(r, f))) continue;
        // A rule whose addresses cannot meet this zone pair is left out of it.
        if (!r.src.negate && r.src.include.length && !overlapCidr(r.src.include, [...a.v4, ...a.v6])) continue;
        if (!r.dst.negate && r.dst.include.length && !overlapCidr(r.dst.include, [...b.v4, ...b.v6])) continue;
        const side = (m: FwAddressMatch) => (m.include.length ? { names: addr(subtract(m.include, m.exclude)), excluded: m.negate } : { names: ['any'], excluded: false });
        const src = side(r.src);
        const dst = side(r.dst);
        const apps = r.services.length ? r.services.map((s) => {
          const app = srxApplication(s);
          if (!out.applications.some((x) => x.name === app.name)) out.applications.push(app);
          return app.name;
        }) : ['any'];
        const then = [r.action === 'accept' ? 'permit' : r.action === 'drop' ? 'deny' : 'reject'];
        if (r.log) then.push('log session-init', 'log session-close');
        if (r.counter) then.push('count');
        out.policies.push({ from, to, name: `${ident(p.name)}-${ident(r.name)}`, src: src.names, dst: dst.names, srcExcluded: src.excluded, dstExcluded: dst.excluded, apps: [...new Set(apps)], then, description: ruleText(r) });
      }
      out.policies.push({ from, to, name: `${ident(p.name)}-default`, src: ['any'], dst: ['any'], srcExcluded: false, dstExcluded: false, apps: ['any'], then: [p.defaultAction === 'accept' ? 'permit' : p.defaultAction === 'drop' ? 'deny' : 'reject'], description: `default ${p.defaultAction}` });
    }
    out.nat.push(...srxNat(p, scope.map((m) => `nl-${ident(m.name)}`)));
  }
  out.addresses.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/** Prefixes of a NAT match for SRX (no negation there: the complement of a negated side). */
function natPrefixes(m: FwAddressMatch): string[] {
  if (!m.include.length && !m.negate) return [];
  return FAMILIES.flatMap((f) => familySet(m, f) ?? []);
}

/**
 * SRX NAT of one policy, between its zones: destination NAT (a pool per rule, the port with
 * it) in rule-sets from every zone, source NAT and masquerade (`source-nat interface`) from
 * every zone to every zone. One SRX rule per service (a match has one protocol and port range).
 */
function srxNat(p: FwPolicy, zones: string[]): string[] {
  const out: string[] = [];
  const rs = `nl-${ident(p.name)}`;
  const dnat = p.nat.filter((n) => n.kind === 'dnat');
  const snat = p.nat.filter((n) => n.kind !== 'dnat');
  if (dnat.length) for (const z of zones) out.push(`destination rule-set ${rs} from zone ${z}`);
  if (snat.length) {
    for (const z of zones) out.push(`source rule-set ${rs} from zone ${z}`);
    for (const z of zones) out.push(`source rule-set ${rs} to zone ${z}`);
  }
  for (const n of p.nat) {
    const kind = n.kind === 'dnat' ? 'destination' : 'source';
    const pool = `nl-${ident(p.name)}-${ident(n.name)}`;
    if (n.to?.address) out.push(`${kind} pool ${pool} address ${n.to.address}/${n.to.address.includes(':') ? 128 : 32}${n.to.port ? ` port ${n.to.port}` : ''}`);
    // One SRX rule per service and port range: a match has one protocol and one range.
    const matches: { svc: FwService | null; r?: FwPortRange }[] = (n.services.length ? n.services : [null]).flatMap((svc) => (svc?.dstPorts.length ? svc.dstPorts.map((r) => ({ svc, r })) : [{ svc }]));
    matches.forEach(({ svc, r }, i) => {
      const rule = `${kind} rule-set ${rs} rule ${ident(n.name)}${matches.length > 1 ? `-${i + 1}` : ''}`;
      for (const a of natPrefixes(n.src)) out.push(`${rule} match source-address ${a}`);
      for (const a of natPrefixes(n.dst)) out.push(`${rule} match destination-address ${a}`);
      if (svc) out.push(`${rule} match protocol ${svc.protocol === 'icmpv6' ? 'icmp6' : svc.protocol}`);
      if (r) out.push(`${rule} match destination-port ${r.from}${r.to !== r.from ? ` to ${r.to}` : ''}`);
      out.push(`${rule} then ${n.kind === 'dnat' ? `destination-nat pool ${pool}` : n.kind === 'snat' ? `source-nat pool ${pool}` : 'source-nat interface'}`);
    });
  }
  return out;
}
