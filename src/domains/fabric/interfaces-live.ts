/**
 * Interfaces observed directly (`live-fabric-interfaces`): every interface the model puts on a link (a
 * fabric link's two ends, a leaf's port to an endpoint) exists in the device's kernel, is admin
 * up with carrier, and has the MTU the model gives it (which the rendered network.sh sets);
 * between two polls of the service, its error and drop counters do not grow (warnings, with
 * the growth). Read with one shell command per FRR device (interfaces-state.ts).
 * A finding names the model link (or the endpoints on the port) and the device, with the
 * link's intent line, so the correlator puts an interface down under its link: with the
 * session and the routes the link carried, one incident.
 */
import type { Device, FabricModel } from '../../model/types.ts';
import type { SourceLocation } from '../../util/errors.ts';
import type { CheckInfo, CheckResult, Finding } from '../../verify/findings.ts';
import { linkKey } from '../../verify/findings.ts';
import type { LiveTarget } from '../../verify/live/run.ts';
import { counterGrowth, counterLabel, downReason, LINK_COMMAND, linkUp, parseLinks, type CounterName, type LinkCounters, type LinkReading, type LinkState } from './interfaces-state.ts';

export const INTERFACES_CHECK: CheckInfo = {
  id: 'live-fabric-interfaces',
  title: 'Interfaces on links up with the modelled MTU',
  kind: 'live',
  layer: 'physical',
  severity: 'error',
  description:
    "every interface on a modelled link (fabric links' ends, endpoint ports) exists in the device's kernel, is admin up with carrier, and has the model's MTU; between polls (the service) its error and drop counters do not grow (warnings)",
};

/** An interface the model puts on a link. */
export interface ExpectedPort {
  device: string;
  interface: string;
  mtu: number;
  /** The model link ("a:if--b:if"), for fabric ports. */
  link?: string;
  /** The other end, "device:interface" or the endpoints attached. */
  peer: string;
  endpoints: string[];
  /** The link's intent line (the endpoint's for a port). */
  source: SourceLocation;
}

export interface DeviceInterfaces {
  device: string;
  /** The kernel's interfaces (state part): the same object while the state does not change. */
  links?: LinkState[];
  counters?: Record<string, LinkCounters>;
  /** Growth of the loss counters since the previous reading (the service's polls). */
  growth?: Record<string, Partial<Record<CounterName, number>>>;
  /** Seconds between the previous reading and this one. */
  interval?: number;
  error?: string;
}

export interface InterfacesObserved {
  /** Why nothing was read (the target's collector runs no shell commands). */
  notApplicable?: string;
  devices: DeviceInterfaces[];
}

const expectations = new WeakMap<FabricModel, Map<string, ExpectedPort[]>>();

/** Per device, the interfaces the model puts on links: fabric ports first, then endpoint ports. */
export function expectedPorts(model: FabricModel): Map<string, ExpectedPort[]> {
  const hit = expectations.get(model);
  if (hit) return hit;
  const byName = new Map(model.devices.map((d) => [d.name, d]));
  const out = new Map<string, ExpectedPort[]>();
  const add = (p: ExpectedPort) => (out.get(p.device) ?? out.set(p.device, []).get(p.device)!).push(p);
  const mtuOf = (device: string, name: string, fallback: number) => byName.get(device)?.interfaces.find((i) => i.name === name)?.mtu ?? fallback;
  for (const l of model.links) {
    const link = linkKey(l.a, l.b);
    for (const [me, other] of [[l.a, l.b], [l.b, l.a]] as const) add({ device: me.device, interface: me.interface, mtu: mtuOf(me.device, me.interface, l.mtu), link, peer: `${other.device}:${other.interface}`, endpoints: [], source: l.source });
  }
  const ports = new Map<string, ExpectedPort>();
  for (const e of model.endpoints) {
    const key = `${e.leaf}:${e.port}`;
    const p = ports.get(key);
    if (p) p.endpoints.push(e.name);
    else ports.set(key, { device: e.leaf, interface: e.port, mtu: mtuOf(e.leaf, e.port, model.fabric.hostMtu), peer: e.name, endpoints: [e.name], source: e.source });
  }
  for (const p of ports.values()) {
    p.peer = p.endpoints.join(', ');
    add(p);
  }
  expectations.set(model, out);
  return out;
}

/** FRR devices whose kernel the target reads (SSH devices of an inventory, every FRR node of a lab). */
function readable(model: FabricModel, target: LiveTarget): Device[] {
  return model.devices.filter((d) => d.platform === 'frr' && (!target.inventory || target.inventory.devices.some((x) => x.name === d.name && x.transport === 'ssh')));
}

