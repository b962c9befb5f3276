/**
 * Fabric links (derived: every leaf to every spine of its pod, every spine to every
 * super-spine; or explicit), their interfaces and point-to-point /31s. A derived link's
 * index is (child id - 1) * max_uplinks + uplink index, so its subnet never moves when other
 * nodes come and go. The parent's port is the child's id minus the parent's downlink base.
 */
import { formatIpv4, parsePrefix4 } from './ip.ts';
import { type NodeInfo, type ResolveContext } from './context.ts';
import { parentTier, roleTier, type Tier } from '../domains/fabric/roles.ts';
import type { Pools } from './resolve-nodes.ts';
import type { Interface, Link } from './types.ts';

const EXPLICIT_LINK_ID_BASE = 100_000_000;

/** Default parents by child: spines of the pod for leaves, every super-spine for spines. */
function parentIndex(ctx: ResolveContext): (child: NodeInfo) => NodeInfo[] {
  const byId = (a: NodeInfo, b: NodeInfo) => a.device.id - b.device.id;
  const spinesByPod = new Map<number, NodeInfo[]>();
  for (const s of ctx.nodesOfTier('spine')) {
    const l = spinesByPod.get(s.device.pod) ?? [];
    spinesByPod.set(s.device.pod, l);
    l.push(s);
  }
  for (const l of spinesByPod.values()) l.sort(byId);
  const superSpines = ctx.nodesOfTier('super-spine').sort(byId);
  const parents: Record<Tier, (child: NodeInfo) => NodeInfo[]> = {
    spine: (child) => spinesByPod.get(child.device.pod) ?? [],
    'super-spine': () => superSpines,
    leaf: () => [],
  };
  return (child) => {
    const tier = parentTier(child.device.role);
    return tier ? parents[tier](child) : [];
  };
}

