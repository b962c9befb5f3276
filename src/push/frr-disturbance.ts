/**
 * What an FRR change disturbs, from the configurations alone (for `apply --dry-run` and the
 * plan): the BGP sessions it resets, the VNIs, VLANs and VRFs whose devices or routes it
 * touches, the interfaces whose underlay changes, or everything on the device (a new AS or
 * router id). Lines are compared with their context (`router bgp 65300` > `address-family
 * l2vpn evpn` > `vni 10010`), as frr-reload.py does; the running config and the rendered one
 * are written the same way (the templates render what FRR shows), so only real changes differ.
 * network.sh lines name their objects (brVLAN, gwVLAN, vxVNI, N=VRF).
 */
import type { Disturbance } from './driver.ts';

/** Lines FRR or the lab manage on their own: never a change. */
const IGNORED = /^(frr version|line vty|!|end$)|^\s+netns \S+$|^\s*!/;

/** Each configuration line with its context: "router bgp 65300 > address-family l2vpn evpn > vni 10010 > rd ...". */
export function contextLines(config: string): string[] {
  const out: string[] = [];
  const stack: { indent: number; text: string }[] = [];
  for (const raw of config.split('\n')) {
    if (!raw.trim() || IGNORED.test(raw)) continue;
    const indent = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (/^exit(-vrf|-vni|-address-family)?$/.test(text)) {
      // Closes the block opened at the same indent.
      while (stack.length && stack[stack.length - 1].indent > indent) stack.pop();
      if (stack.length && stack[stack.length - 1].indent === indent) stack.pop();
      continue;
    }
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    out.push([...stack.map((s) => s.text), text].join(' > '));
    const inAf = stack.length > 0 && stack[stack.length - 1].text.startsWith('address-family');
    if (/^(interface|router|vrf|route-map|bfd|segment-routing|address-family)\b/.test(text) || (inAf && /^vni \d+$/.test(text))) stack.push({ indent, text });
  }
  return out;
}

function changed(a: string[], b: string[]): string[] {
  const count = new Map<string, number>();
  for (const l of a) count.set(l, (count.get(l) ?? 0) + 1);
  for (const l of b) count.set(l, (count.get(l) ?? 0) - 1);
  return [...count].filter(([, n]) => n !== 0).map(([l]) => l);
}

/** Neighbour attributes whose change makes FRR reset the session (others are refreshed in place). */
const RESETS = /^neighbor (\S+) (remote-as|interface|update-source|password|ebgp-multihop|ttl-security|local-as|capability|peer-group|activate)\b/;

/** The default BGP instance's AS, router id and cluster id (undefined: none), from a config's context lines. */
function bgpIdentity(lines: string[]): { asn?: string; 'router-id'?: string; 'cluster-id'?: string } {
  const id: { asn?: string; 'router-id'?: string; 'cluster-id'?: string } = {};
  for (const l of lines) {
    const m = /^router bgp (\d+)(?: > bgp (router-id|cluster-id) (\S+))?$/.exec(l);
    if (!m) continue;
    id.asn ??= m[1];
    if (m[2]) id[m[2] as 'router-id' | 'cluster-id'] = m[3];
  }
  return id;
}

/** The default BGP instance's AS and each neighbour's `remote-as` (a number, `internal` or `external`), by neighbour key. */
export function bgpNeighbours(config: string): { asn?: number; remote: Map<string, string> } {
  const remote = new Map<string, string>();
  let asn: number | undefined;
  for (const l of contextLines(config)) {
    const m = /^router bgp (\d+)(?: > neighbor (\S+) (?:interface )?remote-as (\S+))?$/.exec(l);
    if (!m) continue;
    asn ??= Number(m[1]);
    if (m[2]) remote.set(m[2], m[3]);
  }
  return { asn, remote };
}

/** Whether a neighbour configured with `remote-as spec` on a router of AS `own` accepts a peer of AS `peer`. */
export function acceptsAs(spec: string, peer: number, own: number): boolean {
  return spec === 'internal' ? peer === own : spec === 'external' ? peer !== own : Number(spec) === peer;
}

/** Why everything on the device is disturbed, when its BGP identity changes: its AS (a new instance), router id or cluster id. */
function identityChange(running: string[], desired: string[]): string | undefined {
  const [a, b] = [bgpIdentity(running), bgpIdentity(desired)];
  if (a.asn !== b.asn) return a.asn && b.asn ? `BGP AS ${a.asn} -> ${b.asn}: the instance is replaced` : `BGP instance ${a.asn ?? b.asn} ${a.asn ? 'removed' : 'added'}`;
  for (const key of ['router-id', 'cluster-id'] as const) if (a[key] !== b[key]) return `BGP ${key} ${a[key] ?? 'none'} -> ${b[key] ?? 'none'}`;
  return undefined;
}

