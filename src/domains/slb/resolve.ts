/**
 * `slb:` intent -> SlbModel (model.ts). Every name is resolved here through the fabric model:
 * a node's leaves and tenant networks, a VIP's VRF (its networks and vip_ranges), a member's
 * endpoint (its address); every error names its intent line. Later stages read only the model.
 */
import { containsCidr, normalizeCidr } from 'cidr-tools';
import type { Path } from '../../intent/validate.ts';
import type { FabricModel, Network } from '../../model/types.ts';
import { isLeafRole } from '../fabric/roles.ts';
import type { DomainResolveContext } from '../types.ts';
import type { ServiceNodeRequest, ServiceRun } from '../../model/service-nodes.ts';
import { durationMs, SLB_RUNNABLE, type SlbRunnable, type SlbIntent, type SlbIntentPool, type SlbIntentService } from './intent.ts';
import type { SlbCertificate, SlbListener, SlbMember, SlbModel, SlbNode, SlbNodeLeg, SlbPool, SlbRule, SlbService } from './model.ts';

const ROOT = 'slb';
/** Each load-balancer node's runtime directory (pid files, HAProxy's runtime API socket). */
export const SLB_RUN_ROOT = '/run/netloom/slb';

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const hostOf = (cidr: string) => cidr.split('/')[0];
const canon = (addr: string) => normalizeCidr(addr);
const family = (addr: string) => (addr.includes(':') ? 6 : 4);
const ms = (d: string | undefined) => (d === undefined ? undefined : durationMs(d));

class SlbResolver {
  private readonly pools = new Map<string, SlbPool>();
  private readonly poolModes = new Map<string, Set<'http' | 'tcp'>>();
  private readonly nodes: SlbNode[] = [];

  constructor(
    private readonly ctx: DomainResolveContext,
    private readonly slb: SlbIntent,
    private readonly model: FabricModel,
  ) {}

  resolve(): SlbModel {
    const certificates = Object.entries(this.slb.certificates).map(([n, c]): SlbCertificate => ({ name: n, cert: c.cert, ...(c.key ? { key: c.key } : {}), source: this.ctx.at([ROOT, 'certificates', n], true) }));
    const vipRanges = this.slb.vip_ranges.flatMap((r, i) => {
      if (!this.model.vrfs.some((v) => v.name === r.vrf)) {
        this.ctx.error([ROOT, 'vip_ranges', i, 'vrf'], `VIP range ${r.prefix}: unknown VRF '${r.vrf}'${this.suggest(r.vrf, this.model.vrfs.map((v) => v.name))}`);
        return [];
      }
      return [{ vrf: r.vrf, prefix: normalizeCidr(r.prefix), source: this.ctx.at([ROOT, 'vip_ranges', i]) }];
    });
    for (const [n, node] of Object.entries(this.slb.nodes)) {
      const r = this.node(n, node);
      if (r) this.nodes.push(r);
    }
    for (const [n, p] of Object.entries(this.slb.pools)) this.pools.set(n, this.pool(n, p));
    const services: SlbService[] = [];
    const seen = new Map<string, number>();
    const bound = new Map<string, Path>();
    this.slb.services.forEach((s, i) => {
      const path: Path = [ROOT, 'services', i];
      const prev = seen.get(s.name);
      if (prev !== undefined) this.ctx.error([...path, 'name'], `virtual service '${s.name}' is defined twice (first at ${this.where([ROOT, 'services', prev, 'name'])})`);
      else seen.set(s.name, i);
      const svc = this.service(s, path, vipRanges, bound);
      if (svc) services.push(svc);
    });
    for (const [n, modes] of this.poolModes) {
      if (modes.size > 1) this.ctx.error([ROOT, 'pools', n], `pool '${n}' is used by http/https and by tcp listeners; give each kind its own pool (a backend has one mode)`, true);
      const p = this.pools.get(n)!;
      p.mode = modes.has('tcp') && !modes.has('http') ? 'tcp' : 'http';
      this.poolRules(p, modes);
    }
    const model: SlbModel = {
      asn: this.slb.asn,
      nodes: this.nodes.sort(byName),
      certificates: certificates.sort(byName),
      pools: [...this.pools.values()].sort(byName),
      services: services.sort(byName),
      vipRanges,
      defaults: {
        timeouts: { connectMs: ms(this.slb.defaults.timeouts?.connect), clientMs: ms(this.slb.defaults.timeouts?.client), serverMs: ms(this.slb.defaults.timeouts?.server) },
        ...(this.slb.defaults.maxconn ? { maxconn: this.slb.defaults.maxconn } : {}),
        source: this.ctx.at([ROOT]),
      },
    };
    serviceRequests.set(model, this.serviceNodeRequests(model));
    return model;
  }

