/**
 * The rollout engine behind `netloom apply`: render the model, connect to every device of the
 * inventory, lock it, snapshot and diff it; push the changed devices in waves (a canary wave
 * first) as confirmed commits, run the post-checks, confirm; on any failure roll back the
 * failing wave and every earlier one. Every step is journalled (journal.ts) before it is
 * taken, so `recoverRollouts` can finish the job after a crash.
 *
 * Confirmed commit: NETCONF devices get `<commit><confirmed/>` and revert by themselves; FRR has
 * no such thing, so the engine emulates it: a device whose post-checks have not passed by
 * the confirm deadline is rolled back (and after a crash, `apply --recover` does it).
 */
import { sessionOrder } from './session-order.ts';
import type { Device, FabricModel } from '../model/types.ts';
import { renderModel } from '../render/index.ts';
import { UsageError } from '../util/errors.ts';
import type { DesiredConfig, DeviceDriver, Disturbance, PostCheck, PushOptions, Snapshot, WaveCheck } from './driver.ts';
import { DeviceError } from './errors.ts';
import { FrrDriver } from './frr-driver.ts';
import { acceptsAs, bgpNeighbours } from './frr-disturbance.ts';
import { credentialsFor, type Inventory, type InventoryDevice } from './inventory.ts';
import { atomicWrite, Journal } from './journal.ts';
import { loadPlatforms } from '../model/platforms.ts';
import { pushPostChecks, pushServiceNodeChecks } from '../domains/index.ts';
import { serviceNodeProblems, type ServiceNodeCheck } from './service-node-checks.ts';
import type { ServiceNode } from '../model/service-nodes.ts';
import { PUSH_DRIVERS, pushSpec, type DriverOptions } from './drivers.ts';
import { SERVICE_NODE_DRIVER, serviceNodePushSpec, ServiceNodeDriver, type ServiceNodePushSpec, type ServiceNodeSnapshot } from './service-node-driver.ts';
import { lineReporter, type Reporter } from './progress.ts';
import path from 'node:path';

export type Action = 'unchanged' | 'applied' | 'rolled back' | 'failed' | 'would change' | 'not applied';

export interface DeviceResult {
  device: string;
  transport: string;
  action: Action;
  reason: string;
  diff?: string;
  /** What the change disturbs (planned changes of drivers that can tell). */
  disturbs?: Disturbance;
}

export interface RolloutOptions {
  model: FabricModel;
  inventory: Inventory;
  dryRun?: boolean;
  /** Devices in the first wave (default 1). */
  canary?: number;
  /** Devices per later wave (default 5). */
  waveSize?: number;
  /** Seconds before an unconfirmed push is reverted (default 120). */
  confirmTimeoutS?: number;
  /** Default: every domain's push post-checks (pushPostChecks(model)). */
  postChecks?: PostCheck[];
  /** Post-checks of pushed service nodes; default: the core's and every domain's (pushServiceNodeChecks(model)). */
  serviceNodeChecks?: ServiceNodeCheck[];
  /** Checks of each wave as a whole (endpoint flow probes in a lab): a failure rolls the wave back. */
  waveChecks?: WaveCheck[];
  /** Seconds a NETCONF RPC may go unanswered before its session is abandoned and the step retried (default 60). */
  rpcTimeoutS?: number;
  /** Parallel connections while preparing (default 16). */
  concurrency?: number;
  reporter?: Reporter;
  /**
   * Checked on every device's snapshot before anything is pushed (apply --plan: the running
   * state the plan saw); a reason refuses the whole rollout, nothing pushed.
   */
  driftCheck?: (device: string, snapshot: Snapshot) => string | undefined;
  /** Called once the journal exists (tests and the CLI print where it is). */
  onJournal?: (dir: string) => void;
}

export interface RolloutResult {
  id?: string;
  journalDir?: string;
  results: DeviceResult[];
  /** No device failed or was rolled back. */
  ok: boolean;
  /** Why the rollout was refused before any push (the drift check's reasons). */
  refused?: string[];
  /**
   * Adjacencies a wave would take down until a later wave (or none) brings the other end to the
   * same state: the rollout is refused before any push (a dry run says it would be).
   */
  unsafe?: string[];
  changed: number;
}

