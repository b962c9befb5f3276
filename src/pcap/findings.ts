/** Findings: what in a capture a network engineer should look at, with or without the fabric model. */
import type { AnalysisReport, AnalyzeOptions, BgpSession, BgpSpeaker, Finding, OspfRouter } from './analyze.ts';
import { afiSafiText, isFailedHandshake } from './analyze.ts';
import type { BgpPeerExpectation, BgpSessionExpectation, FabricExpectations } from './expectations.ts';

export function compareFindings(r: AnalysisReport, o: AnalyzeOptions, mtuPairs: Array<{ from: string; to: string; mtu: number; packet: number; routerId: string }>): Finding[] {
  const out: Finding[] = [];
  decodeFindings(r, out);
  tcpFindings(r, out);
  vxlanFindings(r, o.expectations, out);
  bgpFindings(r, o.expectations, out);
  ospfFindings(r, o.expectations, mtuPairs, out);
  floodFindings(r, o, out);
  for (const b of r.bfd) {
    if (b.downs > 0) out.push({ severity: 'warning', category: 'bfd', message: `BFD ${b.src} -> ${b.dst} (discriminator ${b.myDisc}) went down ${b.downs} time(s); last diagnostic: ${b.lastDiag}` });
  }
  return bySeverity(out);
}