/** One device's reading: state and counters, or why it failed. */
async function readDevice(target: LiveTarget, device: string): Promise<{ reading?: LinkReading; error?: string }> {
  const r = await target.collector.run(device, LINK_COMMAND, { shell: true }).catch((e: Error) => ({ ok: false, stdout: '', error: e.message }));
  if (!r.ok) return { error: (r.error ?? 'failed').split('\n')[0] };
  try {
    return { reading: parseLinks(r.stdout) };
  } catch (e) {
    return { error: `not iproute2 JSON (${(e as Error).message}): ${r.stdout.trim().slice(0, 120)}` };
  }
}

/** One reading of every readable device (`verify --live`: no counters' growth, there is no previous reading). */
export async function collectInterfaces(target: LiveTarget, model: FabricModel): Promise<InterfacesObserved> {
  if (!target.collector.shell) return { notApplicable: `${target.collector.name} runs no shell commands`, devices: [] };
  const devices = await Promise.all(
    readable(model, target).map(async (d): Promise<DeviceInterfaces> => {
      const { reading, error } = await readDevice(target, d.name);
      return reading ? { device: d.name, links: reading.links, counters: reading.counters } : { device: d.name, error };
    }),
  );
  return { devices: devices.sort((a, b) => a.device.localeCompare(b.device)) };
}

const elementsOf = (p: ExpectedPort): Finding['elements'] => (p.link ? { links: [p.link], devices: [p.device] } : { devices: [p.device], endpoints: p.endpoints });
/**
 * A fabric port that lost its carrier, or loses packets, may be so because of its link or of
 * the device at the other end (a spine that died takes every leaf's carrier on that port): the
 * service's correlation then explains a dead device's neighbours' ports by the device.
 */
const withPeer = (p: ExpectedPort): Finding['elements'] => (p.link ? { links: [p.link], devices: [p.device, p.peer.slice(0, p.peer.lastIndexOf(':'))] } : elementsOf(p));
const where = (p: ExpectedPort) => (p.link ? `to ${p.peer}` : `to ${p.endpoints.length > 1 ? 'endpoints' : 'endpoint'} ${p.peer}`);

/** The state findings of one device: a missing interface, one down, an MTU other than the model's. */
export function stateFindings(ports: ExpectedPort[], device: string, links: LinkState[]): Finding[] {
  const byName = new Map(links.map((l) => [l.name, l]));
  const out: Finding[] = [];
  for (const p of ports) {
    const l = byName.get(p.interface);
    const base = { device, interface: p.interface, ...(p.link ? { link: p.link } : { endpoints: p.endpoints }) };
    const finding = (property: string, message: string, evidence: Record<string, unknown>, elements = elementsOf(p)): Finding => ({ check: INTERFACES_CHECK.id, severity: 'error', message: `${device}: ${p.interface} (${where(p)}) ${message}`, evidence: { ...base, property, ...evidence }, location: p.source, elements });
    if (!l) {
      out.push(finding('state', 'does not exist in the kernel', { observed: null }));
      continue;
    }
    // Administratively down is this device's own doing; no carrier may be the other end's.
    if (!linkUp(l)) out.push(finding('state', `is down: ${downReason(l)}`, { admin: l.admin ? 'up' : 'down', carrier: l.carrier, oper: l.oper }, l.admin ? withPeer(p) : elementsOf(p)));
    if (l.mtu !== p.mtu) out.push(finding('mtu', `has MTU ${l.mtu}, the model says ${p.mtu}`, { mtu: l.mtu, expected: p.mtu }));
  }
  return out;
}

/** Warnings for the loss counters of the device's ports that grew since the previous reading. */
export function counterFindings(ports: ExpectedPort[], device: string, growth: Record<string, Partial<Record<CounterName, number>>>, interval: number): Finding[] {
  const out: Finding[] = [];
  for (const p of ports) {
    const g = growth[p.interface];
    const grown = Object.keys(g ?? {}) as CounterName[];
    if (!grown.length) continue;
    // The message names what grows, the growth itself is evidence: a steady loss is one finding, not one change per poll.
    out.push({
      check: INTERFACES_CHECK.id,
      severity: 'warning',
      message: `${device}: ${p.interface} (${where(p)}) ${grown.map(counterLabel).join(', ')} growing between polls`,
      evidence: { device, interface: p.interface, ...(p.link ? { link: p.link } : { endpoints: p.endpoints }), property: 'counters', growth: g, seconds: Math.round(interval * 10) / 10 },
      location: p.source,
      elements: withPeer(p),
    });
  }
  return out;
}

function readFailure(model: FabricModel, d: DeviceInterfaces): Finding {
  const source = model.devices.find((x) => x.name === d.device)?.source;
  return { check: INTERFACES_CHECK.id, severity: 'error', message: `${d.device}: interfaces not read: ${d.error}`, evidence: { device: d.device, command: LINK_COMMAND }, ...(source ? { location: source } : {}), elements: { devices: [d.device] } };
}