/**
 * An inventory device with the push driver its platform declares for its transport; a service
 * node's carries its push spec (journalled with the inventory, so recovery needs no model).
 */
export type DriverDevice = InventoryDevice & { driver: string; service?: ServiceNodePushSpec };

export function makeDriver(dev: DriverDevice, opts: DriverOptions = {}): DeviceDriver {
  const make = PUSH_DRIVERS[dev.driver];
  if (!make) throw new Error(`${dev.name}: unknown push driver '${dev.driver}'`);
  const credentials = (() => {
    try {
      return credentialsFor(dev);
    } catch (e) {
      return e as DeviceError;
    }
  })();
  const common = { device: dev.name, host: dev.address, port: dev.port, hostKey: dev.hostKey };
  if (credentials instanceof Error) {
    // Fails at connect, like an authentication failure, so the device shows up in the summary.
    const err = credentials;
    const d = make({ ...common, credentials: { username: dev.username } }, dev, opts);
    d.connect = () => Promise.reject(err);
    return d;
  }
  return make({ ...common, credentials }, dev, opts);
}

/**
 * The inventory's devices in model order (so waves are deterministic), each with the push
 * driver and artifacts its platform declares; a device the model lacks is a usage error.
 */
export function driverDevices(model: FabricModel, inventory: Inventory): { invs: DriverDevice[]; artifacts: Map<string, string[]>; missing: string[] } {
  const names = new Set(model.devices.map((d) => d.name));
  const serviceNodes = new Map((model.serviceNodes ?? []).map((n) => [n.name, n]));
  const unknown = inventory.devices.filter((d) => !names.has(d.name) && !serviceNodes.has(d.name));
  if (unknown.length) {
    throw new UsageError(`inventory ${inventory.origin} names devices the model (fabric ${model.name}) does not have: ${unknown.map((d) => d.name).join(', ')}`);
  }
  const missing = model.devices.filter((d) => !inventory.devices.some((i) => i.name === d.name)).map((d) => d.name);
  const platforms = loadPlatforms();
  const artifacts = new Map<string, string[]>();
  const invs: DriverDevice[] = model.devices.flatMap((d) => {
    const inv = inventory.devices.find((i) => i.name === d.name);
    if (!inv) return [];
    const spec = pushSpec(platforms.get(d.platform)!, inv.transport, d.name);
    artifacts.set(d.name, spec.artifacts);
    return [{ ...inv, driver: spec.driver }];
  });
  // Service nodes after the devices: their leaves accept their prefixes before they announce them.
  for (const n of serviceNodes.values()) {
    const inv = inventory.devices.find((i) => i.name === n.name);
    if (!inv) continue;
    if (inv.transport !== 'ssh') throw new UsageError(`${n.name}: a service node (${n.role}) is pushed over ssh, not ${inv.transport}${inv.source ? ` (${inv.source.file}:${inv.source.line}:${inv.source.col})` : ''}`);
    const spec = serviceNodePushSpec(n);
    artifacts.set(n.name, spec.files.map((f) => f.artifact));
    invs.push({ ...inv, driver: SERVICE_NODE_DRIVER, service: spec });
  }
  return { invs, artifacts, missing };
}

export async function limited<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await f(items[i++]);
  }));
}

/** Each device's rendered artifacts; the ones its push driver needs (platform data) must be there. */
export function desiredFor(model: FabricModel, devices: DriverDevice[], artifacts: Map<string, string[]>): Map<string, DesiredConfig> {
  const r = renderModel(model, { devices: devices.map((d) => d.name) });
  const out = new Map<string, DesiredConfig>();
  for (const a of r.artifacts) {
    const m = out.get(a.device) ?? {};
    m[a.artifact] = a.content;
    out.set(a.device, m);
  }
  for (const d of devices) {
    const m = out.get(d.name) ?? {};
    const need = artifacts.get(d.name)!;
    const missing = need.filter((n) => m[n] === undefined);
    if (missing.length) {
      const dev = model.devices.find((x) => x.name === d.name);
      throw new UsageError(`${d.name}: transport ${d.transport} needs ${missing.join(', ')}, which ${dev ? `platform '${dev.platform}'` : 'its service node'} does not render`);
    }
  }
  return out;
}

