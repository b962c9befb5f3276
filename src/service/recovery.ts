/**
 * Recovery by policy (the intent's `operations.recovery`, or `--drift`; off by default). For
 * each open incident, the devices it names are planned with the rollout engine (a dry run): a
 * device whose running configuration drifted from what netloom last applied, or whose rendered
 * configuration changed since, is a `config-drift` event with the diff. With `drift: alert`
 * that is all; with `drift: reapply` it is re-applied through the same engine as `netloom
 * apply` (confirmed commit, post-checks with live verification, rollback). A device netloom
 * never applied to is left alone: nothing says what ran there was not meant. One recovery at a
 * time; each incident considered once; a device at most once per `minIntervalMs`; at most
 * `maxPerHour` re-applies in any hour. A re-apply the limits hold back is a `recovery-skipped`
 * event and an audit entry; every re-apply an audit entry and its outcome an event.
 * `forwarding: resync` (off by default) repairs a leaf whose kernel forwarding state an open
 * incident names (live-fabric-forwarding findings): its EVPN VRF routes re-announced, the state
 * read again (forwarding-resync.ts). It is tried once per incident and leaf, within the same
 * limits counted apart from re-applies (a resync changes no configuration), and comes before drift: a leaf whose config drifted
 * is re-applied anyway, and a re-apply re-announces as its last step.
 */
import { pushPostChecks, pushWaveChecks } from '../domains/index.ts';
import type { LabState } from '../lab/state.ts';
import type { FabricModel } from '../model/types.ts';
import { inventoryFromLab, type Inventory } from '../push/inventory.ts';
import { runRollout, type DeviceResult } from '../push/rollout.ts';
import { withApplyLock } from '../push/apply-lock.ts';
import type { LiveTarget } from '../verify/live/run.ts';
import type { Collector } from '../verify/live/collector.ts';
import { FORWARDING_CHECK } from '../domains/fabric/forwarding-live.ts';
import { resyncForwarding, type ResyncOutcome } from './forwarding-resync.ts';
import { describeRecovery, type RecoveryPolicy } from './policy.ts';
import type { AuditEntry, Incident, NewEvent } from './store.ts';

const HOUR_MS = 3_600_000;

/** What the FRR driver says of a device netloom never applied to (src/push/frr-driver.ts). */
const NEVER_APPLIED = 'never applied by netloom';

export class Recovery {
  private readonly model: FabricModel;
  private readonly inventory: Inventory;
  private readonly lab?: LabState;
  private readonly policy: RecoveryPolicy;
  private readonly emit: (e: NewEvent) => void;
  private readonly audit: (e: AuditEntry) => void;
  private readonly considered = new Set<string>();
  /** "incident|leaf" pairs whose forwarding state was resynced (or held back). */
  private readonly resynced = new Set<string>();
  private readonly collector: Collector;
  private readonly reapplies: RecoveryBudget;
  private readonly resyncs: RecoveryBudget;
  private running?: Promise<void>;
  private readonly now: () => number;

  constructor(model: FabricModel, target: LiveTarget, policy: RecoveryPolicy, emit: (e: NewEvent) => void, audit: (e: AuditEntry) => void, now: () => number = Date.now) {
    this.now = now;
    this.model = model;
    this.lab = target.lab;
    this.collector = target.collector;
    this.inventory = target.inventory ?? inventoryFromLab(target.lab!);
    this.policy = policy;
    this.reapplies = new RecoveryBudget(policy, policy.maxPerHour, policy.source.maxPerHour, now);
    this.resyncs = new RecoveryBudget(policy, policy.maxResyncsPerHour, policy.source.maxResyncsPerHour, now);
    this.emit = emit;
    this.audit = audit;
  }

  /**
   * Starts on the first open incident naming a leaf's forwarding state not resynced yet, else
   * the first not considered for drift, unless a recovery is running. Forwarding findings can
   * join an incident after it opened (a link back up, its sessions cleared), so they are looked
   * for on every call.
   */
  consider(open: Incident[]): void {
    if (this.running) return;
    const work = this.forwardingWork(open);
    if (work) return this.start(work.incident, () => this.resync(work.incident, work.devices));
    if (this.policy.drift === 'off') return;
    const next = open.find((i) => !this.considered.has(i.id));
    if (!next) return;
    this.considered.add(next.id);
    this.start(next, () => this.recover(next));
  }

