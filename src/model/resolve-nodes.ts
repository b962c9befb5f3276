/**
 * Nodes: group defaults, ids, addresses and ASNs. Everything derives from the node's own id
 * (and pod), never from its position in a list, so adding or removing a node renumbers
 * nothing else.
 */
import { formatIpv4, nth4, overlaps4, parseIpv4, parsePrefix4, type Prefix4 } from './ip.ts';
import { isLeafRole, type ResolveContext } from './context.ts';
import { roleTier } from '../domains/fabric/roles.ts';
import type { Device } from './types.ts';
import type { Role } from '../intent/schema.ts';

export interface Pools {
  loopback: Prefix4;
  vtep: Prefix4;
  vtepSeparate: boolean;
  p2p?: Prefix4;
  mgmt: Prefix4;
}

export function resolvePools(ctx: ResolveContext): Pools {
  const p = ctx.intent.pools;
  const pools: Pools = {
    loopback: parsePrefix4(p.loopback),
    vtep: parsePrefix4(p.vtep ?? p.loopback),
    vtepSeparate: p.vtep !== undefined,
    p2p: p.p2p ? parsePrefix4(p.p2p) : undefined,
    mgmt: parsePrefix4(p.mgmt),
  };
  const named: [string, Prefix4][] = [['loopback', pools.loopback], ['mgmt', pools.mgmt]];
  if (pools.vtepSeparate) named.push(['vtep', pools.vtep]);
  if (pools.p2p) named.push(['p2p', pools.p2p]);
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      if (overlaps4(named[i][1], named[j][1])) {
        ctx.error(['pools', named[j][0]], `pool '${named[j][0]}' (${p[named[j][0] as keyof typeof p]}) overlaps pool '${named[i][0]}' (${p[named[i][0] as keyof typeof p]})`);
      }
    }
  }
  if (!pools.p2p && ctx.intent.fabric.underlay !== 'ebgp-unnumbered') {
    ctx.error(['pools'], `pools: a 'p2p' pool is required for the numbered '${ctx.intent.fabric.underlay}' underlay`, true);
  }
  return pools;
}

function parseRange(v: number | string | undefined): { start: number; end: number } | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return { start: v, end: v };
  const [a, b] = v.split('-').map(Number);
  return { start: a, end: b };
}

const MAX_ASN = 4294967295;

export function resolveNodes(ctx: ResolveContext, pools: Pools): void {
  const { intent } = ctx;
  const byId = new Map<number, string>();
  const mgmtSeen = new Map<string, string>();
  const mgmtGateway = intent.pools.mgmt_gateway;

  for (const [name, n] of Object.entries(intent.nodes)) {
    const path = ['nodes', name];
    const group = n.group ? intent.groups[n.group] : undefined;
    if (n.group && !group) {
      ctx.error([...path, 'group'], `node '${name}': unknown group '${n.group}' (groups: ${Object.keys(intent.groups).join(', ') || 'none'})`);
      continue;
    }
    const role = (n.role ?? group?.role) as Role | undefined;
    const platform = n.platform ?? group?.platform;
    if (!role || !platform) {
      ctx.error(path, `node '${name}': no ${!role ? 'role' : 'platform'} (set it on the node or its group)`, true);
      continue;
    }
    const def = ctx.platforms.get(platform)!;
    const prev = byId.get(n.id);
    if (prev !== undefined) {
      ctx.error([...path, 'id'], `node '${name}': id ${n.id} is already used by node '${prev}'`);
      continue;
    }
    byId.set(n.id, name);

    const lo = nth4(pools.loopback, n.id);
    if (lo === undefined || n.id >= pools.loopback.size) {
      ctx.error([...path, 'id'], `node '${name}': loopback pool ${intent.pools.loopback} exhausted (id ${n.id} needs at least ${n.id + 1} addresses)`);
      continue;
    }
    let vtep: string | undefined;
    if (isLeafRole(role)) {
      const v = nth4(pools.vtep, n.id);
      if (v === undefined) {
        ctx.error([...path, 'id'], `node '${name}': vtep pool ${intent.pools.vtep} exhausted (id ${n.id})`);
        continue;
      }
      vtep = `${formatIpv4(v)}/32`;
    }
    let mgmt: string;
    if (n.mgmt) {
      mgmt = n.mgmt;
    } else {
      const m = nth4(pools.mgmt, n.id);
      if (m === undefined || n.id >= pools.mgmt.size - 1) {
        ctx.error([...path, 'id'], `node '${name}': mgmt pool ${intent.pools.mgmt} exhausted (id ${n.id} needs at least ${n.id + 2} addresses: the id is the host part)`);
        continue;
      }
      mgmt = `${formatIpv4(m)}/${pools.mgmt.len}`;
    }
    const mgmtAddr = mgmt.split('/')[0];
    const other = mgmtSeen.get(mgmtAddr);
    if (other) ctx.error([...path, n.mgmt ? 'mgmt' : 'id'], `node '${name}': management address ${mgmtAddr} is already used by node '${other}'`);
    mgmtSeen.set(mgmtAddr, name);
    if (mgmtGateway && mgmtAddr === mgmtGateway) ctx.error([...path, n.mgmt ? 'mgmt' : 'id'], `node '${name}': management address ${mgmtAddr} is the management gateway`);

    const routerId = formatIpv4(lo);
    const device: Device = {
      name,
      id: n.id,
      role,
      platform,
      pod: n.pod ?? group?.pod ?? 1,
      asn: 0,
      routerId,
      loopback: `${routerId}/32`,
      vtep: vtep && (pools.vtepSeparate ? vtep : `${routerId}/32`),
      mgmt: { interface: def.interfaces.mgmt, ipv4: mgmt, ...(mgmtGateway ? { gateway: mgmtGateway } : {}) },
      interfaces: [],
      vrfs: [],
      vlans: [],
      bgpSessionIds: [],
      source: ctx.at(path, true),
    };
    ctx.nodes.set(name, {
      name,
      device,
      def,
      usedPorts: new Map(),
      ifaces: new Map(),
      uplinkPortStart: n.uplink_port_start ?? group?.uplink_port_start ?? def.uplink_port_start,
      downlinkPortBase: n.downlink_port_base ?? group?.downlink_port_base ?? 0,
    });
  }
  assignAsns(ctx);
}

