/**
 * The domain registry: the one line a domain adds (DOMAINS), and the loops the stages run over
 * it. Resolve order follows `requires`, rollout order `pushAfter`; both are sorted once here,
 * and a cycle or an unknown domain is an error at first use.
 */
import type { Endpoint, FabricModel } from '../model/types.ts';
import type { Packet } from '../verify/packet-set/packet-set.ts';
import type { AnalysisReport, Finding as CaptureFinding } from '../pcap/analyze.ts';
import type { PostCheck, WaveCheck } from '../push/driver.ts';
import type { LabState } from '../lab/state.ts';
import { netconfRunningCheck } from '../push/postcheck.ts';
import { serviceNodeBgpCheck, type ServiceNodeCheck } from '../push/service-node-checks.ts';
import type { ExpectedSession } from '../lab/status.ts';
import type { StaticCheck } from '../verify/checks/types.ts';
import type { CheckInfo } from '../verify/findings.ts';
import { fabric } from './fabric/index.ts';
import { firewall } from './firewall/index.ts';
import { slb } from './slb/index.ts';
import { gslb } from './gslb/index.ts';
import { compliance } from './compliance/index.ts';
import { operations } from './operations/index.ts';
import { RESERVED_DOMAINS, type DomainId, type DomainModule, type NodeArtifact, type NodeDiagnostic } from './types.ts';

export type { DomainId, DomainModule } from './types.ts';
export { RESERVED_DOMAINS } from './types.ts';

/** Every registered domain: adding one is one line here (and its id in DomainId). */
export const DOMAINS: { [K in DomainId]: DomainModule } = { fabric, firewall, slb, gslb, compliance, operations };

/**
 * The fabric's check ids from before the registry: kept so reports, `verify --only` and CI
 * scripts that name them go on working. Every other id starts with '<domain>-' (static) or
 * 'live-<domain>-' (live).
 */
export const LEGACY_CHECK_IDS: Record<string, readonly string[]> = {
  fabric: [
    'bgp-session-compat', 'ospf-compat', 'unique-addresses', 'vni-consistency', 'route-targets', 'vxlan-mtu', 'underlay-ecmp',
    'single-points-of-failure', 'endpoint-reachability',
    'live-bgp-sessions', 'live-ospf', 'live-underlay-ecmp', 'live-evpn-vnis', 'live-evpn-macs', 'live-vrf-routes', 'live-probes', 'live-collection',
  ],
};

/** Topological order of `edges` (domain -> domains it comes after), registry order among equals. */
export function orderBy(domains: readonly DomainModule[], edges: (d: DomainModule) => readonly string[], what: string): DomainModule[] {
  const byId = new Map(domains.map((d) => [d.id as string, d]));
  const out: DomainModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: DomainModule, chain: string[]): void => {
    if (state.get(d.id) === 'done') return;
    if (state.get(d.id) === 'visiting') throw new Error(`domain ${what} cycle: ${[...chain.slice(chain.indexOf(d.id)), d.id].join(' -> ')}`);
    state.set(d.id, 'visiting');
    for (const dep of edges(d)) {
      const x = byId.get(dep);
      if (!x) throw new Error(`domain ${d.id}: ${what} names unknown domain '${dep}' (registered: ${[...byId.keys()].join(', ')})`);
      visit(x, [...chain, d.id]);
    }
    state.set(d.id, 'done');
    out.push(d);
  };
  for (const d of domains) visit(d, []);
  return out;
}

export const resolveOrder = (domains: readonly DomainModule[]): DomainModule[] => orderBy(domains, (d) => d.requires, 'requires');
export const pushOrder = (domains: readonly DomainModule[]): DomainModule[] => orderBy(domains, (d) => d.pushAfter ?? [], 'pushAfter');

let nodeOrder: DomainModule[] | undefined;
/** The order domains ask for their service nodes in: resolve order, each after its `serviceNodesAfter`. */
export function serviceNodeOrder(): DomainModule[] {
  return (nodeOrder ??= orderBy(domains(), (d) => d.serviceNodesAfter ?? [], 'serviceNodesAfter'));
}

let ordered: DomainModule[] | undefined;
/** The registered domains in resolve order: what every stage iterates. */
export function domains(): DomainModule[] {
  return (ordered ??= resolveOrder(Object.values(DOMAINS)));
}

