/**
 * The forwarding state of an FRR leaf: what the kernel forwards with, against the model. One
 * reading for the push post-check (src/push/forwarding-check.ts) and `lab up`/`lab wait`
 * (src/lab/settle.ts).
 * Per VRF: the kernel FIB holds every tenant subnet (connected where the leaf carries it, via
 * the VTEPs of the leaves that carry it otherwise), the router-MAC neighbour entry of every
 * remote VTEP the VRF routes through (with that leaf's router MAC) and its FDB entry on the L3
 * VNI's VXLAN device; per L2 VNI the flood entry of every other VTEP carrying the VLAN.
 * zebra's own view (`show evpn rmac`) can disagree with the kernel, so the kernel is read.
 * One shell command per poll collects everything (iproute2 JSON); works with kernel VRFs and
 * with VRFs as network namespaces (lab/README.md).
 */
import type { Device, FabricModel } from '../../model/types.ts';
import { derivedMac } from '../../render/view.ts';
import { ControlPlane } from '../../verify/sim/control-plane.ts';

export interface ExpectedForwarding {
  vrfs: {
    vrf: string;
    l3vni: number;
    /** Subnets the leaf carries itself (connected). */
    connected: string[];
    /** Remote subnets and host routes -> the VTEPs they must be routed to. */
    remote: Map<string, string[]>;
    /** Remote VTEP -> router MAC of that leaf in this VRF. */
    rmacs: Map<string, string>;
    /** Host routes are type-5 /32s only with VRFs as namespaces (kernel VRFs use type-2). */
    hostRoutes: Set<string>;
  }[];
  /** L2 VNI -> remote VTEPs that must be in its flood list. */
  flood: Map<number, string[]>;
}

const addr = (cidr: string) => cidr.split('/')[0];

// One simulation per model: settle and the post-check ask for every leaf on every poll.
const sims = new WeakMap<FabricModel, ControlPlane>();
const simOf = (model: FabricModel): ControlPlane => {
  let cp = sims.get(model);
  if (!cp) sims.set(model, (cp = new ControlPlane(model)));
  return cp;
};

/** What the model says device `name` forwards with; devices in `skip` (pushed later) are left out. */
export function expectedForwarding(model: FabricModel, name: string, skip: ReadonlySet<string> = new Set()): ExpectedForwarding {
  const dev = model.devices.find((d) => d.name === name)!;
  const byName = new Map(model.devices.map((d) => [d.name, d]));
  const vtepOf = (d: string): string | undefined => (skip.has(d) ? undefined : byName.get(d)?.vtep && addr(byName.get(d)!.vtep!));
  const out: ExpectedForwarding = { vrfs: [], flood: new Map() };
  const sim = simOf(model);
  for (const v of dev.vrfs) {
    const e = { vrf: v.name, l3vni: v.l3vni, connected: [] as string[], remote: new Map<string, string[]>(), rmacs: new Map<string, string>(), hostRoutes: new Set<string>() };
    // A remote subnet goes where the simulated best paths go: with an IGP underlay only the
    // VTEPs at the lowest IGP metric are ECMP, not every leaf carrying the subnet.
    const simulated = new Map(sim.rib(name, v.name).filter((r) => r.protocol === 'bgp').map((r) => [r.prefix, r.nextHops.map((h) => h.address).filter((x): x is string => !!x)]));
    const remoteVia = (prefix: string, fallback: string[]): string[] => {
      const via = simulated.get(prefix);
      return (via?.length ? via.filter((x) => fallback.includes(x)) : fallback).sort();
    };
    for (const n of model.networks.filter((x) => x.vrf === v.name && x.subnet)) {
      if (n.leaves.includes(name)) {
        e.connected.push(n.subnet!);
        continue;
      }
      if (n.leaves.some((l) => skip.has(l))) continue;
      const vteps = remoteVia(n.subnet!, n.leaves.map(vtepOf).filter((x): x is string => !!x));
      if (vteps.length) e.remote.set(n.subnet!, vteps);
    }
    for (const ep of model.endpoints.filter((x) => x.vrf === v.name && x.ipv4 && x.leaf !== name)) {
      const vtep = vtepOf(ep.leaf);
      if (!vtep) continue;
      const host = `${addr(ep.ipv4!)}/32`;
      e.remote.set(host, remoteVia(host, [vtep]));
      e.hostRoutes.add(host);
    }
    for (const vteps of e.remote.values()) {
      for (const vt of vteps) {
        const leaf = model.devices.find((d) => d.vtep && addr(d.vtep) === vt)!;
        const rv = leaf.vrfs.find((x) => x.name === v.name);
        if (rv) e.rmacs.set(vt, derivedMac(leaf.id, rv.id));
      }
    }
    out.vrfs.push(e);
  }
  for (const vl of dev.vlans) {
    const net = model.networks.find((n) => n.l2vni === vl.l2vni);
    const vteps = (net?.leaves ?? []).filter((l) => l !== name).map(vtepOf).filter((x): x is string => !!x).sort();
    if (vteps.length) out.flood.set(vl.l2vni, vteps);
  }
  return out;
}