function assignAsns(ctx: ResolveContext): void {
  const { intent } = ctx;
  const asn = intent.fabric.asn;
  const transport = intent.fabric.overlay.transport;
  const underlay = intent.fabric.underlay;
  if (transport === 'ibgp' && underlay !== 'ospf') {
    ctx.error(['fabric', 'overlay', 'transport'], `an iBGP EVPN overlay needs the 'ospf' underlay (underlay is '${underlay}')`);
  }
  if (transport === 'ebgp' && underlay === 'ospf') {
    ctx.error(['fabric', 'overlay', 'transport'], `an eBGP EVPN overlay needs an eBGP underlay ('ebgp' or 'ebgp-unnumbered'); use transport 'ibgp' with the 'ospf' underlay`);
  }

  if (transport === 'ibgp') {
    if (!asn?.fabric) {
      ctx.error(['fabric', 'asn'], `fabric.asn.fabric is required for the iBGP overlay`, !!asn);
      return;
    }
    for (const n of ctx.nodes.values()) {
      const pinned = intent.nodes[n.name].asn;
      if (pinned !== undefined && pinned !== asn.fabric) {
        ctx.error(['nodes', n.name, 'asn'], `node '${n.name}': ASN ${pinned} differs from the iBGP fabric ASN ${asn.fabric}`);
      }
      n.device.asn = asn.fabric;
    }
    return;
  }

  const spineRange = parseRange(asn?.spine);
  const leafRange = parseRange(asn?.leaf);
  let rangesOk = true;
  for (const [key, r] of [['spine', spineRange], ['leaf', leafRange]] as const) {
    if (r && (r.start > r.end || r.end > MAX_ASN)) {
      ctx.error(['fabric', 'asn', key], `ASN range ${asn?.[key]} is invalid (start must not exceed end, end at most ${MAX_ASN})`);
      rangesOk = false;
    }
  }
  if (!rangesOk) return;
  if (spineRange && leafRange && spineRange.start <= leafRange.end && leafRange.start <= spineRange.end) {
    ctx.error(['fabric', 'asn', 'spine'], `spine ASN ${asn?.spine} overlaps the leaf ASN range ${asn?.leaf}`);
  }
  if (asn?.super_spine !== undefined) {
    for (const [key, r] of [['spine', spineRange], ['leaf', leafRange]] as const) {
      if (r && asn.super_spine >= r.start && asn.super_spine <= r.end) ctx.error(['fabric', 'asn', 'super_spine'], `super-spine ASN ${asn.super_spine} is inside the ${key} ASN range ${asn[key]}`);
    }
  }
  const scheme = asn?.leaf_scheme ?? 'per-leaf';

  for (const n of ctx.nodes.values()) {
    const d = n.device;
    const path = ['nodes', n.name];
    const pinned = intent.nodes[n.name].asn;
    if (pinned !== undefined) {
      d.asn = pinned;
      continue;
    }
    const tier = roleTier(d.role);
    if (tier === 'super-spine') {
      if (asn?.super_spine === undefined) ctx.error([...path, 'id'], `node '${n.name}': no ASN (set fabric.asn.super_spine or the node's asn)`);
      else d.asn = asn.super_spine;
    } else if (tier === 'spine') {
      if (!spineRange) {
        ctx.error([...path, 'id'], `node '${n.name}': no ASN (set fabric.asn.spine or the node's asn)`);
        continue;
      }
      const v = spineRange.start + d.pod - 1;
      if (v > spineRange.end) ctx.error([...path, 'id'], `node '${n.name}': ASN out of range: pod ${d.pod} needs spine ASN ${v} but the spine range ${asn?.spine} ends at ${spineRange.end}`);
      d.asn = v;
    } else {
      if (!leafRange) {
        ctx.error([...path, 'id'], `node '${n.name}': no ASN (set fabric.asn.leaf or the node's asn)`);
        continue;
      }
      let index: number;
      if (scheme === 'per-pod') index = d.pod;
      else if (scheme === 'per-leaf-pair') {
        const partner = intent.nodes[n.name].pair;
        const p = partner ? ctx.nodes.get(partner) : undefined;
        if (partner && !p) {
          ctx.error([...path, 'pair'], `node '${n.name}': unknown pair partner '${partner}'`);
          continue;
        }
        if (p && intent.nodes[partner!].pair !== n.name) {
          ctx.error([...path, 'pair'], `node '${n.name}': pair partner '${partner}' does not name '${n.name}' as its pair`);
        }
        index = p ? Math.min(d.id, p.device.id) : d.id;
      } else index = d.id;
      const v = leafRange.start + index - 1;
      if (v > leafRange.end) {
        ctx.error([...path, 'id'], `node '${n.name}': ASN out of range: ${scheme} scheme gives ASN ${v} but the leaf range ${asn?.leaf} ends at ${leafRange.end}`);
      }
      d.asn = v;
    }
  }
}

export { parseIpv4 };
