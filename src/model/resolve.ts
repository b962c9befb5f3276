/** Resolution: validated intent -> the typed, deterministic source-of-truth model. */
import { IntentError, type Diagnostic, type SourceLocation } from '../util/errors.ts';
import type { PlatformDef } from './platforms.ts';
import type { Intent } from '../intent/schema.ts';
import { sortDiagnostics, type Locator, type Path } from '../intent/validate.ts';
import { ResolveContext } from './context.ts';
import { loadPlatforms } from './platforms.ts';
import { resolveNodes, resolvePools, type Pools } from './resolve-nodes.ts';
import { resolveLinks } from './resolve-links.ts';
import { resolveRouting } from './resolve-routing.ts';
import { resolveTenants } from './resolve-tenants.ts';
import type { BgpSession, FabricModel, Interface, Link, OspfAdjacency } from './types.ts';
import type { Prefix4 } from './ip.ts';
import { domains, RESERVED_DOMAINS, serviceNodeOrder } from '../domains/index.ts';
import { attachServiceNodes, ownAnnouncements, type ServiceNodeRequest } from './service-nodes.ts';

export interface ResolveInput {
  intent: Intent;
  locator: Locator;
  revision: string;
  intentDir: string;
}

/**
 * Every registered domain's part of the model, in `requires` order; reserved sections verbatim.
 * A fabric's intent and a multi-site directory (domain sections spanning the sites) both come here.
 */
export function withDomains(model: FabricModel, sections: Record<string, unknown>, ctx: DomainCtx): FabricModel {
  for (const d of domains()) {
    if (!d.resolve || sections[d.id] === undefined) continue;
    model.domains[d.id] = d.resolve(ctx, sections[d.id], model);
  }
  if (!ctx.diags.length) {
    // Each domain asks for its nodes knowing what those asked for before announce; every leg
    // then routes to what any node announces in its VRF.
    const asked: { id: string; requests: ServiceNodeRequest[] }[] = [];
    for (const d of serviceNodeOrder()) {
      if (!d.serviceNodes || model.domains[d.id] === undefined) continue;
      asked.push({ id: d.id, requests: d.serviceNodes(model, ownAnnouncements(asked.flatMap((a) => a.requests))) });
    }
    const all = asked.flatMap((a) => a.requests);
    for (const a of asked) attachServiceNodes(ctx, model, a.id, a.requests, ctx.platforms, all);
  }
  if (ctx.diags.length) throw new IntentError(sortDiagnostics(ctx.diags));
  for (const id of RESERVED_DOMAINS) if (sections[id] !== undefined) model.domains[id] = sections[id];
  return model;
}

interface DomainCtx {
  readonly diags: Diagnostic[];
  readonly platforms: Map<string, PlatformDef>;
  error(path: Path, message: string, key?: boolean): void;
  at(path: Path, key?: boolean): SourceLocation;
}

export function resolveModel({ intent, locator, revision, intentDir }: ResolveInput): FabricModel {
  const ctx = new ResolveContext(intent, locator, loadPlatforms());
  const pools = resolvePools(ctx);
  resolveNodes(ctx, pools);
  const links = resolveLinks(ctx, pools);
  return resolveFromFabric(ctx, pools, { links, ...resolveRouting(ctx, links) }, revision, intentDir);
}

/** The fabric's part of a resolution: its nodes (in the context), links and sessions. */
export interface FabricParts {
  links: Link[];
  bgp: BgpSession[];
  ospf: OspfAdjacency[];
  routeReflectors: string[];
}

/**
 * The resolution from the tenants on, given the fabric's part: also how `netloom plan` builds
 * a revision that changes only tenants from its base's fabric (src/plan/incremental-head.ts).
 */
export function resolveFromFabric(ctx: ResolveContext, pools: Pools, routing: FabricParts, revision: string, intentDir: string): FabricModel {
  const { intent, loc: locator } = ctx;
  const links = routing.links;
  const fabricPools: [string, Prefix4][] = [['loopback', pools.loopback], ['mgmt', pools.mgmt]];
  if (pools.vtepSeparate) fabricPools.push(['vtep', pools.vtep]);
  if (pools.p2p) fabricPools.push(['p2p', pools.p2p]);
  const routeTargetAsn = intent.fabric.overlay.route_target_asn ?? (intent.fabric.overlay.transport === 'ibgp' && intent.fabric.asn?.fabric && intent.fabric.asn.fabric <= 65535 ? intent.fabric.asn.fabric : 65000);
  const tenants = resolveTenants(ctx, fabricPools, routeTargetAsn);

  if (ctx.diags.length) throw new IntentError(sortDiagnostics(ctx.diags));

  const devices = [...ctx.nodes.values()]
    .map((n) => {
      const d = n.device;
      const lo: Interface = { name: n.def.interfaces.loopback, kind: 'loopback', description: 'router id', mtu: 65535, ipv4: d.loopback, source: d.source };
      const loopbacks: Interface[] = [lo];
      if (d.vtep && d.vtep !== d.loopback) {
        if (n.def.interfaces.vtep_loopback === lo.name) lo.ipv4Secondary = [d.vtep];
        else loopbacks.push({ name: n.def.interfaces.vtep_loopback, kind: 'vtep', description: 'VTEP source', mtu: 65535, ipv4: d.vtep, source: d.source });
      }
      const mgmt: Interface = { name: d.mgmt.interface, kind: 'mgmt', description: 'management', mtu: 1500, ipv4: d.mgmt.ipv4, source: d.source };
      // Port numbers parsed once per interface, not once per comparison.
      const ports = [...n.ifaces.values()]
        .map((i) => ({ i, n: n.def.portNumber(i.name) ?? 0 }))
        .sort((a, b) => a.n - b.n || (a.i.name < b.i.name ? -1 : a.i.name > b.i.name ? 1 : 0))
        .map((x) => x.i);
      d.interfaces = [mgmt, ...loopbacks, ...ports];
      d.bgpSessionIds.sort();
      return d;
    })
    .sort((a, b) => a.id - b.id);

  const model: FabricModel = {
    schemaVersion: 1,
    name: intent.fabric.name,
    ...(intent.fabric.site ? { site: intent.fabric.site } : {}),
    revision,
    intentDir,
    fabric: {
      underlay: intent.fabric.underlay,
      overlay: { type: 'evpn', transport: intent.fabric.overlay.transport, routeReflectors: routing.routeReflectors },
      mtu: intent.fabric.mtu,
      hostMtu: intent.fabric.host_mtu,
      ospfArea: intent.fabric.ospf_area,
      anycastMac: intent.fabric.anycast_mac.toLowerCase(),
      routeTargetAsn,
      pools: {
        loopback: intent.pools.loopback,
        vtep: intent.pools.vtep ?? intent.pools.loopback,
        ...(intent.pools.p2p ? { p2p: intent.pools.p2p } : {}),
        mgmt: intent.pools.mgmt,
        ...(intent.pools.mgmt_gateway ? { mgmtGateway: intent.pools.mgmt_gateway } : {}),
      },
      source: locator.at(['fabric'], true),
    },
    devices,
    links: links.sort((a, b) => a.id - b.id),
    bgpSessions: routing.bgp.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ospfAdjacencies: routing.ospf.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    ...tenants,
    domains: {},
  };
  return withDomains(model, intent as unknown as Record<string, unknown>, ctx);
}
