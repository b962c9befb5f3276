/**
 * Packet capture attached to a new incident: a short tcpdump on the interfaces of the failed
 * element (both ends of a link; a device's fabric interfaces), inside the lab's namespaces or,
 * on an inventory target, on the device over SSH (src/push/ssh-capture.ts), read by the same analyzer as `pcap analyze --intent` (the model's VTEPs, BGP and OSPF
 * expectations, and every domain's capture questions). The service adds what only it knows:
 * which of the model's BGP sessions and OSPF adjacencies run over each interface, so a
 * capture that shows none of their packets (FRR's datacenter defaults send a keepalive every
 * 3 s) says the link carries nothing, and an end that cannot be captured says why.
 *
 * Bounded: `seconds` per capture, `maxPackets` x `snaplen` bytes per file, `maxInterfaces` per
 * incident, one incident at a time, the captures of the last `keepIncidents` incidents kept.
 * Files live under STATE_DIR/captures/<incident id>/<n>.pcap: the incident id is checked
 * against its own pattern and n is a counter, so no device or interface name reaches a path.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { domainCaptureFindings } from '../domains/index.ts';
import { labCapture } from '../lab/node-ops.ts';
import type { LabState } from '../lab/state.ts';
import type { Inventory } from '../push/inventory.ts';
import { sshCapture } from '../push/ssh-capture.ts';
import type { FabricModel } from '../model/types.ts';
import { analyzeFile, type Finding as CaptureFinding } from '../pcap/analyze.ts';
import { expectationsFromModel, type FabricExpectations } from '../pcap/expectations.ts';
import { bySeverity } from '../pcap/findings.ts';
import type { FabricGraph } from '../verify/graph.ts';
import type { Incident, IncidentCapture } from './store.ts';

export interface CaptureRule {
  seconds: number;
  maxPackets: number;
  snaplen: number;
  maxInterfaces: number;
  keepIncidents: number;
}

/** 4 s: longer than FRR's 3 s keepalive, so a healthy BGP interface shows traffic both ways. */
export const DEFAULT_CAPTURE: CaptureRule = { seconds: 4, maxPackets: 2000, snaplen: 2048, maxInterfaces: 4, keepIncidents: 50 };

export const INCIDENT_ID = /^inc-[0-9a-f]{12}$/;
const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

interface CapturePoint {
  device: string;
  interface: string;
  /** What the model runs over this interface and should show within the capture. */
  expects: string[];
}

export type CaptureDone = (incident: Incident, captures: IncidentCapture[]) => void;

/** Where captures are taken: which devices can be captured, and how one interface is. */
export interface CaptureSource {
  has(device: string): boolean;
  /** Writes the pcap to `out`; throws `capture on DEV:IF failed: <tcpdump's words>`. */
  capture(device: string, iface: string, o: { seconds: number; maxPackets: number; snaplen: number; out: string }): Promise<void>;
}

/** A lab's nodes: tcpdump in the node's namespace on this host. */
export function labCaptureSource(lab: LabState): CaptureSource {
  return {
    has: (d) => lab.nodes.some((n) => n.name === d),
    capture: async (d, i, o) => void (await labCapture(lab, `${d}:${i}`, o)),
  };
}

/** An inventory's SSH devices: tcpdump on the device, the file fetched back. */
export function sshCaptureSource(inventory: Inventory): CaptureSource {
  const ssh = (d: string) => inventory.devices.find((x) => x.name === d && x.transport === 'ssh');
  return {
    has: (d) => !!ssh(d),
    capture: async (d, i, o) => void (await sshCapture(ssh(d)!, i, o)),
  };
}

export class IncidentCaptures {
  private readonly model: FabricModel;
  private readonly fg: FabricGraph;
  private readonly source: CaptureSource;
  private readonly dir: string;
  private readonly rule: CaptureRule;
  private readonly done: CaptureDone;
  private readonly expectations: FabricExpectations;
  private readonly queue: Incident[] = [];
  private running?: Promise<void>;

  constructor(model: FabricModel, fg: FabricGraph, source: CaptureSource, stateDir: string, done: CaptureDone, rule: Partial<CaptureRule> = {}) {
    this.model = model;
    this.fg = fg;
    this.source = source;
    this.dir = path.join(stateDir, 'captures');
    this.rule = { ...DEFAULT_CAPTURE, ...rule };
    this.done = done;
    this.expectations = expectationsFromModel(model);
  }

