/**
 * NETCONF devices, on the NETCONF client (src/push/netconf). The rendered `netconf-ietf`
 * payload's top-level containers (ietf-interfaces `interfaces`, ietf-routing `routing`) are
 * netloom-managed subtrees: each is sent with `nc:operation="replace"`, so anything in them
 * the model does not have (a stale interface or address) is removed, and every other
 * top-level subtree on the device is left alone. (A merge could never delete what the model
 * dropped.)
 *
 * Sequence: lock candidate, discard-changes, validate the payload inline (netconfd 2.13's
 * `<validate><source><candidate/>` turns the next commit into a no-op), edit-config with
 * rollback-on-error, confirmed commit with a persist id (so `apply --recover` can cancel it
 * from a new session), read running back; confirm = commit with the persist id; on failure
 * cancel-commit / discard-changes; unlock.
 *
 * A session that stops answering (RPC timeout, connection gone) is abandoned and the step is
 * retried on a fresh session (retry.ts), which takes the candidate lock again first; a lock
 * still held by a session this driver abandoned is freed with kill-session. The confirmed
 * commit itself is never replayed: whether it took effect is unknown, so the rollout's
 * rollback (cancel-commit by persist id) decides.
 */
import { unifiedDiff } from '../render/diff.ts';
import {
  NetconfHostKeyError,
  NetconfRpcError,
  NetconfSession,
  NetconfTimeoutError,
  NetconfTransportError,
  type CredentialsInit,
  type HostKeyPolicy,
} from './netconf/index.ts';
import type { DesiredConfig, DeviceDriver, DevicePlan, PushOptions, Snapshot } from './driver.ts';
import { DeviceError, type DeviceErrorKind } from './errors.ts';
import { DEFAULT_RETRY, withSessionRetry, type RetryListener, type RetryPolicy } from './retry.ts';
import { parseFragment, prettyText, sameTrees, subtreeFilter, withOperation, type XNode } from './xml-tree.ts';

export const NETCONF_ARTIFACT = 'netconf-ietf.xml';

export interface NetconfTarget {
  device: string;
  host: string;
  port: number;
  credentials: CredentialsInit;
  hostKey: HostKeyPolicy;
  rpcTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface NetconfSnapshot extends Snapshot {
  transport: 'netconf';
  /** The managed top-level containers (namespace + name). */
  managed: Array<{ ns: string; name: string }>;
  /** `<data>` of get-config running for those containers. */
  running: string;
}

/** Persist id of a rollout's confirmed commits (the same on every device of the rollout). */
export function persistIdOf(rolloutId: string): string {
  return `netloom-${rolloutId}`;
}

function wrap(device: string, e: unknown, step: string): DeviceError {
  if (e instanceof DeviceError) return e;
  let kind: DeviceErrorKind = 'command';
  if (e instanceof NetconfHostKeyError) kind = 'hostkey';
  else if (e instanceof NetconfTransportError) kind = e.kind === 'auth' ? 'auth' : 'unreachable';
  else if (e instanceof NetconfTimeoutError) kind = 'timeout';
  else if (e instanceof NetconfRpcError) kind = step === 'lock' && (e.hasTag('lock-denied') || e.hasTag('in-use') || e.hasTag('resource-denied')) ? 'locked' : 'rejected';
  const msg = (e as Error)?.message ?? String(e);
  return new DeviceError(device, kind, `${device}: ${step}: ${msg}`);
}

export class NetconfDriver implements DeviceDriver {
  readonly transport = 'netconf' as const;
  private session: NetconfSession | undefined;
  /** This driver holds (or, after a fresh session, must take again) the candidate lock. */
  private locked = false;
  /** Session ids this driver gave up on: a lock they still hold is ours to free. */
  private readonly abandoned = new Set<number>();
  retry: RetryPolicy = DEFAULT_RETRY;
  onRetry?: RetryListener;

  constructor(readonly target: NetconfTarget) {}

  get device(): string {
    return this.target.device;
  }

  private get s(): NetconfSession {
    if (!this.session?.isOpen) throw new DeviceError(this.device, 'unreachable', `${this.device}: NETCONF session is gone${this.session?.closeReason ? ` (${this.session.closeReason.message})` : ''}`);
    return this.session;
  }