export function frrDisturbance(runningConf: string, desiredConf: string, runningNet = '', desiredNet = ''): Disturbance {
  const d: Disturbance = { sessions: [], vnis: [], vlans: [], vrfs: [], interfaces: [] };
  const add = <T>(list: T[], x: T) => {
    if (!list.includes(x)) list.push(x);
  };
  const [running, desired] = [contextLines(runningConf), contextLines(desiredConf)];
  // Said once, from both sides: line by line, an AS change reads as every line of the instance.
  const identity = identityChange(running, desired);
  if (identity) d.all = identity;
  const [asBefore, asAfter] = [bgpIdentity(running).asn, bgpIdentity(desired).asn];
  if (asBefore && asAfter && asBefore !== asAfter) d.asChange = { from: Number(asBefore), to: Number(asAfter) };
  for (const line of changed(running, desired)) {
    const parts = line.split(' > ');
    const top = parts[0];
    const last = parts[parts.length - 1];
    let m: RegExpExecArray | null;
    if (/^router bgp \d+$/.test(top) && parts.length === 1) continue;
    if ((m = /^router bgp \d+ vrf (\S+)$/.exec(top))) {
      add(d.vrfs, m[1]);
      continue;
    }
    if (/^router bgp \d+$/.test(top)) {
      if (/^bgp (router-id|cluster-id)\b/.test(last) && parts.length === 2) continue;
      if ((m = RESETS.exec(last))) add(d.sessions, `${m[1]} (${m[2]})`);
      for (const p of parts) if ((m = /^vni (\d+)$/.exec(p))) add(d.vnis, Number(m[1]));
      continue;
    }
    if ((m = /^vrf (\S+)$/.exec(top))) {
      add(d.vrfs, m[1]);
      continue;
    }
    if ((m = /^interface (\S+)$/.exec(top))) {
      if (/^(ip|ipv6) (ospf|address|router)|^(mtu|link-params)/.test(last)) add(d.interfaces, m[1]);
      continue;
    }
    if (/^router (ospf|isis)/.test(top)) {
      if (/router-id|^network|^area/.test(last) || parts.length === 1) d.all ??= `${top}: ${last}`;
      continue;
    }
  }
  let vrf = '';
  const netLines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  // network.sh: a line's VRF is the one its section names (N=VRF ... N=).
  const withVrf = (text: string) =>
    netLines(text).map((l) => {
      const m = /^N=(\S*)$/.exec(l);
      if (m) vrf = m[1];
      return `${vrf}\t${l}`;
    });
  const runningNetLines = withVrf(runningNet);
  const desiredNetLines = withVrf(desiredNet);
  // An OSPF interface's new MTU: ospfd resets the interface (FRR, verified in a lab), and the
  // adjacency stays in ExStart while the two ends' MTUs differ (RFC 2328 10.6: a DD packet whose
  // MTU exceeds the receiver's is rejected).
  const ospfIfaces = new Set(running.map((l) => /^interface (\S+) > ip ospf /.exec(l)?.[1]).filter((x): x is string => !!x));
  const mtuOf = (lines: string[]) => new Map(lines.map((e) => /^set_mtu (\S+) (\d+)$/.exec(e.slice(e.indexOf('\t') + 1))).filter((m): m is RegExpExecArray => !!m).map((m) => [m[1], m[2]]));
  const [mtuBefore, mtuAfter] = [mtuOf(runningNetLines), mtuOf(desiredNetLines)];
  const reset = new Set<string>();
  for (const [iface, mtu] of mtuAfter) {
    const was = mtuBefore.get(iface);
    if (was === undefined || was === mtu || !ospfIfaces.has(iface)) continue;
    add(d.interfaces, iface);
    reset.add(iface);
    const [from, to] = [Number(was), Number(mtu)];
    let g = (d.ospfMtu ??= []).find((x) => x.from === from && x.to === to);
    if (!g) d.ospfMtu.push((g = { from, to, interfaces: [] }));
    g.interfaces.push(iface);
  }
  // Every adjacency of the device reset at once: its loopback is unreachable until they are Full
  // again, longer than a hold time (measured on dc3: every iBGP session between loopbacks reset,
  // 10-12 s without forwarding), so each session between loopbacks resets too.
  const passive = new Set(running.map((l) => /^interface (\S+) > ip ospf passive$/.exec(l)?.[1]).filter((x): x is string => !!x));
  const adjacencies = [...ospfIfaces].filter((i) => i !== 'lo' && !passive.has(i));
  if (reset.size && adjacencies.every((i) => reset.has(i))) {
    for (const key of bgpNeighbours(desiredConf).remote.keys()) if (/^[\d.]+$|:/.test(key)) add(d.sessions, `${key} (underlay: every OSPF adjacency resets)`);
  }
  for (const entry of changed(runningNetLines, desiredNetLines)) {
    const [v, l] = entry.split('\t');
    // Shell structure (conditions, the VRF section markers) is not a change of its own.
    if (/^(if|elif|else|fi|then|do|done|for|N=)\b/.test(l)) continue;
    // An underlay port's or the loopback's addresses: its sessions and adjacencies move to them.
    const addrs = /^ensure_addrs (\S+) /.exec(l);
    if (addrs && !/^(br|gw|vx|l3br)\d+$/.test(addrs[1]) && !v) add(d.interfaces, addrs[1]);
    const vlans = [...l.matchAll(/\b(?:br|gw)(\d+)\b/g)].map((m) => Number(m[1]));
    const vnis = [...l.matchAll(/\bvx(\d+)\b/g)].map((m) => Number(m[1]));
    for (const x of vlans) add(d.vlans, x);
    for (const x of vnis) add(d.vnis, x);
    // A VLAN's own lines inside a VRF section touch the VLAN, not the VRF's other networks.
    if (vlans.length || vnis.length) continue;
    if (v) add(d.vrfs, v);
    // The VRF a line names: `ensure_link NAME type vrf table N`, `ensure_vrf_netns NAME`, `set_master DEV NAME`.
    for (const m of l.matchAll(/\b(?:ensure_vrf_netns|set_master \S+) ([A-Za-z][\w-]*)\b|\b([A-Za-z][\w-]*) type vrf\b/g)) {
      const name = m[1] ?? m[2];
      if (!/^(br|l3br|vx)\d+$/.test(name)) add(d.vrfs, name);
    }
  }
  return separateAdded(d, runningConf, runningNet);
}

