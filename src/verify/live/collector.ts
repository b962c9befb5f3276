/**
 * Collectors run show commands on devices. The FRR collection plan (which commands, parsed
 * how) is independent of the transport: lab exec, SSH (ssh2) or, for NETCONF devices, <get>.
 */
import type { Device, FabricModel } from '../../model/types.ts';
import {
  parseBgpSummary,
  parseEvpnMacs,
  parseEvpnVniDetail,
  parseOspfNeighbors,
  parseRoutes,
  type DeviceObservation,
} from './observed.ts';
import { scanRoutes } from './route-scan.ts';

export interface CommandResult {
  ok: boolean;
  stdout: string;
  /** Why it failed, as the device said it (e.g. "bgpd is not running"). */
  error?: string;
}

export interface RunOptions {
  /** A shell command line rather than a vtysh command. */
  shell?: boolean;
}

export interface Collector {
  readonly name: string;
  /**
   * Whether `run` takes `{ shell: true }`: a command line for the device's shell instead of
   * vtysh (kernel state: iproute2). Absent: vtysh only.
   */
  readonly shell?: boolean;
  run(device: string, command: string, opts?: RunOptions): Promise<CommandResult>;
  close(): Promise<void>;
}

/** Commands for one FRR device: JSON show commands keyed by what they feed. */
export function frrCommands(d: Device, model: FabricModel): { key: string; command: string; vrf?: string }[] {
  const cmds = [{ key: 'bgp', command: 'show bgp vrf all summary json' }];
  if (d.vtep) cmds.push({ key: 'vnis', command: 'show evpn vni detail json' }, { key: 'macs', command: 'show evpn mac vni all json' });
  const r: { key: string; command: string; vrf?: string }[] = [...cmds, { key: 'routes', command: 'show ip route json', vrf: 'default' }];
  for (const v of d.vrfs) {
    r.push({ key: 'routes', command: `show ip route vrf ${v.name} json`, vrf: v.name });
    if (d.vlans.some((x) => x.vrf === v.name && x.gateway6)) r.push({ key: 'routes', command: `show ipv6 route vrf ${v.name} json`, vrf: v.name });
  }
  if (model.fabric.underlay === 'ospf' && d.ospf) r.push({ key: 'ospf', command: 'show ip ospf neighbor json' });
  return r;
}

export type FrrCommand = ReturnType<typeof frrCommands>[number];

/** One command's answer read into its part of the observation (parsed JSON), or why it failed. */
export function readFrrOutput(x: FrrCommand, r: CommandResult): { part: unknown } | { error: string } {
  if (!r.ok) return { error: (r.error ?? 'failed').trim() };
  // A routing table is read from its text (its tree is the largest of a poll); anything the scan does not read is parsed whole.
  const scanned = x.key === 'routes' ? scanRoutes(x.vrf!, r.stdout) : undefined;
  if (scanned) return { part: scanned };
  let json: unknown;
  try {
    json = JSON.parse(r.stdout.trim() || '{}');
  } catch {
    return { error: `not JSON: ${r.stdout.trim().slice(0, 120)}` };
  }
  switch (x.key) {
    case 'bgp':
      return { part: parseBgpSummary(json) };
    case 'vnis':
      return { part: parseEvpnVniDetail(json) };
    case 'macs':
      return { part: parseEvpnMacs(json) };
    case 'routes':
      return { part: parseRoutes(x.vrf!, json) };
    case 'ospf':
      return { part: parseOspfNeighbors(json) };
  }
  return { part: json };
}

/** A device's observation from its commands' parts, in command order (a VRF's IPv4 then IPv6 routes). */
export function assembleFrrObservation(device: string, read: { x: FrrCommand; out: { part: unknown } | { error: string } }[]): DeviceObservation {
  const obs: DeviceObservation = { device, errors: {} };
  for (const { x, out } of read) {
    if ('error' in out) {
      obs.errors[x.command] = out.error;
      continue;
    }
    switch (x.key) {
      case 'bgp':
        obs.bgp = out.part as DeviceObservation['bgp'];
        break;
      case 'vnis':
        obs.vnis = out.part as DeviceObservation['vnis'];
        break;
      case 'macs':
        obs.macs = out.part as DeviceObservation['macs'];
        break;
      case 'routes': {
        const routes = (obs.routes ??= {});
        const part = out.part as NonNullable<DeviceObservation['routes']>[string];
        // One command's table is kept as parsed (the same object while its output is unchanged).
        routes[x.vrf!] = routes[x.vrf!] ? [...routes[x.vrf!], ...part] : part;
        break;
      }
      case 'ospf':
        obs.ospf = out.part as DeviceObservation['ospf'];
        break;
    }
  }
  return obs;
}

/** Runs each of the device's commands (concurrently) and returns what each answered, in command order. */
export async function runFrrCommands(c: Collector, d: Device, model: FabricModel): Promise<{ x: FrrCommand; r: CommandResult }[]> {
  return Promise.all(frrCommands(d, model).map(async (x) => ({ x, r: await c.run(d.name, x.command).catch((e: Error): CommandResult => ({ ok: false, stdout: '', error: e.message })) })));
}

export async function collectFrrDevice(c: Collector, d: Device, model: FabricModel): Promise<DeviceObservation> {
  const results = await runFrrCommands(c, d, model);
  return assembleFrrObservation(d.name, results.map(({ x, r }) => ({ x, out: readFrrOutput(x, r) })));
}
