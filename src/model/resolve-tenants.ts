/**
 * Tenants, VRFs, networks and endpoints, and their per-device instances (VLANs, VRFs, access
 * ports). VNIs, transit VLANs, RDs and RTs derive from VLAN and VRF ids unless pinned.
 */
import { hash } from 'node:crypto';
import { contains4, contains6, formatIpv4, hasHostBits, overlaps4, overlaps6, parseIpv4, parsePrefix4, type Prefix4 } from './ip.ts';
import { isLeafRole, type NodeInfo, type ResolveContext } from './context.ts';
import { hasAllVrfs } from '../domains/fabric/roles.ts';
import type { DeviceVlan, DeviceVrf, Endpoint, Interface, Network, Tenant, Vrf } from './types.ts';
import type { Path } from '../intent/validate.ts';

const VXLAN_OVERHEAD = 50;

interface NetInfo {
  net: Network;
  path: Path;
  vrf: Vrf;
  prefix4?: Prefix4;
  explicitLeaves: boolean;
  /** leaf -> access ports */
  ports: Map<string, Set<string>>;
  rdIndex: number;
}

/** Locally administered MAC from the endpoint's name: stable whatever else changes. */
export function endpointMac(name: string): string {
  // One call per endpoint (4,770 in the 5,000-device shape): the one-shot digest, no Hash object.
  const x = hash('sha256', name, 'hex');
  return `02:4e:${x.slice(0, 2)}:${x.slice(2, 4)}:${x.slice(4, 6)}:${x.slice(6, 8)}`;
}

