/** The registry of static questions; each module is independent and reads only the graph. */
import type { StaticCheck } from './types.ts';
import { bgpSessionCompat } from './bgp-sessions.ts';
import { ospfCompat } from './ospf.ts';
import { uniqueAddresses } from './unique-addresses.ts';
import { vniConsistency } from './vni-consistency.ts';
import { routeTargets } from './route-targets.ts';
import { vxlanMtu } from './mtu.ts';
import { underlayEcmp } from './underlay-ecmp.ts';
import { singlePointsOfFailure } from './spof.ts';
import { endpointReachability } from './endpoint-reachability.ts';

export type { StaticCheck, CheckContext } from './types.ts';
export { makeContext } from './types.ts';

export const staticChecks: StaticCheck[] = [
  bgpSessionCompat,
  ospfCompat,
  uniqueAddresses,
  vniConsistency,
  routeTargets,
  vxlanMtu,
  underlayEcmp,
  singlePointsOfFailure,
  endpointReachability,
];

export function findCheck(id: string): StaticCheck | undefined {
  return staticChecks.find((c) => c.id === id);
}
