/**
 * Recovery by policy (`--drift reapply`, off by default). For each open incident, the
 * devices it names are planned with the rollout engine (a dry run): a device whose running
 * configuration drifted from what netloom last applied, or whose rendered configuration
 * changed since, is re-applied through the same engine as `netloom apply` (confirmed commit,
 * post-checks with live verification, rollback). A device netloom never applied to is left
 * alone: nothing says what ran there was not meant. One recovery at a time; a device at most
 * once per interval (default 10 min); each incident is considered once. Every step is an
 * event and every re-apply an audit entry.
 */
import { pushPostChecks, pushWaveChecks } from '../domains/index.ts';
import type { LabState } from '../lab/state.ts';
import type { FabricModel } from '../model/types.ts';
import { inventoryFromLab, type Inventory } from '../push/inventory.ts';
import { runRollout, type DeviceResult } from '../push/rollout.ts';
import type { LiveTarget } from '../verify/live/run.ts';
import type { AuditEntry, Incident, NewEvent } from './store.ts';

export interface RecoveryPolicy {
  drift: 'off' | 'reapply';
  /** Least time between two re-applies of one device. */
  minIntervalMs: number;
}

export const DEFAULT_RECOVERY: RecoveryPolicy = { drift: 'off', minIntervalMs: 10 * 60_000 };

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
  private running?: Promise<void>;

  constructor(model: FabricModel, target: LiveTarget, policy: RecoveryPolicy, emit: (e: NewEvent) => void, audit: (e: AuditEntry) => void) {
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
    const now = Date.now();
    const devices = i.devices.filter((d) => this.inventory.devices.some((x) => x.name === d) && now - (this.lastApplied.get(d) ?? -Infinity) >= this.policy.minIntervalMs);
    if (!devices.length) return;
    const plan = await runRollout({ model: this.model, inventory: this.only(devices), dryRun: true });
    const drifted = plan.results.filter((r) => r.action === 'would change' && !r.reason.includes(NEVER_APPLIED));
    if (!drifted.length) return;
    for (const r of drifted) this.event('config-drift', 'warning', i, `${r.device}: ${r.reason}`, { reason: r.reason, diff: (r.diff ?? '').slice(0, 8000) }, r.device);
    const names = drifted.map((r) => r.device);
    for (const d of names) this.lastApplied.set(d, now);
    this.event('recovery-started', 'info', i, `drift: reapply on ${names.join(', ')} for incident ${i.id}`, { devices: names });
    const res = await runRollout({
      model: this.model,
      inventory: this.only(names),
      postChecks: pushPostChecks(this.model, { live: true }),
      waveChecks: pushWaveChecks(this.model, { lab: this.lab }),
    });
    const outcome = res.results.map((r: DeviceResult) => `${r.device} ${r.action}${r.reason ? ` (${r.reason.split('\n')[0]})` : ''}`).join('; ');
    this.audit({ time: new Date().toISOString(), actor: 'policy drift: reapply', action: 'reapply', target: names.join(', '), outcome: `${res.ok ? 'ok' : 'failed'}: ${outcome}` });
    this.event(res.ok ? 'recovery-succeeded' : 'recovery-failed', res.ok ? 'info' : 'error', i, `drift: reapply on ${names.join(', ')} ${res.ok ? 'applied' : 'failed'}: ${outcome}`, { devices: names, rollout: res.id ?? null, journal: res.journalDir ?? null, results: res.results.map((r) => ({ device: r.device, action: r.action, reason: r.reason })) });
  }

  private only(names: string[]): Inventory {
    return { ...this.inventory, devices: this.inventory.devices.filter((d) => names.includes(d.name)) };
  }
}
