/**
 * What changed between two models, object by object: each domain's objects keyed by their
 * names (never by array position), compared field by field. Nested lists of named objects
 * (a device's interfaces and VLANs, a policy's rules) are matched by name as well, so adding
 * one VLAN reads `vlans[40]: added`, not a shifted list.
 */
import type { FabricModel } from '../model/types.ts';
import type { SourceLocation } from '../util/errors.ts';
import { RESERVED_DOMAINS } from '../domains/types.ts';
import { createHash } from 'node:crypto';
import { firewallPolicies } from '../domains/firewall/checks.ts';
import type { SlbCertificate, SlbModel } from '../domains/slb/model.ts';
import type { GslbModel } from '../domains/gslb/model.ts';

export interface FieldChange {
  /** Dotted path inside the object; list items by key: `interfaces[eth1].ipv4`. */
  field: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface ObjectChange {
  domain: string;
  /** Object kind: device, link, bgp-session, vrf, vni, network, endpoint, policy... */
  kind: string;
  key: string;
  change: 'added' | 'removed' | 'changed';
  /** Changed fields (for `changed` only). */
  fields: FieldChange[];
  /** Its intent location at head (at base when removed). */
  location?: SourceLocation;
  /** Its location at base, for objects present at base. */
  baseLocation?: SourceLocation;
}

/** One kind of object: how to list a model's objects of that kind, keyed. */
interface Collection {
  domain: string;
  kind: string;
  list(m: FabricModel): { key: string; value: object; source?: SourceLocation }[];
  /** The model's list the objects come from, when it is one (see `copiedFrom`). */
  items?(m: FabricModel): object;
}

/**
 * A model's lists copied from another model's, equal to them but for their source places
 * (src/plan/incremental-head.ts copies the base's links and sessions): copy -> original. Their
 * collections have no changes, so they are not compared.
 */
export const copiedFrom = new WeakMap<object, object>();

type Obj = Record<string, unknown>;
const withSource = (o: { source?: SourceLocation }) => o.source;

/** Fields that repeat other objects' facts (a device's session ids) or are positions, not intent. */
const OMIT: Record<string, string[]> = {
  device: ['bgpSessionIds'],
  rule: ['index'],
};

function strip(kind: string, o: object): Obj {
  const drop = OMIT[kind];
  if (!drop) return o as Obj;
  // Ten thousand devices a plan: a loop, not an entries array per device.
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!drop.includes(k)) out[k] = v;
  return out;
}

