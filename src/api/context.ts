/** What every route plugin of the API reads: the monitor and its store, the device views. */
// Brings @fastify/swagger's schema fields (tags, summary, security) into Fastify's route types.
import type {} from '@fastify/swagger';
import type { Monitor } from '../service/monitor.ts';
import type { ServiceStore } from '../service/store.ts';
import type { DeviceViews } from '../service/views.ts';
import type { Role } from './tokens.ts';

export interface ApiContext {
  monitor: Monitor;
  store: ServiceStore;
  views: DeviceViews;
}

/** Per-route options: the role a route needs (GET routes read, every other method writes). */
export interface RouteConfig {
  role?: Role | 'public';
}

/** The OpenAPI security requirement every protected route declares. */
export const BEARER = [{ bearer: [] }];

declare module 'fastify' {
  interface FastifyContextConfig {
    role?: Role | 'public';
  }
  interface FastifyRequest {
    /** The role the request's token granted. */
    role?: Role;
  }
}
