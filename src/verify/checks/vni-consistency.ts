/**
 * VNI <-> VLAN <-> VRF: every leaf maps a network's VLAN to the network's L2 VNI and VRF,
 * every VRF instance uses the VRF's L3 VNI, no VNI is both L2 and L3 or shared by two
 * networks, and every leaf the intent puts a network on carries it.
 */
import type { Finding } from '../findings.ts';
import type { StaticCheck } from './types.ts';

export const vniConsistency: StaticCheck = {
  id: 'vni-consistency',
  title: 'VNI, VLAN and VRF consistent across leaves',
  kind: 'static',
  layer: 'overlay',
  severity: 'error',
  description: 'each VLAN maps to the same L2 VNI and VRF on every leaf, each VRF to the same L3 VNI, and no VNI is reused',
  run({ fg }) {
    const findings: Finding[] = [];
    const m = fg.model;
    const netByVlan = new Map(m.networks.map((n) => [n.vlan, n]));
    const vrfByName = new Map(m.vrfs.map((v) => [v.name, v]));
    let instances = 0;
    for (const d of fg.devices) {
      for (const v of d.vlans) {
        instances++;
        const n = netByVlan.get(v.vlan);
        if (!n) {
          findings.push({ check: 'vni-consistency', severity: 'error', message: `${d.name}: VLAN ${v.vlan} belongs to no network of the intent`, evidence: { device: d.name, vlan: v.vlan, l2vni: v.l2vni }, location: v.source, elements: { devices: [d.name] } });
          continue;
        }
        if (v.l2vni !== n.l2vni) {
          const others = (fg.vnis.get(n.l2vni) ?? []).filter((x) => x.device !== d.name).map((x) => x.device);
          findings.push({
            check: 'vni-consistency',
            severity: 'error',
            message: `VNI mismatch: ${d.name} maps VLAN ${v.vlan} (${n.name}) to VNI ${v.l2vni}, the network's VNI is ${n.l2vni}${others.length ? ` (as on ${others.join(', ')})` : ''}`,
            evidence: { device: d.name, vlan: v.vlan, network: n.name, expectedVni: n.l2vni, actualVni: v.l2vni, peersWithExpected: others },
            location: v.source,
            elements: { devices: [d.name, ...others] },
          });
        }
        if (v.vrf !== n.vrf) {
          findings.push({ check: 'vni-consistency', severity: 'error', message: `${d.name} puts VLAN ${v.vlan} (${n.name}) in VRF ${v.vrf}, the network is in VRF ${n.vrf}`, evidence: { device: d.name, vlan: v.vlan, expectedVrf: n.vrf, actualVrf: v.vrf }, location: v.source, elements: { devices: [d.name] } });
        }
        if (!d.vrfs.some((x) => x.name === v.vrf)) {
          findings.push({ check: 'vni-consistency', severity: 'error', message: `${d.name} carries VLAN ${v.vlan} of VRF ${v.vrf} but has no VRF ${v.vrf}`, evidence: { device: d.name, vlan: v.vlan, vrf: v.vrf, deviceVrfs: d.vrfs.map((x) => x.name) }, location: v.source, elements: { devices: [d.name] } });
        }
      }
      for (const v of d.vrfs) {
        instances++;
        const want = vrfByName.get(v.name);
        if (want && (want.l3vni !== v.l3vni || want.l3vniVlan !== v.l3vniVlan)) {
          findings.push({
            check: 'vni-consistency',
            severity: 'error',
            message: `VNI mismatch: ${d.name} uses L3 VNI ${v.l3vni} (VLAN ${v.l3vniVlan}) for VRF ${v.name}, the VRF's L3 VNI is ${want.l3vni} (VLAN ${want.l3vniVlan})`,
            evidence: { device: d.name, vrf: v.name, expectedVni: want.l3vni, actualVni: v.l3vni, expectedVlan: want.l3vniVlan, actualVlan: v.l3vniVlan },
            location: v.source,
            elements: { devices: [d.name] },
          });
        }
      }
    }
    for (const n of m.networks) {
      for (const leaf of n.leaves) {
        const d = fg.device(leaf);
        if (d && !d.vlans.some((v) => v.vlan === n.vlan)) {
          findings.push({ check: 'vni-consistency', severity: 'error', message: `network ${n.name} (VLAN ${n.vlan}, VNI ${n.l2vni}) is meant to be on ${leaf}, which does not carry it`, evidence: { network: n.name, leaf, leafVlans: d.vlans.map((v) => v.vlan) }, location: n.source, elements: { devices: [leaf] } });
        }
      }
    }
    // A VNI used as L2 and L3, or by two VLANs/VRFs.
    for (const [vni, members] of fg.vnis) {
      const uses = new Set(members.map((x) => (x.kind === 'l2' ? `L2 VLAN ${x.vlan}` : `L3 VRF ${x.vrf}`)));
      if (uses.size > 1) {
        const devices = [...new Set(members.map((x) => x.device))];
        findings.push({ check: 'vni-consistency', severity: 'error', message: `VNI ${vni} is used for ${[...uses].join(' and ')}`, evidence: { vni, uses: [...uses], devices }, location: members[members.length - 1].source, elements: { devices } });
      }
    }
    return { findings, examined: `${instances} VLAN/VRF instances, ${fg.vnis.size} VNIs` };
  },
};