export const COLLECTIONS: Collection[] = [
  { domain: 'fabric', kind: 'fabric', list: (m) => [{ key: m.name, value: { name: m.name, site: m.site, ...m.fabric }, source: m.fabric.source }] },
  { domain: 'fabric', kind: 'device', list: (m) => m.devices.map((d) => ({ key: d.name, value: strip('device', d), source: d.source })) },
  { domain: 'fabric', kind: 'link', list: (m) => m.links.map((l) => ({ key: `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}`, value: l, source: l.source })), items: (m) => m.links },
  { domain: 'fabric', kind: 'bgp-session', list: (m) => m.bgpSessions.map((s) => ({ key: s.id, value: s, source: s.source })), items: (m) => m.bgpSessions },
  { domain: 'fabric', kind: 'ospf-adjacency', list: (m) => m.ospfAdjacencies.map((s) => ({ key: s.id, value: s, source: s.source })), items: (m) => m.ospfAdjacencies },
  { domain: 'fabric', kind: 'tenant', list: (m) => m.tenants.map((t) => ({ key: t.name, value: t, source: t.source })) },
  { domain: 'fabric', kind: 'vrf', list: (m) => m.vrfs.map((v) => ({ key: v.name, value: v, source: v.source })) },
  {
    domain: 'fabric',
    kind: 'vni',
    list: (m) => [
      ...m.vrfs.map((v) => ({ key: String(v.l3vni), value: { vni: v.l3vni, type: 'l3', vrf: v.name, tenant: v.tenant }, source: v.source })),
      ...m.networks.map((n) => ({ key: String(n.l2vni), value: { vni: n.l2vni, type: 'l2', network: n.name, vlan: n.vlan, vrf: n.vrf, tenant: n.tenant }, source: n.source })),
    ],
  },
  { domain: 'fabric', kind: 'network', list: (m) => m.networks.map((n) => ({ key: n.name, value: n, source: n.source })) },
  { domain: 'fabric', kind: 'endpoint', list: (m) => m.endpoints.map((e) => ({ key: e.name, value: e, source: e.source })) },
  // A multi-site model: its sites and what crosses the DCI (WAN routers and DCI links are devices and links above).
  { domain: 'sites', kind: 'site', list: (m) => (m.sites ?? []).map((x) => ({ key: x.name, value: { ...x, revision: undefined }, source: x.source })) },
  { domain: 'sites', kind: 'dci-vrf', list: (m) => (m.dci?.vrfs ?? []).map((v) => ({ key: v.name, value: v, source: v.source })) },
  { domain: 'sites', kind: 'dci-stretch', list: (m) => (m.dci?.stretch ?? []).map((v) => ({ key: v.name, value: v, source: v.source })) },
  {
    domain: 'firewall',
    kind: 'policy',
    list: (m) =>
      firewallPolicies(m).map((p) => ({
        key: p.name,
        // First match wins: the order is a fact of its own, the rules are compared by name.
        value: { ...p, ruleOrder: p.rules.map((r) => r.name), rules: p.rules.map((r) => strip('rule', r)) },
        source: p.source,
      })),
  },
  ...(['nodes', 'certificates', 'pools', 'services'] as const).map((part) => ({
    domain: 'slb',
    kind: part === 'certificates' ? 'certificate' : part.slice(0, -1),
    list: (m: FabricModel) =>
      ((m.domains.slb as SlbModel | undefined)?.[part] ?? []).map((o: { name: string; source: SourceLocation }) => ({
        key: o.name,
        // A certificate's PEM and key are secrets or large: compared by digest, never printed.
        value: part === 'certificates' ? digestPem(o as SlbCertificate) : o,
        source: o.source,
      })),
  })),
  ...([['servers', 'dns-server'], ['healthChecks', 'health-check'], ['pools', 'pool'], ['names', 'name']] as const).map(([part, kind]) => ({
    domain: 'gslb',
    kind,
    list: (m: FabricModel) => ((m.domains.gslb as GslbModel | undefined)?.[part] ?? []).map((o: { name: string; source: SourceLocation }) => ({ key: o.name, value: o, source: o.source })),
  })),
  // Sections of domains that have not landed yet: compared as they were written.
  ...RESERVED_DOMAINS.map((id) => ({
    domain: id,
    kind: 'section',
    list: (m: FabricModel) => (m.domains[id] === undefined ? [] : [{ key: id, value: { [id]: m.domains[id] } as object }]),
  })),
];

const digest = (text: string | undefined) => (text === undefined ? undefined : `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`);
const digestPem = (c: SlbCertificate): object => ({ ...c, cert: digest(c.cert), key: digest(c.key) });

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The key of a list item, when every item of its list has one. */
function itemKey(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.name === 'string') return v.name;
  if (typeof v.id === 'string') return v.id;
  if (typeof v.vlan === 'number') return String(v.vlan);
  return undefined;
}

function keyedItems(list: unknown[]): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  for (const v of list) {
    const k = itemKey(v);
    if (k === undefined || m.has(k)) return undefined;
    m.set(k, v);
  }
  return m;
}

/**
 * Deep equality with source positions left out (the two revisions' files live in different
 * directories); an undefined field equals a missing one, as in JSON.
 */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], y[i])) return false;
    return true;
  }
  const x = a as Obj;
  const y = b as Obj;
  for (const k in x) if (k !== 'source' && !same(x[k], y[k])) return false;
  for (const k in y) if (k !== 'source' && x[k] === undefined && y[k] !== undefined) return false;
  return true;
}

