/**
 * What every firewall renderer shares: a rule's addresses as exact prefix lists per address
 * family (objects' `except` and `not:` negation worked out by prefix arithmetic, so targets
 * without negation express them exactly), services per family, a policy's scope, and the
 * text of comments.
 */
import type { FabricModel } from '../../model/types.ts';
import { oneLine } from '../../render/helpers.ts';
import type { FwAddressMatch, FwPolicy, FwRule, FwService } from './model.ts';
import { subtract } from './resolve.ts';

export type Family = 4 | 6;
export const FAMILIES: readonly Family[] = [4, 6];

const isV6 = (c: string) => c.includes(':');
export const ofFamily = (list: readonly string[], f: Family) => list.filter((c) => isV6(c) === (f === 6));
const ALL: Record<Family, string> = { 4: '0.0.0.0/0', 6: '::/0' };

/**
 * The addresses of family `f` a match stands for: null = every address of the family,
 * [] = none (the rule does not apply to this family), else canonical prefixes.
 */
// A match's prefixes less its exceptions, per family: every target (nftables, iptables, the
// vendors) asks for them, each rule side once per family; the resolved model does not change.
const effectiveMemo = new WeakMap<FwAddressMatch, { 4?: string[]; 6?: string[] }>();

function effectiveOf(m: FwAddressMatch, f: Family): string[] {
  let e = effectiveMemo.get(m);
  if (!e) effectiveMemo.set(m, (e = {}));
  // Frozen: the same array goes to every caller.
  return (e[f] ??= Object.freeze(subtract(ofFamily(m.include, f), ofFamily(m.exclude, f))) as string[]);
}

export function familySet(m: FwAddressMatch, f: Family): string[] | null {
  const effective = effectiveOf(m, f);
  if (!m.negate) {
    if (!m.include.length) return null;
    return effective;
  }
  if (!effective.length) return null;
  const rest = subtract([ALL[f]], effective);
  return rest;
}

/**
 * A match of family `f` for targets with native negation (nftables `!=`, iptables `!`):
 * null = any address, [] = none, else the prefixes and whether the match is their complement.
 */
export function familySide(m: FwAddressMatch, f: Family): { negate: boolean; prefixes: string[] } | null {
  const effective = effectiveOf(m, f);
  if (!m.negate) return m.include.length ? { negate: false, prefixes: effective } : null;
  return effective.length ? { negate: true, prefixes: effective } : null;
}

/** Services that can match packets of family f; null = any service. */
export function familyServices(services: readonly FwService[], f: Family): FwService[] | null {
  if (!services.length) return null;
  return services.filter((s) => (s.protocol === 'icmp' ? f === 4 : s.protocol === 'icmpv6' ? f === 6 : true));
}

/** A rule restricted to one family; undefined when it matches no packet of it. */
export interface FamilyRule {
  rule: FwRule;
  family: Family;
  /** null = any */
  src: string[] | null;
  dst: string[] | null;
  services: FwService[] | null;
}

export function familyRule(rule: FwRule, f: Family): FamilyRule | undefined {
  const src = familySet(rule.src, f);
  const dst = familySet(rule.dst, f);
  const services = familyServices(rule.services, f);
  if ((src && !src.length) || (dst && !dst.length) || (services && !services.length)) return undefined;
  return { rule, family: f, src, dst, services };
}

/** Prefixes of each scope member (a VRF's networks, or a network), per family. */
export interface ScopeMember {
  name: string;
  v4: string[];
  v6: string[];
}

export function policyScope(p: FwPolicy, model: FabricModel): ScopeMember[] {
  const nets = (filter: (n: FabricModel['networks'][number]) => boolean) => {
    const list = model.networks.filter(filter);
    return { v4: list.flatMap((n) => (n.subnet ? [n.subnet] : [])), v6: list.flatMap((n) => (n.subnet6 ? [n.subnet6] : [])) };
  };
  if (p.enforcement.kind === 'inter-vrf') return p.enforcement.vrfs.map((v) => ({ name: v, ...nets((n) => n.vrf === v) }));
  if (p.enforcement.kind === 'node') {
    // A node filters what it forwards between the VRFs of its legs: their subnets, and the
    // prefixes it routes out of a leg beyond them (another node's VIPs), never let past unfiltered.
    const e = p.enforcement;
    const node = model.serviceNodes?.find((n) => n.name === e.node);
    return e.vrfs.map((v) => {
      const own = nets((n) => n.vrf === v);
      const routed = (node?.advertise ?? []).filter((a) => a.via === v).map((a) => a.prefix);
      const more = (v6: boolean, have: string[]) => [...new Set(routed.filter((x) => x.includes(':') === v6 && !have.includes(x)))].sort();
      return { name: v, v4: [...own.v4, ...more(false, own.v4)], v6: [...own.v6, ...more(true, own.v6)] };
    });
  }
  if (p.enforcement.kind === 'network') return p.enforcement.networks.map((v) => ({ name: v, ...nets((n) => n.name === v) }));
  return [];
}

/** One printable line for a comment: the rule's name, its comment and owner. */
export function ruleText(rule: { name: string; comment?: string; owner?: string; expires?: string }): string {
  const extra = [rule.owner ? `owner ${rule.owner}` : '', rule.expires ? `expires ${rule.expires}` : ''].filter(Boolean).join(', ');
  return oneLine(`${rule.name}${rule.comment ? `: ${rule.comment}` : ''}${extra ? ` (${extra})` : ''}`);
}

/** Where a policy comes from, for comments: file name and line (never the working directory). */
export function srcText(loc: { file: string; line: number }): string {
  return `${loc.file.split(/[\\/]/).pop()}:${loc.line}`;
}

/** The enforcement kind as the intent spells it. */
export const enforcementWord = (p: FwPolicy) => (p.enforcement.kind === 'network' ? 'networks' : p.enforcement.kind);

/** Truncates to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max - 3) break;
    out += ch;
  }
  return `${out}...`;
}

/** Policies enforced on a device, in intent order. */
export function policiesOn(device: string, fw: { policies: FwPolicy[] } | undefined): FwPolicy[] {
  return (fw?.policies ?? []).filter((p) => p.enforcement.devices.includes(device));
}

/** A safe identifier from intent names (nftables sets, chain names). */
export function ident(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

export function portText(r: { from: number; to: number }, sep: string): string {
  return r.from === r.to ? String(r.from) : `${r.from}${sep}${r.to}`;
}
