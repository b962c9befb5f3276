/**
 * Which features a device's configuration needs, each with the intent line that asks for it,
 * checked against what its platform declares (models/platforms/<p>.yaml `capabilities`).
 * A feature a platform cannot express is an error, never a silently missing config section.
 */
import type { Diagnostic } from '../util/errors.ts';
import type { PlatformDef } from '../model/platforms.ts';
import type { FabricModel } from '../model/types.ts';
import type { DeviceView } from './view.ts';

export interface RequiredFeature {
  /** The capability kind it is checked against (the fabric's: underlay, overlay, features). */
  kind: string;
  name: string;
  source: DeviceView['source'];
  /** What in the intent asks for it, for the message (e.g. "rule 'x' of policy 'p'"). */
  context?: string;
}

/** The fabric domain's features: what the device's fabric configuration needs. */
export function requiredFeatures(v: DeviceView, model: FabricModel): RequiredFeature[] {
  const out: RequiredFeature[] = [];
  const add = (kind: 'underlay' | 'overlay' | 'features', name: string, source: DeviceView['source']) => {
    if (!out.some((f) => f.kind === kind && f.name === name)) out.push({ kind, name, source });
  };
  if (v.fabricInterfaces.length) {
    add('underlay', model.fabric.underlay, model.fabric.source);
    add('features', 'mtu', v.fabricInterfaces[0].source);
  }
  if (v.bgp?.evpn) add('overlay', `evpn-${model.fabric.overlay.transport}`, model.fabric.source);
  if (v.bgp?.routeReflector) add('overlay', 'route-reflector', v.source);
  // A DCI end (border leaf or WAN router) relays the other sites' EVPN routes end to end.
  if (model.dci) {
    const link = model.links.find((l) => model.dci!.links.includes(l.id) && (l.a.device === v.hostname || l.b.device === v.hostname));
    if (link) add('overlay', 'evpn-dci', link.source);
  }
  for (const vl of v.vlans) {
    add('features', 'l2vni', vl.source);
    if (vl.gateway4 || vl.gateway6) add('features', 'anycast-gateway', vl.source);
    if (vl.gateway6) add('features', 'ipv6-gateway', vl.source);
    if (vl.dhcpRelay.length) add('features', 'dhcp-relay', vl.source);
  }
  for (const vr of v.vrfs) add('features', 'l3vni', vr.source);
  for (const i of v.accessInterfaces) if (i.taggedVlans.length) add('features', 'tagged-ports', i.source);
  for (const vr of v.vrfs) for (const p of vr.servicePeers) add('features', 'service-peering', p.source);
  return out;
}

/** One diagnostic per feature a domain asks for that the platform does not claim. */
export function unsupportedFeatures(v: DeviceView, platform: PlatformDef, domain: string, features: RequiredFeature[]): Diagnostic[] {
  const claimed = platform.capabilities[domain] ?? {};
  return features
    .filter((f) => !(claimed[f.kind] ?? []).includes(f.name))
    .map((f) => ({
      loc: f.source,
      message: `device ${v.hostname}: platform ${platform.name} does not support ${f.kind === 'features' ? 'feature' : f.kind} '${f.name}'${f.context ? ` (${f.context})` : ''}`,
    }));
}

/** Limits of the platform its templates cannot express (VRF name length). */
export function platformLimits(v: DeviceView, platform: PlatformDef): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const max = platform.render?.vrf_name_max;
  if (max) {
    for (const vr of v.vrfs) {
      if (vr.name.length > max) {
        diags.push({ loc: vr.source, message: `device ${v.hostname}: platform ${platform.name} limits VRF names to ${max} characters, '${vr.name}' has ${vr.name.length}` });
      }
    }
  }
  return diags;
}