function errText(e: unknown): { kind: string; message: string } {
  if (e instanceof DeviceError) return { kind: e.kind, message: e.message.replace(new RegExp(`^${e.device}: `), '') };
  return { kind: 'error', message: (e as Error)?.message ?? String(e) };
}

interface Slot {
  inv: InventoryDevice;
  /** A fabric device, or else a service node. */
  device?: Device;
  node?: ServiceNode;
  driver: DeviceDriver;
  desired: DesiredConfig;
  snapshot?: Snapshot;
  result: DeviceResult;
  locked: boolean;
  /** Reached commit-start: the device may differ from its snapshot. */
  touched: boolean;
}

/**
 * Adjacencies the waves would hold down, with the other end in a later wave (or not changed):
 * the device's post-check fails and the wave is rolled back, after holding them down until its
 * deadline. An OSPF interface whose MTU a wave changes resets its adjacency, which stays in
 * ExStart until the other end has the same MTU (RFC 2328 10.6, FRR verified in a lab). A BGP
 * session whose end gets a new AS stays down while the other end's `remote-as` does not accept
 * it, or its new `remote-as` does not accept the other end's AS (an iBGP fabric's AS). `frr`:
 * a device's FRR configuration before (running) and after (desired) the rollout.
 */
export function heldDown(model: FabricModel, waves: { device: string; disturbs?: Disturbance }[][], frr?: (device: string) => { running?: string; desired?: string } | undefined): string[] {
  const waveOf = new Map(waves.flatMap((w, i) => w.map((x) => [x.device, i] as const)));
  const out: string[] = [];
  const later = (w: number | undefined) => (w === undefined ? 'it does not change' : `wave ${w + 1}`);
  // A spine's config is read once, not once per leaf whose AS moves.
  const parsed = new Map<string, ReturnType<typeof bgpNeighbours>>();
  const neighbours = (config: string) => parsed.get(config) ?? parsed.set(config, bgpNeighbours(config)).get(config)!;
  for (const [i, wave] of waves.entries()) {
    for (const x of wave) {
      if (x.disturbs?.asChange && frr) out.push(...sessionsHeldDown(model, x.device, i, waveOf, frr, later, neighbours));
      for (const g of x.disturbs?.ospfMtu ?? []) {
        for (const iface of g.interfaces) {
          const a = model.ospfAdjacencies.find((o) => (o.a.device === x.device && o.a.interface === iface) || (o.b.device === x.device && o.b.interface === iface));
          if (!a) continue;
          const peer = a.a.device === x.device ? a.b : a.a;
          const w = waveOf.get(peer.device);
          // Each link once, from the end whose wave comes first.
          if (w !== undefined && w <= i) continue;
          out.push(`${x.device} ${iface}: MTU ${g.from} -> ${g.to} in wave ${i + 1} resets its OSPF adjacency with ${peer.device} ${peer.interface}, down until ${peer.device} has the same MTU (${later(w)})`);
        }
      }
    }
  }
  return out;
}

