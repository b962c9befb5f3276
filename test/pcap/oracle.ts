/** Per-packet comparison of our decode with tshark's: layers present and their key fields. */
import type { DecodedPacket } from '../../src/pcap/decode.ts';
import type { Layer } from '../../src/pcap/layers.ts';
import { findAll, first, tsharkLayer, type TsharkLayers } from './corpus.ts';

const TSHARK_NAME: Record<string, string> = {
  eth: 'eth', vlan: 'vlan', arp: 'arp', ipv4: 'ip', ipv6: 'ipv6', icmp: 'icmp', icmpv6: 'icmpv6', udp: 'udp', tcp: 'tcp', vxlan: 'vxlan',
  geneve: 'geneve', bgp: 'bgp', ospf: 'ospf', bfd: 'bfd', dns: 'dns', lacp: 'lacp', lldp: 'lldp',
};

const CHAIN = new Set(['eth', 'ethertype', 'vlan', 'ieee8021ad', 'ip', 'ipv6', 'udp', 'tcp', 'vxlan', 'geneve', 'arp', 'icmp', 'icmpv6', 'ospf', 'bgp', 'bfd', 'dns', 'lacp', 'slow', 'lldp', 'sll', 'null', 'raw', 'data']);

const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

/** [field, ours, tshark's] for every key field of one layer. */
function fields(l: Layer, t: Record<string, unknown>): Array<[string, unknown, unknown]> {
  switch (l.proto) {
    case 'eth':
      return [['eth.src', l.src, first(t, 'eth.src')], ['eth.dst', l.dst, first(t, 'eth.dst')]];
    case 'vlan':
      return [l.tpid === 0x88a8 ? ['ieee8021ad.id', l.id, num(first(t, 'ieee8021ad.id'))] : ['vlan.id', l.id, num(first(t, 'vlan.id'))]];
    case 'arp':
      return [['arp.opcode', l.op, num(first(t, 'arp.opcode'))], ['arp.src.proto_ipv4', l.senderIp, first(t, 'arp.src.proto_ipv4') ?? l.senderIp]];
    case 'ipv4':
      return [['ip.src', l.src, first(t, 'ip.src')], ['ip.dst', l.dst, first(t, 'ip.dst')], ['ip.proto', l.protocol, num(first(t, 'ip.proto'))]];
    case 'ipv6':
      return [['ipv6.src', l.src, first(t, 'ipv6.src')], ['ipv6.dst', l.dst, first(t, 'ipv6.dst')]];
    case 'icmp':
      return [['icmp.type', l.type, num(first(t, 'icmp.type'))], ['icmp.code', l.code, num(first(t, 'icmp.code'))]];
    case 'icmpv6':
      return [['icmpv6.type', l.type, num(first(t, 'icmpv6.type'))]];
    case 'udp':
      return [['udp.srcport', l.srcPort, num(first(t, 'udp.srcport'))], ['udp.dstport', l.dstPort, num(first(t, 'udp.dstport'))]];
    case 'tcp':
      return [
        ['tcp.srcport', l.srcPort, num(first(t, 'tcp.srcport'))], ['tcp.dstport', l.dstPort, num(first(t, 'tcp.dstport'))],
        ['tcp.flags', l.flags & 0xff, (num(first(t, 'tcp.flags')) ?? 0) & 0xff], ['tcp.seq_raw', l.seq, num(first(t, 'tcp.seq_raw'))],
      ];
    case 'vxlan':
      return [['vxlan.vni', l.vni, num(first(t, 'vxlan.vni'))]];
    case 'geneve':
      return [['geneve.vni', l.vni, num(first(t, 'geneve.vni'))]];
    case 'bgp': {
      const out: Array<[string, unknown, unknown]> = [['bgp.type', l.type, num(first(t, 'bgp.type'))]];
      if (l.open) {
        out.push(['bgp.open.myas', l.open.myAs, num(first(t, 'bgp.open.myas'))]);
        out.push(['bgp.open.identifier', l.open.routerId, first(t, 'bgp.open.identifier')]);
        out.push(['bgp.open.holdtime', l.open.holdTime, num(first(t, 'bgp.open.holdtime'))]);
        const as4 = first(t, 'bgp.cap.4as');
        if (as4 !== undefined) out.push(['bgp.cap.4as', l.open.asn, num(as4)]);
        const afis = findAll(t, 'bgp.cap.mp.afi').map(Number);
        const safis = findAll(t, 'bgp.cap.mp.safi').map(Number);
        out.push(['bgp.cap.mp.afi/safi', l.open.afiSafis.map((a) => `${a.afi}/${a.safi}`).join(' '), afis.map((a, i) => `${a}/${safis[i]}`).join(' ')]);
      }
      if (l.notification) {
        out.push(['bgp.notify.major_error', l.notification.code, num(first(t, 'bgp.notify.major_error'))]);
        const minor = Object.keys(flatten(t)).find((k) => k.startsWith('bgp.notify.minor_error') && k !== 'bgp.notify.minor_data');
        if (minor) out.push([minor, l.notification.subcode, num(first(t, minor))]);
      }
      return out;
    }
    case 'ospf':
      return [
        ['ospf.msg', l.type, num(first(t, 'ospf.msg'))], ['ospf.srcrouter', l.routerId, first(t, 'ospf.srcrouter')], ['ospf.area_id', l.area, first(t, 'ospf.area_id')],
        ...(l.hello && l.version === 2
          ? ([['ospf.hello.hello_interval', l.hello.helloInterval, num(first(t, 'ospf.hello.hello_interval'))], ['ospf.hello.router_dead_interval', l.hello.deadInterval, num(first(t, 'ospf.hello.router_dead_interval'))]] as Array<[string, unknown, unknown]>)
          : []),
      ];
    case 'bfd':
      return [['bfd.my_discriminator', l.myDisc, num(first(t, 'bfd.my_discriminator'))], ['bfd.diag', l.diag, num(first(t, 'bfd.diag'))]];
    case 'dns':
      return [['dns.id', l.id, num(first(t, 'dns.id'))], ['dns.count.answers', l.counts.an, num(first(t, 'dns.count.answers'))]];
    case 'lacp':
      return [['lacp.actor.sysid', l.actor?.system, first(t, 'lacp.actor.sysid')]];
    case 'lldp':
      return [['lldp.tlv.system.name', l.systemName, first(t, 'lldp.tlv.system.name')]];
    default:
      return [];
  }
}

