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

export async function collectFrrDevice(c: Collector, d: Device, model: FabricModel): Promise<DeviceObservation> {
  const obs: DeviceObservation = { device: d.name, errors: {} };
  const results = await Promise.all(frrCommands(d, model).map(async (x) => ({ x, r: await c.run(d.name, x.command).catch((e: Error) => ({ ok: false, stdout: '', error: e.message })) })));
  for (const { x, r } of results) {
    if (!r.ok) {
      obs.errors[x.command] = (r.error ?? 'failed').trim();
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(r.stdout.trim() || '{}');
    } catch {
      obs.errors[x.command] = `not JSON: ${r.stdout.trim().slice(0, 120)}`;
      continue;
    }
    switch (x.key) {
      case 'bgp':
        obs.bgp = parseBgpSummary(json);
        break;
      case 'vnis':
        obs.vnis = parseEvpnVniDetail(json);
        break;
      case 'macs':
        obs.macs = parseEvpnMacs(json);
        break;
      case 'routes':
        ((obs.routes ??= {})[x.vrf!] ??= []).push(...parseRoutes(x.vrf!, json));
        break;
      case 'ospf':
        obs.ospf = parseOspfNeighbors(json);
        break;
    }
  }
  return obs;
}