  private start(i: Incident, job: () => Promise<void>): void {
    this.running = job()
      .catch((e: Error) => this.event('recovery-failed', 'error', i, `recovery for ${i.id} failed: ${e.message}`, {}))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Leaves of an open incident with live-fabric-forwarding findings not resynced for it yet. */
  private forwardingWork(open: Incident[]): { incident: Incident; devices: string[] } | undefined {
    if (this.policy.forwarding !== 'resync') return undefined;
    for (const i of open) {
      const devices = [...new Set(i.findings.filter((k) => k.startsWith(`${FORWARDING_CHECK.id}|`)).map((k) => k.split('|')[1]))]
        .filter((d) => d && !this.resynced.has(`${i.id}|${d}`) && this.inventory.devices.some((x) => x.name === d))
        .sort();
      if (devices.length) return { incident: i, devices };
    }
    return undefined;
  }

  private async resync(i: Incident, devices: string[]): Promise<void> {
    for (const d of devices) this.resynced.add(`${i.id}|${d}`);
    const policy = `forwarding: resync (${this.policy.source.forwarding})`;
    const { names, held } = this.resyncs.admit(devices, 'resynced', 'resyncs');
    for (const h of held) this.skip(i, h.devices, h.why, 'forwarding: resync', this.policy.source.forwarding, 'resync');
    if (!names.length) return;
    this.resyncs.record(names);
    this.event('recovery-started', 'info', i, `forwarding: resync on ${names.join(', ')} for incident ${i.id}: EVPN VRF routes re-announced`, { devices: names, policy });
    const outcomes: ResyncOutcome[] = [];
    for (const d of names) outcomes.push(await resyncForwarding(this.collector, this.model, d));
    const ok = outcomes.every((o) => !o.skipped && !o.remaining.length);
    const wrote = (o: ResyncOutcome) => (o.reinstalled?.length ? ` (${o.reinstalled.length} entr${o.reinstalled.length === 1 ? 'y' : 'ies'} the re-announce left missing written back from zebra's tables: ${o.reinstalled[0]})` : '');
    const text = outcomes.map((o) => `${o.device} ${o.skipped ? `not resynced (${o.skipped})` : o.remaining.length ? `still ${o.remaining.length} difference(s): ${o.remaining[0]}` : 'forwarding as modelled'}${wrote(o)}`).join('; ');
    this.audit({ time: new Date().toISOString(), actor: `policy ${policy}`, action: 'resync', target: names.join(', '), outcome: `${ok ? 'ok' : 'failed'}: ${text}` });
    this.event(ok ? 'recovery-succeeded' : 'recovery-failed', ok ? 'info' : 'error', i, `forwarding: resync on ${names.join(', ')} ${ok ? 'repaired' : 'did not repair'}: ${text}`, { devices: names, results: outcomes });
  }

  /** Waits for the recovery in progress (shutdown, tests). */
  async idle(): Promise<void> {
    await this.running;
  }

  private event(kind: string, severity: NewEvent['severity'], i: Incident, message: string, evidence: Record<string, unknown>, device?: string): void {
    this.emit({ time: new Date().toISOString(), kind, severity, subject: i.id, incident: i.id, message, evidence, ...(device ? { device } : {}) });
  }

  private async recover(i: Incident): Promise<void> {
    const devices = i.devices.filter((d) => this.inventory.devices.some((x) => x.name === d));
    if (!devices.length) return;
    const plan = await runRollout({ model: this.model, inventory: this.only(devices), dryRun: true });
    const drifted = plan.results.filter((r) => r.action === 'would change' && !r.reason.includes(NEVER_APPLIED));
    if (!drifted.length) return;
    const policy = `drift: ${this.policy.drift} (${this.policy.source.drift})`;
    for (const r of drifted) this.event('config-drift', 'warning', i, `${r.device}: ${r.reason}${this.policy.drift === 'alert' ? ' (policy drift: alert, not re-applied)' : ''}`, { reason: r.reason, diff: (r.diff ?? '').slice(0, 8000), policy }, r.device);
    if (this.policy.drift !== 'reapply') return;
    const { names, held } = this.reapplies.admit(drifted.map((r) => r.device), 're-applied', 're-applies');
    for (const h of held) this.skip(i, h.devices, h.why);
    if (!names.length) return;
    // The same apply lock as `netloom apply`: a re-apply never runs beside an operator's rollout.
    const res = await withApplyLock(
      `netloom serve: drift reapply on ${names.join(', ')} (incident ${i.id})`,
      async () => {
        this.reapplies.record(names);
        this.event('recovery-started', 'info', i, `drift: reapply on ${names.join(', ')} for incident ${i.id}`, { devices: names, policy });
        return runRollout({
          model: this.model,
          inventory: this.only(names),
          postChecks: pushPostChecks(this.model, { live: true }),
          waveChecks: pushWaveChecks(this.model, { lab: this.lab }),
        });
      },
      (why) => this.skip(i, names, why),
    );
    if (!res) return;
    const outcome = res.results.map((r: DeviceResult) => `${r.device} ${r.action}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`).join('; ');
    this.audit({ time: new Date().toISOString(), actor: `policy ${policy}`, action: 'reapply', target: names.join(', '), outcome: `${res.ok ? 'ok' : 'failed'}: ${outcome}` });
    this.event(res.ok ? 'recovery-succeeded' : 'recovery-failed', res.ok ? 'info' : 'error', i, `drift: reapply on ${names.join(', ')} ${res.ok ? 'applied' : 'failed'}: ${outcome}`, { devices: names, rollout: res.id ?? null, journal: res.journalDir ?? null, results: res.results.map((r) => ({ device: r.device, action: r.action, reason: r.reason })) });
  }

  /** A recovery the policy's limits hold back: an event and an audit entry, nothing done. */
  private skip(i: Incident, devices: string[], why: string, label = 'drift: reapply', source = this.policy.source.drift, action = 'reapply'): void {
    this.audit({ time: new Date().toISOString(), actor: `policy ${label} (${source})`, action, target: devices.join(', '), outcome: `skipped: ${why}` });
    this.event('recovery-skipped', 'warning', i, `${label} on ${devices.join(', ')} held back: ${why}`, { devices, reason: why });
  }

  /** The policy in force, for the audit log at start. */
  describe(): string {
    return describeRecovery(this.policy);
  }

  private only(names: string[]): Inventory {
    return { ...this.inventory, devices: this.inventory.devices.filter((d) => names.includes(d.name)) };
  }
}

/** One kind of recovery's limits: a device at most every minIntervalMs, at most `perHour` in any hour. */
class RecoveryBudget {
  private readonly last = new Map<string, number>();
  /** Start times of the recoveries of the last hour. */
  private readonly recent: number[] = [];
  constructor(
    private readonly policy: RecoveryPolicy,
    private readonly perHour: number,
    private readonly perHourSource: string,
    private readonly now: () => number,
  ) {}

  /** The devices the limits let through now, and why the others are held back; nothing recorded. */
  admit(devices: string[], done: string, plural: string): { names: string[]; held: { devices: string[]; why: string }[] } {
    const now = this.now();
    const out: { names: string[]; held: { devices: string[]; why: string }[] } = { names: [], held: [] };
    const recently = devices.filter((d) => now - (this.last.get(d) ?? -Infinity) < this.policy.minIntervalMs);
    if (recently.length) out.held.push({ devices: recently, why: `${done} less than ${this.policy.minIntervalMs / 1000} s ago (${this.policy.source.minIntervalMs})` });
    const names = devices.filter((d) => !recently.includes(d));
    while (this.recent.length && now - this.recent[0] >= HOUR_MS) this.recent.shift();
    if (names.length && this.recent.length >= this.perHour) {
      out.held.push({ devices: names, why: `${this.recent.length} ${plural} in the last hour, the most allowed (${this.perHourSource}); next possible in ${Math.ceil((this.recent[0] + HOUR_MS - now) / 1000)} s` });
    } else out.names = names;
    return out;
  }

  record(devices: string[]): void {
    const now = this.now();
    this.recent.push(now);
    for (const d of devices) this.last.set(d, now);
  }
}
