/**
 * What a healthy FRR 8.4 fabric prints, synthesized from the model's own simulation, and a
 * collector that answers from such a table: the serve-scale bench and the incremental-poll
 * tests replay it (with faults edited in) instead of a lab, so the figures and findings are
 * netloom's, not SSH's.
 */
import { createHash } from 'node:crypto';
import type { FabricModel } from '../../src/model/types.ts';
import { frrCommands, type Collector } from '../../src/verify/live/collector.ts';
import { LiveComparison } from '../../src/verify/live/compare.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { AFI_KEYS } from '../../src/verify/live/observed.ts';
import type { RibRoute } from '../../src/verify/sim/control-plane.ts';

const addr = (c?: string) => c?.split('/')[0] ?? '';

/** FRR's `show ip route json` shape for predicted routes. */
export function routeJson(routes: RibRoute[]): string {
  const out: Record<string, unknown[]> = {};
  for (const r of routes) out[r.prefix] = [{ prefix: r.prefix, protocol: r.protocol, selected: true, nexthops: r.nextHops.map((h) => ({ active: true, fib: true, ...(h.address ? { ip: h.address } : {}), ...(h.interface ? { interfaceName: h.interface } : {}) })) }];
  return JSON.stringify(out);
}

/** The table key of one device's command. */
export const answerKey = (device: string, command: string) => `${device}\n${command}`;

/**
 * What each device of `model` prints for each of its show commands when the fabric is `live`
 * (the model itself, or the model less a failed link), with `down` sessions Active.
 */
export function synthesize(model: FabricModel, live: LiveComparison, down = new Set<string>(), opts: { versions?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const bgp = new Map<string, Record<string, Record<string, unknown>>>();
  for (const s of model.bgpSessions) {
    for (const [me, other] of [[s.a, s.b], [s.b, s.a]] as const) {
      const afis = bgp.get(me.device) ?? {};
      bgp.set(me.device, afis);
      for (const afi of s.afiSafis) {
        const peers = (afis[AFI_KEYS[afi]] ??= {}) as Record<string, unknown>;
        peers[me.interface ?? other.address ?? ''] = down.has(s.id) ? { state: 'Active', hostname: other.device } : { state: 'Established', pfxRcd: 1, hostname: other.device };
      }
    }
  }
  for (const d of model.devices) {
    const ex = live.expectation(d.name)!;
    for (const c of frrCommands(d, model)) {
      let json: unknown = {};
      if (c.key === 'bgp') json = { default: Object.fromEntries(Object.entries(bgp.get(d.name) ?? {}).map(([afi, peers]) => [afi, { peers }])) };
      else if (c.key === 'vnis') json = ex.vnis.map((v) => ({ vni: v.vni, type: v.type, state: 'Up', vtepIp: addr(d.vtep), numRemoteVteps: v.remote }));
      else if (c.key === 'macs') {
        const byVni: Record<string, { macs: Record<string, unknown> }> = {};
        for (const m of ex.macs) (byVni[m.vni] ??= { macs: {} }).macs[m.mac] = m.local ? { type: 'local', intf: m.local } : { type: 'remote', remoteVtep: m.remoteVtep };
        json = byVni;
      } else if (c.key === 'routes') {
        const six = c.command.startsWith('show ipv6');
        const routes = c.vrf === 'default' ? ex.defaults : (ex.vrfs.find((v) => v.vrf === c.vrf)?.predicted ?? []);
        out.set(answerKey(d.name, c.command), routeJson(routes.filter((r) => r.prefix.includes(':') === six)));
        continue;
      } else if (c.key === 'ospf') json = { neighbors: Object.fromEntries(model.ospfAdjacencies.flatMap((a) => (a.a.device === d.name ? [[a.b.routerId, [{ nbrState: 'Full/-', ifaceName: a.a.interface }]]] : a.b.device === d.name ? [[a.a.routerId, [{ nbrState: 'Full/-', ifaceName: a.b.interface }]]] : []))) };
      out.set(answerKey(d.name, c.command), JSON.stringify(json));
    }
    if (opts.versions) {
      // bgpd's IPv4 unicast table version moves whenever the default table does (a number from its digest).
      const key = answerKey(d.name, 'show bgp vrf all summary json');
      const j = JSON.parse(out.get(key)!) as { default: Record<string, object> };
      const table = out.get(answerKey(d.name, 'show ip route json')) ?? '';
      const { ipv4Unicast, ...rest } = j.default;
      j.default = { ipv4Unicast: { vrfName: 'default', tableVersion: parseInt(createHash('sha1').update(table).digest('hex').slice(0, 8), 16), ...(ipv4Unicast ?? { peers: {} }) }, ...rest };
      out.set(key, JSON.stringify(j));
    }
  }
  return out;
}

/**
 * The answers when the first link touching a spine fails: the fabric re-simulated without the
 * link (routes, flood lists), its underlay sessions Active at both ends.
 */
export function linkDownAnswers(model: FabricModel, opts: { versions?: boolean } = {}): Map<string, string> {
  const ends = (l: FabricModel['links'][0]) => [`${l.a.device}:${l.a.interface}`, `${l.b.device}:${l.b.interface}`];
  const link = model.links.find((l) => /spine/.test(l.a.device) || /spine/.test(l.b.device))!;
  const onLink = (s: FabricModel['bgpSessions'][0]) =>
    s.layer !== 'overlay' && [s.a.device, s.b.device].sort().join() === [link.a.device, link.b.device].sort().join() && (!s.a.interface || ends(link).includes(`${s.a.device}:${s.a.interface}`));
  const sessions = model.bgpSessions.filter(onLink);
  const less = structuredClone(model);
  less.links = less.links.filter((l) => l.id !== link.id);
  less.bgpSessions = less.bgpSessions.filter((s) => !sessions.some((x) => x.id === s.id));
  return synthesize(model, new LiveComparison(less, buildFabricGraph(less)), new Set(sessions.map((s) => s.id)), opts);
}

/** A collector answering from a table the caller swaps or edits between polls. */
export class ReplayCollector implements Collector {
  readonly name = 'replay';
  table = new Map<string, string>();
  commands = 0;
  async run(device: string, command: string) {
    this.commands++;
    const stdout = this.table.get(answerKey(device, command));
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
