/**
 * Each device's running state as its push driver snapshots it before a rollout, read without
 * a lock and without changing anything (`netloom plan --save --target`): `apply --plan`
 * compares the same snapshot, taken under the rollout's locks, with what the plan saw.
 */
import type { FabricModel } from '../model/types.ts';
import { EnvironmentError } from '../util/errors.ts';
import type { Snapshot } from './driver.ts';
import type { Inventory } from './inventory.ts';
import { desiredFor, driverDevices, limited, makeDriver } from './rollout.ts';

export async function readSnapshots(model: FabricModel, inventory: Inventory, concurrency = 16): Promise<Map<string, Snapshot>> {
  const { invs, artifacts } = driverDevices(model, inventory);
  const desired = desiredFor(model, invs, artifacts);
  const out = new Map<string, Snapshot>();
  const errors: string[] = [];
  await limited(invs, concurrency, async (dev) => {
    const driver = makeDriver(dev);
    try {
      await driver.connect();
      out.set(dev.name, await driver.snapshot(desired.get(dev.name)!));
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      errors.push(msg.startsWith(`${dev.name}: `) ? msg : `${dev.name}: ${msg}`);
    } finally {
      await driver.close().catch(() => undefined);
    }
  });
  if (errors.length) throw new EnvironmentError(`reading the running state of ${inventory.origin}: ${errors.sort().join('; ')}`);
  return out;
}
