/**
 * Live collection from an inventory (the same file `netloom apply` reads): FRR devices over
 * the push stage's SSH driver (host keys pinned, credentials by reference), NETCONF devices
 * through its NETCONF driver, whose running datastore is compared with the rendered
 * netconf-ietf payload.
 */
import type { FabricModel } from '../../model/types.ts';
import { makeDriver } from '../../push/rollout.ts';
import type { Inventory } from '../../push/inventory.ts';
import { FrrDriver } from '../../push/frr-driver.ts';
import { NetconfDriver } from '../../push/netconf-driver.ts';
import { renderModel } from '../../render/index.ts';
import type { Collector, CommandResult, RunOptions } from './collector.ts';

/** vtysh over each FRR device's own SSH session, opened on first use. */
export class InventorySshCollector implements Collector {
  readonly name: string;
  readonly shell = true;
  private readonly drivers = new Map<string, Promise<FrrDriver>>();
  constructor(private readonly inventory: Inventory) {
    this.name = `inventory ${inventory.origin}`;
  }
  private driver(device: string): Promise<FrrDriver> {
    let d = this.drivers.get(device);
    if (!d) {
      const inv = this.inventory.devices.find((x) => x.name === device);
      if (!inv) return Promise.reject(new Error(`${device} is not in the inventory`));
      if (inv.transport !== 'ssh') return Promise.reject(new Error(`${device}: transport ${inv.transport} has no vtysh`));
      // vtysh over the FRR driver's SSH session, whatever the platform would push with.
      const drv = makeDriver({ ...inv, driver: 'frr-ssh' }) as FrrDriver;
      d = drv.connect().then(() => drv);
      this.drivers.set(device, d);
    }
    return d;
  }
  async run(device: string, command: string, opts: RunOptions = {}): Promise<CommandResult> {
    try {
      const d = await this.driver(device);
      return { ok: true, stdout: await d.exec(opts.shell ? command : `vtysh -c '${command}'`) };
    } catch (e) {
      return { ok: false, stdout: '', error: (e as Error).message.split('\n')[0] };
    }
  }
  async close(): Promise<void> {
    await Promise.all([...this.drivers.values()].map((p) => p.then((d) => d.close()).catch(() => {})));
  }
}

/** Per NETCONF device of the inventory: what differs between running and the rendered payload. */
export async function netconfDifferences(model: FabricModel, inventory: Inventory): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const devices = inventory.devices.filter((d) => d.transport === 'netconf' && model.devices.some((m) => m.name === d.name));
  if (!devices.length) return out;
  const rendered = renderModel(model, { devices: devices.map((d) => d.name) });
  await Promise.all(
    devices.map(async (inv) => {
      const drv = makeDriver({ ...inv, driver: 'netconf' });
      try {
        await drv.connect();
        const desired = Object.fromEntries(rendered.artifacts.filter((a) => a.device === inv.name).map((a) => [a.artifact, a.content]));
        out.set(inv.name, drv instanceof NetconfDriver ? await drv.verifyRunning(desired) : []);
      } catch (e) {
        out.set(inv.name, [`not collected: ${(e as Error).message.split('\n')[0]}`]);
      } finally {
        await drv.close().catch(() => {});
      }
    }),
  );
  return out;
}
