/**
 * Continuous verification: every period, each registered domain collects what `verify --live`
 * collects (through one collector that bounds how many device commands run at once) and
 * compares it with the model loaded once at start. Each change of a finding passes the flap
 * damper and becomes an event; the announced findings are correlated into incidents on the
 * model's graph; the observation feeds the metrics and their baselines. Events are stored
 * first, then published (SSE, webhooks), so a subscriber never sees an event the store lost.
 */
import type { Inventory } from '../push/inventory.ts';
import type { LabState } from '../lab/state.ts';
import { createHash } from 'node:crypto';
import { domains, type DomainId } from '../domains/index.ts';
import type { FabricModel } from '../model/types.ts';
import type { CheckResult, Finding } from '../verify/findings.ts';
import type { FabricGraph } from '../verify/graph.ts';
import type { ObservedState } from '../verify/live/compare.ts';
import type { LiveTarget } from '../verify/live/run.ts';
import type { TableReads } from '../verify/live/incremental.ts';
import { Baselines, DEFAULT_BASELINE, type BaselineRule } from './baseline.ts';
import { EventBus } from './bus.ts';
import { Correlator, type Explanation } from './correlate.ts';
import { DEFAULT_DAMPING, FlapDamper, type DampingRule } from './damping.ts';
import { eventKind, findingDevice, findingKey, findingLocation } from './finding-key.ts';
import { LimitedCollector } from './limited-collector.ts';
import { ServiceMetrics } from './metrics.ts';
import { IncidentCaptures, labCaptureSource, sshCaptureSource, type CaptureRule } from './incident-capture.ts';
import { Recovery } from './recovery.ts';
import { periodOf, recoveryActive, tickMs, type PollingPolicy, type RecoveryPolicy } from './policy.ts';
import { PeriodCollector } from './period-collector.ts';
import type { Incident, IncidentCapture, NewEvent, ServiceEvent, ServiceStore } from './store.ts';

export interface MonitorConfig {
  /** The poller's tick; with `polling`, the shortest period of any device (set from it). */
  periodMs: number;
  /** Poll periods per device role (the intent's operations.polling, --poll). */
  polling?: PollingPolicy;
  /** Device commands running at once. */
  concurrency: number;
  /** Endpoint ping matrix on each poll (lab targets). */
  probes: boolean;
  damping?: DampingRule;
  baseline?: BaselineRule;
  recovery?: RecoveryPolicy;
  /** Packet captures on a new incident's element (lab targets): where, and within what bounds; false for none. */
  capture?: (Partial<CaptureRule> & { stateDir: string }) | false;
  /**
   * Runs before each poll collects (the service: a rollout a killed `netloom apply` left
   * half-applied is finished first, so no poll judges the half it is in); its errors are reported.
   */
  beforePoll?: () => Promise<void>;
  /** Default tables read per poll beyond the changed ones: devices admitted, tables refreshed (DEFAULT_TABLE_READS). */
  tables?: Partial<TableReads>;
}

export const DEFAULT_MONITOR: MonitorConfig = { periodMs: 10_000, concurrency: 4, probes: true };

export interface PollResult {
  seq: number;
  time: string;
  ms: number;
  results: CheckResult[];
  observed: Partial<Record<DomainId, unknown>>;
  /** Findings as announced (after damping), by key. */
  findings: Map<string, Finding>;
  /** Error findings of the poll (before damping). */
  failing: number;
  /** Devices not admitted yet: the first full read is spread over polls (TableReads). */
  pending: number;
  /** Default tables that moved and wait for a later poll (TableReads.changed): their devices are judged by the tables read before. */
  owed: number;
}

/** True for the fabric's observation shape (devices and probes), whichever domain returns it. */
export function isObservedState(x: unknown): x is ObservedState {
  return !!x && typeof x === 'object' && Array.isArray((x as ObservedState).devices) && Array.isArray((x as ObservedState).probes);
}

