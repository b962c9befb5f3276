/**
 * BGP sessions seen from both ends: each end's device must run the ASN and router id the
 * other end peers with, list the session, and own the interface or address it is sourced
 * from; the session type must match the ASNs and the address families must cover its layer.
 */
import type { BgpEnd, BgpSession, Device } from '../../model/types.ts';
import type { Finding } from '../findings.ts';
import type { FabricGraph } from '../graph.ts';
import type { StaticCheck } from './types.ts';

function ownsAddress(fg: FabricGraph, device: string, address: string): string | undefined {
  const d = fg.device(device);
  for (const i of d?.interfaces ?? []) {
    if (i.ipv4?.split('/')[0] === address || i.ipv4Secondary?.some((s) => s.split('/')[0] === address)) return i.name;
  }
  return undefined;
}

/** Each device's session ids as a set: a spine lists hundreds, and every session asks both ends. */
const sessionSets = new WeakMap<string[], Set<string>>();
function configures(d: Device, id: string): boolean {
  // Keyed by the list itself and checked by size: a model edited between runs is read afresh.
  let set = sessionSets.get(d.bgpSessionIds);
  if (!set || set.size !== d.bgpSessionIds.length) sessionSets.set(d.bgpSessionIds, (set = new Set(d.bgpSessionIds)));
  return set.has(id);
}

export function checkSession(fg: FabricGraph, s: BgpSession): Finding[] {
  const out: Finding[] = [];
  const f = (message: string, evidence: Record<string, unknown>, devices = [s.a.device, s.b.device]) =>
    out.push({ check: 'bgp-session-compat', severity: 'error', message, evidence: { session: s.id, ...evidence }, location: s.source, elements: { devices, links: linksOf(fg, s) } });
  const ends: [BgpEnd, BgpEnd][] = [[s.a, s.b], [s.b, s.a]];
  for (const [me, peer] of ends) {
    const d = fg.device(me.device);
    if (!d) {
      f(`session ${s.id}: device ${me.device} does not exist`, { device: me.device });
      continue;
    }
    if (!configures(d, s.id)) f(`session ${s.id}: ${me.device} does not configure it (one-sided session)`, { device: me.device, configured: d.bgpSessionIds });
    if (d.asn !== me.asn) {
      f(`session ${s.id}: ${peer.device} peers with ${me.device} as remote-as ${me.asn}, but ${me.device} runs AS ${d.asn}`, {
        [`${peer.device}.remoteAs`]: me.asn,
        [`${me.device}.localAs`]: d.asn,
      }, [me.device, peer.device]);
    }
    if (d.routerId !== me.routerId) f(`session ${s.id}: ${me.device} router id is ${d.routerId}, the session expects ${me.routerId}`, { device: me.device, expected: me.routerId, actual: d.routerId });
    if (me.interface) {
      const itf = fg.iface(me.device, me.interface);
      if (!itf) f(`session ${s.id}: ${me.device} has no interface ${me.interface}`, { device: me.device, interface: me.interface });
      else if (!peer.interface) f(`session ${s.id}: ${me.device} runs it unnumbered on ${me.interface} but ${peer.device} uses address ${peer.address ?? '(none)'}`, { [me.device]: me.interface, [peer.device]: peer.address });
      else if (itf.peer?.device !== peer.device || itf.peer?.interface !== peer.interface) {
        f(`session ${s.id}: ${me.device}:${me.interface} is cabled to ${itf.peer ? `${itf.peer.device}:${itf.peer.interface}` : 'nothing'}, not to ${peer.device}:${peer.interface}`, {
          interface: `${me.device}:${me.interface}`,
          cabledTo: itf.peer ? `${itf.peer.device}:${itf.peer.interface}` : null,
          sessionPeer: `${peer.device}:${peer.interface}`,
        });
      }
    } else if (me.address) {
      const on = ownsAddress(fg, me.device, me.address);
      if (!on) f(`session ${s.id}: ${me.device} does not own source address ${me.address}`, { device: me.device, address: me.address });
    } else f(`session ${s.id}: ${me.device} end has neither an interface nor an address`, { device: me.device });
  }
  // Numbered single-hop sessions: both addresses on one link's /31.
  if (!s.multihop && !s.a.interface && s.a.address && s.b.address && s.layer !== 'overlay') {
    const ia = ownsAddress(fg, s.a.device, s.a.address);
    const link = ia ? fg.linkAt(s.a.device, ia) : undefined;
    const other = link ? (link.a.device === s.a.device ? link.b : link.a) : undefined;
    if (!other || other.device !== s.b.device || other.ipv4?.split('/')[0] !== s.b.address) {
      f(`session ${s.id}: ${s.a.address} and ${s.b.address} are not the two ends of one link`, { a: s.a.address, b: s.b.address, link: link ? fg.linkName(link) : null });
    }
  }
  if (s.type === 'ebgp' && s.a.asn === s.b.asn) f(`session ${s.id} is eBGP but both ends are AS ${s.a.asn}`, { type: s.type, aAsn: s.a.asn, bAsn: s.b.asn });
  if (s.type === 'ibgp' && s.a.asn !== s.b.asn) f(`session ${s.id} is iBGP but the ends are AS ${s.a.asn} and AS ${s.b.asn}`, { type: s.type, aAsn: s.a.asn, bAsn: s.b.asn });
  const need: string[] = [];
  if (s.layer !== 'overlay' && fg.model.fabric.underlay !== 'ospf' && !s.afiSafis.includes('ipv4-unicast')) need.push('ipv4-unicast');
  if (s.layer !== 'underlay' && !s.afiSafis.includes('l2vpn-evpn')) need.push('l2vpn-evpn');
  if (need.length) {
    f(`session ${s.id} (${s.layer}) lacks address famil${need.length > 1 ? 'ies' : 'y'} ${need.join(', ')}`, {
      layer: s.layer,
      [`${s.a.device}.afiSafis`]: s.afiSafis,
      [`${s.b.device}.afiSafis`]: s.afiSafis,
      missing: need,
    });
  }
  return out;
}

function linksOf(fg: FabricGraph, s: BgpSession): string[] {
  if (!s.a.interface) return [];
  const l = fg.linkAt(s.a.device, s.a.interface);
  return l ? [fg.linkName(l)] : [];
}

export const bgpSessionCompat: StaticCheck = {
  id: 'bgp-session-compat',
  reads: 'fabric',
  title: 'BGP sessions compatible from both ends',
  kind: 'static',
  layer: 'underlay',
  severity: 'error',
  description: 'ASN, router id, unnumbered interface pairs or addresses, session type and address families (incl. L2VPN EVPN) agree at both ends of every session',
  run({ fg }) {
    const findings = fg.model.bgpSessions.flatMap((s) => checkSession(fg, s));
    // Sessions a device lists that do not exist anywhere.
    for (const d of fg.devices) {
      for (const id of d.bgpSessionIds) {
        if (!fg.sessionById.has(id)) findings.push({ check: 'bgp-session-compat', severity: 'error', message: `${d.name} configures session ${id} that has no other end`, evidence: { device: d.name, session: id }, location: d.source, elements: { devices: [d.name] } });
      }
    }
    return { findings, examined: `${fg.model.bgpSessions.length} sessions` };
  },
};