  /** Nodes cabled to a leaf port, as service nodes announcing the VIPs of their services. */
  private serviceNodeRequests(m: SlbModel): ServiceNodeRequest[] {
    return m.nodes.filter((n) => n.attached).map((n) => ({
      name: n.name,
      role: 'load-balancer',
      leaf: n.attach[0],
      path: [ROOT, 'nodes', n.name],
      asn: m.asn,
      asnPath: [ROOT, 'asn'],
      legs: n.legs.map((l) => ({ vrf: l.vrf, network: l.network, port: l.port!, portPath: [ROOT, 'nodes', n.name, 'vrfs', l.vrf, 'port'], ipv4: l.ipv4, ipv6: l.ipv6, path: [ROOT, 'nodes', n.name, 'vrfs', l.vrf] })),
      advertise: this.slb.services.flatMap((s, i) => {
        const svc = m.services.find((x) => x.name === s.name);
        if (!svc || !svc.nodes.includes(n.name)) return [];
        const serves = [...new Set(svc.listeners.map((l) => `tcp/${l.port}`))];
        return svc.vips.map((v) => ({ vrf: svc.vrf, prefix: v.includes(':') ? `${v}/128` : `${v}/32`, path: [ROOT, 'services', i, 'vip'] as Path, serves }));
      }),
      run: n.runs === 'nginx' ? nginxRun(n) : haproxyRun(n),
    }));
  }

  private where(path: Path, key = false): string {
    const l = this.ctx.at(path, key);
    return `${l.file}:${l.line}:${l.col}`;
  }

  private suggest(n: string, names: string[]): string {
    const lower = n.toLowerCase();
    const hit = names.find((x) => x.toLowerCase() === lower);
    return hit ? ` (did you mean '${hit}'?)` : names.length ? ` (known: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})` : '';
  }

  // ---- nodes -------------------------------------------------------------------------

