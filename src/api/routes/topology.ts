/**
 * The fabric with live colours for the web view: an incident's element failed, devices with
 * findings warning; each device's site and tier (the picture's rows and columns), the
 * endpoints and service nodes hanging off the leaves.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { roleRank, roleTier } from '../../domains/fabric/roles.ts';
import { findingDevice } from '../../service/finding-key.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { Incident, js } from '../schemas.ts';

const state = z.enum(['ok', 'warning', 'failed']);
/** Row of the picture: 0 WAN routers and super-spines, 1 spines, 2 (border) leaves. */
const TIER_ROW = { 'super-spine': 0, spine: 1, leaf: 2 } as const;
const Topology = z.object({
  fabric: z.string(),
  lastPoll: z.object({ seq: z.number().int(), time: z.string() }).nullable(),
  sites: z.array(z.object({ name: z.string(), fabric: z.string() })).describe('multi-site models: the sites in site-id order (empty for one fabric)'),
  devices: z.array(z.object({
    name: z.string(), role: z.string(), state, findings: z.number().int(),
    site: z.string().nullable().describe("the device's site ('wan' for WAN routers); null in a single-fabric model"),
    tier: z.number().int().describe('0 WAN routers and super-spines, 1 spines, 2 leaves and border leaves'),
    rank: z.number().int().describe('order within a tier: border leaves before leaves'),
  })),
  links: z.array(z.object({ id: z.string(), a: z.string(), b: z.string(), state })),
  endpoints: z.array(z.object({ name: z.string(), leaf: z.string(), network: z.string(), vrf: z.string() })),
  serviceNodes: z.array(z.object({ name: z.string(), role: z.string(), domain: z.string(), leaf: z.string(), state, findings: z.number().int() })).describe('load balancers, DNS servers, firewalls attached to a leaf'),
  openIncidents: z.array(Incident),
});

export const topologyRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  const { model, fg } = monitor;
  app.get('/topology', { schema: { tags: ['troubleshooting'], summary: 'devices and links coloured from live state, with sites, tiers, endpoints and service nodes (the web view\'s picture)', security: BEARER, response: { 200: js(Topology) } } }, async () => {
    const open = monitor.openIncidents();
    const failed = new Set(open.map((i) => i.element));
    const findings = [...(monitor.latest?.findings.values() ?? [])];
    const count = new Map<string, number>();
    for (const f of findings) for (const d of new Set([findingDevice(f), ...(f.elements?.devices ?? [])])) if (d) count.set(d, (count.get(d) ?? 0) + 1);
    const linkWarn = new Set(findings.flatMap((f) => f.elements?.links ?? []));
    const live = (name: string) => ({ findings: count.get(name) ?? 0, state: failed.has(`device:${name}`) ? ('failed' as const) : count.get(name) ? ('warning' as const) : ('ok' as const) });
    return {
      fabric: model.name,
      lastPoll: monitor.latest ? { seq: monitor.latest.seq, time: monitor.latest.time } : null,
      sites: (model.sites ?? []).map((s) => ({ name: s.name, fabric: s.fabric })),
      devices: model.devices.map((d) => ({ name: d.name, role: d.role, ...live(d.name), site: d.site ?? null, tier: TIER_ROW[roleTier(d.role)], rank: roleRank(d.role) })),
      links: model.links.filter((l) => fg.deviceIndex.has(l.a.device) && fg.deviceIndex.has(l.b.device)).map((l) => {
        const id = fg.linkName(l);
        return { id, a: l.a.device, b: l.b.device, state: failed.has(`link:${id}`) ? 'failed' : linkWarn.has(id) ? 'warning' : 'ok' };
      }),
      endpoints: model.endpoints.map((e) => ({ name: e.name, leaf: e.leaf, network: e.network, vrf: e.vrf })),
      serviceNodes: (model.serviceNodes ?? []).map((s) => ({ name: s.name, role: s.role, domain: s.domain, leaf: s.leaf, ...live(s.name) })),
      openIncidents: open,
    };
  });
};
