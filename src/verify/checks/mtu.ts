/**
 * MTU: both ends of every link agree with the link, access ports fit their VLAN, and every
 * underlay link leaves room for VXLAN: the largest tenant frame plus 50 bytes (outer IPv4 20,
 * UDP 8, VXLAN 8, inner Ethernet 14).
 */
import type { Finding } from '../findings.ts';
import type { StaticCheck } from './types.ts';
import type { FabricGraph } from '../graph.ts';

export const VXLAN_OVERHEAD = 50;

/** The links' findings: both ends agree, and underlay links leave room for the largest tenant frame. */
function linkFindings(fg: FabricGraph, tenantMtu: number, tenantNet: string): Finding[] {
  const findings: Finding[] = [];
  const needed = tenantMtu + VXLAN_OVERHEAD;
  fg.model.links.forEach((l, i) => {
    const ia = fg.iface(l.a.device, l.a.interface);
    const ib = fg.iface(l.b.device, l.b.interface);
    if (ia && ib && (ia.mtu !== ib.mtu || ia.mtu !== l.mtu)) {
      const name = fg.linkName(l);
      findings.push({ check: 'vxlan-mtu', severity: 'error', message: `link ${name}: MTU mismatch, ${l.a.device}:${l.a.interface} ${ia.mtu} vs ${l.b.device}:${l.b.interface} ${ib.mtu}`, evidence: { link: name, linkMtu: l.mtu, aMtu: ia.mtu, bMtu: ib.mtu }, location: l.source, elements: { links: [name], devices: [l.a.device, l.b.device] } });
    }
    if (!fg.underlayOnLink.has(i) || !tenantMtu) return;
    const eff = Math.min(l.mtu, ia?.mtu ?? l.mtu, ib?.mtu ?? l.mtu);
    if (eff < needed) {
      const name = fg.linkName(l);
      findings.push({
        check: 'vxlan-mtu',
        severity: 'error',
        message: `link ${name}: MTU ${eff} leaves no VXLAN headroom for tenant MTU ${tenantMtu} (${tenantNet}), needs ${needed}`,
        evidence: { link: name, mtu: eff, tenantMtu, network: tenantNet, overhead: VXLAN_OVERHEAD, needed },
        location: l.source,
        elements: { links: [name], devices: [l.a.device, l.b.device] },
      });
    }
  });
  return findings;
}

export const vxlanMtu: StaticCheck = {
  id: 'vxlan-mtu',
  title: 'MTU consistent with VXLAN headroom',
  kind: 'static',
  layer: 'physical',
  severity: 'error',
  description: `link ends agree; underlay links carry the largest tenant MTU + ${VXLAN_OVERHEAD} bytes of VXLAN encapsulation`,
  run({ fg }) {
    const findings: Finding[] = [];
    let tenantMtu = 0;
    let tenantNet = '';
    for (const n of fg.model.networks) {
      if (n.mtu > tenantMtu) {
        tenantMtu = n.mtu;
        tenantNet = n.name;
      }
    }
    // The links' part reads the fabric and the largest tenant MTU only: a head built from its
    // base (the same fabric) takes the base's (120,000 link ends at 5,000 devices).
    for (const f of fg.fabricMemo(`vxlan-mtu-links:${tenantMtu}:${tenantNet}`, () => linkFindings(fg, tenantMtu, tenantNet))) findings.push({ ...f });
    for (const d of fg.devices) {
      for (const v of d.vlans) {
        for (const p of v.ports) {
          const itf = fg.iface(d.name, p);
          if (itf && itf.mtu < v.mtu) {
            findings.push({ check: 'vxlan-mtu', severity: 'error', message: `${d.name}:${p} MTU ${itf.mtu} is below VLAN ${v.vlan} (${v.name}) MTU ${v.mtu}`, evidence: { device: d.name, port: p, portMtu: itf.mtu, vlanMtu: v.mtu }, location: itf.source, elements: { devices: [d.name] } });
          }
        }
      }
    }
    return { findings, examined: `${fg.model.links.length} links, tenant MTU ${tenantMtu}` };
  },
};