export class Monitor {
  readonly model: FabricModel;
  readonly fg: FabricGraph;
  readonly store: ServiceStore;
  readonly bus = new EventBus();
  readonly metrics = new ServiceMetrics();
  readonly config: MonitorConfig;
  private readonly target: LiveTarget;
  private readonly damper: FlapDamper;
  private readonly baselines: Baselines;
  private readonly correlator: Correlator;
  private readonly recovery?: Recovery;
  readonly captures?: IncidentCaptures;
  /** Findings as announced, by key. */
  private readonly announced = new Map<string, Finding>();
  /** Open incidents by explaining element. */
  private readonly open = new Map<string, Incident>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<PollResult>;
  private stopped = false;
  private seq = 0;
  /** A finding event since the last stored snapshot. */
  private changedSinceSnapshot = false;
  /** Devices whose observation changed since the last snapshot, and that snapshot's id. */
  private readonly unsaved = new Set<string>();
  private lastSnapshot?: number;
  latest?: PollResult;

  constructor(model: FabricModel, fg: FabricGraph, target: LiveTarget, store: ServiceStore, config: Partial<MonitorConfig> = {}) {
    this.model = model;
    this.fg = fg;
    this.config = { ...DEFAULT_MONITOR, ...config };
    const polling = this.config.polling;
    if (polling) this.config.periodMs = tickMs(polling, model);
    const limited = new LimitedCollector(target.collector, this.config.concurrency);
    const roles = new Map(model.devices.map((d) => [d.name, d.role]));
    // A device whose role polls slower than the tick answers from its last collection until due.
    const collector = polling
      ? new PeriodCollector(limited, (d) => (roles.has(d) ? periodOf(polling, roles.get(d)!) : this.config.periodMs), this.config.periodMs / 2, {
          counted: (d, cached) => this.metrics.commands.inc({ role: roles.get(d) ?? 'other', source: cached ? 'cached' : 'device' }),
        })
      : limited;
    this.target = { ...target, collector };
    this.store = store;
    this.damper = new FlapDamper(this.config.damping ?? DEFAULT_DAMPING);
    this.baselines = new Baselines(this.config.baseline ?? DEFAULT_BASELINE);
    this.correlator = new Correlator(fg);
    if (this.config.recovery && recoveryActive(this.config.recovery)) this.recovery = new Recovery(model, target, this.config.recovery, (e) => this.emit(e), (e) => store.audit(e));
    const cap = this.config.capture;
    const source = target.lab ? labCaptureSource(target.lab) : target.inventory ? sshCaptureSource(target.inventory) : undefined;
    if (cap && source) this.captures = new IncidentCaptures(model, fg, source, cap.stateDir, (i, c) => this.attachCaptures(i, c), cap);
    // After a restart: what was announced stays announced (no second raise), and incidents
    // still open continue with the same id and opening time.
    for (const [key, f] of store.announcedFindings()) {
      this.announced.set(key, f);
      this.damper.seed(key, Date.now());
    }
    for (const i of store.incidents({ status: 'open' })) this.open.set(i.element, i);
  }

  private byDevice?: { seq: number; counts: Map<string, number> };
  /** Domains' pollers that keep their comparison across polls. */
  private readonly pollers = new Map<DomainId, { poll(target: LiveTarget, opts: { probes?: boolean }): Promise<{ observed: unknown; results: CheckResult[]; changed?: string[]; pending?: number; owed?: number; owedDevices?: string[] }> }>();
  /** Devices not admitted at the last poll. */
  private pending = 0;
  /** Hears each device re-check of an incremental poll with its duration (the bench's per-update figure). */
  onRecheck?: (device: string, ms: number, cpuMs: number) => void;

  private recheck(device: string, ms: number, cpuMs: number): void {
    this.metrics.recheckDuration.observe(ms / 1000);
    this.onRecheck?.(device, ms, cpuMs);
  }

  /** Announced findings of the last poll whose device is `device` (indexed once per poll: API routes ask per request). */
  findingCount(device: string): number {
    const l = this.latest;
    if (!l) return 0;
    if (this.byDevice?.seq !== l.seq) {
      const counts = new Map<string, number>();
      for (const f of l.findings.values()) {
        const d = findingDevice(f);
        if (d) counts.set(d, (counts.get(d) ?? 0) + 1);
      }
      this.byDevice = { seq: l.seq, counts };
    }
    return this.byDevice.counts.get(device) ?? 0;
  }

