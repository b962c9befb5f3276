/**
 * The control plane deriving a device's tables the way it did before they were derived for a
 * whole table at once: every origin asked one pair at a time (route, then multipathEntries
 * scanning each neighbour's offer; every EVPN origin asked whether its route targets match;
 * each VTEP's underlay route built for its ECMP count), and the default table sorted by
 * prefix per device. What the fast derivations must equal, byte for byte.
 */
import { ControlPlane, type RibNextHop, type RibRoute } from '../../src/verify/sim/control-plane.ts';

const addr = (c?: string) => c?.split('/')[0] ?? '';
const numericOrder = new Intl.Collator(undefined, { numeric: true });

export class ReferenceControlPlane extends ControlPlane {
  protected override exporters(): number[] {
    return this.evpnOrigins();
  }

  override underlayEcmp(o: number, v: number): number {
    return this.underlayRoute(o, v)?.ecmp ?? 0;
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
