/**
 * A finding's identity across polls: its check and the object it is about (session, VNI,
 * MAC, route, probe pair, command), never its wording, so "1 next hop" becoming "0 next hops"
 * is a change of one finding, not a new one.
 */
import type { Finding } from '../verify/findings.ts';
import { formatLocation } from '../util/errors.ts';

const IDENTITY = ['session', 'adjacency', 'vni', 'mac', 'vrf', 'prefix', 'src', 'dst', 'family', 'address', 'command', 'rule', 'policy', 'member', 'service', 'node', 'interface', 'property'] as const;

export function findingKey(f: Finding): string {
  const ev = f.evidence ?? {};
  const parts = [f.check, typeof ev.device === 'string' ? ev.device : (f.elements?.devices ?? []).join(',')];
  let named = false;
  for (const k of IDENTITY) {
    const v = ev[k];
    if (v === undefined || v === null || typeof v === 'object') continue;
    parts.push(`${k}=${String(v)}`);
    named = true;
  }
  if (!named) parts.push(f.message);
  return parts.join('|');
}

/** Event kinds per check: raised, cleared. Checks not listed get <check>-raised / -cleared. */
const KINDS: Record<string, [string, string]> = {
  'live-bgp-sessions': ['bgp-session-down', 'bgp-session-up'],
  'live-ospf': ['ospf-adjacency-down', 'ospf-adjacency-up'],
  'live-underlay-ecmp': ['underlay-route-degraded', 'underlay-route-restored'],
  'live-fabric-rib': ['route-missing', 'route-restored'],
  'live-vrf-routes': ['vrf-route-diverged', 'vrf-route-restored'],
  'live-evpn-vnis': ['vtep-mismatch', 'vtep-restored'],
  'live-evpn-macs': ['mac-misplaced', 'mac-restored'],
  'live-probes': ['probe-loss', 'probe-restored'],
  'live-collection': ['collection-failed', 'collection-restored'],
  'live-fabric-forwarding': ['forwarding-entry-missing', 'forwarding-entry-restored'],
  'live-fabric-interfaces': ['interface-down', 'interface-up'],
};

export function eventKind(check: string, raised: boolean): string {
  const k = KINDS[check];
  if (k) return raised ? k[0] : k[1];
  const base = check.replace(/^live-/, '');
  if (/firewall|nft/.test(base)) return raised ? 'ruleset-drift' : 'ruleset-restored';
  return `${base}-${raised ? 'raised' : 'cleared'}`;
}

export function findingLocation(f: Finding): string | undefined {
  return f.location ? formatLocation(f.location) : undefined;
}

export function findingDevice(f: Finding): string | undefined {
  const d = f.evidence?.device;
  return typeof d === 'string' ? d : f.elements?.devices?.[0];
}