  private node(n: string, node: SlbIntent['nodes'][string]): SlbNode | null {
    const base: Path = [ROOT, 'nodes', n];
    let ok = true;
    if (this.model.devices.some((d) => d.name === n) || this.model.endpoints.some((e) => e.name === n)) {
      this.ctx.error(base, `load-balancer node '${n}' has the name of ${this.model.devices.some((d) => d.name === n) ? 'a fabric node' : 'an endpoint'}; its files would share its output directory`, true);
      ok = false;
    }
    node.attach.forEach((l, i) => {
      const d = this.model.devices.find((x) => x.name === l);
      if (!d) {
        this.ctx.error([...base, 'attach', i], `load-balancer node '${n}': unknown leaf '${l}'${this.suggest(l, this.model.devices.filter((x) => isLeafRole(x.role)).map((x) => x.name))}`);
        ok = false;
      } else if (!isLeafRole(d.role)) {
        this.ctx.error([...base, 'attach', i], `load-balancer node '${n}': '${l}' is a ${d.role}, not a leaf`);
        ok = false;
      } else if (node.attach.indexOf(l) !== i) {
        this.ctx.error([...base, 'attach', i], `load-balancer node '${n}': leaf '${l}' is listed twice`);
        ok = false;
      }
    });
    const targets = [...new Set(node.targets)];
    const legs: SlbNodeLeg[] = [];
    for (const [vrf, leg] of Object.entries(node.vrfs)) {
      const lp: Path = [...base, 'vrfs', vrf];
      const v = this.model.vrfs.find((x) => x.name === vrf);
      if (!v) {
        this.ctx.error(lp, `load-balancer node '${n}': unknown VRF '${vrf}'${this.suggest(vrf, this.model.vrfs.map((x) => x.name))}`, true);
        ok = false;
        continue;
      }
      const net = this.model.networks.find((x) => x.name === leg.network);
      if (!net || net.vrf !== vrf) {
        const inVrf = this.model.networks.filter((x) => x.vrf === vrf).map((x) => x.name);
        this.ctx.error([...lp, 'network'], net ? `load-balancer node '${n}': network '${leg.network}' is in VRF ${net.vrf}, not ${vrf}` : `load-balancer node '${n}': unknown network '${leg.network}'${this.suggest(leg.network, inVrf)}`);
        ok = false;
        continue;
      }
      if (!leg.ipv4 && !leg.ipv6) {
        this.ctx.error(lp, `load-balancer node '${n}': VRF ${vrf} needs an address (ipv4 and/or ipv6) in network '${net.name}'`, true);
        ok = false;
        continue;
      }
      const a4 = leg.ipv4 && this.nodeAddress(n, net, leg.ipv4, 4, [...lp, 'ipv4']);
      const a6 = leg.ipv6 && this.nodeAddress(n, net, leg.ipv6, 6, [...lp, 'ipv6']);
      if (a4 === null || a6 === null) {
        ok = false;
        continue;
      }
      legs.push({ vrf, tenant: v.tenant, network: net.name, ...(a4 ? { ipv4: a4 } : {}), ...(a6 ? { ipv6: a6 } : {}), ...(leg.port ? { port: leg.port } : {}), source: this.ctx.at(lp, true) });
    }
    if (!ok) return null;
    const cabled = Object.values(node.vrfs).filter((l) => l.port !== undefined).length;
    // Errors here leave the node in the model (unattached): its services resolve without follow-on errors.
    let attached = cabled > 0;
    if (cabled && cabled < Object.keys(node.vrfs).length) {
      this.ctx.error([...base, 'vrfs'], `load-balancer node '${n}': some VRF legs have a port and some not; an attached node has a leaf port per VRF`, true);
      attached = false;
    }
    if (cabled && node.attach.length !== 1) {
      this.ctx.error([...base, 'attach'], `load-balancer node '${n}': a node cabled to leaf ports attaches to one leaf (${node.attach.length} listed); several nodes on different leaves give redundancy`);
      attached = false;
    }
    const runnable = targets.filter((t): t is SlbRunnable => (SLB_RUNNABLE as readonly string[]).includes(t));
    let runs: SlbRunnable | undefined = node.runs ?? runnable[0];
    if (node.runs && !targets.includes(node.runs)) {
      this.ctx.error([...base, 'runs'], `load-balancer node '${n}' runs ${node.runs}, which is not one of its targets (${targets.join(', ')}); add it to targets`);
      runs = undefined;
      attached = false;
    } else if (attached && !runs) {
      this.ctx.error([...base, 'targets'], `load-balancer node '${n}' is attached to the fabric but none of its targets (${targets.join(', ')}) runs on the node; add haproxy or nginx`);
      attached = false;
    }
    return { name: n, attach: [...node.attach], attached, targets, ...(runs ? { runs } : {}), legs: legs.sort((a, b) => (a.vrf < b.vrf ? -1 : 1)), runDir: `${SLB_RUN_ROOT}/${n}`, source: this.ctx.at(base, true) };
  }