/** Moves the VNIs, VLANs and VRFs the running state does not name at all into `added`. */
function separateAdded(d: Disturbance, runningConf: string, runningNet: string): Disturbance {
  const runs = (re: RegExp) => re.test(runningConf) || re.test(runningNet);
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const isNew = {
    vni: (n: number) => !runs(new RegExp(`\\b(vni |vx)${n}\\b`)),
    vlan: (n: number) => !runs(new RegExp(`\\b(br|gw)${n}\\b|\\bvlan ${n}\\b`)),
    vrf: (v: string) => !runs(new RegExp(`(^|[\\s=])${esc(v)}($|\\s)`, 'm')),
    // A port the running state never names (a new uplink): nothing runs on it yet.
    iface: (i: string) => !runs(new RegExp(`^(interface ${esc(i)}|\\s*\\S+ ${esc(i)})(\\s|$)`, 'm')),
  };
  const added = { vnis: d.vnis.filter(isNew.vni), vlans: d.vlans.filter(isNew.vlan), vrfs: d.vrfs.filter(isNew.vrf), interfaces: d.interfaces.filter(isNew.iface) };
  if (!added.vnis.length && !added.vlans.length && !added.vrfs.length && !added.interfaces.length) return d;
  const { interfaces, ...rest } = added;
  return {
    ...d,
    vnis: d.vnis.filter((x) => !added.vnis.includes(x)), vlans: d.vlans.filter((x) => !added.vlans.includes(x)), vrfs: d.vrfs.filter((x) => !added.vrfs.includes(x)),
    interfaces: d.interfaces.filter((x) => !interfaces.includes(x)),
    added: { ...rest, ...(interfaces.length ? { interfaces } : {}) },
  };
}

/** "eth3, eth1, eth2 (MTU 9216 -> 9000: OSPF adjacencies reset, down until each peer's MTU is the same)". */
function underlay(d: Disturbance): string {
  const byMtu = new Set((d.ospfMtu ?? []).flatMap((g) => g.interfaces));
  const rest = d.interfaces.filter((i) => !byMtu.has(i));
  const mtu = (d.ospfMtu ?? []).map((g) => `${g.interfaces.join(', ')} (MTU ${g.from} -> ${g.to}: OSPF adjacenc${g.interfaces.length > 1 ? 'ies reset, down until each' : 'y resets, down until the'} peer's MTU is the same)`);
  return [...(rest.length ? [rest.join(', ')] : []), ...mtu].join(', ');
}

/** One line for the plan: "BGP 10.3.0.101 (reset: remote-as); VNIs 10040; VLANs 40; VRFs BLUE (adds VNIs 10050)". */
export function describeDisturbance(d: Disturbance): string {
  if (d.all) return `everything on the device (${d.all})`;
  // One session per peer, with every attribute that resets it.
  const peers = new Map<string, string[]>();
  for (const s of d.sessions) {
    const m = /^(\S+) \((.*)\)$/.exec(s);
    const [peer, why] = m ? [m[1], m[2]] : [s, ''];
    peers.set(peer, [...(peers.get(peer) ?? []), ...(why ? [why] : [])]);
  }
  const objects = (x: { vnis: number[]; vlans: number[]; vrfs: string[] }) => [
    x.vnis.length ? `VNIs ${x.vnis.join(', ')}` : '',
    x.vlans.length ? `VLANs ${x.vlans.join(', ')}` : '',
    x.vrfs.length ? `VRFs ${x.vrfs.join(', ')}` : '',
  ].filter(Boolean);
  const parts = [
    peers.size ? `BGP ${[...peers].map(([p, why]) => `${p}${why.length ? ` (reset: ${why.join(', ')})` : ''}`).join(', ')}` : '',
    d.interfaces.length ? `underlay on ${underlay(d)}` : '',
    ...objects(d),
  ].filter(Boolean);
  const added = d.added ? [...(d.added.interfaces?.length ? [`underlay on ${d.added.interfaces.join(', ')}`] : []), ...objects(d.added)] : [];
  return `${parts.join('; ') || 'nothing that carries traffic'}${added.length ? ` (adds ${added.join('; ')})` : ''}`;
}
