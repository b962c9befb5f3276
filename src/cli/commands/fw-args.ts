/** Arguments of `netloom fw`: places (endpoints, networks, VRFs, addresses), services and policies, resolved through the model. */
import type { FabricModel } from '../../model/types.ts';
import { UsageError } from '../../util/errors.ts';
import { parseCidr, type Cidr } from '../../verify/packet-set/index.ts';
import { addressPlace, hostPrefix, type Place } from '../../domains/firewall/flow-query.ts';
import type { FwPolicy, FwService } from '../../domains/firewall/model.ts';
import { serviceLiteral } from '../../domains/firewall/resolve.ts';
import { didYouMean } from '../command.ts';

/** An endpoint name, a network name, a VRF name or an IPv4/IPv6 address or prefix. */
export function resolvePlace(model: FabricModel, arg: string, what: string): Place {
  const ep = model.endpoints.find((e) => e.name === arg);
  if (ep) return { arg, kind: 'endpoint', prefixes: [ep.ipv4, ep.ipv6].filter((a): a is string => !!a).map(hostPrefix), leaves: [ep.leaf] };
  const net = model.networks.find((n) => n.name === arg);
  if (net) return { arg, kind: 'network', prefixes: [net.subnet, net.subnet6].filter((a): a is string => !!a), leaves: [...net.leaves] };
  const vrf = model.vrfs.find((v) => v.name === arg);
  if (vrf) {
    const nets = model.networks.filter((n) => n.vrf === vrf.name);
    return { arg, kind: 'vrf', prefixes: nets.flatMap((n) => [n.subnet, n.subnet6].filter((a): a is string => !!a)), leaves: [...new Set(nets.flatMap((n) => n.leaves))] };
  }
  if (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(arg) && /[.:]/.test(arg)) {
    let c: Cidr;
    try {
      c = parseCidr(arg);
    } catch (e) {
      throw new UsageError(`${what} '${arg}': ${(e as Error).message}`);
    }
    return addressPlace(model, c, arg);
  }
  const names = [...model.endpoints.map((e) => e.name), ...model.networks.map((n) => n.name), ...model.vrfs.map((v) => v.name)];
  throw new UsageError(`${what} '${arg}' is no endpoint, network, VRF or address${didYouMean(arg, names)}; endpoints: ${model.endpoints.slice(0, 20).map((e) => e.name).join(', ')}`);
}

/** `tcp/443`, `udp/53`, `tcp/8000-8080`, `icmp/8`, `any`, or the name of a service some rule uses. */
export function resolveService(policies: FwPolicy[], arg: string, what: string): FwService[] {
  if (arg === 'any') return [];
  const lit = serviceLiteral(arg);
  if (typeof lit === 'string') throw new UsageError(`${what}: ${lit}`);
  if (lit) return [lit];
  const named = new Map<string, FwService[]>();
  for (const p of policies) for (const r of [...p.rules, ...p.nat]) for (const s of r.services) if (s.name) named.set(s.name, [...(named.get(s.name) ?? []), s]);
  const found = named.get(arg);
  if (!found) throw new UsageError(`${what} '${arg}' is no literal like tcp/443, udp/53, icmp/8 and no service the policies use${didYouMean(arg, [...named.keys()])}`);
  // The same service object appears once per rule naming it.
  return [...new Map(found.map((s) => [JSON.stringify(s), s])).values()];
}

export function findPolicy(policies: FwPolicy[], name: string): FwPolicy {
  const p = policies.find((x) => x.name === name);
  if (!p) throw new UsageError(`no firewall policy '${name}'${didYouMean(name, policies.map((x) => x.name))}; policies: ${policies.map((x) => x.name).join(', ') || 'none'}`);
  return p;
}

