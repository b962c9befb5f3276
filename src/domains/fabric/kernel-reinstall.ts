/**
 * Kernel entries zebra believes installed but the kernel lacks, written back as zebra writes
 * them. zebra puts back most entries deleted under it (VRF routes, router-MAC neighbours, flood
 * entries: it hears the netlink delete), but not a router MAC's FDB entry on an L3 VNI's VXLAN
 * device (`bridge fdb del MAC dev vxN dst VTEP` in the lab: zebra keeps it in `show evpn rmac`,
 * the kernel forwards routed traffic to that VTEP nowhere), and a re-announce of the EVPN VRF
 * routes does not help: the router MAC is unchanged, so zebra sends nothing.
 * Only what zebra's own tables hold is written, and only when it matches the model: an entry the
 * model expects that zebra does not hold is a control-plane fault, not repaired here.
 */
import type { Device } from '../../model/types.ts';
import type { ExpectedForwarding, ForwardingDiff } from './forwarding-state.ts';

/** What zebra holds: per L3 VNI, VTEP -> router MAC (`show evpn next-hops vni all json`); per L2 VNI, its remote VTEPs. */
export interface ZebraEvpnView {
  nextHops: Map<number, Map<string, string>>;
  floods: Map<number, Set<string>>;
}

export const ZEBRA_EVPN_COMMANDS = ['show evpn next-hops vni all json', 'show evpn vni detail json'] as const;

export function parseZebraEvpn(nextHopsJson: string, vniDetailJson: string): ZebraEvpnView {
  const view: ZebraEvpnView = { nextHops: new Map(), floods: new Map() };
  const nh = JSON.parse(nextHopsJson || '{}') as Record<string, Record<string, unknown>>;
  for (const [vni, table] of Object.entries(nh)) {
    const m = new Map<string, string>();
    for (const v of Object.values(table)) {
      const e = v as { nexthopIp?: string; routerMac?: string };
      if (e && typeof e === 'object' && e.nexthopIp && e.routerMac) m.set(e.nexthopIp, e.routerMac.toLowerCase());
    }
    view.nextHops.set(Number(vni), m);
  }
  const detail = JSON.parse(vniDetailJson || '[]') as unknown;
  // FRR prints one object for one VNI and an array for several.
  for (const v of (Array.isArray(detail) ? detail : [detail]) as { vni?: number; type?: string; numRemoteVteps?: unknown }[]) {
    if (v?.type === 'L2' && typeof v.vni === 'number') view.floods.set(v.vni, new Set(Array.isArray(v.numRemoteVteps) ? (v.numRemoteVteps as unknown[]).filter((x): x is string => typeof x === 'string') : []));
  }
  return view;
}

export interface Reinstall {
  /** One shell command line per entry. */
  commands: string[];
  /** The differences they address. */
  repaired: ForwardingDiff[];
  /** Differences left alone, with why. */
  left: { diff: ForwardingDiff; why: string }[];
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const NAME = /^[A-Za-z][\w-]*$/;

/** In the VRF's namespace when the VRFs are namespaces (lab/README.md 5), else in the host's. */
function inVrf(vrf: string, cmd: string): string {
  const [tool, ...rest] = cmd.split(' ');
  return `if [ -e /run/netns/${vrf} ]; then ${tool} -n ${vrf} ${rest.join(' ')}; else ${cmd}; fi`;
}

/** The commands writing back the entries of `diffs` that zebra holds as the model does. */
export function reinstallCommands(dev: Device, exp: ExpectedForwarding, diffs: ForwardingDiff[], zebra: ZebraEvpnView): Reinstall {
  const out: Reinstall = { commands: [], repaired: [], left: [] };
  for (const d of diffs) {
    const leave = (why: string) => out.left.push({ diff: d, why });
    if (d.prefix || !d.address || !IPV4.test(d.address)) {
      leave(d.prefix ? 'a route: zebra installs routes itself' : 'not an entry of a remote VTEP');
      continue;
    }
    if (d.vni !== undefined) {
      if (!zebra.floods.get(d.vni)?.has(d.address)) {
        leave(`zebra does not list VTEP ${d.address} for L2 VNI ${d.vni}`);
        continue;
      }
      out.commands.push(`bridge fdb append 00:00:00:00:00:00 dev vx${d.vni} dst ${d.address} self permanent`);
      out.repaired.push(d);
      continue;
    }
    const vrf = dev.vrfs.find((v) => v.name === d.vrf);
    if (!vrf || !NAME.test(vrf.name)) {
      leave('not a VRF of the device');
      continue;
    }
    const held = zebra.nextHops.get(vrf.l3vni)?.get(d.address);
    if (!held || !MAC.test(held)) {
      leave(`zebra holds no router MAC for VTEP ${d.address} in L3 VNI ${vrf.l3vni}`);
      continue;
    }
    const modelled = (d.mac ?? exp.vrfs.find((v) => v.vrf === vrf.name)?.rmacs.get(d.address))?.toLowerCase();
    if (modelled !== held) {
      leave(`zebra holds router MAC ${held} for VTEP ${d.address}, the model ${modelled ?? 'none'}`);
      continue;
    }
    if (d.mac) {
      const cmd = `bridge fdb replace ${held} dev vx${vrf.l3vni} dst ${d.address} self dynamic extern_learn`;
      out.commands.push(inVrf(vrf.name, cmd));
    } else {
      const cmd = `ip neigh replace ${d.address} lladdr ${held} dev l3br${vrf.id} nud noarp extern_learn proto zebra`;
      out.commands.push(inVrf(vrf.name, cmd));
    }
    out.repaired.push(d);
  }
  return out;
}