export function resolveTenants(
  ctx: ResolveContext,
  fabricPools: [string, Prefix4][],
  routeTargetAsn: number,
): { tenants: Tenant[]; vrfs: Vrf[]; networks: Network[]; endpoints: Endpoint[] } {
  const { intent } = ctx;
  const f = intent.fabric;
  const tenants: Tenant[] = [];
  const vrfs: Vrf[] = [];
  const vrfRd = new Map<string, number>();
  const nets = new Map<number, NetInfo>(); // by VLAN
  const netByName = new Map<string, Path>();
  const vlanOwner = new Map<number, string>();
  const vniOwner = new Map<number, string>();
  const vrfByName = new Map<string, Path>();
  const vrfById = new Map<number, string>();
  const tenantNames = new Map<string, Path>();
  const leaves = [...ctx.nodes.values()].filter((n) => isLeafRole(n.device.role));

  const claimVlan = (vlan: number, owner: string, path: Path): boolean => {
    const prev = vlanOwner.get(vlan);
    if (prev) ctx.error(path, `VLAN ${vlan} of ${owner} collides with ${prev}`);
    else vlanOwner.set(vlan, owner);
    return !prev;
  };
  const claimVni = (vni: number, owner: string, path: Path) => {
    const prev = vniOwner.get(vni);
    if (prev) ctx.error(path, `VNI ${vni} of ${owner} collides with ${prev}`);
    else vniOwner.set(vni, owner);
  };

  intent.tenants.forEach((t, ti) => {
    const tpath = ['tenants', ti];
    if (tenantNames.has(t.name)) ctx.error([...tpath, 'name'], `duplicate tenant name '${t.name}'`);
    tenantNames.set(t.name, tpath);
    tenants.push({ name: t.name, ...(t.description ? { description: t.description } : {}), vrfs: t.vrfs.map((v) => v.name), source: ctx.at(tpath) });
    t.vrfs.forEach((v, vi) => {
      const vpath = [...tpath, 'vrfs', vi];
      if (vrfByName.has(v.name)) ctx.error([...vpath, 'name'], `duplicate VRF name '${v.name}'`);
      vrfByName.set(v.name, vpath);
      const prevId = vrfById.get(v.id);
      if (prevId) ctx.error([...vpath, 'id'], `VRF '${v.name}': id ${v.id} is already used by VRF '${prevId}'`);
      else vrfById.set(v.id, v.name);
      const l3vni = v.l3vni ?? f.vni_base.l3 + v.id;
      const l3vniVlan = v.l3vni_vlan ?? f.l3vni_vlan_base + v.id;
      if (l3vni > 16777215) ctx.error([...vpath, 'id'], `VRF '${v.name}': derived L3 VNI ${l3vni} exceeds 16777215`);
      if (l3vniVlan > 4094) ctx.error([...vpath, 'id'], `VRF '${v.name}': derived L3 VNI VLAN ${l3vniVlan} exceeds 4094`);
      // With a duplicate id the derived VNI and VLAN collide too: one error says it.
      if (!prevId || v.l3vni !== undefined) claimVni(l3vni, `VRF '${v.name}' (L3 VNI)`, [...vpath, v.l3vni !== undefined ? 'l3vni' : 'id']);
      if (!prevId || v.l3vni_vlan !== undefined) claimVlan(l3vniVlan, `VRF '${v.name}' (L3 VNI transit VLAN)`, [...vpath, v.l3vni_vlan !== undefined ? 'l3vni_vlan' : 'id']);
      const vrf: Vrf = {
        name: v.name,
        tenant: t.name,
        id: v.id,
        l3vni,
        l3vniVlan,
        routeTarget: v.route_target ?? `${routeTargetAsn}:${l3vni}`,
        networks: v.networks.map((n) => n.name),
        devices: [],
        source: ctx.at(vpath),
      };
      vrfRd.set(v.name, v.rd_index ?? 10000 + v.id);
      vrfs.push(vrf);

      v.networks.forEach((n, ni) => {
        const npath = [...vpath, 'networks', ni];
        if (netByName.has(n.name)) ctx.error([...npath, 'name'], `duplicate network name '${n.name}'`);
        netByName.set(n.name, npath);
        const vlanFree = claimVlan(n.vlan, `network '${n.name}'`, [...npath, 'vlan']);
        const l2vni = n.vni ?? f.vni_base.l2 + n.vlan;
        if (vlanFree || n.vni !== undefined) claimVni(l2vni, `network '${n.name}'`, [...npath, n.vni !== undefined ? 'vni' : 'vlan']);
        const mtu = n.mtu ?? f.host_mtu;
        if (mtu + VXLAN_OVERHEAD > f.mtu) {
          ctx.error(n.mtu !== undefined ? [...npath, 'mtu'] : ['fabric', 'mtu'], `underlay MTU ${f.mtu} is too small for VXLAN: network '${n.name}' has MTU ${mtu} and needs at least ${mtu + VXLAN_OVERHEAD} (+${VXLAN_OVERHEAD} bytes of VXLAN encapsulation)`);
        }
        let prefix4: Prefix4 | undefined;
        if (n.subnet) {
          prefix4 = parsePrefix4(n.subnet);
          if (hasHostBits(n.subnet)) ctx.error([...npath, 'subnet'], `network '${n.name}': subnet ${n.subnet} has host bits set (did you mean ${formatIpv4(prefix4.base)}/${prefix4.len}?)`);
          for (const [pname, pool] of fabricPools) {
            if (overlaps4(prefix4, pool)) ctx.error([...npath, 'subnet'], `network '${n.name}': subnet ${n.subnet} overlaps the fabric '${pname}' pool ${intent.pools[pname as 'loopback']}`);
          }
          if (n.gateway) {
            const gw = parseIpv4(n.gateway);
            if (!contains4(prefix4, gw)) ctx.error([...npath, 'gateway'], `network '${n.name}': gateway ${n.gateway} is outside its subnet ${n.subnet}`);
            else if (prefix4.len < 31 && (gw === prefix4.base || gw === prefix4.base + prefix4.size - 1)) ctx.error([...npath, 'gateway'], `network '${n.name}': gateway ${n.gateway} is the ${gw === prefix4.base ? 'network' : 'broadcast'} address of ${n.subnet}`);
          }
        } else if (n.gateway) {
          ctx.error([...npath, 'gateway'], `network '${n.name}': a gateway needs a subnet`);
        }
        if (n.gateway6) {
          if (!n.subnet6) ctx.error([...npath, 'gateway6'], `network '${n.name}': gateway6 needs a subnet6`);
          else if (!contains6(n.subnet6, n.gateway6)) ctx.error([...npath, 'gateway6'], `network '${n.name}': gateway6 ${n.gateway6} is outside its subnet6 ${n.subnet6}`);
        }
        const net: Network = {
          name: n.name,
          vrf: v.name,
          tenant: t.name,
          vlan: n.vlan,
          l2vni,
          ...(n.subnet ? { subnet: n.subnet } : {}),
          ...(n.gateway ? { gateway: n.gateway } : {}),
          ...(n.subnet6 ? { subnet6: n.subnet6 } : {}),
          ...(n.gateway6 ? { gateway6: n.gateway6 } : {}),
          mtu,
          dhcpRelay: n.dhcp_relay ?? [],
          routeTarget: n.route_target ?? `${routeTargetAsn}:${l2vni}`,
          leaves: [],
          source: ctx.at(npath),
        };
        const info: NetInfo = { net, path: npath, vrf, prefix4, explicitLeaves: n.leaves !== undefined, ports: new Map(), rdIndex: n.rd_index ?? n.vlan };
        if (n.leaves === 'all') leaves.forEach((l) => info.ports.set(l.name, new Set()));
        else if (n.leaves) {
          n.leaves.forEach((l, li) => {
            const node = ctx.nodes.get(l);
            if (!node) {
              if (!ctx.isBrokenNode(l)) ctx.error([...npath, 'leaves', li], `network '${n.name}': unknown leaf '${l}'`);
            } else if (!isLeafRole(node.device.role)) ctx.error([...npath, 'leaves', li], `network '${n.name}': '${l}' is a ${node.device.role}, not a leaf`);
            else info.ports.set(l, new Set());
          });
        }
        if (!nets.has(n.vlan)) nets.set(n.vlan, info);
      });
    });
  });

  // Overlapping tenant subnets within one VRF (different VRFs may reuse address space).
  const byVrf = new Map<string, NetInfo[]>();
  for (const info of nets.values()) {
    const l = byVrf.get(info.net.vrf) ?? [];
    byVrf.set(info.net.vrf, l);
    for (const other of l) {
      if (info.prefix4 && other.prefix4 && overlaps4(info.prefix4, other.prefix4)) {
        ctx.error([...info.path, 'subnet'], `network '${info.net.name}': subnet ${info.net.subnet} overlaps network '${other.net.name}' (${other.net.subnet}) in VRF '${info.net.vrf}'`);
      }
      if (info.net.subnet6 && other.net.subnet6 && overlaps6(info.net.subnet6, other.net.subnet6)) {
        ctx.error([...info.path, 'subnet6'], `network '${info.net.name}': subnet6 ${info.net.subnet6} overlaps network '${other.net.name}' (${other.net.subnet6}) in VRF '${info.net.vrf}'`);
      }
    }
    l.push(info);
  }

  const claimAccessPort = (node: NodeInfo, port: string, user: string, path: Path): boolean => {
    const n = node.def.portNumber(port);
    if (n === undefined || n < node.def.interfaces.first_port || n > node.def.interfaces.max_ports) {
      ctx.error(path, `${node.name}: '${port}' is not a port of platform ${node.device.platform} (ports are ${node.def.portName(node.def.interfaces.first_port)} to ${node.def.portName(node.def.interfaces.max_ports)})`);
      return false;
    }
    return ctx.claimPort(node, port, user, path);
  };

  // Extra access ports declared on networks.
  for (const info of nets.values()) {
    const raw = lookupNetworkPorts(intent, info);
    raw.forEach((p, pi) => {
      const [leaf, port] = p.split(':');
      const node = ctx.nodes.get(leaf);
      const ppath = [...info.path, 'ports', pi];
      if (!node || !isLeafRole(node.device.role)) {
        if (!ctx.isBrokenNode(leaf)) ctx.error(ppath, `network '${info.net.name}': unknown leaf '${leaf}' in port '${p}'`);
        return;
      }
      if (info.explicitLeaves && !info.ports.has(leaf)) {
        ctx.error(ppath, `network '${info.net.name}': port '${p}' is on leaf '${leaf}', which is not in the network's leaves`);
        return;
      }
      if (!claimAccessPort(node, port, `network '${info.net.name}'`, ppath)) return;
      if (!info.ports.has(leaf)) info.ports.set(leaf, new Set());
      info.ports.get(leaf)!.add(port);
      addAccessIface(node, port, info.net.vlan, false, undefined, info.net.mtu, ctx.at(ppath));
    });
  }

  // Endpoints.
  const endpoints: Endpoint[] = [];
  const epNames = new Map<string, Path>();
  const epAddr = new Map<string, string>();
  const epMacs = new Map<string, string>();
  intent.endpoints.forEach((e, ei) => {
    const path = ['endpoints', ei];
    const dupName = epNames.has(e.name);
    if (dupName) ctx.error([...path, 'name'], `duplicate endpoint name '${e.name}'`);
    epNames.set(e.name, path);
    const node = ctx.nodes.get(e.leaf);
    if (!node) {
      if (!ctx.isBrokenNode(e.leaf)) ctx.error([...path, 'leaf'], `endpoint '${e.name}': unknown leaf '${e.leaf}'`);
      return;
    }
    if (!isLeafRole(node.device.role)) {
      ctx.error([...path, 'leaf'], `endpoint '${e.name}': '${e.leaf}' is a ${node.device.role}, not a leaf`);
      return;
    }
    const info = nets.get(e.vlan);
    if (!info) {
      ctx.error([...path, 'vlan'], `endpoint '${e.name}': VLAN ${e.vlan} is not a tenant network`);
      return;
    }
    if (info.explicitLeaves && !info.ports.has(e.leaf)) {
      ctx.error([...path, 'leaf'], `endpoint '${e.name}': leaf '${e.leaf}' does not carry VLAN ${e.vlan} (network '${info.net.name}' is on ${[...info.ports.keys()].join(', ') || 'no leaves'})`);
      return;
    }
    if (!claimAccessPort(node, e.port, `endpoint '${e.name}'`, [...path, 'port'])) return;
    if (!info.ports.has(e.leaf)) info.ports.set(e.leaf, new Set());
    info.ports.get(e.leaf)!.add(e.port);

    if (e.ipv4) {
      const a = parseIpv4(e.ipv4.split('/')[0]);
      const len = Number(e.ipv4.split('/')[1]);
      if (!info.prefix4) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': network '${info.net.name}' has no IPv4 subnet`);
      else if (!contains4(info.prefix4, a)) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': address ${e.ipv4} is outside network '${info.net.name}' subnet ${info.net.subnet}`);
      else if (len !== info.prefix4.len) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': prefix length /${len} differs from network '${info.net.name}' subnet ${info.net.subnet}`);
      else if (info.net.gateway && parseIpv4(info.net.gateway) === a) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': address ${e.ipv4.split('/')[0]} is the anycast gateway of network '${info.net.name}'`);
      else if (info.prefix4.len < 31 && (a === info.prefix4.base || a === info.prefix4.base + info.prefix4.size - 1)) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': address ${e.ipv4} is the ${a === info.prefix4.base ? 'network' : 'broadcast'} address of ${info.net.subnet}`);
      else {
        const key = `${info.net.vrf}|${e.ipv4.split('/')[0]}`;
        const prev = epAddr.get(key);
        if (prev) ctx.error([...path, 'ipv4'], `endpoint '${e.name}': address ${e.ipv4.split('/')[0]} is already used by endpoint '${prev}' in VRF '${info.net.vrf}'`);
        else epAddr.set(key, e.name);
      }
    }
    if (e.ipv6) {
      if (!info.net.subnet6) ctx.error([...path, 'ipv6'], `endpoint '${e.name}': network '${info.net.name}' has no IPv6 subnet`);
      else if (!contains6(info.net.subnet6, e.ipv6.split('/')[0])) ctx.error([...path, 'ipv6'], `endpoint '${e.name}': address ${e.ipv6} is outside network '${info.net.name}' subnet6 ${info.net.subnet6}`);
    }
    const mac = (e.mac ?? endpointMac(e.name)).toLowerCase();
    const prevMac = epMacs.get(mac);
    if (prevMac && !(dupName && !e.mac)) ctx.error([...path, e.mac ? 'mac' : 'name'], `endpoint '${e.name}': MAC ${mac} is already used by endpoint '${prevMac}'`);
    epMacs.set(mac, e.name);

    addAccessIface(node, e.port, e.vlan, e.tagged, e.name, info.net.mtu, ctx.at(path));
    endpoints.push({
      name: e.name,
      leaf: e.leaf,
      port: e.port,
      vlan: e.vlan,
      tagged: e.tagged,
      network: info.net.name,
      vrf: info.net.vrf,
      tenant: info.net.tenant,
      l2vni: info.net.l2vni,
      ...(e.ipv4 ? { ipv4: e.ipv4 } : {}),
      ...(e.ipv6 ? { ipv6: e.ipv6 } : {}),
      mac,
      ...(info.net.gateway ? { gateway4: info.net.gateway } : {}),
      ...(info.net.gateway6 ? { gateway6: info.net.gateway6 } : {}),
      source: ctx.at(path),
    });
  });

  // Per-device instances. Border leaves carry every VRF (they connect tenants outside).
  const vrfsByName = new Map(vrfs.map((v) => [v.name, v]));
  const deviceVrfs = new Map<string, Set<string>>();
  const hostsAt = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const k = `${e.leaf}|${e.vlan}`;
    const l = hostsAt.get(k);
    if (l) l.push(e);
    else hostsAt.set(k, [e]);
  }
  for (const info of nets.values()) {
    info.net.leaves = [...info.ports.keys()].sort((a, b) => ctx.nodes.get(a)!.device.id - ctx.nodes.get(b)!.device.id);
    for (const leaf of info.net.leaves) {
      const node = ctx.nodes.get(leaf)!;
      const d = node.device;
      const vlan: DeviceVlan = {
        vlan: info.net.vlan,
        name: info.net.name,
        vrf: info.net.vrf,
        tenant: info.net.tenant,
        l2vni: info.net.l2vni,
        rd: `${d.routerId}:${info.rdIndex}`,
        routeTargets: { import: [info.net.routeTarget], export: [info.net.routeTarget] },
        ...(info.net.gateway && info.prefix4 ? { gateway4: `${info.net.gateway}/${info.prefix4.len}` } : {}),
        ...(info.net.gateway6 && info.net.subnet6 ? { gateway6: `${info.net.gateway6}/${info.net.subnet6.split('/')[1]}` } : {}),
        anycastMac: f.anycast_mac.toLowerCase(),
        mtu: info.net.mtu,
        dhcpRelay: info.net.dhcpRelay,
        ports: [...info.ports.get(leaf)!].sort(portSort(node)),
        hosts: (hostsAt.get(`${leaf}|${info.net.vlan}`) ?? []).map((e) => ({ endpoint: e.name, ...(e.ipv4 ? { ipv4: e.ipv4.split('/')[0] } : {}), ...(e.ipv6 ? { ipv6: e.ipv6.split('/')[0] } : {}) })),
        source: info.net.source,
      };
      d.vlans.push(vlan);
      let s = deviceVrfs.get(leaf);
      if (!s) deviceVrfs.set(leaf, (s = new Set()));
      s.add(info.net.vrf);
    }
  }
  for (const n of leaves) {
    if (hasAllVrfs(n.device.role)) {
      let s = deviceVrfs.get(n.name);
      if (!s) deviceVrfs.set(n.name, (s = new Set()));
      for (const v of vrfs) s.add(v.name);
    }
  }
  for (const [leaf, names] of deviceVrfs) {
    const d = ctx.nodes.get(leaf)!.device;
    const rds = new Map<string, string>();
    for (const vl of d.vlans) rds.set(vl.rd, `network '${vl.name}'`);
    for (const name of names) {
      const v = vrfsByName.get(name)!;
      const rd = `${d.routerId}:${vrfRd.get(name)}`;
      const clash = rds.get(rd);
      if (clash) ctx.error([...vrfByName.get(name)!, 'rd_index'], `VRF '${name}': RD ${rd} on ${leaf} collides with ${clash}`);
      rds.set(rd, `VRF '${name}'`);
      const dv: DeviceVrf = {
        name,
        tenant: v.tenant,
        id: v.id,
        l3vni: v.l3vni,
        l3vniVlan: v.l3vniVlan,
        rd,
        routeTargets: { import: [v.routeTarget], export: [v.routeTarget] },
        source: v.source,
      };
      d.vrfs.push(dv);
      v.devices.push(leaf);
    }
    d.vrfs.sort((a, b) => a.id - b.id);
    d.vlans.sort((a, b) => a.vlan - b.vlan);
    // Pinned RD indexes can collide between networks on one device.
    const seen = new Map<string, string>();
    for (const vl of d.vlans) {
      const prev = seen.get(vl.rd);
      if (prev) ctx.error(nets.get(vl.vlan)!.path.concat('rd_index'), `network '${vl.name}': RD ${vl.rd} on ${leaf} collides with network '${prev}'`);
      seen.set(vl.rd, vl.name);
    }
  }
  for (const v of vrfs) v.devices.sort((a, b) => ctx.nodes.get(a)!.device.id - ctx.nodes.get(b)!.device.id);

  const networks = [...nets.values()].map((i) => i.net).sort((a, b) => a.vlan - b.vlan);
  return { tenants, vrfs: vrfs.sort((a, b) => a.id - b.id), networks, endpoints };
}

function lookupNetworkPorts(intent: ResolveContext['intent'], info: NetInfo): string[] {
  const [, ti, , vi, , ni] = info.path as [string, number, string, number, string, number];
  return intent.tenants[ti].vrfs[vi].networks[ni].ports ?? [];
}

function portSort(node: NodeInfo) {
  return (a: string, b: string) => (node.def.portNumber(a) ?? 0) - (node.def.portNumber(b) ?? 0) || a.localeCompare(b);
}

function addAccessIface(node: NodeInfo, port: string, vlan: number, tagged: boolean, endpoint: string | undefined, mtu: number, source: Interface['source']): void {
  const iface: Interface = {
    name: port,
    kind: 'access',
    description: endpoint ? `endpoint ${endpoint}` : `access VLAN ${vlan}`,
    mtu,
    ...(tagged ? { taggedVlans: [vlan] } : { accessVlan: vlan }),
    ...(endpoint ? { endpoints: [endpoint] } : {}),
    source,
  };
  node.ifaces.set(port, iface);
}
