/** The fabric with live colours for the web view: an incident's element failed, devices with findings warning. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { findingDevice } from '../../service/finding-key.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { Incident, js } from '../schemas.ts';

const state = z.enum(['ok', 'warning', 'failed']);
const Topology = z.object({
  fabric: z.string(),
  lastPoll: z.object({ seq: z.number().int(), time: z.string() }).nullable(),
  devices: z.array(z.object({ name: z.string(), role: z.string(), state, findings: z.number().int() })),
  links: z.array(z.object({ id: z.string(), a: z.string(), b: z.string(), state })),
  openIncidents: z.array(Incident),
});

export const topologyRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor }) => {
  const { model, fg } = monitor;
  app.get('/topology', { schema: { tags: ['troubleshooting'], summary: 'devices and links coloured from live state (the web view\'s picture)', security: BEARER, response: { 200: js(Topology) } } }, async () => {
    const open = monitor.openIncidents();
    const failed = new Set(open.map((i) => i.element));
    const findings = [...(monitor.latest?.findings.values() ?? [])];
    const count = new Map<string, number>();
    for (const f of findings) for (const d of new Set([findingDevice(f), ...(f.elements?.devices ?? [])])) if (d) count.set(d, (count.get(d) ?? 0) + 1);
    const linkWarn = new Set(findings.flatMap((f) => f.elements?.links ?? []));
    return {
      fabric: model.name,
      lastPoll: monitor.latest ? { seq: monitor.latest.seq, time: monitor.latest.time } : null,
      devices: model.devices.map((d) => ({ name: d.name, role: d.role, findings: count.get(d.name) ?? 0, state: failed.has(`device:${d.name}`) ? 'failed' : count.get(d.name) ? 'warning' : 'ok' })),
      links: model.links.filter((l) => fg.deviceIndex.has(l.a.device) && fg.deviceIndex.has(l.b.device)).map((l) => {
        const id = fg.linkName(l);
        return { id, a: l.a.device, b: l.b.device, state: failed.has(`link:${id}`) ? 'failed' : linkWarn.has(id) ? 'warning' : 'ok' };
      }),
      openIncidents: open,
    };
  });
};