/** One shell command printing `@@<kind> <vrf> <mode>` sections of iproute2 JSON. */
export function forwardingCommand(dev: Device): string {
  const parts: string[] = [];
  for (const v of dev.vrfs) {
    const q = `'${v.name}'`;
    parts.push(
      `if [ -e /run/netns/${q} ]; then echo "@@route ${v.name} netns"; ip -n ${q} -j -4 route show; echo "@@neigh ${v.name}"; ip -n ${q} -j -4 neigh show; echo "@@fdb ${v.name}"; bridge -n ${q} -j fdb show; ` +
        `else echo "@@route ${v.name} kernel"; ip -j -4 route show vrf ${q}; echo "@@neigh ${v.name}"; ip -j -4 neigh show vrf ${q}; echo "@@fdb ${v.name}"; bridge -j fdb show dev vx${v.l3vni}; fi`,
    );
  }
  if (dev.vlans.length) parts.push('echo "@@fdb -"; bridge -j fdb show');
  return parts.join('; ') || 'true';
}

interface RouteJ { dst?: string; gateway?: string; dev?: string; nexthops?: { gateway?: string }[] }
interface NeighJ { dst?: string; lladdr?: string; state?: string[] }
interface FdbJ { mac?: string; ifname?: string; dst?: string }

export interface ObservedForwarding {
  routes: Map<string, { mode: string; list: RouteJ[] }>;
  neigh: Map<string, NeighJ[]>;
  fdb: Map<string, FdbJ[]>;
}

export function parseForwarding(out: string): ObservedForwarding {
  const obs: ObservedForwarding = { routes: new Map(), neigh: new Map(), fdb: new Map() };
  let head: string[] = [];
  let body: string[] = [];
  const flush = () => {
    if (!head.length) return;
    let json: unknown[] = [];
    try {
      json = JSON.parse(body.join('\n').trim() || '[]') as unknown[];
    } catch {
      json = [];
    }
    const [kind, vrf, mode] = head;
    if (kind === 'route') obs.routes.set(vrf, { mode: mode ?? 'kernel', list: json as RouteJ[] });
    else if (kind === 'neigh') obs.neigh.set(vrf, json as NeighJ[]);
    else if (kind === 'fdb') obs.fdb.set(vrf, json as FdbJ[]);
  };
  for (const line of out.split('\n')) {
    if (line.startsWith('@@')) {
      flush();
      head = line.slice(2).trim().split(/\s+/);
      body = [];
    } else body.push(line);
  }
  flush();
  return obs;
}

const canonPrefix = (p: string) => (p.includes('/') ? p : `${p}/32`);

/**
 * One difference between the kernel and the model, with the object it is about (the live
 * check's finding identity: a VRF's prefix, a VTEP's neighbour or FDB entry, a flood entry).
 */