  /** The node's address with the network's prefix length, or null (error reported). */
  private nodeAddress(n: string, net: Network, addr: string, fam: 4 | 6, path: Path): string | null {
    const subnet = fam === 4 ? net.subnet : net.subnet6;
    const gateway = fam === 4 ? net.gateway : net.gateway6;
    const fail = (m: string) => (this.ctx.error(path, `load-balancer node '${n}': ${m}`), null);
    if (family(addr) !== fam) return fail(`'${addr}' is not an IPv${fam} address`);
    if (!subnet) return fail(`network '${net.name}' has no IPv${fam} subnet`);
    if (!containsCidr(subnet, addr)) return fail(`${addr} is outside network '${net.name}' (${subnet})`);
    if (canon(addr) === canon(hostOf(subnet))) return fail(`${addr} is the network address of '${net.name}'`);
    if (gateway && canon(addr) === canon(gateway)) return fail(`${addr} is the gateway of '${net.name}'`);
    const ep = this.model.endpoints.find((e) => [e.ipv4, e.ipv6].some((x) => x && canon(hostOf(x)) === canon(addr)));
    if (ep) return fail(`${addr} is the address of endpoint '${ep.name}'`);
    const other = this.nodes.find((x) => x.legs.some((l) => [l.ipv4, l.ipv6].some((y) => y && canon(hostOf(y)) === canon(addr))));
    if (other) return fail(`${addr} is already the address of load-balancer node '${other.name}'`);
    return `${canon(addr)}/${subnet.split('/')[1]}`;
  }

  // ---- pools -------------------------------------------------------------------------

  private pool(n: string, p: SlbIntentPool): SlbPool {
    const base: Path = [ROOT, 'pools', n];
    const members: SlbMember[] = [];
    const names = new Map<string, number>();
    p.members.forEach((m, i) => {
      const mp: Path = [...base, 'members', i];
      if ((m.endpoint === undefined) === (m.address === undefined)) {
        this.ctx.error(mp, `pool '${n}': a member names an endpoint or an address (exactly one of them)`);
        return;
      }
      let address: string;
      if (m.endpoint !== undefined) {
        const ep = this.model.endpoints.find((e) => e.name === m.endpoint);
        if (!ep) {
          this.ctx.error([...mp, 'endpoint'], `pool '${n}': unknown endpoint '${m.endpoint}'${this.suggest(m.endpoint, this.model.endpoints.map((e) => e.name))}`);
          return;
        }
        const a = ep.ipv4 ?? ep.ipv6;
        if (!a) {
          this.ctx.error([...mp, 'endpoint'], `pool '${n}': endpoint '${m.endpoint}' has no address`);
          return;
        }
        address = canon(hostOf(a));
      } else address = canon(m.address!);
      const dup = p.members.findIndex((x, j) => j < i && (x.endpoint ?? x.address) === (m.endpoint ?? m.address) && x.port === m.port);
      if (dup >= 0) {
        this.ctx.error(mp, `pool '${n}': member ${m.endpoint ?? m.address}:${m.port} is listed twice (first at ${this.where([...base, 'members', dup])})`);
        return;
      }
      let name = m.name ?? m.endpoint ?? `member${i + 1}`;
      if (!m.name && p.members.some((x, j) => j !== i && x.endpoint !== undefined && x.endpoint === m.endpoint)) name = `${name}-${m.port}`;
      const prev = names.get(name);
      if (prev !== undefined) {
        this.ctx.error([...mp, ...(m.name ? ['name'] : [])], `pool '${n}': server name '${name}' is used twice (first at ${this.where([...base, 'members', prev])})`);
        return;
      }
      names.set(name, i);
      members.push({
        name, ...(m.endpoint ? { endpoint: m.endpoint } : {}), address, port: m.port, weight: m.weight, backup: m.backup, drain: m.drain,
        ...(m.maxconn ?? p.maxconn ? { maxconn: m.maxconn ?? p.maxconn } : {}), source: this.ctx.at(mp),
      });
    });
    const h = p.health_check;
    const hp: Path = [...base, 'health_check'];
    const health = h && {
      type: h.type, method: h.method, path: h.path, ...(h.host ? { host: h.host } : {}),
      expectStatus: h.expect_status.map((s) => (typeof s === 'number' ? { from: s, to: s } : { from: Number(s.slice(0, 3)), to: Number(s.slice(4)) })),
      intervalMs: durationMs(h.interval), rise: h.rise, fall: h.fall, timeoutMs: durationMs(h.timeout), source: this.ctx.at(hp),
    };
    if (h?.type === 'tcp' && h.host !== undefined) this.ctx.error([...hp, 'host'], `pool '${n}': a tcp health check sends no HTTP request; 'host' applies to type http`, true);
    if (h && durationMs(h.timeout) > durationMs(h.interval)) this.ctx.error([...hp, 'timeout'], `pool '${n}': health check timeout ${h.timeout} is longer than its interval ${h.interval}`);
    return {
      name: n, mode: 'http', algorithm: p.algorithm, members, ...(health ? { health } : {}),
      ...(p.persistence ? { persistence: { type: p.persistence.type, cookie: p.persistence.cookie, timeoutMs: durationMs(p.persistence.timeout), source: this.ctx.at([...base, 'persistence']) } } : {}),
      ...(p.slow_start ? { slowStartMs: durationMs(p.slow_start) } : {}),
      ...(p.maxconn ? { maxconn: p.maxconn } : {}),
      timeouts: { connectMs: ms(p.timeouts?.connect), serverMs: ms(p.timeouts?.server) },
      services: [], source: this.ctx.at(base, true),
    };
  }

