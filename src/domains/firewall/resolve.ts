/**
 * `firewall:` intent -> FirewallModel (model.ts). Every name a policy uses is resolved here,
 * through the fabric model (a network's subnet and subnet6, a VRF's networks, an endpoint's
 * /32 and /128), into canonical prefixes, protocols and ports; every error names its intent
 * line. Later stages read only the model.
 */
import { excludeCidr, mergeCidr, normalizeCidr } from 'cidr-tools';
import type { Path } from '../../intent/validate.ts';
import type { FabricModel } from '../../model/types.ts';
import type { DomainResolveContext } from '../types.ts';
import { cidrProblem, serviceProtocols, type FirewallIntent, type FwIntentAddressMatch, type FwIntentPolicy, type FwIntentService } from './intent.ts';
import { nodeEnforcement, setFirewallServiceNodes } from './node.ts';
import type { FirewallModel, FwAddressMatch, FwEnforcement, FwNatRule, FwPolicy, FwPortRange, FwRule, FwService } from './model.ts';

const ROOT = 'firewall';

/** Addresses a name stands for: what it lists, and what is left after its `except`. */
interface AddrSet {
  include: string[];
  effective: string[];
}

/** Sorted, merged, canonical prefixes (IPv4 first). */
export function canonical(list: readonly string[]): string[] {
  if (!list.length) return [];
  const merged = mergeCidr(normalizeCidr([...list]).map((c) => (c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`)));
  return merged.map((c) => (c.includes('/') ? c : `${c}/${c.includes(':') ? 128 : 32}`));
}

export function subtract(base: readonly string[], minus: readonly string[]): string[] {
  if (!base.length) return [];
  if (!minus.length) return canonical(base);
  return canonical(excludeCidr([...base], [...minus]));
}

const serviceLiteralRe = /^(tcp|udp)(?:\/(\d{1,5})(?:-(\d{1,5}))?)?$|^(icmp|icmpv6)(?:\/(\d{1,3})(?:\/(\d{1,3}))?)?$/;
/**
 * A literal service (tcp/443, udp/53, tcp/8000-8080, tcp, icmp/8, icmpv6/128/0): the service,
 * a message when it is a malformed literal, undefined when it is no literal (a name).
 */
export function serviceLiteral(r: string): FwService | string | undefined {
  const lit = serviceLiteralRe.exec(r);
  if (!lit) return r.includes('/') ? `service '${r}' is not a literal like tcp/443, udp/53, tcp/8000-8080, icmp/8 or icmpv6/128 (ICMP has types, not ports)` : undefined;
  const [, tp, from, to, ip, type, code] = lit;
  if (tp) {
    const a = from === undefined ? undefined : Number(from);
    const b = to === undefined ? a : Number(to);
    if ((a ?? 0) > 65535 || (b ?? 0) > 65535) return `service '${r}': a port is between 0 and 65535`;
    if (a !== undefined && b! < a) return `service '${r}': port range out of order (${a} > ${b})`;
    return { protocol: tp as 'tcp' | 'udp', dstPorts: a === undefined ? [] : [{ from: a, to: b! }], srcPorts: [], icmp: [] };
  }
  if ((type && Number(type) > 255) || (code && Number(code) > 255)) return `service '${r}': ICMP type and code are between 0 and 255`;
  const icmp = type === undefined ? [] : [code === undefined ? { type: Number(type) } : { type: Number(type), code: Number(code) }];
  return { protocol: ip as 'icmp' | 'icmpv6', dstPorts: [], srcPorts: [], icmp };
}
const reservedNames = new Set(['any', ...serviceProtocols]);

class FirewallResolver {
  private readonly addrCache = new Map<string, AddrSet | null>();
  private readonly svcCache = new Map<string, FwService[] | null>();
  private readonly addrKind = new Map<string, 'addresses' | 'address_groups' | 'zones'>();
  private readonly svcKind = new Map<string, 'services' | 'service_groups'>();
  /** Firewall nodes -> the policy each enforces. */
  readonly nodes = new Map<string, string>();

  constructor(
    private readonly ctx: DomainResolveContext,
    private readonly fw: FirewallIntent,
    private readonly model: FabricModel,
  ) {}

  resolve(): FirewallModel {
    this.indexNames();
    // Every object is resolved once, so an error in one is reported at its definition even
    // when no rule uses it.
    for (const n of this.addrKind.keys()) this.address(n);
    for (const n of this.svcKind.keys()) this.serviceNamed(n);
    const seen = new Map<string, number>();
    const policies: FwPolicy[] = [];
    const onNodes: { pol: FwPolicy; path: Path }[] = [];
    this.fw.policies.forEach((p, i) => {
      const prev = seen.get(p.name);
      if (prev !== undefined) this.ctx.error([ROOT, 'policies', i, 'name'], `firewall policy '${p.name}' is defined twice (first at ${this.where([ROOT, 'policies', prev, 'name'])})`);
      else seen.set(p.name, i);
      const pol = this.policy(p, [ROOT, 'policies', i]);
      if (pol) policies.push(pol);
      if (pol?.enforcement.kind === 'node') onNodes.push({ pol, path: [ROOT, 'policies', i, 'enforcement'] });
    });
    const out = { policies };
    setFirewallServiceNodes(out, onNodes);
    return out;
  }

  private where(path: Path, key = false): string {
    const l = this.ctx.at(path, key);
    return `${l.file}:${l.line}:${l.col}`;
  }

  /** Address objects, groups and zones share one namespace; services and groups another. */
  private indexNames(): void {
    for (const kind of ['addresses', 'address_groups', 'zones'] as const) {
      for (const n of Object.keys(this.fw[kind])) {
        const prev = this.addrKind.get(n);
        if (reservedNames.has(n)) this.ctx.error([ROOT, kind, n], `'${n}' is a reserved word and cannot name an address object, group or zone`, true);
        else if (prev) this.ctx.error([ROOT, kind, n], `'${n}' is already defined in firewall.${prev} at ${this.where([ROOT, prev, n], true)}`, true);
        else this.addrKind.set(n, kind);
      }
    }
    for (const kind of ['services', 'service_groups'] as const) {
      for (const n of Object.keys(this.fw[kind])) {
        const prev = this.svcKind.get(n);
        if (reservedNames.has(n)) this.ctx.error([ROOT, kind, n], `'${n}' is a reserved word and cannot name a service`, true);
        else if (prev) this.ctx.error([ROOT, kind, n], `'${n}' is already defined in firewall.${prev} at ${this.where([ROOT, prev, n], true)}`, true);
        else this.svcKind.set(n, kind);
      }
    }
  }

  // ---- addresses ---------------------------------------------------------------------

  /** The prefixes of a network, VRF or endpoint of the fabric model, or null (error reported). */
  private modelPrefixes(kind: 'networks' | 'vrfs' | 'endpoints', n: string, path: Path, who: string): string[] | null {
    if (kind === 'networks') {
      const net = this.model.networks.find((x) => x.name === n);
      if (!net) return this.fail(path, `${who}: unknown network '${n}'${this.suggest(n, this.model.networks.map((x) => x.name))}`);
      const out = [net.subnet, net.subnet6].filter((x): x is string => !!x);
      if (!out.length) return this.fail(path, `${who}: network '${n}' has no subnet or subnet6 to match`);
      return out;
    }
    if (kind === 'vrfs') {
      const vrf = this.model.vrfs.find((x) => x.name === n);
      if (!vrf) return this.fail(path, `${who}: unknown VRF '${n}'${this.suggest(n, this.model.vrfs.map((x) => x.name))}`);
      const out = this.model.networks.filter((x) => x.vrf === n).flatMap((x) => [x.subnet, x.subnet6].filter((s): s is string => !!s));
      if (!out.length) return this.fail(path, `${who}: VRF '${n}' has no network with a subnet to match`);
      return out;
    }
    const ep = this.model.endpoints.find((x) => x.name === n);
    if (!ep) return this.fail(path, `${who}: unknown endpoint '${n}'${this.suggest(n, this.model.endpoints.map((x) => x.name))}`);
    const out = [ep.ipv4 && `${ep.ipv4.split('/')[0]}/32`, ep.ipv6 && `${ep.ipv6.split('/')[0]}/128`].filter((x): x is string => !!x);
    if (!out.length) return this.fail(path, `${who}: endpoint '${n}' has no address to match`);
    return out;
  }

  private fail(path: Path, message: string): null {
    this.ctx.error(path, message);
    return null;
  }

  private suggest(n: string, names: string[]): string {
    const lower = n.toLowerCase();
    const hit = names.find((x) => x.toLowerCase() === lower);
    return hit ? ` (did you mean '${hit}'?)` : names.length ? ` (known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})` : '';
  }

  /** A named address object, group or zone; null when it is broken (reported at its definition). */
  private address(n: string, chain: string[] = []): AddrSet | null {
    if (this.addrCache.has(n)) return this.addrCache.get(n)!;
    const kind = this.addrKind.get(n)!;
    const base: Path = [ROOT, kind, n];
    if (chain.includes(n)) {
      this.ctx.error(base, `address group '${n}' contains itself: ${[...chain.slice(chain.indexOf(n)), n].join(' -> ')}`, true);
      this.addrCache.set(n, null);
      return null;
    }
    let include: string[] = [];
    let effective: string[] | undefined;
    let ok = true;
    const who = `${kind === 'addresses' ? 'address object' : kind === 'zones' ? 'zone' : 'address group'} '${n}'`;
    const take = (kind2: 'networks' | 'vrfs' | 'endpoints', list: string[] | undefined, path: Path) =>
      (list ?? []).forEach((x, i) => {
        const p = this.modelPrefixes(kind2, x, [...path, kind2, i], who);
        if (p) include.push(...p);
        else ok = false;
      });
    if (kind === 'addresses') {
      const o = this.fw.addresses[n];
      include.push(...(o.prefixes ?? []));
      take('networks', o.networks, base);
      take('vrfs', o.vrfs, base);
      take('endpoints', o.endpoints, base);
      if (ok && !o.prefixes && !o.networks && !o.vrfs && !o.endpoints) {
        this.ctx.error(base, `${who}: lists no addresses (prefixes, networks, vrfs or endpoints)`, true);
        ok = false;
      }
      if (o.except) effective = subtract(include, o.except);
    } else if (kind === 'zones') {
      const z = this.fw.zones[n];
      take('networks', z.networks, base);
      take('vrfs', z.vrfs, base);
      if (ok && !z.networks && !z.vrfs) {
        this.ctx.error(base, `${who}: lists no networks or vrfs`, true);
        ok = false;
      }
    } else {
      const g = this.fw.address_groups[n];
      const eff: string[] = [];
      g.members.forEach((m, i) => {
        if (!this.addrKind.has(m)) {
          this.ctx.error([...base, 'members', i], `${who}: unknown address object, group or zone '${m}'${this.suggest(m, [...this.addrKind.keys()])}`);
          ok = false;
          return;
        }
        const s = this.address(m, [...chain, n]);
        if (!s) {
          ok = false;
          return;
        }
        include.push(...s.include);
        eff.push(...s.effective);
      });
      effective = subtract(eff, g.except ?? []);
    }
    if (!ok) {
      this.addrCache.set(n, null);
      return null;
    }
    include = canonical(include);
    const res: AddrSet = { include, effective: effective ?? include };
    if (!res.effective.length) {
      this.ctx.error(base, `${who}: matches no address (its except removes everything it lists)`, true);
      this.addrCache.set(n, null);
      return null;
    }
    this.addrCache.set(n, res);
    return res;
  }

  /** A rule's source or destination. */
  private match(m: FwIntentAddressMatch | undefined, path: Path, who: string): FwAddressMatch | null {
    if (m === undefined) return { include: [], exclude: [], negate: false, refs: [] };
    const negate = typeof m === 'object' && !Array.isArray(m);
    const raw = negate ? (m as { not: string | string[] }).not : (m as string | string[]);
    const list = Array.isArray(raw) ? raw : [raw];
    const listPath: Path = negate ? [...path, 'not'] : path;
    const include: string[] = [];
    const effective: string[] = [];
    let any = false;
    let ok = true;
    list.forEach((ref, i) => {
      const p = Array.isArray(raw) ? [...listPath, i] : listPath;
      if (ref === 'any') {
        any = true;
        return;
      }
      if (/^[0-9]/.test(ref) || ref.includes(':') || ref.includes('/')) {
        const problem = cidrProblem(ref);
        if (problem) {
          this.ctx.error(p, `${who}: ${problem}`);
          ok = false;
          return;
        }
        const c = canonical([ref]);
        include.push(...c);
        effective.push(...c);
        return;
      }
      if (!this.addrKind.has(ref)) {
        this.ctx.error(p, `${who}: unknown address object, group or zone '${ref}'${this.suggest(ref, [...this.addrKind.keys()])}`);
        ok = false;
        return;
      }
      const s = this.address(ref);
      if (!s) {
        ok = false;
        return;
      }
      include.push(...s.include);
      effective.push(...s.effective);
    });
    if (!ok) return null;
    if (any) {
      if (list.length > 1) {
        this.ctx.error(path, `${who}: 'any' matches every address; it cannot be listed with others`);
        return null;
      }
      if (negate) {
        this.ctx.error(path, `${who}: not: any matches no address`);
        return null;
      }
      return { include: [], exclude: [], negate: false, refs: ['any'] };
    }
    const inc = canonical(include);
    return { include: inc, exclude: subtract(inc, effective), negate, refs: [...list] };
  }

  // ---- services ----------------------------------------------------------------------

  private serviceNamed(n: string, chain: string[] = []): FwService[] | null {
    if (this.svcCache.has(n)) return this.svcCache.get(n)!;
    const kind = this.svcKind.get(n)!;
    const base: Path = [ROOT, kind, n];
    if (chain.includes(n)) {
      this.ctx.error(base, `service group '${n}' contains itself: ${[...chain.slice(chain.indexOf(n)), n].join(' -> ')}`, true);
      this.svcCache.set(n, null);
      return null;
    }
    let out: FwService[] | null;
    if (kind === 'services') {
      const s = this.serviceObject(this.fw.services[n], base, `service '${n}'`);
      out = s ? [{ name: n, ...s }] : null;
    } else {
      out = [];
      this.fw.service_groups[n].members.forEach((m, i) => {
        if (!this.svcKind.has(m)) {
          this.ctx.error([...base, 'members', i], `service group '${n}': unknown service or service group '${m}'${this.suggest(m, [...this.svcKind.keys()])}`);
          out = null;
          return;
        }
        const s = this.serviceNamed(m, [...chain, n]);
        if (!s) out = null;
        else if (out) out.push(...s);
      });
    }
    this.svcCache.set(n, out);
    return out;
  }

  private serviceObject(s: FwIntentService, path: Path, who: string): Omit<FwService, 'name'> | null {
    const ported = s.protocol === 'tcp' || s.protocol === 'udp';
    const icmp = s.protocol === 'icmp' || s.protocol === 'icmpv6';
    let ok = true;
    for (const k of ['ports', 'source_ports'] as const) {
      if (s[k] && !ported) {
        this.ctx.error([...path, k], `${who}: ${k} need protocol tcp or udp, not ${s.protocol}`);
        ok = false;
      }
    }
    if (s.icmp && !icmp) {
      this.ctx.error([...path, 'icmp'], `${who}: icmp types need protocol icmp or icmpv6, not ${s.protocol}`);
      ok = false;
    }
    if (!ok) return null;
    return { protocol: s.protocol, dstPorts: ranges(s.ports), srcPorts: ranges(s.source_ports), icmp: (s.icmp ?? []).map((t) => (t.code === undefined ? { type: t.type } : { type: t.type, code: t.code })) };
  }

  private services(refs: string | string[] | undefined, path: Path, who: string): FwService[] | null {
    if (refs === undefined) return [];
    const list = Array.isArray(refs) ? refs : [refs];
    const out: FwService[] = [];
    let ok = true;
    let any = false;
    list.forEach((r, i) => {
      const p = Array.isArray(refs) ? [...path, i] : path;
      if (r === 'any') {
        any = true;
        return;
      }
      const lit = serviceLiteral(r);
      if (typeof lit === 'string') {
        this.ctx.error(p, `${who}: ${lit}`);
        ok = false;
        return;
      }
      if (lit) {
        out.push(lit);
        return;
      }
      if (!this.svcKind.has(r)) {
        this.ctx.error(p, `${who}: unknown service or service group '${r}'${this.suggest(r, [...this.svcKind.keys()])}`);
        ok = false;
        return;
      }
      const s = this.serviceNamed(r);
      if (!s) ok = false;
      else out.push(...s);
    });
    if (!ok) return null;
    if (any && list.length > 1) {
      this.ctx.error(path, `${who}: 'any' matches every service; it cannot be listed with others`);
      return null;
    }
    return any ? [] : out;
  }

  // ---- policies ----------------------------------------------------------------------

  private enforcement(p: FwIntentPolicy, path: Path): FwEnforcement | null {
    const e = p.enforcement;
    const ep: Path = [...path, 'enforcement'];
    const extra = (keys: ('vrfs' | 'networks' | 'node' | 'attach' | 'legs' | 'asn')[]) => {
      let ok = true;
      for (const k of keys) {
        if (e[k] !== undefined) {
          this.ctx.error([...ep, k], `policy '${p.name}': enforcement ${e.kind} takes no '${k}'`, true);
          ok = false;
        }
      }
      return ok;
    };
    const order = new Map(this.model.devices.map((d, i) => [d.name, i]));
    const sortDevices = (s: Set<string>) => [...s].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    if (e.kind === 'node') return nodeEnforcement(this.ctx, this.model, p, ep, this.nodes);
    const isVrfs = e.kind === 'inter-vrf';
    const key = isVrfs ? 'vrfs' : 'networks';
    const what = isVrfs ? 'VRF' : 'network';
    let ok = extra(isVrfs ? ['networks', 'node', 'attach', 'legs', 'asn'] : ['vrfs', 'node', 'attach', 'legs', 'asn']);
    const list = e[key];
    if (!list) {
      const why = isVrfs ? 'the VRFs between which the policy filters' : 'the tenant networks the policy filters at';
      this.ctx.error(ep, `policy '${p.name}': enforcement ${e.kind}: required key '${key}' is missing (${why})`, true);
      return null;
    }
    // A VRF is enforced on the devices it is instantiated on, a network on the leaves carrying it.
    const known: { name: string; devices: string[] }[] = isVrfs ? this.model.vrfs : this.model.networks.map((n) => ({ name: n.name, devices: n.leaves }));
    const devices = new Set<string>();
    list.forEach((v, i) => {
      const m = known.find((x) => x.name === v);
      if (!m) {
        this.ctx.error([...ep, key, i], `policy '${p.name}': unknown ${what} '${v}'${this.suggest(v, known.map((x) => x.name))}`);
        ok = false;
      } else if (list.indexOf(v) !== i) {
        this.ctx.error([...ep, key, i], `policy '${p.name}': ${what} '${v}' is listed twice`);
        ok = false;
      } else m.devices.forEach((d) => devices.add(d));
    });
    if (!ok) return null;
    return isVrfs ? { kind: 'inter-vrf', vrfs: [...list], devices: sortDevices(devices) } : { kind: 'network', networks: [...list], devices: sortDevices(devices) };
  }

  private policy(p: FwIntentPolicy, path: Path): FwPolicy | null {
    const enforcement = this.enforcement(p, path);
    const names = new Map<string, Path>();
    const unique = (n: string, at: Path, what: string) => {
      const prev = names.get(n);
      if (prev) this.ctx.error([...at, 'name'], `${what} '${n}' of policy '${p.name}' is already defined at ${this.where([...prev, 'name'])}`);
      else names.set(n, at);
    };
    const rules: FwRule[] = [];
    p.rules.forEach((r, i) => {
      const rp: Path = [...path, 'rules', i];
      unique(r.name, rp, 'rule');
      const who = `rule '${r.name}' of policy '${p.name}'`;
      const src = this.match(r.source, [...rp, 'source'], who);
      const dst = this.match(r.destination, [...rp, 'destination'], who);
      const services = this.services(r.services, [...rp, 'services'], who);
      if (!src || !dst || !services) return;
      rules.push({
        name: r.name,
        index: i,
        src,
        dst,
        services,
        state: r.state ? [...new Set(r.state)] : [],
        action: r.action,
        log: r.log,
        counter: r.counter,
        ...(r.comment ? { comment: r.comment } : {}),
        ...(r.owner ? { owner: r.owner } : {}),
        ...(r.expires ? { expires: r.expires } : {}),
        source: this.ctx.at(rp),
      });
    });
    const nat: FwNatRule[] = [];
    p.nat.forEach((r, i) => {
      const rp: Path = [...path, 'nat', i];
      unique(r.name, rp, 'NAT rule');
      const who = `NAT rule '${r.name}' of policy '${p.name}'`;
      const src = this.match(r.source, [...rp, 'source'], who);
      const dst = this.match(r.destination, [...rp, 'destination'], who);
      const services = this.services(r.services, [...rp, 'services'], who);
      const to = this.natTarget(r.kind, r.to, services, rp, who);
      if (!src || !dst || !services || to === null) return;
      if (to?.address && !this.natFamilyFits(to.address, { source: src, destination: dst }, rp, who)) return;
      nat.push({ name: r.name, kind: r.kind, src, dst, services, ...(to ? { to } : {}), source: this.ctx.at(rp) });
    });
    if (!enforcement) return null;
    return { name: p.name, rules, defaultAction: p.default, stateful: p.stateful, nat, enforcement, source: this.ctx.at(path) };
  }

  /**
   * A NAT rule rewrites within one family (nftables `dnat ip6 to`, ip6tables, SRX pools): a side
   * naming addresses of the other family only would leave the rule matching nothing, rendered
   * as nothing. An error at `to`, naming the side.
   */
  private natFamilyFits(address: string, sides: Record<'source' | 'destination', FwAddressMatch>, rp: Path, who: string): boolean {
    const v6 = address.includes(':');
    for (const [name, m] of Object.entries(sides)) {
      if (m.negate || !m.include.length || m.include.some((c) => c.includes(':') === v6)) continue;
      this.fail([...rp, 'to'], `${who}: '${address}' is IPv${v6 ? 6 : 4} but the ${name} holds IPv${v6 ? 4 : 6} addresses only; NAT translates within one family (no NAT${v6 ? 46 : 64})`);
      return false;
    }
    return true;
  }

  /** `to` of a NAT rule; undefined for masquerade, null on error. */
  private natTarget(kind: 'snat' | 'masquerade' | 'dnat', to: string | undefined, services: FwService[] | null, rp: Path, who: string): FwNatRule['to'] | undefined | null {
    const tp: Path = [...rp, 'to'];
    if (kind === 'masquerade') {
      if (to !== undefined) return this.fail(tp, `${who}: masquerade takes no 'to' (it uses the outgoing interface's address)`);
      return undefined;
    }
    if (to === undefined) return this.fail(rp, `${who}: ${kind} needs 'to': the ${kind === 'snat' ? 'new source address' : 'new destination address, with :PORT to forward a port'}`);
    const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(to) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(to);
    const address = m ? m[1] : to;
    const port = m ? Number(m[2]) : undefined;
    if (address.includes('/') || cidrProblem(address)) return this.fail(tp, `${who}: '${to}' is not an address${kind === 'dnat' ? ', ADDRESS:PORT or [IPv6]:PORT' : ''}`);
    if (port !== undefined) {
      if (kind === 'snat') return this.fail(tp, `${who}: snat rewrites the address only; '${to}' has a port`);
      if (port < 1 || port > 65535) return this.fail(tp, `${who}: port ${port} is not between 1 and 65535`);
      if (services && (!services.length || services.some((s) => s.protocol !== 'tcp' && s.protocol !== 'udp'))) {
        return this.fail(tp, `${who}: dnat to a port needs services of protocol tcp or udp only`);
      }
    }
    return { address: canonical([address])[0].split('/')[0], ...(port !== undefined ? { port } : {}) };
  }
}

function ranges(list: (number | string)[] | undefined): FwPortRange[] {
  return (list ?? []).map((p) => {
    if (typeof p === 'number') return { from: p, to: p };
    const [a, b] = p.split('-').map(Number);
    return { from: a, to: b };
  });
}

export function resolveFirewall(ctx: DomainResolveContext, intent: unknown, model: FabricModel): FirewallModel {
  return new FirewallResolver(ctx, intent as FirewallIntent, model).resolve();
}

/** `netloom validate`'s lines: each policy, where it is enforced and what it holds. */
export function firewallSummary(fw: FirewallModel | undefined): string[] {
  if (!fw) return [];
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  return [
    `  firewall   ${plural(fw.policies.length, 'policy', 'policies')}: ${fw.policies
      .map((p) => {
        const e = p.enforcement;
        const where = e.kind === 'inter-vrf' ? `between ${e.vrfs.join(', ')}` : e.kind === 'network' ? `at ${e.networks.join(', ')}` : `on ${e.node}`;
        return `${p.name} (${where} on ${plural(e.devices.length, 'device')}: ${plural(p.rules.length, 'rule')}, ${plural(p.nat.length, 'NAT rule')}, default ${p.defaultAction}${p.stateful ? ', stateful' : ''})`;
      })
      .join('; ')}`,
  ];
}
