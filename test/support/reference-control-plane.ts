/**
 * The control plane deriving a device's tables the way it did before they were derived for a
 * whole table at once: every origin asked one pair at a time (route, then multipathEntries
 * scanning each neighbour's offer; every EVPN origin asked whether its route targets match;
 * each VTEP's underlay route built for its ECMP count; each VRF's local prefixes built again whenever read), and the default table sorted by
 * prefix per device. What the fast derivations must equal, byte for byte.
 */
import { ControlPlane, type LocalPrefix, type RibNextHop, type RibRoute } from '../../src/verify/sim/control-plane.ts';

const addr = (c?: string) => c?.split('/')[0] ?? '';
const numericOrder = new Intl.Collator(undefined, { numeric: true });

export class ReferenceControlPlane extends ControlPlane {
  protected override exporters(): number[] {
    return this.evpnOrigins();
  }

  override localVrfPrefixes(v: number, vrf: string): LocalPrefix[] {
    return this.originated(v, vrf);
  }

  override vtepRoutes(v: number): { prefix: string; device: string; nexthops: number }[] {
    const out: { prefix: string; device: string; nexthops: number }[] = [];
    this.model.devices.forEach((d, t) => {
      const r = d.vtep && t !== v ? this.underlayRoute(t, v) : undefined;
      if (r) out.push({ prefix: `${addr(d.vtep)}/32`, device: d.name, nexthops: r.ecmp });
    });
    return out;
  }

  override defaultRib(v: number): RibRoute[] {
    const t = this.underlay;
    const devs = this.model.devices;
    const d = devs[v];
    const out: RibRoute[] = [];
    const own = new Set([`${addr(d.loopback)}/32`, ...(d.vtep ? [`${addr(d.vtep)}/32`] : [])]);
    for (const p of own) out.push({ vrf: 'default', prefix: p, protocol: 'connected', nextHops: [{ interface: 'lo' }], origin: d.name });
    const proto = t.adj.protocol;
    for (let o = 0; o < devs.length; o++) {
      if (o === v || !t.isOrigin(o)) continue;
      const r = t.route(o, v);
      if (!r) continue;
      const hops = t.multipathEntries(o, v).map((k): RibNextHop => {
        const via = t.adj.via[k];
        const nb = devs[t.adj.nbr[k]].name;
        return via.includes('.') || via.includes(':') ? { address: via, device: nb } : { interface: via, device: nb };
      });
      const prefixes = new Set([`${addr(devs[o].loopback)}/32`, ...(devs[o].vtep ? [`${addr(devs[o].vtep)}/32`] : [])]);
      for (const p of prefixes) if (!own.has(p)) out.push({ vrf: 'default', prefix: p, protocol: proto, nextHops: hops, ...(proto === 'bgp' ? { asPath: r.asPath } : {}), origin: devs[o].name });
    }
    return out.sort((a, b) => numericOrder.compare(a.prefix, b.prefix));
  }
}

/** A reference reading the same simulated tables as `cp` (no second simulation). */
export function referenceOf(cp: ControlPlane): ReferenceControlPlane {
  return new ReferenceControlPlane(cp.model, cp.index, cp.options, { table: (_adj, _origins, evpn) => (evpn ? cp.evpn! : cp.underlay) });
}