  /** What a pool may ask for depends on the listeners that use it. */
  private poolRules(p: SlbPool, modes: Set<'http' | 'tcp'>): void {
    const base: Path = [ROOT, 'pools', p.name];
    if (!modes.has('tcp')) return;
    if (p.algorithm === 'uri') this.ctx.error([...base, 'algorithm'], `pool '${p.name}': algorithm uri hashes the request path; a tcp listener uses this pool`);
    if (p.persistence?.type === 'cookie') this.ctx.error([...base, 'persistence', 'type'], `pool '${p.name}': cookie persistence needs HTTP; a tcp listener uses this pool`);
  }

  // ---- services ----------------------------------------------------------------------

  private usePool(name: string, path: Path, svc: string, mode: 'http' | 'tcp'): boolean {
    const p = this.pools.get(name);
    if (!p) {
      this.ctx.error(path, `virtual service '${svc}': unknown pool '${name}'${this.suggest(name, [...this.pools.keys()])}`);
      return false;
    }
    if (!p.services.includes(svc)) p.services.push(svc);
    p.services.sort();
    const modes = this.poolModes.get(name) ?? new Set();
    modes.add(mode);
    this.poolModes.set(name, modes);
    return true;
  }

  private service(s: SlbIntentService, path: Path, vipRanges: SlbModel['vipRanges'], bound: Map<string, Path>): SlbService | null {
    const who = `virtual service '${s.name}'`;
    let ok = true;
    const fail = (p: Path, m: string, key = false) => {
      this.ctx.error(p, `${who}: ${m}`, key);
      ok = false;
    };
    const vrf = this.model.vrfs.find((v) => v.name === s.vrf);
    if (!vrf) fail([...path, 'vrf'], `unknown VRF '${s.vrf}'${this.suggest(s.vrf, this.model.vrfs.map((v) => v.name))}`);
    // VIPs: inside a network of the VRF or one of its VIP ranges; one per family.
    const vipList = Array.isArray(s.vip) ? s.vip : [s.vip];
    const vips: string[] = [];
    vipList.forEach((a, i) => {
      const vp: Path = Array.isArray(s.vip) ? [...path, 'vip', i] : [...path, 'vip'];
      const c = canon(a);
      if (vips.some((x) => family(x) === family(c))) return fail(vp, `has two IPv${family(c)} VIPs; a virtual service has at most one per family`);
      vips.push(c);
      if (!vrf) return;
      const nets = this.model.networks.filter((n) => n.vrf === vrf.name).flatMap((n) => [n.subnet, n.subnet6].filter((x): x is string => !!x));
      const ranges = vipRanges.filter((r) => r.vrf === vrf.name).map((r) => r.prefix);
      if (![...nets, ...ranges].some((p) => family(p) === family(c) && containsCidr(p, c))) {
        fail(vp, `VIP ${c} is outside the networks of VRF ${vrf.name} (${nets.join(', ') || 'none'})${ranges.length ? ` and its VIP ranges (${ranges.join(', ')})` : ' and it has no vip_ranges'}`);
      }
    });
    vips.sort((a, b) => family(a) - family(b));
    // Nodes: declared, serving this VRF.
    let nodes: string[];
    if (s.nodes) {
      nodes = [];
      s.nodes.forEach((n, i) => {
        const node = this.nodes.find((x) => x.name === n);
        if (!node) {
          if (!this.slb.nodes[n]) fail([...path, 'nodes', i], `unknown load-balancer node '${n}'${this.suggest(n, Object.keys(this.slb.nodes))}`);
          else ok = false;
        } else if (vrf && !node.legs.some((l) => l.vrf === vrf.name)) fail([...path, 'nodes', i], `load-balancer node '${n}' has no address in VRF ${vrf.name} (add it under slb.nodes.${n}.vrfs)`);
        else if (nodes.includes(n)) fail([...path, 'nodes', i], `load-balancer node '${n}' is listed twice`);
        else nodes.push(n);
      });
    } else {
      nodes = vrf ? this.nodes.filter((x) => x.legs.some((l) => l.vrf === vrf.name)).map((x) => x.name) : [];
      if (vrf && !nodes.length) fail([...path, 'vrf'], `no load-balancer node serves VRF ${vrf.name} (give one an address there under slb.nodes.<node>.vrfs)`);
    }
    nodes.sort();
    // Listeners.
    const listeners: SlbListener[] = [];
    s.listeners.forEach((l, i) => {
      const lp: Path = [...path, 'listeners', i];
      if (l.protocol !== 'https') {
        if (l.certificates) fail([...lp, 'certificates'], `listener ${l.port}/${l.protocol}: certificates need protocol https`, true);
        if (l.alpn) fail([...lp, 'alpn'], `listener ${l.port}/${l.protocol}: ALPN needs protocol https`, true);
      } else if (!l.certificates) fail(lp, `listener ${l.port}/https needs certificates (names of slb.certificates)`);
      (l.certificates ?? []).forEach((c, j) => {
        if (!this.slb.certificates[c]) fail([...lp, 'certificates', j], `unknown certificate '${c}'${this.suggest(c, Object.keys(this.slb.certificates))}`);
      });
      for (const v of vips) {
        const key = `${vrf?.name ?? s.vrf}|${v}|${l.port}`;
        const prev = bound.get(key);
        if (prev) fail([...lp, 'port'], `${v.includes(':') ? `[${v}]` : v}:${l.port} in VRF ${s.vrf} is already used at ${this.where(prev)}`);
        else bound.set(key, [...lp, 'port']);
      }
      listeners.push({ port: l.port, protocol: l.protocol, certificates: [...(l.certificates ?? [])], alpn: [...(l.alpn ?? [])], source: this.ctx.at(lp) });
    });
    const http = listeners.some((l) => l.protocol !== 'tcp');
    const tcp = listeners.some((l) => l.protocol === 'tcp');
    // Routing rules (http/https) and the default pool.
    if (s.rules.length && !http) fail([...path, 'rules'], 'routing rules need an http or https listener', true);
    const rules: SlbRule[] = [];
    (http ? s.rules : []).forEach((r, i) => {
      const rp: Path = [...path, 'rules', i];
      if (!r.host && !r.path_prefix && !r.header) return fail(rp, `rule ${r.name ?? i + 1} has no condition (host, path_prefix or header)`);
      if (!this.usePool(r.pool, [...rp, 'pool'], s.name, 'http')) return void (ok = false);
      rules.push({ name: r.name ?? `rule${i + 1}`, ...(r.host ? { host: r.host } : {}), ...(r.path_prefix ? { pathPrefix: r.path_prefix } : {}), ...(r.header ? { header: { ...r.header } } : {}), pool: r.pool, source: this.ctx.at(rp) });
    });
    const dp: Path = [...path, 'default_pool'];
    if (http && !this.usePool(s.default_pool, dp, s.name, 'http')) ok = false;
    else if (tcp && !this.usePool(s.default_pool, dp, s.name, 'tcp')) ok = false;
    if (!ok || !vrf) return null;
    return {
      name: s.name, tenant: vrf.tenant, vrf: vrf.name, vips, nodes, listeners, rules, defaultPool: s.default_pool,
      timeouts: { clientMs: ms(s.timeouts?.client) }, ...(s.maxconn ? { maxconn: s.maxconn } : {}),
      ...(s.description ? { description: s.description } : {}), source: this.ctx.at(path),
    };
  }
}