  /** Runs one step; `replay: false` for a step whose effect is unknown after a lost answer. */
  private step<T>(step: string, f: () => Promise<T>, opts: { replay?: boolean } = {}): Promise<T> {
    const wrapStep = (e: unknown) => wrap(this.device, e, step);
    if (opts.replay === false) return f().catch((e) => Promise.reject(wrapStep(e)));
    return withSessionRetry(step, this.retry, { fresh: () => this.fresh(), onRetry: this.onRetry, wrap: wrapStep }, f);
  }

  /** Drops the current session without waiting for it, opens a new one and re-takes the lock. */
  private async fresh(): Promise<void> {
    const old = this.session;
    this.session = undefined;
    if (old) {
      this.abandoned.add(old.sessionId);
      old.destroy();
    }
    await this.open().catch((e) => Promise.reject(wrap(this.device, e, 'connect')));
    if (this.locked) await this.takeLock().catch((e) => Promise.reject(wrap(this.device, e, 'lock')));
  }

  private async open(): Promise<void> {
    this.session = await NetconfSession.connect({
      host: this.target.host,
      port: this.target.port,
      credentials: this.target.credentials,
      hostKey: this.target.hostKey,
      rpcTimeoutMs: this.target.rpcTimeoutMs ?? 60_000,
      // Not tied to the RPC timeout: SSH set-up of many sessions on a busy host is slow but alive.
      connectTimeoutMs: this.target.connectTimeoutMs ?? 20_000,
      keepaliveIntervalMs: 5_000,
    });
  }

  private async takeLock(): Promise<void> {
    try {
      await this.s.lock('candidate');
    } catch (e) {
      const holder = e instanceof NetconfRpcError && e.hasTag('lock-denied') ? e.sessionId : undefined;
      if (holder === undefined || !this.abandoned.has(holder)) throw e;
      await this.s.killSession(holder);
      this.abandoned.delete(holder);
      await this.s.lock('candidate');
    }
  }

  async connect(): Promise<void> {
    if (this.session?.isOpen) return;
    await this.step('connect', async () => {
      if (!this.session?.isOpen) await this.open();
    });
    for (const cap of [':candidate', ':confirmed-commit:1.1']) {
      if (!this.s.hasCapability(cap)) throw new DeviceError(this.device, 'rejected', `${this.device}: the server lacks ${cap}, which netloom's confirmed-commit rollout needs`);
    }
  }

  async lock(): Promise<void> {
    await this.step('lock', () => this.takeLock());
    this.locked = true;
  }

  async unlock(): Promise<void> {
    if (!this.locked || !this.session?.isOpen) return;
    this.locked = false;
    await this.step('unlock', () => this.s.unlock('candidate'), { replay: false });
  }

  private desiredTree(desired: DesiredConfig): XNode[] {
    const xml = desired[NETCONF_ARTIFACT];
    if (xml === undefined) throw new Error(`${this.device}: no rendered ${NETCONF_ARTIFACT}`);
    return parseFragment(xml);
  }

  private async running(managed: Array<{ ns: string; name: string }>): Promise<string> {
    if (managed.length === 0) return '';
    return this.step('get-config', () => this.s.getConfig({ source: 'running', filter: { subtree: subtreeFilter(managed) } }));
  }

  async snapshot(desired: DesiredConfig): Promise<NetconfSnapshot> {
    const managed = this.desiredTree(desired).map((n) => ({ ns: n.ns, name: n.name }));
    return { transport: 'netconf', managed, running: await this.running(managed) };
  }

  plan(current: Snapshot, desired: DesiredConfig): DevicePlan {
    const cur = current as NetconfSnapshot;
    const want = this.desiredTree(desired);
    const have = parseFragment(cur.running);
    if (sameTrees(have, want)) return { changed: false, diff: '', summary: '' };
    const diff = unifiedDiff(prettyText(have), prettyText(want), `a/${this.device}/running`, `b/${this.device}/${NETCONF_ARTIFACT}`);
    const n = diff.split('\n').filter((l) => /^[+-][^+-]/.test(l)).length;
    return { changed: true, diff, summary: `${want.map((x) => x.name).join(', ')}: ${n} line(s) differ` };
  }