/** Problems with check ids across `list`: duplicates and ids outside the domain's prefix. */
export function checkIdProblems(list: readonly DomainModule[]): string[] {
  const problems: string[] = [];
  const owner = new Map<string, string>();
  for (const d of list) {
    const legacy = new Set(LEGACY_CHECK_IDS[d.id] ?? []);
    const ids = [...d.verify.static.map((c) => c.id), ...(d.verify.live?.checks ?? []).map((c) => c.id)];
    for (const id of ids) {
      const prev = owner.get(id);
      if (prev) problems.push(`check id '${id}' is used by ${prev === d.id ? `domain ${d.id} twice` : `domains ${prev} and ${d.id}`}`);
      owner.set(id, d.id);
      if (!legacy.has(id) && !id.startsWith(`${d.id}-`) && !id.startsWith(`live-${d.id}-`)) problems.push(`check id '${id}' of domain ${d.id} must start with '${d.id}-' or 'live-${d.id}-'`);
    }
  }
  return problems;
}

export function allStaticChecks(): StaticCheck[] {
  return domains().flatMap((d) => d.verify.static);
}

export function allLiveChecks(): CheckInfo[] {
  return domains().flatMap((d) => d.verify.live?.checks ?? []);
}

/** Sessions a lab built from the model must reach, every domain's. */
/**
 * What the domains' policies at a pair's own leaves do to `packet` from `a` to `b` (each
 * domain's verify.pathVerdict): the first that does not accept, or undefined.
 */
export function pathDenial(model: FabricModel, a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed', packet: Packet): { action: 'drop' | 'reject'; text: string } | undefined {
  for (const d of domains()) {
    const v = d.verify.pathVerdict?.(model, a, b, forwarding, packet);
    if (v && v.action !== 'accept') return { action: v.action, text: v.text };
  }
  return undefined;
}

/** Ports the lab's provisioned processes listen on (LabProvision.serves), per node: `tcp/8080`. */
export function labServedPorts(model: FabricModel): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const dom of domains()) {
    for (const [node, ports] of Object.entries(dom.lab?.provision?.(model).serves ?? {})) {
      const set = out.get(node) ?? new Set<string>();
      out.set(node, set);
      for (const p of ports) set.add(p);
    }
  }
  return out;
}

export function labExpected(model: FabricModel): ExpectedSession[] {
  return domains().flatMap((d) => d.lab?.expected(model) ?? []);
}

/**
 * Post-checks of a pushed device: every domain's, in rollout order, then the NETCONF
 * datastore check; with `live`, each domain's live verification as a post-check too.
 */
export function pushPostChecks(model: FabricModel, opts: { live?: boolean } = {}): PostCheck[] {
  const list = pushOrder(domains());
  return [
    ...list.flatMap((d) => d.push?.postChecks?.(model) ?? []),
    netconfRunningCheck,
    ...(opts.live ? list.flatMap((d) => (d.verify.live?.postCheck ? [d.verify.live.postCheck(model)] : [])) : []),
  ];
}

/** Post-checks of a pushed service node: the core's (BGP to its leaf, its prefixes advertised) and every domain's. */
export function pushServiceNodeChecks(model: FabricModel): ServiceNodeCheck[] {
  return [serviceNodeBgpCheck, ...pushOrder(domains()).flatMap((d) => d.push?.serviceNodeChecks?.(model) ?? [])];
}

/** Files of every domain's own nodes (load balancers...), and what their targets cannot express. */
export function domainNodeArtifacts(model: FabricModel): { artifacts: NodeArtifact[]; diagnostics: NodeDiagnostic[] } {
  const out = { artifacts: [] as NodeArtifact[], diagnostics: [] as NodeDiagnostic[] };
  for (const d of domains()) {
    const r = d.render.nodeArtifacts?.(model);
    if (!r) continue;
    out.artifacts.push(...r.artifacts);
    out.diagnostics.push(...r.diagnostics);
  }
  return out;
}

/** Every domain's findings about a decoded capture (`pcap analyze --intent DIR`). */
export function domainCaptureFindings(model: FabricModel, report: AnalysisReport): CaptureFinding[] {
  return domains().flatMap((d) => d.pcap?.findings(model, report) ?? []);
}

/** Wave checks of a rollout: every domain's, in rollout order. */
export function pushWaveChecks(model: FabricModel, target: { lab?: LabState }): WaveCheck[] {
  return pushOrder(domains()).flatMap((d) => d.push?.waveChecks?.(model, target) ?? []);
}

/** Intent keys that belong to a domain other than the fabric: registered or reserved. */
export function domainSectionKeys(): string[] {
  return [...domains().filter((d) => d.intent).map((d) => d.id as string), ...RESERVED_DOMAINS];
}

/** Lines every domain adds to `trace SRC VIP` about what is behind a service node's prefix. */
export function domainTraceLines(model: FabricModel, vip: string, node: string): string[] {
  return domains().flatMap((d) => d.verify.traceService?.(model, vip, node) ?? []);
}