export interface ForwardingDiff {
  vrf?: string;
  vni?: number;
  prefix?: string;
  /** The remote VTEP the entry is for. */
  address?: string;
  /** The router MAC an FDB entry must carry. */
  mac?: string;
  /** A remote route the FIB lacks: the VTEPs it must be routed to (their leaves originate it). */
  missingVia?: string[];
  message: string;
}

/** Differences between the kernel's forwarding state and the model, one line each. */
export function forwardingProblems(exp: ExpectedForwarding, obs: ObservedForwarding): string[] {
  return forwardingDiffs(exp, obs).map((d) => d.message);
}

export function forwardingDiffs(exp: ExpectedForwarding, obs: ObservedForwarding): ForwardingDiff[] {
  const problems: ForwardingDiff[] = [];
  for (const v of exp.vrfs) {
    const vrf = v.vrf;
    const r = obs.routes.get(vrf);
    if (!r) {
      problems.push({ vrf, message: `VRF ${vrf}: no kernel routing table` });
      continue;
    }
    const byDst = new Map(r.list.filter((x) => x.dst).map((x) => [canonPrefix(x.dst!), x]));
    for (const c of v.connected) if (!byDst.has(c)) problems.push({ vrf, prefix: c, message: `VRF ${vrf}: connected subnet ${c} missing from the kernel FIB` });
    const used = new Set<string>();
    for (const [prefix, vteps] of v.remote) {
      if (v.hostRoutes.has(prefix) && r.mode !== 'netns') continue;
      const route = byDst.get(prefix);
      const have = route ? [...new Set([route.gateway, ...(route.nexthops ?? []).map((n) => n.gateway)].filter((g): g is string => !!g))].sort() : [];
      if (!route) problems.push({ vrf, prefix, missingVia: vteps, message: `VRF ${vrf}: ${prefix} missing from the kernel FIB (expected via ${vteps.join(', ')})` });
      else if (have.join() !== vteps.join()) problems.push({ vrf, prefix, message: `VRF ${vrf}: ${prefix} via ${have.join(', ') || route.dev} in the kernel FIB, expected via ${vteps.join(', ')}` });
      for (const vt of vteps) used.add(vt);
    }
    const neigh = new Map((obs.neigh.get(vrf) ?? []).filter((n) => n.dst).map((n) => [n.dst!, n]));
    const fdb = obs.fdb.get(vrf) ?? [];
    for (const vt of [...used].sort()) {
      const rmac = v.rmacs.get(vt);
      if (!rmac) continue;
      const n = neigh.get(vt);
      const bad = !n?.lladdr || (n.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE');
      if (bad) problems.push({ vrf, address: vt, message: `VRF ${vrf}: no router-MAC neighbour entry for VTEP ${vt} (${n ? (n.state ?? []).join(',') || 'no lladdr' : 'absent'}; expected ${rmac})` });
      else if (n!.lladdr!.toLowerCase() !== rmac) problems.push({ vrf, address: vt, message: `VRF ${vrf}: neighbour entry for VTEP ${vt} has MAC ${n!.lladdr}, expected router MAC ${rmac}` });
      if (!fdb.some((f) => f.mac?.toLowerCase() === rmac && f.ifname === `vx${v.l3vni}` && f.dst === vt)) problems.push({ vrf, address: vt, mac: rmac, message: `VRF ${vrf}: no VXLAN FDB entry ${rmac} -> ${vt} on vx${v.l3vni}` });
    }
  }
  const fdb = obs.fdb.get('-') ?? [];
  for (const [vni, vteps] of exp.flood) {
    for (const vt of vteps) {
      if (!fdb.some((f) => f.mac === '00:00:00:00:00:00' && f.ifname === `vx${vni}` && f.dst === vt)) problems.push({ vni, address: vt, message: `L2 VNI ${vni}: VTEP ${vt} missing from the flood list of vx${vni}` });
    }
  }
  return problems;
}
