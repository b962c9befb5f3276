/**
 * What the rollout engine needs from a device, whatever the transport. A snapshot is plain
 * JSON: it is journalled before anything changes, so `apply --recover` can restore a device
 * from the journal alone after the apply process died.
 */
import type { Device } from '../model/types.ts';
import type { RetryListener } from './retry.ts';

export type Transport = 'ssh' | 'netconf';

/** The rendered artifacts a driver pushes (artifact name -> content). */
export type DesiredConfig = Record<string, string>;

export type Snapshot = Record<string, unknown> & {
  transport: Transport;
  /** Observed state post-checks compare against (a service's health), not configuration: no drift when it changes. */
  transient?: Record<string, unknown>;
};

export interface DevicePlan {
  changed: boolean;
  /** Unified diff(s) of what would change, for --dry-run and the journal. */
  diff: string;
  /** One line: what changes ("frr.conf +3 -1, network.sh"). */
  summary: string;
}

export interface PushOptions {
  rolloutId: string;
  /** Seconds the device (or the engine, for FRR) waits for the confirmation before reverting. */
  confirmTimeoutS: number;
  log?: (line: string) => void;
}

export interface DeviceDriver {
  readonly device: string;
  readonly transport: Transport;
  connect(): Promise<void>;
  /** Exclusive change lock for this rollout; DeviceError kind 'locked' when held elsewhere. */
  lock(rolloutId: string): Promise<void>;
  unlock(rolloutId: string): Promise<void>;
  /** Current configuration, with everything needed to restore it. */
  snapshot(desired: DesiredConfig): Promise<Snapshot>;
  plan(current: Snapshot, desired: DesiredConfig): DevicePlan;
  /** What pushing `desired` over `current` disturbs (sessions reset, VNIs/VLANs/VRFs touched), when the driver can tell. */
  disturbance?(current: Snapshot, desired: DesiredConfig): Disturbance;
  /** Checks, then applies as a confirmed commit (reverted unless confirm() follows in time). */
  push(desired: DesiredConfig, opts: PushOptions): Promise<void>;
  confirm(opts: PushOptions): Promise<void>;
  /** Back to the snapshot, whether or not the push was confirmed; idempotent. */
  rollback(snapshot: Snapshot, opts: PushOptions & { persistId?: string }): Promise<void>;
  close(): Promise<void>;
  /** Told of every step abandoned on an unresponsive session and retried on a fresh one. */
  onRetry?: RetryListener;
}

/** A post-check of one device after its push; the verification stage plugs its live checks in here. */
export interface PostCheck {
  name: string;
  /** Undefined when the check does not apply to this device/transport. */
  appliesTo(device: Device, transport: Transport): boolean;
  /**
   * Polls until the device is as the model expects or the deadline passes. Returns the
   * problems left (empty = passed).
   */
  run(ctx: PostCheckContext): Promise<string[]>;
}

export interface PostCheckContext {
  device: Device;
  driver: DeviceDriver;
  desired: DesiredConfig;
  deadline: number;
  /** Runs a command on the device (ssh drivers only). */
  exec?: (cmd: string) => Promise<string>;
  /**
   * Devices this rollout changes in later waves, with their running config from before the
   * rollout: their state is still the old one, so checks must not require what only their new
   * config provides (a session the peer does not have yet, a VTEP of a new VNI, a new peer AS).
   */
  pending: ReadonlyMap<string, string>;
}

/**
 * A check of a whole wave, after its devices' post-checks passed and before they are
 * confirmed: e.g. endpoint flows through the wave's devices still answering as they did before
 * the rollout. `before` runs once, before the first push, with every device the rollout changes.
 */
export interface WaveCheck {
  name: string;
  before(devices: string[]): Promise<void>;
  /**
   * Problems the wave caused (empty = passed), each naming what broke. `pending`: devices of
   * later waves, still on their old configuration (a check of a flow through one of them
   * would judge a half-applied change).
   */
  after(devices: string[], ctx?: { pending: readonly string[] }): Promise<string[]>;
}

/** What a device's change disturbs (a prediction from the configurations; src/push/frr-disturbance.ts). */
export interface Disturbance {
  /** BGP sessions the change resets: "PEER (attribute)". */
  sessions: string[];
  /** Set when everything on the device may be disturbed (a new AS, router id, OSPF process). */
  all?: string;
  /** The default BGP instance's AS, when the change replaces it (heldDown asks whether its peers accept the new one). */
  asChange?: { from: number; to: number };
  /** VNIs, VLANs and VRFs whose devices, addresses or routes change. */
  vnis: number[];
  vlans: number[];
  vrfs: string[];
  /** Interfaces whose underlay (OSPF, addresses, MTU) changes. */
  interfaces: string[];
  /** OSPF interfaces of `interfaces` whose MTU changes, by old and new MTU: their adjacencies reset and stay down while the two ends' MTUs differ. */
  ospfMtu?: { from: number; to: number; interfaces: string[] }[];
  /** VNIs, VLANs and VRFs the change creates (absent from the running state): nothing of theirs runs yet to disturb. */
  added?: { vnis: number[]; vlans: number[]; vrfs: string[]; interfaces?: string[] };
}
