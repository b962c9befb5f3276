/**
 * `verify --live`: resolve the target (a running lab, or the inventory `netloom apply`
 * reads: FRR devices over SSH, NETCONF devices through their running datastore), probe endpoint pairs from the hosts' namespaces, collect every device's state and
 * compare it with the model.
 */
import { inventoryFromLab, loadInventory, type Inventory } from '../../push/inventory.ts';
import { InventorySshCollector, netconfDifferences } from './inventory-collector.ts';
import type { FabricModel } from '../../model/types.ts';
import { getLabState, type LabState } from '../../lab/index.ts';
import { EnvironmentError } from '../../util/errors.ts';
import type { CheckResult } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import { collectFrrDevice, type Collector } from './collector.ts';
import { LabExecCollector } from './lab-collector.ts';
import type { ObservedState } from './compare.ts';
import { runProbes } from './probes.ts';
import { domains, type DomainId } from '../../domains/index.ts';
import type { DeviceObservation } from './observed.ts';

export interface LiveTarget {
  collector: Collector;
  lab?: LabState;
  /** An inventory target: NETCONF devices are compared through the push stage's driver. */
  inventory?: Inventory;
  describe: string;
}

/** `lab`, `lab:NAME`, or the inventory YAML `netloom apply` reads. */
export function resolveTarget(spec: string, opts: { transport?: 'exec' | 'ssh' } = {}): LiveTarget {
  if (spec === 'lab' || spec.startsWith('lab:')) {
    const lab = getLabState(spec === 'lab' ? undefined : spec.slice(4));
    // Over SSH with the push stage's client, as `netloom apply --target lab` logs in.
    if (opts.transport === 'ssh') return { collector: new InventorySshCollector(inventoryFromLab(lab)), lab, describe: `lab ${lab.name} over SSH` };
    return { collector: new LabExecCollector(lab), lab, describe: `lab ${lab.name}` };
  }
  // The inventory `netloom apply` reads: one format for pushing and verifying.
  const inventory = loadInventory(spec);
  return { collector: new InventorySshCollector(inventory), inventory, describe: `inventory ${spec}` };
}

/**
 * How a device's state is collected: FRR's show commands; nothing here for a NETCONF device
 * of an inventory (compared through the push driver); otherwise the observation saying why not.
 */
export function collectionOf(target: LiveTarget, d: FabricModel['devices'][0]): 'frr' | 'skip' | DeviceObservation {
  if (d.platform === 'frr') return 'frr';
  if (target.inventory?.devices.some((x) => x.name === d.name && x.transport === 'netconf')) return 'skip';
  return { device: d.name, errors: { collect: `platform ${d.platform}: live collection is implemented for FRR (vtysh); NETCONF <get> is not wired yet` } };
}

/** The fabric's observation: probes, then every device's FRR state (the caller closes the collector). */
export async function collectObserved(target: LiveTarget, model: FabricModel, opts: { probes?: boolean } = {}): Promise<ObservedState> {
  // Probes first: they make hosts speak, so MACs are learned by the time state is read.
  const probes = opts.probes !== false && target.lab ? await runProbes(target.lab, model) : [];
  const devices: DeviceObservation[] = [];
  await Promise.all(
    model.devices.map(async (d) => {
      const how = collectionOf(target, d);
      if (how === 'frr') devices.push(await collectFrrDevice(target.collector, d, model));
      else if (how !== 'skip') devices.push(how);
    }),
  );
  devices.sort((a, b) => a.device.localeCompare(b.device));
  return { devices, probes };
}

export async function verifyLive(model: FabricModel, targetSpec: string, opts: { transport?: 'exec' | 'ssh'; probes?: boolean; graph?: FabricGraph } = {}): Promise<{ results: CheckResult[]; observed: Partial<Record<DomainId, unknown>>; target: string }> {
  const target = resolveTarget(targetSpec, opts);
  if (target.lab && target.lab.status !== 'running') throw new EnvironmentError(`lab ${target.lab.name} is ${target.lab.status}`);
  // Each registered domain collects and compares its own state, over one target.
  const results: CheckResult[] = [];
  const observed: Partial<Record<DomainId, unknown>> = {};
  try {
    for (const d of domains()) {
      if (!d.verify.live) continue;
      observed[d.id] = await d.verify.live.collect(target, model, opts);
      results.push(...d.verify.live.compare(model, observed[d.id], opts.graph));
    }
  } finally {
    await target.collector.close();
  }
  if (target.inventory?.devices.some((d) => d.transport === 'netconf')) results.push(await netconfCheck(model, target.inventory));
  return { results, observed, target: target.describe };
}

const NETCONF_CHECK = {
  id: 'live-netconf-config',
  title: 'NETCONF running datastore holds the rendered payload',
  kind: 'live',
  layer: 'physical',
  severity: 'error',
  description: 'each NETCONF device\'s running ietf-interfaces/ietf-routing subtrees equal the rendered netconf-ietf payload',
} as CheckResult['check'];

async function netconfCheck(model: FabricModel, inventory: Inventory): Promise<CheckResult> {
  const t0 = performance.now();
  const diffs = await netconfDifferences(model, inventory);
  const findings = [...diffs].flatMap(([device, problems]) =>
    problems.map((message) => ({
      check: NETCONF_CHECK.id,
      severity: 'error' as const,
      message: `${device}: ${message}`,
      evidence: { device },
      location: model.devices.find((d) => d.name === device)!.source,
      elements: { devices: [device] },
    })),
  );
  return { check: NETCONF_CHECK, passed: findings.length === 0, findings, examined: `${diffs.size} NETCONF devices`, ms: performance.now() - t0 };
}
