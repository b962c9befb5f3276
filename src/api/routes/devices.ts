/** Devices, and per device BGP, EVPN, routes and interfaces: expected (the model's simulation) vs observed (last poll). */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { isObservedState, type Monitor } from '../../service/monitor.ts';
import { findingJson } from '../../service/views.ts';
import { findingDevice } from '../../service/finding-key.ts';
import { formatLocation } from '../../util/errors.ts';
import type { DeviceObservation } from '../../verify/live/observed.ts';
import type { FabricObserved } from '../../domains/fabric/index.ts';
import type { DeviceInterfaces } from '../../domains/fabric/interfaces-live.ts';
import { BEARER, type ApiContext } from '../context.ts';
import { BgpView, DeviceDetail, DeviceName, DeviceRow, ErrorReply, EvpnView, InterfacesView, js, RoutesQuery, RoutesView } from '../schemas.ts';

type Params = { Params: z.infer<typeof DeviceName> };

function observation(monitor: Monitor, device: string): DeviceObservation | undefined {
  const observed = monitor.latest?.observed ?? {};
  for (const o of Object.values(observed)) if (isObservedState(o)) return o.devices.find((d) => d.device === device);
  return undefined;
}

/** The device's interfaces as its kernel had them at the last poll (live-fabric-interfaces), or why they were not read. */
function kernelInterfaces(monitor: Monitor, device: string): { seen?: DeviceInterfaces; notRead: string | null } {
  if (!monitor.latest) return { notRead: 'no poll yet' };
  const fabric = Object.values(monitor.latest.observed).find((o): o is FabricObserved => isObservedState(o) && 'interfaces' in o);
  const i = fabric?.interfaces;
  if (!i) return { notRead: 'not collected' };
  if (i.notApplicable) return { notRead: i.notApplicable };
  const seen = i.devices.find((d) => d.device === device);
  return seen?.links ? { seen, notRead: null } : { notRead: seen?.error ?? 'not an FRR device the target reads' };
}

function deviceFindings(monitor: Monitor, device: string) {
  return [...(monitor.latest?.findings ?? new Map())].filter(([, f]) => findingDevice(f) === device || (f.elements?.devices ?? []).includes(device)).map(([k, f]) => findingJson(k, f));
}

export const deviceRoutes: FastifyPluginAsync<ApiContext> = async (app, { monitor, views }) => {
  const model = monitor.model;
  const notFound = (reply: FastifyReply, name: string) => reply.code(404).send({ error: 'not-found', message: `no device '${name}' in fabric ${model.name}` });
  const row = (name: string) => {
    const d = model.devices.find((x) => x.name === name)!;
    return { name: d.name, role: d.role, platform: d.platform, findings: deviceFindings(monitor, name).length, openIncidents: monitor.openIncidents().filter((i) => i.devices.includes(name)).map((i) => i.id) };
  };
  const params = js(DeviceName);
  const errors = { 404: js(ErrorReply) };

  app.get('/devices', { schema: { tags: ['devices'], summary: 'every device with its current findings and open incidents', security: BEARER, response: { 200: js(z.array(DeviceRow)) } } }, async () => model.devices.map((d) => row(d.name)));

  app.get<Params>('/devices/:name', { schema: { tags: ['devices'], summary: 'one device: addresses, intent line, findings, collection errors', security: BEARER, params, response: { 200: js(DeviceDetail), ...errors } } }, async (req, reply) => {
    const d = model.devices.find((x) => x.name === req.params.name);
    if (!d) return notFound(reply, req.params.name);
    return { ...row(d.name), loopback: d.loopback ?? null, vtep: d.vtep ?? null, asn: d.asn ?? null, location: formatLocation(d.source), findingList: deviceFindings(monitor, d.name), collectionErrors: observation(monitor, d.name)?.errors ?? {} };
  });

  app.get<Params>('/devices/:name/bgp', { schema: { tags: ['devices'], summary: 'BGP sessions the model expects beside their observed state per address family', security: BEARER, params, response: { 200: js(BgpView), ...errors } } }, async (req, reply) => {
    if (!model.devices.some((x) => x.name === req.params.name)) return notFound(reply, req.params.name);
    return { device: req.params.name, observedAt: monitor.latest?.time ?? null, ...views.bgp(req.params.name, observation(monitor, req.params.name)) };
  });

  app.get<Params>('/devices/:name/evpn', { schema: { tags: ['devices'], summary: 'VNIs with remote VTEPs and endpoint MACs: expected vs observed', security: BEARER, params, response: { 200: js(EvpnView), ...errors } } }, async (req, reply) => {
    if (!model.devices.some((x) => x.name === req.params.name)) return notFound(reply, req.params.name);
    return { device: req.params.name, observedAt: monitor.latest?.time ?? null, ...views.evpn(req.params.name, observation(monitor, req.params.name)) };
  });

  app.get<Params & { Querystring: z.infer<typeof RoutesQuery> }>('/devices/:name/routes', { schema: { tags: ['devices'], summary: 'routes per VRF: the simulated RIB beside the observed one (underlay loopbacks/VTEPs in the default table)', security: BEARER, params, querystring: js(RoutesQuery), response: { 200: js(RoutesView), ...errors } } }, async (req, reply) => {
    if (!model.devices.some((x) => x.name === req.params.name)) return notFound(reply, req.params.name);
    return { device: req.params.name, observedAt: monitor.latest?.time ?? null, routes: views.routes(req.params.name, observation(monitor, req.params.name), req.query.vrf) };
  });

  app.get<Params>('/devices/:name/interfaces', { schema: { tags: ['devices'], summary: 'interfaces as the model has them beside the last poll\'s evidence on each (sessions, OSPF, routes, MACs) and the kernel\'s state (admin, carrier, MTU, MAC, counters)', security: BEARER, params, response: { 200: js(InterfacesView), ...errors } } }, async (req, reply) => {
    if (!model.devices.some((x) => x.name === req.params.name)) return notFound(reply, req.params.name);
    const k = kernelInterfaces(monitor, req.params.name);
    return { device: req.params.name, observedAt: monitor.latest?.time ?? null, interfaces: views.interfaces(req.params.name, observation(monitor, req.params.name), k.seen), kernelNotRead: k.notRead };
  });
};