/** heldDown's BGP part: the default-instance sessions of `device` (a new AS in wave `i`) its peers pushed later would not accept. */
function sessionsHeldDown(model: FabricModel, device: string, i: number, waveOf: ReadonlyMap<string, number>, frr: (device: string) => { running?: string; desired?: string } | undefined, later: (w: number | undefined) => string, neighbours: typeof bgpNeighbours): string[] {
  const out: string[] = [];
  const mine = frr(device);
  if (!mine?.running || !mine.desired) return out;
  const [before, after] = [neighbours(mine.running), neighbours(mine.desired)];
  for (const s of model.bgpSessions) {
    const [me, other] = s.a.device === device ? [s.a, s.b] : s.b.device === device ? [s.b, s.a] : [undefined, undefined];
    if (!me || !other) continue;
    const w = waveOf.get(other.device);
    if (w !== undefined && w <= i) continue;
    const key = me.interface ?? other.address?.split('/')[0];
    const peerKey = other.interface ?? me.address?.split('/')[0];
    const theirs = frr(other.device)?.running;
    if (!key || !peerKey || !theirs) continue;
    const peer = neighbours(theirs);
    const [specBefore, specAfter, specPeer] = [before.remote.get(key), after.remote.get(key), peer.remote.get(peerKey)];
    // A session created or removed comes or goes with the other end; one already down is not this change's.
    if (!specBefore || !specAfter || !specPeer || before.asn === undefined || after.asn === undefined || peer.asn === undefined) continue;
    if (!acceptsAs(specBefore, peer.asn, before.asn) || !acceptsAs(specPeer, before.asn, peer.asn)) continue;
    if (acceptsAs(specAfter, peer.asn, after.asn) && acceptsAs(specPeer, after.asn, peer.asn)) continue;
    out.push(`${device} ${key}: BGP AS ${before.asn} -> ${after.asn} in wave ${i + 1}: its session with ${other.device} (AS ${peer.asn}, remote-as ${specPeer} for it) stays down until ${other.device} changes (${later(w)})`);
  }
  return out;
}

/** The waves of a rollout: a canary wave, then waves of `waveSize`, in the given (model) order. */
export function planWaves<T>(changed: T[], canary: number, waveSize: number): T[][] {
  if (!changed.length) return [];
  const waves: T[][] = [changed.slice(0, Math.max(1, canary))];
  for (let i = Math.max(1, canary); i < changed.length; i += Math.max(1, waveSize)) waves.push(changed.slice(i, i + Math.max(1, waveSize)));
  return waves;
}