  /** Where a rollout of the service pushes: the target's inventory, or its lab's. */
  get pushTarget(): { inventory?: Inventory; lab?: LabState } {
    return { ...(this.target.inventory ? { inventory: this.target.inventory } : {}), ...(this.target.lab ? { lab: this.target.lab } : {}) };
  }

  get targetDescription(): string {
    return this.target.describe;
  }

  openIncidents(): Incident[] {
    return [...this.open.values()];
  }

  /** Marks an incident as seen; the updated incident, or undefined when there is none with this id. */
  acknowledge(id: string, time: string): Incident | undefined {
    const i = this.store.incident(id);
    if (!i) return undefined;
    const acked: Incident = { ...i, acknowledged: time };
    this.store.putIncident(acked);
    if (this.open.get(i.element)?.id === id) this.open.set(i.element, acked);
    return acked;
  }

  /** Starts polling: one poll now, then one per period (a slow poll delays the next, counted overdue). */
  start(): void {
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      const started = Date.now();
      await this.pollOnce().catch(() => undefined);
      if (this.stopped) return;
      const late = Date.now() - started - this.config.periodMs;
      if (late > 0) this.metrics.overdue.inc();
      this.timer = setTimeout(() => void loop(), Math.max(0, -late));
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.recovery?.idle();
    await this.captures?.idle();
    await this.target.collector.close();
  }

