/**
 * What a healthy FRR 8.4 fabric prints, synthesized from the model's own simulation, and a
 * collector that answers from such a table: the serve-scale bench and the incremental-poll
 * tests replay it (with faults edited in) instead of a lab, so the figures and findings are
 * netloom's, not SSH's. `FabricAnswers` synthesizes one device's answer to one command when
 * asked (nothing large held: a leaf's default table grows with the fabric); `synthesize` is
 * every answer at once, as a table a test edits.
 */
import { createHash } from 'node:crypto';
import type { FabricModel } from '../../src/model/types.ts';
import { frrCommands, type Collector, type FrrCommand } from '../../src/verify/live/collector.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { AFI_KEYS } from '../../src/verify/live/observed.ts';
import type { RibRoute } from '../../src/verify/sim/control-plane.ts';
import { ROUTE_SUMMARY } from '../../src/verify/live/incremental.ts';

const addr = (c?: string) => c?.split('/')[0] ?? '';

/** FRR's `show ip route json` shape for predicted routes. */
export function routeJson(routes: RibRoute[]): string {
  // Written as text, as JSON.stringify of the objects would print it (a leaf's default table at
  // 5,000 devices is 10,000 routes: the objects were most of the replay's cost). A prefix listed
  // twice keeps its first place and its last value, as in an object.
  const q = JSON.stringify;
  const at = new Map<string, string>();
  for (const r of routes) {
    const hops = r.nextHops.map((h) => `{"active":true,"fib":true${h.address ? `,"ip":${q(h.address)}` : ''}${h.interface ? `,"interfaceName":${q(h.interface)}` : ''}}`).join(',');
    at.set(r.prefix, `${q(r.prefix)}:[{"prefix":${q(r.prefix)},"protocol":${q(r.protocol)},"selected":true,"nexthops":[${hops}]}]`);
  }
  return `{${[...at.values()].join(',')}}`;
}

/**
 * FRR 8.4's `show ip route summary json` for a default table: RIB and FIB counts per route type
 * (eBGP and iBGP apart), then the totals, as printed by zebra in the dc1 lab.
 */
export function routeSummaryJson(routes: RibRoute[], underlay: 'bgp' | 'ospf'): string {
  const count = (p: RibRoute['protocol']) => routes.filter((r) => r.protocol === p).length;
  const row = (type: string, n: number) => ({ fib: n, rib: n, fibOffLoaded: 0, fibTrapped: 0, type });
  const rows = [row('connected', count('connected')), ...(underlay === 'ospf' ? [row('ospf', count('ospf'))] : [row('ebgp', count('bgp')), row('ibgp', 0)])];
  return JSON.stringify({ routes: rows, routesTotal: routes.length, routesTotalFib: routes.length }, null, 2);
}

/** The table key of one device's command. */
export const answerKey = (device: string, command: string) => `${device}\n${command}`;

export interface AnswerOpts {
  /** bgpd's IPv4 unicast table version in the summary, moving whenever the default table does. */
  versions?: boolean;
  /** Answer `show ip route summary json` too. */
  summaries?: boolean;
  /**
   * Keep each answer but the default table once synthesized (a VRF table, the MACs: tens of KB
   * a leaf): a fabric larger than the replay's expectation cache would derive every device again
   * each round to answer them. `heldChars()` says how much is kept.
   */
  keep?: boolean;
}

/**
 * What each device of `model` prints for each of its show commands when the fabric is `live`
 * (the model itself, or the model less a failed link), with `down` sessions Active; each
 * answer is synthesized when asked for. Only small per-device facts are kept: the BGP summary
 * and the table version (from the default table, synthesized once for it).
 */
export class FabricAnswers {
  private readonly peers = new Map<string, Record<string, Record<string, unknown>>>();
  private readonly plans = new Map<string, FrrCommand[]>();
  private readonly versions = new Map<string, number>();
  private readonly summaries = new Map<string, string>();
  private readonly kept = new Map<string, string>();
  /** Default tables synthesized for their version and not asked for yet (the poll asks right after the summary). */
  private readonly recent = new Map<string, string>();
  private readonly devices: Map<string, FabricModel['devices'][number]>;

