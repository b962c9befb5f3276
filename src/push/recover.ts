/**
 * `netloom apply --recover`: finishes rollouts whose apply process died (no `end` entry in the
 * journal) by rolling back every device the journal shows as touched, from the journalled
 * snapshots: FRR nodes get their previous running config and network.sh back; NETCONF devices
 * get a cancel-commit of the rollout's persistent confirmed commit (they revert by themselves
 * at the confirm timeout anyway) and, if already confirmed, their previous subtrees. Locks the
 * rollout left on FRR nodes are released.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Snapshot } from './driver.ts';
import type { Inventory } from './inventory.ts';
import { Journal, readJournal, unfinishedRollouts } from './journal.ts';
import { makeDriver, type DeviceResult, type DriverDevice } from './rollout.ts';
import type { Reporter } from './progress.ts';

export interface RecoverResult {
  id: string;
  results: DeviceResult[];
  skipped?: string;
}

/** Whether a rollout's apply process still runs (this process's own pid counts as gone: a previous life's). */
export function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `by` names who recovers (journalled): the CLI's `apply --recover`, or the service at start. */
export async function recoverRollout(id: string, rep: Reporter, by = 'netloom apply --recover'): Promise<RecoverResult> {
  const journal = Journal.open(id);
  const entries = readJournal(journal.file);
  const start = entries.find((e) => e.t === 'start');
  if (start && start.t === 'start' && alive(start.pid)) {
    journal.close();
    return { id, results: [], skipped: `its apply process (pid ${start.pid}) is still running` };
  }
  const inventoryFile = path.join(journal.dir, 'inventory.json');
  journal.append({ t: 'recover-start', by, pid: process.pid });
  // Killed before its start entry: the rollout had not touched a device yet.
  if (!start || !existsSync(inventoryFile)) {
    journal.append({ t: 'end', status: 'recovered' });
    journal.close();
    return { id, results: [] };
  }
  const inventory = JSON.parse(readFileSync(inventoryFile, 'utf8')) as Inventory;
  const snapshots = new Map<string, Snapshot>();
  const state = new Map<string, string>();
  const locked = new Set<string>();
  for (const e of entries) {
    if (e.t === 'snapshot') snapshots.set(e.device, e.snapshot as Snapshot);
    if (e.t === 'plan' && e.changed) locked.add(e.device);
    if (e.t === 'commit-start' || e.t === 'rolled-back' || e.t === 'rollback-failed') state.set(e.device, e.t);
  }
  const confirmTimeoutS = start && start.t === 'start' ? start.confirmTimeoutS : 60;
  const results: DeviceResult[] = [];
  rep.log(`recovering rollout ${id} (${inventory.origin})`);
  await Promise.all(
    inventory.devices
      .filter((d) => locked.has(d.name))
      .map(async (d) => {
        // Journals from before drivers were platform data name none: ssh was always FRR then.
        const driver = makeDriver({ ...d, driver: (d as Partial<DriverDevice>).driver ?? (d.transport === 'ssh' ? 'frr-ssh' : 'netconf') });
        const needs = state.get(d.name) === 'commit-start' || state.get(d.name) === 'rollback-failed';
        try {
          await driver.connect();
          if (needs) {
            journal.append({ t: 'rollback-start', device: d.name });
            await driver.rollback(snapshots.get(d.name)!, { rolloutId: id, confirmTimeoutS });
            journal.append({ t: 'rolled-back', device: d.name });
            results.push({ device: d.name, transport: d.transport, action: 'rolled back', reason: 'recovered: restored the snapshot taken before the interrupted rollout' });
          } else {
            results.push({ device: d.name, transport: d.transport, action: 'unchanged', reason: 'not pushed before the interruption' });
          }
          await driver.unlock(id).catch(() => undefined);
        } catch (e) {
          const msg = (e as Error).message;
          journal.append({ t: 'rollback-failed', device: d.name, error: msg });
          results.push({ device: d.name, transport: d.transport, action: 'failed', reason: `recovery failed: ${msg}` });
        } finally {
          await driver.close().catch(() => undefined);
        }
      }),
  );
  if (!results.some((r) => r.action === 'failed')) journal.append({ t: 'end', status: 'recovered' });
  journal.close();
  return { id, results };
}

export async function recoverRollouts(rep: Reporter, by?: string): Promise<RecoverResult[]> {
  const out: RecoverResult[] = [];
  for (const id of unfinishedRollouts()) out.push(await recoverRollout(id, rep, by));
  return out;
}