  /** The poll in progress, or a new one. */
  pollOnce(): Promise<PollResult> {
    if (this.running) return this.running;
    this.running = this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async poll(): Promise<PollResult> {
    await this.config.beforePoll?.().catch((e: Error) => this.announce({ time: new Date().toISOString(), kind: 'rollout-recovery-failed', severity: 'error', subject: 'before-poll', message: `before the poll: ${e.message}`, evidence: {} }));
    const t0 = performance.now();
    const results: CheckResult[] = [];
    const observed: Partial<Record<DomainId, unknown>> = {};
    const changed = new Set<string>();
    let failed = false;
    let pending = 0;
    let owed = 0;
    const owedDevices = new Set<string>();
    for (const d of domains()) {
      if (!d.verify.live) continue;
      try {
        const live = d.verify.live;
        if (live.incremental) {
          let p = this.pollers.get(d.id);
          if (!p) this.pollers.set(d.id, (p = live.incremental(this.model, this.fg, { recheck: (device, ms, cpuMs) => this.recheck(device, ms, cpuMs), ...(this.config.tables ? { tables: this.config.tables } : {}) })));
          const r = await p.poll(this.target, { probes: this.config.probes });
          observed[d.id] = r.observed;
          results.push(...r.results);
          for (const x of r.changed ?? []) changed.add(x);
          pending += r.pending ?? 0;
          owed += r.owed ?? 0;
          for (const x of r.owedDevices ?? []) owedDevices.add(x);
        } else {
          observed[d.id] = await live.collect(this.target, this.model, { probes: this.config.probes });
          results.push(...live.compare(this.model, observed[d.id], this.fg));
        }
      } catch (e) {
        failed = true;
        results.push(pollFailure(d.id, e));
      }
    }
    const ms = performance.now() - t0;
    const now = Date.now();
    const time = new Date(now).toISOString();
    this.judge(results, now, time);
    this.correlate(time, owedDevices);
    this.measure(results, observed, ms, time);
    const failing = results.flatMap((r) => r.findings.filter((f) => f.severity === 'error'));
    const checks = Object.fromEntries(results.map((r) => [r.check.id, r.findings.filter((f) => f.severity === 'error').length]));
    this.store.addVerification({ time, ms, failing: failing.length, checks });
    // The observed state is kept when it explains something new: first poll, findings changed,
    // or devices admitted (while the first full read is spread over polls, each stores its own).
    for (const x of changed) this.unsaved.add(x);
    const admitting = pending > 0 || this.pending > 0;
    this.pending = pending;
    if (this.seq === 0 || this.changedSinceSnapshot || admitting) this.snapshot(time, observed);
    this.changedSinceSnapshot = false;
    this.metrics.polls.inc({ outcome: failed ? 'failed' : 'ok' });
    this.metrics.pending.set(pending);
    this.metrics.owed.set(owed);
    const r: PollResult = { seq: ++this.seq, time, ms, results, observed, findings: new Map(this.announced), failing: failing.length, pending, owed };
    this.latest = r;
    return r;
  }

  /**
   * The first snapshot holds every observation; each later one the fabric observations of the
   * devices that changed since the previous snapshot (`since`: its id) with the probes, so a
   * fault on a large fabric stores what changed, not the whole fabric again.
   */
  private snapshot(time: string, observed: Partial<Record<DomainId, unknown>>): void {
    const base = this.lastSnapshot;
    const state = base === undefined ? observed : Object.fromEntries(Object.entries(observed).map(([k, v]) => [k, isObservedState(v) ? { since: base, devices: v.devices.filter((o) => this.unsaved.has(o.device)), probes: v.probes } : v]));
    this.lastSnapshot = this.store.addSnapshot(time, state);
    this.unsaved.clear();
  }

  /** Stores and publishes an event raised outside the poll (recovery of interrupted rollouts at start). */
  announce(e: NewEvent): ServiceEvent {
    return this.emit(e);
  }

  private emit(e: NewEvent): ServiceEvent {
    const stored = this.store.addEvent(e);
    this.metrics.events.inc({ kind: e.kind });
    this.bus.publish(stored);
    return stored;
  }

  private findingEvent(kind: string, f: Finding, key: string, time: string, extra: Partial<NewEvent> = {}): void {
    this.emit({ time, kind, severity: f.severity, device: findingDevice(f), check: f.check, subject: key, message: f.message, evidence: f.evidence, location: findingLocation(f), finding: { value: f, present: this.announced.has(key) }, ...extra });
    this.changedSinceSnapshot = true;
  }

  /** Findings of this poll -> damped raise/clear/change events. */
  private judge(results: CheckResult[], now: number, time: string): void {
    const actual = new Map<string, Finding>();
    for (const r of results) for (const f of r.findings) if (f.severity !== 'info') actual.set(findingKey(f), f);
    const keys = new Set([...actual.keys(), ...this.damper.tracked()]);
    for (const key of [...keys].sort()) {
      const f = actual.get(key);
      const last = this.announced.get(key);
      const outcomes = this.damper.observe(key, !!f, now);
      for (const o of outcomes) {
        if (o.kind === 'raise') {
          this.announced.set(key, f!);
          this.findingEvent(eventKind(f!.check, true), f!, key, time);
        } else if (o.kind === 'clear' && last) {
          this.announced.delete(key);
          this.findingEvent(eventKind(last.check, false), last, key, time, { severity: 'info', message: `cleared: ${last.message}` });
        } else if (o.kind === 'flapping') {
          const g = f ?? last!;
          this.findingEvent('flapping', g, key, time, { severity: 'warning', message: `flapping, events suppressed until it settles: ${g.message}`, evidence: { ...g.evidence, penalty: o.penalty } });
        } else if (o.kind === 'settled') {
          const g = f ?? last;
          if (!g) continue;
          if (o.present) this.announced.set(key, g);
          else this.announced.delete(key);
          this.findingEvent('flap-settled', g, key, time, { severity: 'info', message: `settled ${o.present ? 'present' : 'cleared'}: ${g.message}` });
        }
      }
      // Same finding, new facts (e.g. 1 next hop -> 0): one change event, no damping penalty.
      if (!outcomes.length && f && last && !this.damper.suppressed(key) && f.message !== last.message) {
        this.announced.set(key, f);
        this.findingEvent('finding-changed', f, key, time);
      }
    }
  }

  /**
   * Announced findings -> incidents: open new ones, update, resolve the explained-away. A device
   * whose default table moved and is owed to a later poll (TableReads.changed) is judged by the
   * table read before: its findings stay with the incidents that explained them until the table
   * is read again, unless a link this poll reports down explains them now. Otherwise, as a link
   * comes back, its session up while the tables that still show it down wait, they would go to
   * another incident (opened for them, or one of stale forwarding entries); and as a link goes
   * down while tables of an earlier flap of it are owed, their findings would stay apart.
   */
  private correlate(time: string, owed: ReadonlySet<string> = new Set()): void {
    const explanations = this.correlator.explain(this.announced);
    if (owed.size) this.keepOwed(explanations, owed);
    for (const x of explanations) x.findings.sort();
    const seen = new Set<string>();
    for (const x of explanations) {
      seen.add(x.element);
      const prev = this.open.get(x.element);
      const incident = this.incidentOf(x, prev, time);
      this.open.set(x.element, incident);
      this.store.putIncident(incident);
      if (prev) continue;
      this.emit({ time, kind: 'incident-opened', severity: incident.severity, device: incident.devices[0], subject: incident.id, message: incident.summary, evidence: this.incidentEvidence(x), incident: incident.id });
      this.captures?.start(incident);
    }
    for (const [element, i] of this.open) {
      if (seen.has(element)) continue;
      this.open.delete(element);
      const resolved: Incident = { ...i, status: 'resolved', resolved: time };
      this.store.putIncident(resolved);
      this.emit({ time, kind: 'incident-resolved', severity: 'info', device: i.devices[0], subject: i.id, message: `resolved: ${i.summary}`, evidence: { element, findings: i.findings }, incident: i.id });
    }
    this.metrics.openIncidents.set(this.open.size);
    this.recovery?.consider([...this.open.values()]);
  }

  /** Moves, in place, owed tables' findings back to the open incidents that explained them (see correlate). */
  private keepOwed(explanations: Explanation[], owed: ReadonlySet<string>): void {
    const was = new Map<string, string>();
    for (const [element, i] of this.open) for (const k of i.findings) was.set(k, element);
    const reported = this.correlator.reportedLinks(this.announced);
    const moved: [string, string][] = [];
    for (let n = explanations.length - 1; n >= 0; n--) {
      const x = explanations[n];
      if (reported.has(x.element)) continue;
      const keep = x.findings.filter((k) => {
        const f = this.announced.get(k);
        const device = f && findingDevice(f);
        const before = was.get(k);
        return !!device && owed.has(device) && before !== undefined && before !== x.element;
      });
      if (!keep.length) continue;
      for (const k of keep) moved.push([k, was.get(k)!]);
      x.findings = x.findings.filter((k) => !keep.includes(k));
      if (!x.findings.length) explanations.splice(n, 1);
    }
    for (const [k, element] of moved) {
      let y = explanations.find((e) => e.element === element);
      if (!y) explanations.push((y = { element, findings: [] }));
      y.findings.push(k);
    }
  }

  private incidentOf(x: Explanation, prev: Incident | undefined, time: string): Incident {
    const fs = x.findings.map((k) => this.announced.get(k)!);
    const [type, name] = splitElement(x.element);
    const kinds = new Map<string, number>();
    for (const f of fs) kinds.set(eventKind(f.check, true), (kinds.get(eventKind(f.check, true)) ?? 0) + 1);
    const what = type === 'link' ? `link ${name} down or not forwarding` : type === 'device' ? `device ${name} failed or misbehaving` : type === 'endpoint' ? `endpoint ${name} unreachable` : fs[0].message;
    const summary = `${what}: explains ${fs.length} finding${fs.length === 1 ? '' : 's'} (${[...kinds].map(([k, n]) => `${k} x${n}`).join(', ')})`;
    const devices = [...new Set(fs.flatMap((f) => f.elements?.devices ?? (findingDevice(f) ? [findingDevice(f)!] : [])))].sort();
    const severity = fs.some((f) => f.severity === 'error') ? 'error' : 'warning';
    const opened = prev?.opened ?? time;
    const id = prev?.id ?? `inc-${createHash('sha256').update(`${x.element}@${opened}`).digest('hex').slice(0, 12)}`;
    return { id, status: 'open', element: x.element, summary, severity, opened, findings: x.findings, devices, ...(prev?.acknowledged ? { acknowledged: prev.acknowledged } : {}), ...(prev?.captures ? { captures: prev.captures } : {}) };
  }

  /** A finished capture joins its incident (open or resolved by now) and is announced. */
  private attachCaptures(i: Incident, captures: IncidentCapture[]): void {
    const open = this.open.get(i.element);
    const current = open?.id === i.id ? open : this.store.incident(i.id);
    if (!current) return;
    const updated: Incident = { ...current, captures };
    this.store.putIncident(updated);
    if (open?.id === i.id) this.open.set(i.element, updated);
    const findings = captures.flatMap((c) => c.findings);
    const where = captures.map((c) => `${c.device}:${c.interface} (${c.error ? 'not captured' : `${c.packets} packets`})`).join(', ');
    this.emit({
      time: new Date().toISOString(),
      kind: 'capture-attached',
      severity: findings.some((f) => f.severity === 'error') ? 'error' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'info',
      device: i.devices[0],
      subject: i.id,
      incident: i.id,
      message: `capture on ${where}: ${findings.length} finding${findings.length === 1 ? '' : 's'}${findings.length ? `; first: ${findings[0].message}` : ''}`,
      evidence: { element: i.element, captures },
    });
  }

  private incidentEvidence(x: Explanation): Record<string, unknown> {
    const fs = x.findings.map((k) => this.announced.get(k)!);
    // The first divergence between predicted and observed RIB, where a route finding names one.
    const divergence = fs.map((f) => f.evidence.firstDivergence).find((d) => typeof d === 'string');
    return { element: x.element, findings: fs.map((f) => ({ check: f.check, message: f.message, location: findingLocation(f) ?? null })), ...(divergence ? { firstDivergence: divergence } : {}) };
  }

  private measure(results: CheckResult[], observed: Partial<Record<DomainId, unknown>>, ms: number, time: string): void {
    this.metrics.pollDuration.observe(ms / 1000);
    this.metrics.lastPoll.set(Date.now() / 1000);
    this.metrics.checks(results);
    const fabric = Object.values(observed).filter(isObservedState);
    const samples = this.metrics.observe(fabric.flatMap((o) => o.devices), fabric.flatMap((o) => o.probes));
    const warmup = (this.config.baseline ?? DEFAULT_BASELINE).warmup;
    for (const s of samples) {
      const edge = this.baselines.observe(s.series, s.value);
      if (this.baselines.get(s.series)!.n > warmup) this.metrics.baselineJudged.inc();
      if (!edge) continue;
      const r = edge.reading;
      this.emit({
        time,
        kind: edge.kind,
        severity: edge.kind === 'anomaly' ? 'warning' : 'info',
        device: s.labels.device ?? s.labels.src,
        subject: s.series,
        message: `${s.series}: ${r.value} ${edge.kind === 'anomaly' ? 'outside' : 'back within'} its baseline (mean ${r.mean.toFixed(2)}, sd ${r.sd.toFixed(2)}, ${r.z.toFixed(1)} sigma over ${r.n} samples)`,
        evidence: { ...s.labels, value: r.value, mean: r.mean, sd: r.sd, z: r.z, samples: r.n },
      });
    }
    this.metrics.baselineSeries.set(this.baselines.size);
  }
}

function splitElement(e: string): [string, string] {
  const i = e.indexOf(':');
  return [e.slice(0, i), e.slice(i + 1)];
}

const POLL_CHECK = { id: 'service-poll', title: 'The target answered the poll', kind: 'live', layer: 'physical', severity: 'error', description: 'collection and comparison of a domain completed' } as const;

function pollFailure(domain: string, e: unknown): CheckResult {
  const message = `domain ${domain}: poll failed: ${e instanceof Error ? e.message : String(e)}`;
  return { check: { ...POLL_CHECK }, passed: false, findings: [{ check: POLL_CHECK.id, severity: 'error', message, evidence: { domain } }], examined: `domain ${domain}`, ms: 0 };
}