  constructor(readonly model: FabricModel, readonly live: LiveComparison, down = new Set<string>(), readonly opts: AnswerOpts = {}) {
    for (const s of model.bgpSessions) {
      for (const [me, other] of [[s.a, s.b], [s.b, s.a]] as const) {
        const afis = this.peers.get(me.device) ?? {};
        this.peers.set(me.device, afis);
        for (const afi of s.afiSafis) {
          const peers = (afis[AFI_KEYS[afi]] ??= {}) as Record<string, unknown>;
          peers[me.interface ?? other.address ?? ''] = down.has(s.id) ? { state: 'Active', hostname: other.device } : { state: 'Established', pfxRcd: 1, hostname: other.device };
        }
      }
    }
    for (const d of model.devices) this.plans.set(d.name, frrCommands(d, model));
    this.devices = new Map(model.devices.map((d) => [d.name, d]));
  }

  /** The commands a device answers. */
  commands(device: string): string[] {
    const plan = (this.plans.get(device) ?? []).map((c) => c.command);
    return this.opts.summaries && plan.length ? [...plan, ROUTE_SUMMARY] : plan;
  }

  answer(device: string, command: string): string | undefined {
    const d = this.devices.get(device);
    if (!d) return undefined;
    if (command === ROUTE_SUMMARY) {
      if (!this.opts.summaries) return undefined;
      let s = this.summaries.get(device);
      if (s === undefined) this.summaries.set(device, (s = routeSummaryJson(this.live.expectation(device)!.defaults, this.model.fabric.underlay === 'ospf' ? 'ospf' : 'bgp')));
      return s;
    }
    const c = this.plans.get(device)!.find((x) => x.command === command);
    if (!c) return undefined;
    if (c.key === 'bgp') return this.bgpSummary(device);
    if (c.key === 'routes' && c.vrf === 'default' && !c.command.startsWith('show ipv6')) {
      const t = this.recent.get(device);
      if (t !== undefined) {
        this.recent.delete(device);
        return t;
      }
    }
    if (!this.opts.keep || (c.key === 'routes' && c.vrf === 'default')) return this.synthesized(d, c);
    const key = answerKey(device, command);
    let a = this.kept.get(key);
    if (a === undefined) this.kept.set(key, (a = this.synthesized(d, c)));
    return a;
  }

  /** Characters of the answers kept (`keep`). */
  heldChars(): number {
    let n = 0;
    for (const a of this.kept.values()) n += a.length;
    return n;
  }

  private synthesized(d: FabricModel['devices'][number], c: FrrCommand): string {
    const device = d.name;
    const ex = this.live.expectation(device)!;
    let json: unknown = {};
    if (c.key === 'vnis') json = ex.vnis.map((v) => ({ vni: v.vni, type: v.type, state: 'Up', vtepIp: addr(d.vtep), numRemoteVteps: v.remote }));
    else if (c.key === 'macs') {
      const byVni: Record<string, { macs: Record<string, unknown> }> = {};
      for (const m of ex.macs) (byVni[m.vni] ??= { macs: {} }).macs[m.mac] = m.local ? { type: 'local', intf: m.local } : { type: 'remote', remoteVtep: m.remoteVtep };
      json = byVni;
    } else if (c.key === 'routes') {
      const six = c.command.startsWith('show ipv6');
      const routes = c.vrf === 'default' ? ex.defaults : (ex.vrfs.find((v) => v.vrf === c.vrf)?.predicted ?? []);
      return routeJson(routes.filter((r) => r.prefix.includes(':') === six));
    } else if (c.key === 'ospf') json = { neighbors: Object.fromEntries(this.model.ospfAdjacencies.flatMap((a) => (a.a.device === device ? [[a.b.routerId, [{ nbrState: 'Full/-', ifaceName: a.a.interface }]]] : a.b.device === device ? [[a.a.routerId, [{ nbrState: 'Full/-', ifaceName: a.b.interface }]]] : []))) };
    return JSON.stringify(json);
  }