  /** Queues a capture for a newly opened incident; one runs at a time. */
  start(i: Incident): void {
    if (!INCIDENT_ID.test(i.id) || !this.points(i.element).length) return;
    this.queue.push(i);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Waits for queued captures (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** The file of an incident's n-th capture, if it exists (API download). */
  file(incidentId: string, n: number): string | undefined {
    if (!INCIDENT_ID.test(incidentId) || !Number.isInteger(n) || n < 1 || n > this.rule.maxInterfaces) return undefined;
    const f = path.join(this.dir, incidentId, `${n}.pcap`);
    try {
      return statSync(f).isFile() ? f : undefined;
    } catch {
      return undefined;
    }
  }

  private async drain(): Promise<void> {
    for (let i = this.queue.shift(); i; i = this.queue.shift()) {
      const captures = await this.capture(i).catch((e: Error) => [{ n: 0, device: '', interface: '', seconds: 0, packets: 0, bytes: 0, bgpMessages: 0, ospfPackets: 0, error: e.message, findings: [] }]);
      this.prune();
      this.done(i, captures);
    }
  }

  /** The interfaces of the failed element: both ends of a link, a device's fabric interfaces. */
  points(element: string): CapturePoint[] {
    const [type, name] = [element.slice(0, element.indexOf(':')), element.slice(element.indexOf(':') + 1)];
    const ends: { device: string; interface: string }[] = [];
    for (const l of this.model.links) {
      if (type === 'link' && this.fg.linkName(l) === name) ends.push(l.a, l.b);
      else if (type === 'device' && l.kind === 'fabric') for (const e of [l.a, l.b]) if (e.device === name) ends.push(e);
    }
    return ends
      .filter((e) => IFACE.test(e.interface) && this.source.has(e.device))
      .slice(0, this.rule.maxInterfaces)
      .map((e) => ({ ...e, expects: this.expectedOn(e.device, e.interface) }));
  }

  private expectedOn(device: string, iface: string): string[] {
    const out: string[] = [];
    for (const s of this.model.bgpSessions) if ([s.a, s.b].some((x) => x.device === device && x.interface === iface)) out.push(`BGP session ${s.id}`);
    for (const a of this.model.ospfAdjacencies) if ([a.a, a.b].some((x) => x.device === device && x.interface === iface)) out.push(`OSPF adjacency ${a.id}`);
    return out;
  }

  private async capture(i: Incident): Promise<IncidentCapture[]> {
    const dir = path.join(this.dir, i.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const points = this.points(i.element);
    // Every end at once: one window of time, seen from each side.
    return Promise.all(points.map((p, k) => this.one(p, path.join(dir, `${k + 1}.pcap`), k + 1)));
  }

  private async one(p: CapturePoint, file: string, n: number): Promise<IncidentCapture> {
    const base = { n, device: p.device, interface: p.interface, seconds: this.rule.seconds };
    const at = `${p.device}:${p.interface}`;
    try {
      await this.source.capture(p.device, p.interface, { seconds: this.rule.seconds, out: file, maxPackets: this.rule.maxPackets, snaplen: this.rule.snaplen });
    } catch (e) {
      // tcpdump refuses an interface that is administratively down: that is evidence too.
      const why = (e as Error).message.replace(/^capture on \S+ failed: /, '');
      const down = /not up/i.test(why);
      return { ...base, packets: 0, bytes: 0, bgpMessages: 0, ospfPackets: 0, error: why, findings: [{ severity: 'error', category: 'capture', message: `${at} cannot be captured${down ? ': the interface is administratively down' : ''} (${why.split('\n')[0]})${p.expects.length ? `; the model runs ${p.expects.join(', ')} over it` : ''}` }] };
    }
    const report = analyzeFile(file, { expectations: this.expectations });
    const findings: IncidentCapture['findings'] = bySeverity([...report.findings, ...domainCaptureFindings(this.model, report)]).map(plain);
    const bgpMessages = report.bgp.reduce((n, x) => n + Object.values(x.messages).reduce((a, b) => a + b, 0), 0);
    const ospfPackets = report.protocols.ospf ?? 0;
    if (p.expects.length && bgpMessages + ospfPackets === 0) {
      findings.unshift({ severity: 'error', category: 'capture', message: `no BGP or OSPF packet on ${at} in ${this.rule.seconds} s (${report.packets} packet${report.packets === 1 ? '' : 's'} in all), though the model runs ${p.expects.join(', ')} over it: the link carries no control plane` });
    }
    return { ...base, file: path.relative(path.dirname(this.dir), file), packets: report.packets, bytes: report.bytes, protocols: report.protocols, bgpMessages, ospfPackets, findings };
  }

  /** Keeps the captures of the newest `keepIncidents` incidents. */
  private prune(): void {
    let dirs: { name: string; t: number }[];
    try {
      dirs = readdirSync(this.dir)
        .filter((d) => INCIDENT_ID.test(d))
        .map((d) => ({ name: d, t: statSync(path.join(this.dir, d)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
    } catch {
      return;
    }
    for (const d of dirs.slice(this.rule.keepIncidents)) rmSync(path.join(this.dir, d.name), { recursive: true, force: true });
  }
}

function plain(f: CaptureFinding): IncidentCapture['findings'][number] {
  return { severity: f.severity, category: f.category, message: f.message, ...(f.packets ? { packets: f.packets } : {}) };
}
