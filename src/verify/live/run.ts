/**
 * `verify --live`: resolve the target (a running lab, or an inventory of SSH-reachable
 * devices), probe endpoint pairs from the hosts' namespaces, collect every device's state and
 * compare it with the model.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FabricModel } from '../../model/types.ts';
import { getLabState, labExec, type LabState } from '../../lab/index.ts';
import { EnvironmentError, UsageError } from '../../util/errors.ts';
import type { CheckResult } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import { collectFrrDevice, type Collector } from './collector.ts';
import { LabExecCollector } from './lab-collector.ts';
import { SshCollector, type SshTarget } from './ssh-collector.ts';
import { compareLive, type ObservedState, type ProbeResult } from './compare.ts';
import type { DeviceObservation } from './observed.ts';

export interface LiveTarget {
  collector: Collector;
  lab?: LabState;
  describe: string;
}

/** `lab`, `lab:NAME`, or an inventory YAML: devices: { NAME: { host, port, user, key, host_key } }. */
export function resolveTarget(spec: string, opts: { transport?: 'exec' | 'ssh' } = {}): LiveTarget {
  if (spec === 'lab' || spec.startsWith('lab:')) {
    const lab = getLabState(spec === 'lab' ? undefined : spec.slice(4));
    if (opts.transport === 'ssh') {
      const targets = new Map<string, SshTarget>();
      for (const n of lab.nodes) if (n.mgmtIpv4) targets.set(n.name, { host: n.mgmtIpv4, port: n.sshPort, username: n.sshUser, privateKeyFile: lab.ssh.privateKey, hostKey: n.hostKeyPublic });
      return { collector: new SshCollector(`lab:${lab.name} (ssh)`, targets), lab, describe: `lab ${lab.name} over SSH` };
    }
    return { collector: new LabExecCollector(lab), lab, describe: `lab ${lab.name}` };
  }
  let doc: { devices?: Record<string, { host: string; port?: number; user?: string; key: string; host_key?: string }> };
  try {
    doc = parse(readFileSync(spec, 'utf8')) as typeof doc;
  } catch (e) {
    throw new UsageError(`--target: '${spec}' is neither lab[:NAME] nor a readable inventory file (${(e as Error).message})`);
  }
  const targets = new Map<string, SshTarget>();
  for (const [name, d] of Object.entries(doc.devices ?? {})) {
    if (!d?.host || !d.key) throw new UsageError(`${spec}: device ${name} needs host and key`);
    targets.set(name, { host: d.host, port: d.port ?? 22, username: d.user ?? 'root', privateKeyFile: path.resolve(path.dirname(spec), d.key), hostKey: d.host_key });
  }
  if (!targets.size) throw new UsageError(`${spec}: no devices`);
  return { collector: new SshCollector(`inventory ${spec}`, targets), describe: `inventory ${spec}` };
}

/** Ping every ordered endpoint pair from the source host's namespace (lab only). */
export async function runProbes(lab: LabState, model: FabricModel): Promise<ProbeResult[]> {
  const hosts = new Set(lab.nodes.map((n) => n.name));
  const eps = model.endpoints.filter((e) => hosts.has(e.name) && e.ipv4);
  const jobs: Promise<ProbeResult>[] = [];
  for (const a of eps) {
    for (const b of eps) {
      if (a === b) continue;
      const address = b.ipv4!.split('/')[0];
      jobs.push(
        labExec(lab, a.name, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', address], { timeoutMs: 10_000 }).then((r) => ({
          src: a.name,
          dst: b.name,
          address,
          answered: r.code === 0,
          detail: r.stdout.trim().split('\n').filter(Boolean).slice(-2)[0],
        })),
      );
    }
  }
  return Promise.all(jobs);
}

export async function collectObserved(target: LiveTarget, model: FabricModel, opts: { probes?: boolean } = {}): Promise<ObservedState> {
  // Probes first: they make hosts speak, so MACs are learned by the time state is read.
  const probes = opts.probes !== false && target.lab ? await runProbes(target.lab, model) : [];
  const devices: DeviceObservation[] = [];
  try {
    await Promise.all(
      model.devices.map(async (d) => {
        if (d.platform !== 'frr') {
          devices.push({ device: d.name, errors: { collect: `platform ${d.platform}: live collection is implemented for FRR (vtysh); NETCONF <get> is not wired yet` } });
          return;
        }
        devices.push(await collectFrrDevice(target.collector, d, model));
      }),
    );
  } finally {
    await target.collector.close();
  }
  devices.sort((a, b) => a.device.localeCompare(b.device));
  return { devices, probes };
}

export async function verifyLive(model: FabricModel, targetSpec: string, opts: { transport?: 'exec' | 'ssh'; probes?: boolean; graph?: FabricGraph } = {}): Promise<{ results: CheckResult[]; observed: ObservedState; target: string }> {
  const target = resolveTarget(targetSpec, opts);
  if (target.lab && target.lab.status !== 'running') throw new EnvironmentError(`lab ${target.lab.name} is ${target.lab.status}`);
  const observed = await collectObserved(target, model, opts);
  return { results: compareLive(model, observed, opts.graph), observed, target: target.describe };
}