/**
 * HAProxy as a service node runs it: master-worker, daemonized, its pid file and runtime API
 * socket under the node's run directory (the rendered haproxy.cfg names the same paths).
 */
function haproxyRun(n: SlbNode): ServiceRun {
  const cfg = '/etc/netloom/haproxy.cfg';
  const pid = `${n.runDir}/haproxy.pid`;
  return {
    start: `mkdir -p ${n.runDir}; if ! { [ -f ${pid} ] && kill -0 "$(cat ${pid})" 2>/dev/null; }; then haproxy -W -D -f ${cfg}; fi`,
    check: `kill -0 "$(cat ${pid})"`,
    runDir: n.runDir,
    files: { 'haproxy.cfg': cfg },
    reload: { 'haproxy.cfg': { kind: 'haproxy', pidFile: pid, socket: `${n.runDir}/haproxy.sock` } },
  };
}

/**
 * nginx as a service node runs it: the node's run directory is its prefix (pid file, temp
 * dirs, the error log before the configuration is read), so two nodes never share a file.
 */
export const NGINX_CONFIG = '/etc/netloom/nginx.conf';
function nginxRun(n: SlbNode): ServiceRun {
  const pid = `${n.runDir}/nginx.pid`;
  return {
    start: `mkdir -p ${n.runDir}; if ! { [ -f ${pid} ] && kill -0 "$(cat ${pid})" 2>/dev/null; }; then nginx -p ${n.runDir} -e ${n.runDir}/error.log -c ${NGINX_CONFIG}; fi`,
    check: `kill -0 "$(cat ${pid})"`,
    runDir: n.runDir,
    files: { 'nginx.conf': NGINX_CONFIG },
    // A push checks the candidate (nginx -t) and reloads (SIGHUP: new workers, the old ones finish).
    reload: { 'nginx.conf': { kind: 'command', check: `nginx -t -q -p ${n.runDir} -e ${n.runDir}/error.log -c "$CANDIDATE"`, apply: `nginx -p ${n.runDir} -e ${n.runDir}/error.log -c ${NGINX_CONFIG} -s reload` } },
  };
}

/** Service-node requests of each resolved slb model (paths for errors stay out of the model). */
const serviceRequests = new WeakMap<SlbModel, ServiceNodeRequest[]>();
export function slbServiceNodes(m: SlbModel | undefined): ServiceNodeRequest[] {
  return (m && serviceRequests.get(m)) ?? [];
}

export function resolveSlb(ctx: DomainResolveContext, intent: unknown, model: FabricModel): SlbModel {
  return new SlbResolver(ctx, intent as SlbIntent, model).resolve();
}

/** `netloom validate`'s lines about the load balancers. */
export function slbSummary(m: SlbModel | undefined): string[] {
  if (!m) return [];
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const members = m.pools.reduce((n, p) => n + p.members.length, 0);
  return [
    `  slb        ${plural(m.nodes.length, 'load-balancer node')} (${m.nodes.map((n) => `${n.name}: ${n.targets.join('+')}`).join(', ')}), ${plural(m.services.length, 'virtual service')}, ${plural(m.pools.length, 'pool')} with ${plural(members, 'member')}`,
  ];
}
