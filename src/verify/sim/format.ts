/** `netloom model --rib`: a device's predicted routing table, one route per line. */
import type { RibRoute } from './control-plane.ts';

export function formatRib(device: string, vrf: string, routes: RibRoute[]): string[] {
  const lines = [`${device} VRF ${vrf}: ${routes.length} route${routes.length === 1 ? '' : 's'} (simulated)`];
  const w = Math.max(6, ...routes.map((r) => r.prefix.length));
  for (const r of routes) {
    const hops = r.nextHops.map((h) => (h.address ? `${h.address}${h.device ? ` (${h.device})` : ''}` : `${h.interface}${h.device ? ` (${h.device})` : ''}`)).join(', ');
    const path = r.asPath ? ` as-path [${r.asPath.join(' ')}]` : '';
    const ev = r.evpnType ? ` evpn type-${r.evpnType}` : '';
    lines.push(`  ${r.prefix.padEnd(w)}  ${r.protocol.padEnd(9)} via ${hops}${path}${ev}${r.nextHops.length > 1 ? ` ecmp ${r.nextHops.length}` : ''}`);
  }
  return lines;
}
