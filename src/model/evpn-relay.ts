/**
 * Which devices relay EVPN routes over eBGP with the next hop unchanged (FRR's
 * `attribute-unchanged next-hop`): the rendered configs and the simulation ask this one rule.
 */
import type { Device } from './types.ts';
import { endsDci, isLeafRole } from '../domains/fabric/roles.ts';

/**
 * A device carrying no VNI (a spine, a WAN router) keeps the originating VTEP as next hop; so
 * does a border leaf of a multi-site model, relaying the other sites' routes end to end
 * (FRR re-originates nothing at a border: no EVPN multi-site border gateway).
 */
export function keepsEvpnNextHop(d: Device): boolean {
  return (d.vlans.length === 0 && d.vrfs.length === 0) || (d.site !== undefined && isLeafRole(d.role) && endsDci(d.role));
}