function flatten(o: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(o)) for (const x of o) flatten(x, out);
  else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) {
    out[k] = true;
    flatten(v, out);
  }
  return out;
}

/** Differences between our packet and tshark's, as readable lines (empty = agree). */
export function comparePacket(ours: DecodedPacket, ts: TsharkLayers, known?: (packet: number, field: string) => boolean): string[] {
  const diffs: string[] = [];
  let stopAfterUdp = false;
  const seen: Record<string, number> = {};
  for (const l of ours.layers) {
    let name = TSHARK_NAME[l.proto];
    if (!name) continue;
    if (l.proto === 'vlan' && l.tpid === 0x88a8) name = 'ieee8021ad';
    if (l.proto === 'arp' && l.hwType === 19) {
      seen.arp = 0; // tshark hands ATM ARP to its atmarp dissector: compare only its presence
      continue;
    }
    if (stopAfterUdp) break;
    const n = (seen[name] = (seen[name] ?? -1) + 1);
    const t = tsharkLayer(ts, name, n);
    if (!t) {
      if (known?.(ours.index, `layer:${name}`)) continue;
      diffs.push(`#${ours.index}: we decoded ${l.proto}[${n}], tshark has no ${name}[${n}] (${(ts.frame as Record<string, string>)['frame.protocols']})`);
      continue;
    }
    for (const [f, a, b] of fields(l, t)) {
      if (b === undefined) continue; // tshark did not get as far in this layer (malformed)
      if (known?.(ours.index, f)) continue;
      if (a !== b) diffs.push(`#${ours.index} ${l.proto}[${n}] ${f}: ours ${JSON.stringify(a)}, tshark ${JSON.stringify(b)}`);
    }
    // BIG TCP / GSO: UDP length 0 stands for "larger than 64 KiB". tshark 4.0 calls it
    // malformed and stops; tcpdump decodes on, as we do (checked in tcpdump.test.ts).
    if (l.proto === 'udp' && l.length === 0 && first(t, 'udp.length') === '0') stopAfterUdp = true;
  }
  // The reverse direction for the layers findings rely on, when we reported no problem.
  if (ours.problems.length === 0 && !stopAfterUdp) {
    const all = String((ts.frame as Record<string, string>)['frame.protocols']).split(':');
    // Only the part of tshark's chain made of protocols we decode can be compared.
    const cut = all.findIndex((x) => !CHAIN.has(x));
    const protos = cut < 0 ? all : all.slice(0, cut);
    for (const p of ['ip', 'ipv6', 'udp', 'tcp', 'vxlan', 'ospf', 'arp', 'bgp', 'bfd', 'dns', 'lldp', 'lacp', 'geneve', 'vlan']) {
      const theirs = Math.min(p === 'arp' ? 1 : 99, protos.filter((x) => x === p).length);
      const mine = seen[p] === undefined ? 0 : seen[p] + 1;
      // tshark also decodes the packet quoted inside ICMP errors; we stop at ICMP.
      const quoted = protos.includes('icmp') || protos.includes('icmpv6');
      if (mine < theirs && !known?.(ours.index, `missing:${p}`) && !(quoted && mine > 0) && !(quoted && (p === 'udp' || p === 'tcp'))) {
        diffs.push(`#${ours.index}: tshark has ${theirs} ${p}, we have ${mine} (${protos.join(':')})`);
      }
    }
  }
  return diffs;
}