/** Field-level differences of two values (sources left out: a moved line is no change). */
export function diffFields(a: unknown, b: unknown, at = '', out: FieldChange[] = []): FieldChange[] {
  if (same(a, b)) return out;
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => k !== 'source').sort();
    for (const k of keys) {
      const p = at ? `${at}.${k}` : k;
      if (a[k] === undefined && b[k] === undefined) continue;
      if (a[k] === undefined) out.push({ field: p, change: 'added', after: b[k] });
      else if (b[k] === undefined) out.push({ field: p, change: 'removed', before: a[k] });
      else diffFields(a[k], b[k], p, out);
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const ka = keyedItems(a);
    const kb = keyedItems(b);
    if (ka && kb && (ka.size || kb.size)) {
      for (const [k, v] of ka) if (!kb.has(k)) out.push({ field: `${at}[${k}]`, change: 'removed', before: v });
      for (const [k, v] of kb) {
        if (!ka.has(k)) out.push({ field: `${at}[${k}]`, change: 'added', after: v });
        else diffFields(ka.get(k), v, `${at}[${k}]`, out);
      }
      return out;
    }
  }
  out.push({ field: at || '(value)', change: 'changed', before: a, after: b });
  return out;
}

/** Every object added, changed or removed between two models (absent model: no objects). */
export function semanticDiff(base: FabricModel | undefined, head: FabricModel | undefined): ObjectChange[] {
  const out: ObjectChange[] = [];
  for (const c of COLLECTIONS) {
    if (base && head && c.items && copiedFrom.get(c.items(head)) === c.items(base)) continue;
    const before = new Map((base ? c.list(base) : []).map((o) => [o.key, o]));
    const after = new Map((head ? c.list(head) : []).map((o) => [o.key, o]));
    for (const [k, o] of before) {
      if (!after.has(k)) out.push({ domain: c.domain, kind: c.kind, key: k, change: 'removed', fields: [], location: withSource(o), baseLocation: withSource(o) });
    }
    for (const [k, o] of after) {
      const old = before.get(k);
      if (!old) {
        out.push({ domain: c.domain, kind: c.kind, key: k, change: 'added', fields: [], location: withSource(o) });
        continue;
      }
      if (same(old.value, o.value)) continue;
      const fields = diffFields(old.value, o.value);
      if (fields.length) out.push({ domain: c.domain, kind: c.kind, key: k, change: 'changed', fields, location: withSource(o), baseLocation: withSource(old) });
    }
  }
  return out;
}

/** Numbering facts: addresses, ASNs, VNIs and VLANs. */
const NUMBERING = /(^|\.)(asn|routerId|loopback|vtep|ipv4|ipv6|ipv4Secondary|address|prefix|subnet|subnet6|gateway|gateway4|gateway6|l2vni|l3vni|vni|vlan|accessVlan|taggedVlans)$/;
/** Kinds whose numbering the alarm watches (sessions and VNIs repeat their devices' and networks'). */
const WATCHED = new Set(['device', 'link', 'vrf', 'network', 'endpoint', 'service', 'pool']);

export interface RenumberAlarm {
  kind: string;
  key: string;
  fields: FieldChange[];
  location?: SourceLocation;
}

/** A device's port VLANs are its endpoints': `interfaces[PORT].accessVlan` or `.taggedVlans`. */
const PORT_VLANS = /^interfaces\[([^\]]+)\]\.(accessVlan|taggedVlans)$/;

/**
 * Objects whose address, ASN, VNI or VLAN moved although their own intent text is unchanged:
 * something they derive from (a pool, an ASN range, an id scheme) renumbered them. `touched`
 * says whether an object's own intent changed (its text at base and head differ); `edited`
 * lists the ports (`device|port`) of endpoints the change adds, removes or changes, at either
 * revision: a port's VLANs follow its endpoints, the change the endpoint's own.
 */
export function renumbering(changes: ObjectChange[], touched: (c: ObjectChange) => boolean, edited: ReadonlySet<string> = new Set()): RenumberAlarm[] {
  const out: RenumberAlarm[] = [];
  for (const c of changes) {
    if (c.change !== 'changed' || !WATCHED.has(c.kind)) continue;
    // A device's VLANs and VRFs are its networks' and VRFs', reported under those.
    const fields = c.fields.filter((f) => {
      if (f.change !== 'changed' || !NUMBERING.test(f.field) || /^(vlans|vrfs)\[/.test(f.field)) return false;
      const port = c.kind === 'device' ? PORT_VLANS.exec(f.field) : null;
      return !port || !edited.has(`${c.key}|${port[1]}`);
    });
    // Asked last: it reads (and parses) the object's intent file at both revisions.
    if (fields.length && !touched(c)) out.push({ kind: c.kind, key: c.key, fields, location: c.location });
  }
  return out;
}