export function resolveLinks(ctx: ResolveContext, pools: Pools): Link[] {
  const { intent } = ctx;
  const links: Link[] = [];
  const numbered = intent.fabric.underlay !== 'ebgp-unnumbered';
  const maxUplinks = intent.fabric.max_uplinks;
  const mtu = intent.fabric.mtu;

  const parentsOf = parentIndex(ctx);
  const children = [...ctx.nodes.values()].filter((n) => parentTier(n.device.role) !== undefined).sort((a, b) => a.device.id - b.device.id);
  for (const child of children) {
    const path = ['nodes', child.name];
    const explicit = intent.nodes[child.name].uplinks;
    let parents: NodeInfo[];
    if (explicit) {
      parents = [];
      explicit.forEach((p, i) => {
        const parent = ctx.nodes.get(p);
        if (!parent) {
          if (!ctx.isBrokenNode(p)) ctx.error([...path, 'uplinks', i], `node '${child.name}': unknown uplink node '${p}'`);
        }
        else if (!parentsOf(child).includes(parent) && !(parentTier(child.device.role) === roleTier(parent.device.role))) {
          ctx.error([...path, 'uplinks', i], `node '${child.name}' (${child.device.role}) cannot uplink to '${p}' (${parent.device.role})`);
        } else parents.push(parent);
      });
    } else {
      parents = parentsOf(child);
    }
    if (parents.length > maxUplinks) {
      ctx.error([...path, explicit ? 'uplinks' : 'id'], `node '${child.name}' has ${parents.length} uplinks but fabric.max_uplinks is ${maxUplinks}${numbered ? ' (the /31s reserved per node in the p2p pool: raising it moves every derived link\'s /31, as netloom plan\'s renumbering alarm will list)' : ''}`);
      continue;
    }
    parents.forEach((parent, i) => {
      const index = (child.device.id - 1) * maxUplinks + i;
      const childPortNo = child.uplinkPortStart + i;
      const parentPortNo = child.device.id - parent.downlinkPortBase;
      if (parentPortNo < parent.def.interfaces.first_port || parentPortNo > parent.def.interfaces.max_ports) {
        ctx.error([...path, 'id'], `node '${child.name}' (id ${child.device.id}) lands on port ${parentPortNo} of '${parent.name}', outside its ports ${parent.def.interfaces.first_port}-${parent.def.interfaces.max_ports} (set downlink_port_base on '${parent.name}' or its group)`);
        return;
      }
      const childPort = child.def.portName(childPortNo);
      const parentPort = parent.def.portName(parentPortNo);
      if (!ctx.claimPort(child, childPort, `the uplink to ${parent.name}`, [...path, 'id'])) return;
      if (!ctx.claimPort(parent, parentPort, `the downlink to ${child.name}`, [...path, 'id'])) return;
      let prefix: string | undefined;
      let aIp: string | undefined;
      let bIp: string | undefined;
      if (numbered && pools.p2p) {
        const base = pools.p2p.base + index * 2;
        if (index * 2 + 1 >= pools.p2p.size) {
          ctx.error([...path, 'id'], `node '${child.name}': p2p pool ${intent.pools.p2p} exhausted (link index ${index} needs ${(index + 1) * 2} addresses)`);
          return;
        }
        prefix = `${formatIpv4(base)}/31`;
        // Parent takes the even address, child the odd one.
        bIp = `${formatIpv4(base)}/31`;
        aIp = `${formatIpv4(base + 1)}/31`;
      }
      links.push({
        id: index,
        kind: 'fabric',
        a: { device: child.name, interface: childPort, ...(aIp ? { ipv4: aIp } : {}) },
        b: { device: parent.name, interface: parentPort, ...(bIp ? { ipv4: bIp } : {}) },
        ...(prefix ? { prefix } : {}),
        mtu,
        source: ctx.at([...path, 'id'], false),
      });
    });
  }

  intent.links.forEach((l, i) => {
    const path = ['links', i];
    const ends = l.endpoints.map((e) => {
      const [dev, iface] = e.split(':');
      return { dev, iface, node: ctx.nodes.get(dev) };
    });
    let ok = true;
    ends.forEach((e, j) => {
      if (!e.node) {
        if (!ctx.isBrokenNode(e.dev)) ctx.error([...path, 'endpoints', j], `link endpoint '${l.endpoints[j]}': unknown node '${e.dev}'`);
        ok = false;
      } else if (e.node.def.portNumber(e.iface) === undefined) {
        ctx.error([...path, 'endpoints', j], `link endpoint '${l.endpoints[j]}': '${e.iface}' is not a ${e.node.device.platform} port name (expected like ${e.node.def.portName(1)})`);
        ok = false;
      }
    });
    if (!ok) return;
    let aIp: string | undefined;
    let bIp: string | undefined;
    if (l.prefix) {
      const p = parsePrefix4(l.prefix);
      if (p.len < 30) {
        ctx.error([...path, 'prefix'], `link prefix ${l.prefix} must be a /31 or /30`);
        return;
      }
      const first = p.len === 31 ? p.base : p.base + 1;
      aIp = `${formatIpv4(first)}/${p.len}`;
      bIp = `${formatIpv4(first + 1)}/${p.len}`;
    } else if (numbered) {
      ctx.error(path, `link ${l.endpoints.join(' - ')}: a 'prefix' is required with the numbered '${intent.fabric.underlay}' underlay`, true);
      return;
    }
    for (let j = 0; j < 2; j++) {
      if (!ctx.claimPort(ends[j].node!, ends[j].iface, `link ${l.endpoints.join(' - ')}`, [...path, 'endpoints', j])) return;
    }
    links.push({
      id: EXPLICIT_LINK_ID_BASE + i,
      kind: 'explicit',
      a: { device: ends[0].dev, interface: ends[0].iface, ...(aIp ? { ipv4: aIp } : {}) },
      b: { device: ends[1].dev, interface: ends[1].iface, ...(bIp ? { ipv4: bIp } : {}) },
      ...(l.prefix ? { prefix: l.prefix } : {}),
      mtu: l.mtu ?? mtu,
      source: ctx.at(path),
    });
  });

  for (const link of links) {
    for (const [me, peer] of [
      [link.a, link.b],
      [link.b, link.a],
    ] as const) {
      const node = ctx.nodes.get(me.device)!;
      const iface: Interface = {
        name: me.interface,
        kind: 'fabric',
        description: `to ${peer.device} ${peer.interface}`,
        mtu: link.mtu,
        ...(me.ipv4 ? { ipv4: me.ipv4 } : { unnumbered: true }),
        peer: { device: peer.device, interface: peer.interface, ...(peer.ipv4 ? { ipv4: peer.ipv4 } : {}) },
        linkId: link.id,
        source: link.source,
      };
      node.ifaces.set(iface.name, iface);
    }
  }
  return links;
}
