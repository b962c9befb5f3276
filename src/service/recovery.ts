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
 */
import { pushPostChecks, pushWaveChecks } from '../domains/index.ts';
import type { LabState } from '../lab/state.ts';
import type { FabricModel } from '../model/types.ts';
import { inventoryFromLab, type Inventory } from '../push/inventory.ts';
import { runRollout, type DeviceResult } from '../push/rollout.ts';
import { withApplyLock } from '../push/apply-lock.ts';
import type { LiveTarget } from '../verify/live/run.ts';
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
  private readonly lastApplied = new Map<string, number>();
  /** Start times of the re-applies of the last hour (the hourly budget). */
  private readonly recent: number[] = [];
  private running?: Promise<void>;
  private readonly now: () => number;

  constructor(model: FabricModel, target: LiveTarget, policy: RecoveryPolicy, emit: (e: NewEvent) => void, audit: (e: AuditEntry) => void, now: () => number = Date.now) {
    this.now = now;
    this.model = model;
    this.lab = target.lab;
    this.inventory = target.inventory ?? inventoryFromLab(target.lab!);
    this.policy = policy;
    this.emit = emit;
    this.audit = audit;
  }

  /** Starts on the first open incident not considered yet, unless a recovery is running. */
  consider(open: Incident[]): void {
    if (this.policy.drift === 'off' || this.running) return;
    const next = open.find((i) => !this.considered.has(i.id));
    if (!next) return;
    this.considered.add(next.id);
    this.running = this.recover(next)
      .catch((e: Error) => this.event('recovery-failed', 'error', next, `recovery for ${next.id} failed: ${e.message}`, {}))
      .finally(() => {
        this.running = undefined;
      });
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
    const now = this.now();
    const held = drifted.filter((r) => now - (this.lastApplied.get(r.device) ?? -Infinity) < this.policy.minIntervalMs).map((r) => r.device);
    if (held.length) this.skip(i, held, `re-applied less than ${this.policy.minIntervalMs / 1000} s ago (${this.policy.source.minIntervalMs})`);
    const names = drifted.map((r) => r.device).filter((d) => !held.includes(d));
    if (!names.length) return;
    while (this.recent.length && now - this.recent[0] >= HOUR_MS) this.recent.shift();
    if (this.recent.length >= this.policy.maxPerHour) return this.skip(i, names, `${this.recent.length} re-applies in the last hour, the most allowed (${this.policy.source.maxPerHour}); next possible in ${Math.ceil((this.recent[0] + HOUR_MS - now) / 1000)} s`);
    // The same apply lock as `netloom apply`: a re-apply never runs beside an operator's rollout.
    const res = await withApplyLock(
      `netloom serve: drift reapply on ${names.join(', ')} (incident ${i.id})`,
      async () => {
        this.recent.push(now);
        for (const d of names) this.lastApplied.set(d, now);
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

  /** A re-apply the policy's limits hold back: an event and an audit entry, nothing applied. */
  private skip(i: Incident, devices: string[], why: string): void {
    this.audit({ time: new Date().toISOString(), actor: `policy drift: reapply (${this.policy.source.drift})`, action: 'reapply', target: devices.join(', '), outcome: `skipped: ${why}` });
    this.event('recovery-skipped', 'warning', i, `drift: reapply on ${devices.join(', ')} held back: ${why}`, { devices, reason: why });
  }

  /** The policy in force, for the audit log at start. */
  describe(): string {
    return describeRecovery(this.policy);
  }

  private only(names: string[]): Inventory {
    return { ...this.inventory, devices: this.inventory.devices.filter((d) => names.includes(d.name)) };
  }
}