function result(model: FabricModel, obs: InterfacesObserved | undefined, findings: Finding[], ms: number, counters: boolean): CheckResult {
  const exp = expectedPorts(model);
  const read = (obs?.devices ?? []).filter((d) => d.links);
  const ports = read.reduce((n, d) => n + (exp.get(d.device)?.length ?? 0), 0);
  const examined = !obs ? 'not collected' : obs.notApplicable ? `not read: ${obs.notApplicable}` : `${ports} interfaces on ${read.length} devices`;
  const seen = new Set((obs?.devices ?? []).map((x) => x.device));
  const unread = model.devices.filter((d) => exp.has(d.name) && !seen.has(d.name)).map((d) => d.name);
  const details = [
    'MTU: the model\'s interface MTU (what the rendered network.sh sets)',
    counters ? 'counters: errors and drops compared with the previous poll' : 'counters: compared between polls only (netloom serve); one reading has no growth',
    ...(unread.length ? [`not read (no shell access): ${unread.join(', ')}`] : []),
  ];
  return { check: INTERFACES_CHECK, passed: !findings.some((f) => f.severity === 'error'), findings, examined, ...(obs && !obs.notApplicable ? { details } : {}), ms };
}

/** One reading against the model: state findings (and counter warnings where the reading carries growth). */
export function compareInterfaces(model: FabricModel, obs: InterfacesObserved | undefined, ms = 0): CheckResult {
  const exp = expectedPorts(model);
  const findings: Finding[] = [];
  for (const d of obs?.devices ?? []) {
    if (d.error) findings.push(readFailure(model, d));
    else findings.push(...stateFindings(exp.get(d.device) ?? [], d.device, d.links ?? []), ...counterFindings(exp.get(d.device) ?? [], d.device, d.growth ?? {}, d.interval ?? 0));
  }
  return result(model, obs, findings, ms, (obs?.devices ?? []).some((d) => d.growth));
}

/**
 * The service's poller: every poll reads every device, compares the counters with the previous
 * reading, and re-checks a device's state only when its signature changed (the state objects
 * and their findings are kept otherwise).
 */
export class InterfacesLive {
  private readonly model: FabricModel;
  private readonly last = new Map<string, { sig: string; links: LinkState[]; counters: Record<string, LinkCounters>; at: number; findings: Finding[] }>();
  /** Devices whose state was re-checked, over all polls (tests read it). */
  rechecked = 0;

  constructor(model: FabricModel) {
    this.model = model;
  }

  async poll(target: LiveTarget): Promise<{ observed: InterfacesObserved; result: CheckResult }> {
    const t0 = performance.now();
    if (!target.collector.shell) {
      const observed = { notApplicable: `${target.collector.name} runs no shell commands`, devices: [] };
      return { observed, result: compareInterfaces(this.model, observed, performance.now() - t0) };
    }
    const exp = expectedPorts(this.model);
    const readings = await Promise.all(readable(this.model, target).map(async (d) => ({ device: d.name, at: Date.now(), ...(await readDevice(target, d.name)) })));
    const devices: DeviceInterfaces[] = [];
    const findings: Finding[] = [];
    for (const { device, at, reading, error } of readings.sort((a, b) => a.device.localeCompare(b.device))) {
      const prev = this.last.get(device);
      if (!reading) {
        // A failed reading forgets the last one: counters compared across the gap would be a guess.
        this.last.delete(device);
        const d = { device, error };
        devices.push(d);
        findings.push(readFailure(this.model, d));
        continue;
      }
      const ports = exp.get(device) ?? [];
      let state = prev && prev.sig === reading.sig ? prev : undefined;
      if (!state) {
        this.rechecked++;
        state = { sig: reading.sig, links: reading.links, counters: reading.counters, at, findings: stateFindings(ports, device, reading.links) };
      }
      const growth: Record<string, Partial<Record<CounterName, number>>> = {};
      for (const p of prev ? ports : []) {
        const g = counterGrowth(prev!.counters[p.interface], reading.counters[p.interface]);
        if (Object.keys(g).length) growth[p.interface] = g;
      }
      const interval = prev ? (at - prev.at) / 1000 : 0;
      this.last.set(device, { ...state, counters: reading.counters, at });
      devices.push({ device, links: state.links, counters: reading.counters, ...(prev ? { growth, interval } : {}) });
      findings.push(...state.findings, ...counterFindings(ports, device, growth, interval));
    }
    const observed = { devices };
    return { observed, result: result(this.model, observed, findings, performance.now() - t0, true) };
  }
}