export async function runRollout(opts: RolloutOptions): Promise<RolloutResult> {
  const { model, inventory } = opts;
  const rep = opts.reporter ?? lineReporter(() => undefined);
  const confirmTimeoutS = opts.confirmTimeoutS ?? 120;
  const canary = Math.max(1, opts.canary ?? 1);
  const waveSize = Math.max(1, opts.waveSize ?? 5);
  const byName = new Map(model.devices.map((d) => [d.name, d]));
  const nodeByName = new Map((model.serviceNodes ?? []).map((n) => [n.name, n]));
  const { invs, artifacts, missing } = driverDevices(model, inventory);
  if (missing.length) rep.log(`note: not in the inventory, left alone: ${missing.join(', ')}`);
  const desired = desiredFor(model, invs, artifacts);
  const slots: Slot[] = invs.map((inv) => ({
    inv,
    device: byName.get(inv.name),
    node: nodeByName.get(inv.name),
    driver: makeDriver(inv, { rpcTimeoutMs: opts.rpcTimeoutS === undefined ? undefined : opts.rpcTimeoutS * 1000 }),
    desired: desired.get(inv.name)!,
    result: { device: inv.name, transport: inv.transport, action: 'not applied', reason: '' },
    locked: false,
    touched: false,
  }));

  const journal = opts.dryRun ? undefined : Journal.create();
  const jr = (e: Parameters<Journal['append']>[0]): void => journal?.append(e);
  if (journal) {
    // With each device's driver: recovery reconnects without the model.
    atomicWrite(path.join(journal.dir, 'inventory.json'), JSON.stringify({ ...inventory, devices: invs }, null, 2) + '\n');
    jr({ t: 'start', id: journal.id, fabric: model.name, intentDir: model.intentDir, target: inventory.origin, devices: slots.map((s) => s.inv.name), confirmTimeoutS, pid: process.pid });
    opts.onJournal?.(journal.dir);
  }
  for (const s of slots) {
    s.driver.onRetry = (r) => {
      jr({ t: 'retry', device: s.inv.name, ...r });
      rep.log(`  ${s.inv.name}: ${r.step}: session not answering (${r.error}); retry ${r.attempt + 1}/${r.tries} on a fresh session in ${r.delayMs} ms`);
    };
  }
  const rolloutId = journal?.id ?? 'dry-run';
  const pushOpts: PushOptions = { rolloutId, confirmTimeoutS, log: (l) => rep.log(`  ${l}`) };

  const finish = async (status: 'ok' | 'rolled-back' | 'failed' | 'nothing-to-do'): Promise<RolloutResult> => {
    await Promise.all(
      slots.map(async (s) => {
        if (s.locked) await s.driver.unlock(rolloutId).catch(() => undefined);
        await s.driver.close().catch(() => undefined);
      }),
    );
    jr({ t: 'end', status });
    journal?.close();
    const results = slots.map((s) => s.result);
    return {
      id: journal?.id,
      journalDir: journal?.dir,
      results,
      ok: !results.some((r) => r.action === 'failed' || r.action === 'rolled back'),
      changed: results.filter((r) => r.action === 'applied' || r.action === 'would change').length,
    };
  };

  // What works before the change, to tell what a wave broke: probed while the devices are being
  // prepared, from the first device found to change (so a rollout with nothing to do waits for
  // no probe), over the flows through every device of the rollout.
  const waveChecks = opts.waveChecks ?? [];
  let beforeChecks: Promise<unknown> | undefined;
  const startBeforeChecks = () => (beforeChecks ??= Promise.all(waveChecks.map((c) => c.before(slots.map((x) => x.inv.name)))));

  // 1. Connect, lock, snapshot and diff every device; any failure here aborts before a change.
  rep.log(`${opts.dryRun ? 'checking' : 'preparing'} ${slots.length} device(s) of ${model.name} (${inventory.origin})`);
  let prepFailed = false;
  await limited(slots, opts.concurrency ?? 16, async (s) => {
    try {
      await s.driver.connect();
      if (!opts.dryRun) {
        await s.driver.lock(rolloutId);
        s.locked = true;
      }
      s.snapshot = await s.driver.snapshot(s.desired);
      const plan = s.driver.plan(s.snapshot, s.desired);
      jr({ t: 'plan', device: s.inv.name, changed: plan.changed, summary: plan.summary });
      if (plan.changed) {
        if (!opts.dryRun) void startBeforeChecks().catch(() => undefined);
        jr({ t: 'snapshot', device: s.inv.name, transport: s.inv.transport, snapshot: s.snapshot });
        const disturbs = s.driver.disturbance?.(s.snapshot, s.desired);
        s.result = { ...s.result, action: opts.dryRun ? 'would change' : 'not applied', reason: plan.summary, diff: plan.diff, ...(disturbs ? { disturbs } : {}) };
      } else {
        s.result = { ...s.result, action: 'unchanged', reason: '' };
        if (s.locked) await s.driver.unlock(rolloutId).catch(() => undefined);
        s.locked = false;
        await s.driver.close();
      }
    } catch (e) {
      prepFailed = true;
      const { kind, message } = errText(e);
      jr({ t: 'device-failed', device: s.inv.name, kind, error: message });
      s.result = { ...s.result, action: 'failed', reason: `${kind}: ${message}` };
    }
  });
  // Its probes are child processes: they end before the rollout does, whatever happens next.
  const beforeDone = beforeChecks?.then(() => undefined, (e: unknown) => e);
  if (prepFailed) {
    await beforeDone;
    for (const s of slots) if (s.result.action !== 'failed' && s.result.action !== 'unchanged') s.result = { ...s.result, action: 'not applied', reason: 'rollout aborted before any change (another device failed)', diff: undefined };
    return finish('failed');
  }
  if (opts.driftCheck) {
    const drift = slots.flatMap((s) => {
      const why = s.snapshot && opts.driftCheck!(s.inv.name, s.snapshot);
      return why ? [{ s, why }] : [];
    });
    if (drift.length) {
      await beforeDone;
      const drifted = new Set(drift.map((d) => d.s));
      for (const { s, why } of drift) {
        jr({ t: 'device-failed', device: s.inv.name, kind: 'drift', error: why });
        s.result = { ...s.result, action: 'failed', reason: `drift: ${why.replace(`${s.inv.name}: `, '')}`, diff: undefined };
      }
      for (const s of slots) if (!drifted.has(s) && s.result.action !== 'unchanged') s.result = { ...s.result, action: 'not applied', reason: 'refused: another device drifted since the plan', diff: undefined };
      return { ...(await finish('failed')), refused: drift.map((d) => d.why) };
    }
  }
  const changed = slots.filter((s) => s.result.action === 'not applied' || s.result.action === 'would change');
  // 2. Waves.
  // Service nodes one per wave, after the devices: two nodes serving one VIP never change at once.
  const devicesFirst = sessionOrder(changed.filter((s) => !s.node), model, (s) => s.inv.name, (s) => (s.device?.platform === 'frr' && s.inv.transport === 'ssh' && typeof s.snapshot?.running === 'string' ? s.snapshot.running : undefined));
  const waves = [...planWaves(devicesFirst, canary, waveSize), ...changed.filter((s) => s.node).map((s) => [s])];
  const bySlot = new Map(slots.map((s) => [s.inv.name, s]));
  const frrOf = (device: string) => {
    const s = bySlot.get(device);
    const running = s?.snapshot?.running;
    return s?.device?.platform === 'frr' && typeof running === 'string' ? { running, desired: s.desired['frr.conf'] } : undefined;
  };
  const unsafe = heldDown(model, waves.map((w) => w.map((s) => ({ device: s.inv.name, disturbs: s.result.disturbs }))), frrOf);
  if (opts.dryRun || changed.length === 0) return { ...(await finish(changed.length === 0 ? 'nothing-to-do' : 'ok')), ...(unsafe.length ? { unsafe } : {}) };
  if (unsafe.length) {
    await beforeDone;
    for (const s of changed) s.result = { ...s.result, action: 'not applied', reason: 'refused: the waves would hold peerings down (see below)', diff: undefined };
    for (const why of unsafe) jr({ t: 'device-failed', device: why.split(' ')[0], kind: 'unsafe', error: why });
    return { ...(await finish('failed')), ok: false, unsafe };
  }
  const beforeError = await beforeDone;
  if (beforeError) throw beforeError;
  const done: Slot[] = [];
  for (let w = 0; w < waves.length; w++) {
    const wave = waves[w];
    const pending = new Map<string, string>(waves.slice(w + 1).flatMap((ws) => ws.map((s) => [s.inv.name, String(s.snapshot?.running ?? '')] as [string, string])));
    rep.wave(w, waves.length, wave.map((s) => s.inv.name));
    jr({ t: 'wave', wave: w, devices: wave.map((s) => s.inv.name) });
    const failures = new Map<Slot, string>();
    const t0 = Date.now();
    const deadline = t0 + confirmTimeoutS * 1000 - Math.min(5000, confirmTimeoutS * 200);
    await Promise.all(
      wave.map(async (s) => {
        try {
          rep.step(s.inv.name, 'pushing');
          jr({ t: 'commit-start', device: s.inv.name, wave: w });
          s.touched = true;
          await s.driver.push(s.desired, pushOpts);
          jr({ t: 'committed', device: s.inv.name, wave: w });
          rep.step(s.inv.name, 'post-checks');
          // Checks run side by side, each polling on its own.
          const exec = s.driver instanceof FrrDriver || s.driver instanceof ServiceNodeDriver ? (cmd: string) => (s.driver as FrrDriver | ServiceNodeDriver).exec(cmd) : undefined;
          const problems = s.node
            ? await serviceNodeProblems(opts.serviceNodeChecks ?? pushServiceNodeChecks(model), { node: s.node, exec: exec!, host: (s.driver as ServiceNodeDriver).host, desired: s.desired, before: s.snapshot as ServiceNodeSnapshot, deadline })
            : (
                await Promise.all(
                  (opts.postChecks ?? pushPostChecks(model))
                    .filter((c) => c.appliesTo(s.device!, s.inv.transport))
                    .map(async (c) => (await c.run({ device: s.device!, driver: s.driver, desired: s.desired, deadline, exec, pending })).map((p) => `${c.name}: ${p}`)),
                )
              ).flat();
          jr({ t: 'postcheck', device: s.inv.name, ok: problems.length === 0, problems });
          if (problems.length) throw new DeviceError(s.inv.name, 'postcheck', `${s.inv.name}: post-checks failed: ${problems.join('; ')}`);
          rep.deviceDone(s.inv.name, true);
        } catch (e) {
          const { kind, message } = errText(e);
          jr({ t: 'device-failed', device: s.inv.name, kind, error: message });
          failures.set(s, `${kind}: ${message}`);
          rep.deviceDone(s.inv.name, false);
        }
      }),
    );
    if (failures.size === 0 && waveChecks.length) {
      rep.log(`  wave ${w + 1}: ${waveChecks.map((c) => c.name).join(', ')}`);
      const names = wave.map((s) => s.inv.name);
      const later = [...pending.keys()];
      const problems = (await Promise.all(waveChecks.map(async (c) => (await c.after(names, { pending: later })).map((p) => `${c.name}: ${p}`)))).flat();
      jr({ t: 'wave-check', wave: w, ok: problems.length === 0, problems });
      for (const p of problems) rep.log(`  ${p}`);
      if (problems.length) for (const s of wave) failures.set(s, `wave-check: ${problems.join('; ')}`);
    }
    // Test hook (crash tests): hold the wave between commit and confirm.
    const hold = Number(process.env.NETLOOM_TEST_HOLD_BEFORE_CONFIRM_MS ?? 0);
    if (hold > 0) await new Promise((r) => setTimeout(r, hold));
    if (failures.size === 0 && Date.now() > t0 + confirmTimeoutS * 1000) {
      for (const s of wave) failures.set(s, `confirm: post-checks passed after the confirm timeout (${confirmTimeoutS} s)`);
    }
    if (failures.size === 0) {
      await Promise.all(
        wave.map(async (s) => {
          try {
            await s.driver.confirm(pushOpts);
            jr({ t: 'confirmed', device: s.inv.name });
          } catch (e) {
            const { kind, message } = errText(e);
            failures.set(s, `confirm: ${kind}: ${message}`);
          }
        }),
      );
    }
    if (failures.size === 0) {
      rep.waveDone(true);
      for (const s of wave) s.result = { ...s.result, action: 'applied', reason: s.result.reason };
      done.push(...wave);
      continue;
    }
    rep.waveDone(false);
    // 3. Roll back this wave and every earlier one, newest first.
    const culprits = [...failures.keys()].map((s) => s.inv.name).join(', ');
    const toUndo = [...wave.filter((s) => s.touched), ...done.reverse()];
    rep.log(`rolling back ${toUndo.map((s) => s.inv.name).join(', ')} (wave ${w + 1} failed: ${culprits})`);
    await Promise.all(
      toUndo.map(async (s) => {
        const why = failures.get(s) ?? `rolled back: wave ${w + 1} failed on ${culprits}`;
        try {
          jr({ t: 'rollback-start', device: s.inv.name });
          await s.driver.connect();
          await s.driver.rollback(s.snapshot!, pushOpts);
          jr({ t: 'rolled-back', device: s.inv.name });
          s.result = { ...s.result, action: 'rolled back', reason: why };
        } catch (e) {
          const { kind, message } = errText(e);
          jr({ t: 'rollback-failed', device: s.inv.name, error: message });
          s.result = { ...s.result, action: 'failed', reason: `${why}; ROLLBACK FAILED (${kind}: ${message}): run netloom apply --recover` };
        }
      }),
    );
    for (const s of wave) if (!s.touched) s.result = { ...s.result, action: 'not applied', reason: 'wave failed before this device was pushed' };
    for (const later of waves.slice(w + 1)) for (const s of later) s.result = { ...s.result, action: 'not applied', reason: `rollout stopped: wave ${w + 1} failed` };
    return finish(toUndo.every((s) => s.result.action === 'rolled back') ? 'rolled-back' : 'failed');
  }
  return finish('ok');
}

/** The end-of-run table: device, transport, action, reason. */
export function summaryTable(results: DeviceResult[]): string[] {
  const head = ['DEVICE', 'TRANSPORT', 'ACTION', 'REASON'];
  const rows = results.map((r) => [r.device, r.transport, r.action, r.reason.split('\n')[0]]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}
