/**
 * Push drivers by name. Which one a device gets is platform data: models/platforms/<p>.yaml
 * `push.<transport>.driver`, with the artifacts it pushes; a transport a platform declares no
 * driver for is a usage error naming the file.
 */
import type { PlatformDef } from '../model/platforms.ts';
import { UsageError } from '../util/errors.ts';
import type { DeviceDriver, Transport } from './driver.ts';
import { FrrDriver } from './frr-driver.ts';
import type { InventoryDevice } from './inventory.ts';
import { NetconfDriver } from './netconf-driver.ts';
import { SERVICE_NODE_DRIVER, ServiceNodeDriver, type ServiceNodePushSpec } from './service-node-driver.ts';
import type { CredentialsInit } from './netconf/index.ts';

type Common = { device: string; host: string; port: number; hostKey: InventoryDevice['hostKey']; credentials: CredentialsInit };

export interface DriverOptions {
  /** NETCONF: per-RPC timeout (apply --rpc-timeout). */
  rpcTimeoutMs?: number;
}

export const PUSH_DRIVERS: Record<string, (common: Common, dev: InventoryDevice, opts: DriverOptions) => DeviceDriver> = {
  /** FRR over SSH: network.sh, then frr.conf through frr-reload.py, with emulated confirm. */
  'frr-ssh': (common, dev) => new FrrDriver(common, dev.paths),
  /** Any NETCONF server: the rendered IETF payload as a confirmed commit. */
  netconf: (common, _dev, opts) => new NetconfDriver({ ...common, rpcTimeoutMs: opts.rpcTimeoutMs }),
  /** A service node (load balancer, DNS server...): its FRR, announcements and service files. */
  [SERVICE_NODE_DRIVER]: (common, dev) => {
    const spec = (dev as InventoryDevice & { service?: ServiceNodePushSpec }).service;
    if (!spec) throw new Error(`${dev.name}: a service node's driver needs its push spec`);
    return new ServiceNodeDriver(common, spec);
  },
};

export interface PushSpec {
  driver: string;
  artifacts: string[];
}

/** The driver and artifacts of a device of `platform` reached over `transport`. */
export function pushSpec(platform: PlatformDef, transport: Transport, device: string): PushSpec {
  const spec = platform.push[transport];
  if (!spec) {
    const over = Object.keys(platform.push);
    throw new UsageError(`${device}: platform '${platform.name}' has no push driver over ${transport}${over.length ? ` (it has: ${over.join(', ')})` : ''}; see models/platforms/${platform.name}.yaml push`);
  }
  if (!PUSH_DRIVERS[spec.driver]) throw new Error(`models/platforms/${platform.name}.yaml: unknown push driver '${spec.driver}' (drivers: ${Object.keys(PUSH_DRIVERS).join(', ')})`);
  return spec;
}