  private bgpSummary(device: string): string {
    const afis = Object.fromEntries(Object.entries(this.peers.get(device) ?? {}).map(([afi, peers]) => [afi, { peers }]));
    if (!this.opts.versions) return JSON.stringify({ default: afis });
    let version = this.versions.get(device);
    if (version === undefined) {
      // A number from the default table's digest: it moves whenever the table does.
      const table = this.answer(device, 'show ip route json') ?? '';
      this.versions.set(device, (version = parseInt(createHash('sha1').update(table).digest('hex').slice(0, 8), 16)));
      this.recent.set(device, table);
      // The devices being read at once (a few): the oldest let go.
      if (this.recent.size > 16) this.recent.delete(this.recent.keys().next().value!);
    }
    const { ipv4Unicast, ...rest } = afis;
    return JSON.stringify({ default: { ipv4Unicast: { vrfName: 'default', tableVersion: version, ...(ipv4Unicast ?? { peers: {} }) }, ...rest } });
  }

  /** Every answer at once. */
  toMap(): Map<string, string> {
    const out = new Map<string, string>();
    for (const d of this.model.devices) for (const c of this.commands(d.name)) out.set(answerKey(d.name, c), this.answer(d.name, c)!);
    return out;
  }
}

/** Every answer of a healthy (or `down`) fabric as a table (see FabricAnswers). */
export function synthesize(model: FabricModel, live: LiveComparison, down = new Set<string>(), opts: AnswerOpts = {}): Map<string, string> {
  return new FabricAnswers(model, live, down, opts).toMap();
}

/**
 * The answers when the first link touching a spine fails: the fabric re-simulated without the
 * link (routes, flood lists), its underlay sessions Active at both ends.
 */
export function linkDown(model: FabricModel, opts: AnswerOpts = {}): FabricAnswers {
  const ends = (l: FabricModel['links'][0]) => [`${l.a.device}:${l.a.interface}`, `${l.b.device}:${l.b.interface}`];
  const link = model.links.find((l) => /spine/.test(l.a.device) || /spine/.test(l.b.device))!;
  const onLink = (s: FabricModel['bgpSessions'][0]) =>
    s.layer !== 'overlay' && [s.a.device, s.b.device].sort().join() === [link.a.device, link.b.device].sort().join() && (!s.a.interface || ends(link).includes(`${s.a.device}:${s.a.interface}`));
  const sessions = model.bgpSessions.filter(onLink);
  const less = structuredClone(model);
  less.links = less.links.filter((l) => l.id !== link.id);
  less.bgpSessions = less.bgpSessions.filter((s) => !sessions.some((x) => x.id === s.id));
  return new FabricAnswers(model, new LiveComparison(less, buildFabricGraph(less)), new Set(sessions.map((s) => s.id)), opts);
}

export function linkDownAnswers(model: FabricModel, opts: AnswerOpts = {}): Map<string, string> {
  return linkDown(model, opts).toMap();
}

/**
 * A collector answering from a table the caller swaps or edits between polls, or, when
 * `answer` is set, from that function (answers synthesized when asked: `cpuMs` is the CPU
 * spent synthesizing, the devices' share, not the service's).
 */
export class ReplayCollector implements Collector {
  readonly name = 'replay';
  table = new Map<string, string>();
  answer?: (device: string, command: string) => string | undefined;
  commands = 0;
  cpuMs = 0;
  /** The same in wall time (CPU counts the collector's threads too: more than the wall when they run beside). */
  wallMs = 0;
  async run(device: string, command: string) {
    this.commands++;
    let stdout: string | undefined;
    if (this.answer) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      stdout = this.answer(device, command);
      this.wallMs += performance.now() - t0;
      const c = process.cpuUsage(c0);
      this.cpuMs += (c.user + c.system) / 1000;
    } else stdout = this.table.get(answerKey(device, command));
    return stdout === undefined ? { ok: false, stdout: '', error: `no answer for ${command}` } : { ok: true, stdout };
  }
  async close() {}
}

/** One device's answer to a command, edited as JSON (a seeded fault). */
export function editAnswer(table: Map<string, string>, device: string, command: string, edit: (json: any) => void): Map<string, string> {
  const key = answerKey(device, command);
  const json = JSON.parse(table.get(key)!);
  edit(json);
  return new Map(table).set(key, JSON.stringify(json));
}