/** Errors first, then warnings, then information; stable within each. */
export function bySeverity(findings: Finding[]): Finding[] {
  const rank = { error: 0, warning: 1, info: 2 };
  return findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

function decodeFindings(r: AnalysisReport, out: Finding[]): void {
  if (r.problemCount === 0) return;
  const p = r.problems[0];
  out.push({
    severity: 'warning',
    category: 'decode',
    message: `${r.problemCount} decode problem(s): malformed or truncated packets (first: packet ${p.packet}, ${p.layer}: ${p.reason})`,
    packets: r.problems.slice(0, 5).map((x) => x.packet),
  });
}

const ep = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function tcpFindings(r: AnalysisReport, out: Finding[]): void {
  // Examples come from the listed flows; counts from the totals (the list may be cut).
  const failed = r.flows.filter((f) => f.tcp && isFailedHandshake(f.tcp));
  if (r.tcp.failedHandshakes) {
    const list = failed.slice(0, 5).map((f) => `${ep(f.a, f.aPort)} <-> ${ep(f.b, f.bPort)}${f.tcp!.resets ? ' (reset)' : ' (no SYN-ACK)'}`);
    out.push({ severity: 'warning', category: 'tcp', message: `${r.tcp.failedHandshakes} TCP handshake(s) failed${list.length ? `: ${list.join('; ')}` : ''}${r.tcp.failedHandshakes > list.length ? '; ...' : ''}` });
  }
  const t = r.tcp;
  if (t.resets) out.push({ severity: 'info', category: 'tcp', message: `${t.resets} TCP reset(s) across ${t.resetConnections} connection(s)` });
  if (t.retransmissions) {
    const worst = r.flows.filter((f) => f.tcp?.retransmissions).sort((a, b) => b.tcp!.retransmissions - a.tcp!.retransmissions)[0];
    const most = worst ? `; most on ${ep(worst.a, worst.aPort)} <-> ${ep(worst.b, worst.bPort)} (${worst.tcp!.retransmissions} of ${worst.packets} packets)` : '';
    out.push({ severity: 'warning', category: 'tcp', message: `${t.retransmissions} TCP retransmission(s)${most}` });
  }
  if (t.zeroWindows) out.push({ severity: 'warning', category: 'tcp', message: `${t.zeroWindows} TCP zero-window advertisement(s): a receiver could not keep up` });
}

function vxlanFindings(r: AnalysisReport, exp: FabricExpectations | undefined, out: Finding[]): void {
  const reported = new Set<string>();
  for (const t of r.tunnels) {
    const tun = `VXLAN ${t.srcVtep} -> ${t.dstVtep} VNI ${t.vni}`;
    if (t.fragmented > 0) {
      out.push({
        severity: exp ? 'error' : 'warning', category: 'vxlan', packets: [t.firstPacket],
        message: `${tun}: ${t.fragmented} outer packet(s) fragmented (largest outer packet ${t.largestOuter} bytes): inner frames are too big for the underlay MTU${exp?.underlayMtu ? ` ${exp.underlayMtu}` : ''}`,
      });
    } else if (exp?.underlayMtu && t.largestOuter > exp.underlayMtu) {
      out.push({ severity: 'error', category: 'vxlan', packets: [t.firstPacket], message: `${tun}: outer packets of ${t.largestOuter} bytes exceed the underlay MTU ${exp.underlayMtu}` });
    }
    if (!exp) continue;
    for (const [role, ip] of [['source', t.srcVtep], ['destination', t.dstVtep]] as const) {
      const v = exp.vteps.get(ip);
      if (!v) {
        const key = `unknown|${ip}`;
        if (!reported.has(key)) {
          reported.add(key);
          out.push({ severity: 'error', category: 'vxlan', packets: [t.firstPacket], message: `unknown VTEP ${ip}: ${role} of ${tun}, but no device in the model has this VTEP address` });
        }
      } else if (!v.vnis.has(t.vni)) {
        out.push({ severity: 'error', category: 'vxlan', packets: [t.firstPacket], message: `VNI ${t.vni} is not configured on VTEP ${ip} (${v.device}), yet it is the ${role} of ${tun}` });
      }
    }
    const vlan = exp.vniToVlan.get(t.vni);
    if (vlan !== undefined) {
      const wrong = t.innerVlans.filter((x) => x !== vlan);
      if (wrong.length) out.push({ severity: 'error', category: 'vxlan', packets: [t.firstPacket], message: `${tun}: inner frames tagged VLAN ${wrong.join(', ')}, but the model maps VNI ${t.vni} to VLAN ${vlan}` });
    }
  }
}

function speakerMatches(s: BgpSpeaker, p: BgpPeerExpectation): boolean {
  if (p.ip && p.ip === s.ip) return true;
  return !!p.routerId && p.routerId === s.routerId;
}

function findSessionExpectation(sess: BgpSession, exp: FabricExpectations): { e: BgpSessionExpectation; a: BgpPeerExpectation; b: BgpPeerExpectation } | undefined {
  for (const e of exp.bgpSessions) {
    if (speakerMatches(sess.a, e.a) && speakerMatches(sess.b, e.b)) return { e, a: e.a, b: e.b };
    if (speakerMatches(sess.a, e.b) && speakerMatches(sess.b, e.a)) return { e, a: e.b, b: e.a };
  }
  for (const e of exp.bgpSessions) {
    if (speakerMatches(sess.a, e.a) || speakerMatches(sess.b, e.b)) return { e, a: e.a, b: e.b };
    if (speakerMatches(sess.a, e.b) || speakerMatches(sess.b, e.a)) return { e, a: e.b, b: e.a };
  }
  return undefined;
}

function bgpFindings(r: AnalysisReport, exp: FabricExpectations | undefined, out: Finding[]): void {
  for (const s of r.bgp) {
    const name = `BGP ${s.a.ip} <-> ${s.b.ip}`;
    for (const n of s.notifications) {
      out.push({ severity: 'error', category: 'bgp', packets: [n.packet], message: `${name}: NOTIFICATION from ${n.from}: ${n.reason} (code ${n.code}, subcode ${n.subcode})${n.message ? `: "${n.message}"` : ''}` });
    }
    if (s.flaps > 0) out.push({ severity: 'warning', category: 'bgp', message: `${name}: session flapped ${s.flaps} time(s) (${s.establishments} establishment(s) in the capture)` });
    if (s.a.asn !== undefined && s.b.asn !== undefined) {
      const key = (x: { afi: number; safi: number }) => `${x.afi}/${x.safi}`;
      const bSet = new Set(s.b.afiSafis.map(key));
      const aSet = new Set(s.a.afiSafis.map(key));
      const oneSided = [...s.a.afiSafis.filter((x) => !bSet.has(key(x))).map((x) => `${afiSafiText(x.afi, x.safi)} by ${s.a.ip} only`), ...s.b.afiSafis.filter((x) => !aSet.has(key(x))).map((x) => `${afiSafiText(x.afi, x.safi)} by ${s.b.ip} only`)];
      if (oneSided.length) out.push({ severity: 'warning', category: 'bgp', message: `${name}: address families announced by one side are not negotiated: ${oneSided.join('; ')}` });
    }
    if (!exp || exp.bgpSessions.length === 0) continue;
    if (s.a.asn === undefined && s.b.asn === undefined) continue; // no OPEN seen: nothing to compare
    const m = findSessionExpectation(s, exp);
    if (!m) {
      out.push({ severity: 'warning', category: 'bgp', message: `${name} (AS ${s.a.asn ?? '?'} / AS ${s.b.asn ?? '?'}) is not a session of the model` });
      continue;
    }
    for (const [sp, pe] of [[s.a, m.a], [s.b, m.b]] as const) {
      if (sp.asn === undefined) continue;
      const who = `${sp.ip} (${pe.device})`;
      if (sp.asn !== pe.asn) out.push({ severity: 'error', category: 'bgp', message: `${name}: ${who} announces AS ${sp.asn}, the model expects AS ${pe.asn}` });
      if (pe.routerId && sp.routerId !== pe.routerId) out.push({ severity: 'error', category: 'bgp', message: `${name}: ${who} uses router-id ${sp.routerId}, the model expects ${pe.routerId}` });
      if (m.e.holdTime !== undefined && sp.holdTime !== m.e.holdTime) out.push({ severity: 'warning', category: 'bgp', message: `${name}: ${who} offers hold time ${sp.holdTime}s, the model expects ${m.e.holdTime}s` });
      const have = new Set(sp.afiSafis.map((x) => `${x.afi}/${x.safi}`));
      // An OPEN without multiprotocol capabilities means IPv4 unicast only (RFC 4760).
      if (sp.afiSafis.length === 0) have.add('1/1');
      const missing = m.e.afiSafis.filter((x) => !have.has(`${x.afi}/${x.safi}`));
      if (missing.length) out.push({ severity: 'error', category: 'bgp', message: `${name}: ${who} does not announce ${missing.map((x) => afiSafiText(x.afi, x.safi)).join(', ')} expected by the model` });
    }
  }
}

function ipToU32(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function maskBits(mask: string): number {
  let v = ipToU32(mask);
  let n = 0;
  while (v & 0x80000000) {
    n++;
    v = (v << 1) >>> 0;
  }
  return n;
}

function ospfFindings(r: AnalysisReport, exp: FabricExpectations | undefined, mtuPairs: Array<{ from: string; to: string; mtu: number; packet: number; routerId: string }>, out: Finding[]): void {
  // Neighbours are routers whose hellos come from the same IPv4 subnet (v2) or the same link (v3).
  const groups = new Map<string, OspfRouter[]>();
  for (const rt of r.ospf) {
    if (rt.helloInterval === undefined) continue;
    let key = `v${rt.version}`;
    if (rt.version === 2 && rt.networkMask && !rt.src.includes(':')) {
      const bits = maskBits(rt.networkMask);
      const net = bits === 0 ? 0 : (ipToU32(rt.src) & (0xffffffff << (32 - bits))) >>> 0;
      key = `${(net >>> 24) & 255}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
    }
    groups.set(key, [...(groups.get(key) ?? []), rt]);
  }
  for (const [net, routers] of groups) {
    if (routers.length < 2) continue;
    const checks: Array<[string, (x: OspfRouter) => string | number | undefined]> = [
      ['hello interval', (x) => x.helloInterval],
      ['dead interval', (x) => x.deadInterval],
      ['area', (x) => x.area],
      ['network mask', (x) => x.networkMask],
    ];
    for (const [what, get] of checks) {
      const vals = new Set(routers.map(get));
      if (vals.size > 1) {
        const list = routers.map((x) => `${x.routerId} (${x.src}) ${get(x)}${what.endsWith('interval') ? 's' : ''}`).join(' vs ');
        out.push({ severity: 'error', category: 'ospf', packets: routers.map((x) => x.firstPacket), message: `OSPF ${what} mismatch between neighbours on ${net}: ${list}: the adjacency will not form` });
      }
    }
  }
  const seen = new Set<string>();
  for (const p of mtuPairs) {
    const back = mtuPairs.find((q) => q.from === p.to && q.to === p.from && q.mtu !== p.mtu);
    const key = [p.from, p.to].sort().join('|');
    if (back && !seen.has(key)) {
      seen.add(key);
      out.push({ severity: 'error', category: 'ospf', packets: [p.packet, back.packet], message: `OSPF MTU mismatch in database description between ${p.routerId} (${p.from}) MTU ${p.mtu} and ${back.routerId} (${back.from}) MTU ${back.mtu}: the adjacency sticks in ExStart/Exchange` });
    }
  }
  if (!exp) return;
  for (const rt of r.ospf) {
    const e = exp.ospf.find((x) => x.routerId === rt.routerId && (!x.ip || x.ip === rt.src)) ?? exp.ospf.find((x) => x.routerId === rt.routerId);
    if (!e) continue;
    const who = `OSPF ${rt.routerId} (${e.device}${e.iface ? ` ${e.iface}` : ''})`;
    if (e.area !== rt.area) out.push({ severity: 'error', category: 'ospf', packets: [rt.firstPacket], message: `${who} is in area ${rt.area}, the model expects area ${e.area}` });
    if (e.helloInterval !== undefined && rt.helloInterval !== undefined && e.helloInterval !== rt.helloInterval) out.push({ severity: 'error', category: 'ospf', message: `${who} sends hellos every ${rt.helloInterval}s, the model expects ${e.helloInterval}s` });
    if (e.deadInterval !== undefined && rt.deadInterval !== undefined && e.deadInterval !== rt.deadInterval) out.push({ severity: 'error', category: 'ospf', message: `${who} has dead interval ${rt.deadInterval}s, the model expects ${e.deadInterval}s` });
    if (e.mtu !== undefined && rt.mtu !== undefined && e.mtu !== rt.mtu) out.push({ severity: 'error', category: 'ospf', message: `${who} advertises MTU ${rt.mtu}, the model expects ${e.mtu}` });
  }
}

function floodFindings(r: AnalysisReport, o: AnalyzeOptions, out: Finding[]): void {
  const arpMax = o.arpFloodPps ?? 100;
  const bcMax = o.broadcastFloodPps ?? 500;
  if (r.flood.maxArpPps > arpMax) out.push({ severity: 'warning', category: 'flood', message: `ARP flood: ${r.flood.maxArpPps} ARP packets in one second (threshold ${arpMax}/s), ${r.flood.arpPackets} in total` });
  if (r.flood.maxBroadcastPps > bcMax) out.push({ severity: 'warning', category: 'flood', message: `broadcast storm: ${r.flood.maxBroadcastPps} broadcast frames in one second (threshold ${bcMax}/s)` });
}