  private editPayload(tops: XNode[], managed: Array<{ ns: string; name: string }>): string {
    const parts = tops.map((t) => withOperation(t, 'replace'));
    for (const m of managed) if (!tops.some((t) => t.ns === m.ns && t.name === m.name)) parts.push(withOperation({ ...m, children: [] }, 'remove'));
    return parts.join('');
  }

  async push(desired: DesiredConfig, opts: PushOptions): Promise<void> {
    const tops = this.desiredTree(desired);
    const plain = desired[NETCONF_ARTIFACT].replace(/<!--[\s\S]*?-->/g, '');
    await this.step('discard-changes', () => this.s.discardChanges());
    if (this.s.hasCapability(':validate')) await this.step('validate', () => this.s.validate({ source: { config: plain } }));
    try {
      await this.step('edit-config', () => this.s.editConfig({ target: 'candidate', config: this.editPayload(tops, []), errorOption: 'rollback-on-error' }));
      await this.step('commit', () => this.s.commit({ confirmed: true, confirmTimeout: Math.max(1, Math.round(opts.confirmTimeoutS)), persist: persistIdOf(opts.rolloutId) }), { replay: false });
    } catch (e) {
      await this.s.discardChanges().catch(() => undefined);
      throw e;
    }
    // netconfd can answer <ok/> to a commit that changed nothing: trust only what running says.
    const now = parseFragment(await this.running(tops.map((t) => ({ ns: t.ns, name: t.name }))));
    if (!sameTrees(now, tops)) {
      throw new DeviceError(this.device, 'rejected', `${this.device}: commit answered ok but running differs from the payload:\n${unifiedDiff(prettyText(tops), prettyText(now), 'payload', 'running')}`);
    }
  }

  async confirm(opts: PushOptions): Promise<void> {
    await this.step('confirming commit', () => this.s.commit({ persistId: persistIdOf(opts.rolloutId) }));
  }

  /**
   * cancel-commit of a pending confirmed commit; then, if running is still not the snapshot
   * (the commit was confirmed already), the snapshot's subtrees are committed back.
   */
  async rollback(snapshot: Snapshot, opts: PushOptions): Promise<void> {
    const snap = snapshot as NetconfSnapshot;
    await this.connect();
    try {
      await this.step('cancel-commit', () => this.s.cancelCommit({ persistId: persistIdOf(opts.rolloutId) }));
    } catch (e) {
      if (!(e instanceof DeviceError && e.kind === 'rejected')) throw e;
      // No pending confirmed commit of this rollout: it was confirmed, or reverted by the device.
    }
    const prev = parseFragment(snap.running);
    if (sameTrees(parseFragment(await this.running(snap.managed)), prev)) return;
    const hadLock = this.locked;
    if (!hadLock) await this.lock();
    try {
      await this.step('discard-changes', () => this.s.discardChanges());
      await this.step('edit-config (rollback)', () => this.s.editConfig({ target: 'candidate', config: this.editPayload(prev, snap.managed), errorOption: 'rollback-on-error' }));
      await this.step('commit (rollback)', () => this.s.commit());
    } finally {
      if (!hadLock) await this.unlock().catch(() => undefined);
    }
    const after = parseFragment(await this.running(snap.managed));
    if (!sameTrees(after, prev)) throw new DeviceError(this.device, 'command', `${this.device}: running differs from the snapshot after rollback`);
  }

  /** Post-check: running holds exactly the payload's subtrees. */
  async verifyRunning(desired: DesiredConfig): Promise<string[]> {
    const tops = this.desiredTree(desired);
    const now = parseFragment(await this.running(tops.map((t) => ({ ns: t.ns, name: t.name }))));
    return sameTrees(now, tops) ? [] : [`running config differs from ${NETCONF_ARTIFACT}`];
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.locked = false;
    this.abandoned.clear();
    if (s) await s.close({ timeoutMs: 3000 });
  }
}
