/**
 * Shrinks a failing intent while it still fails: greedy one-step reductions, largest first
 * (a tenant, a leaf with its endpoints, a spine, a VRF, a network, an endpoint), then
 * simplifications (pinned values, IPv6, explicit leaf lists). Every candidate must still be a
 * valid intent; the caller says whether it still fails (for the lab: still disagrees on every
 * fact type the original disagreed on).
 */
import type { RandomIntent } from '../../intent/random.ts';
import { roleTier, rolesEdgeFirst } from '../../domains/fabric/roles.ts';

export interface Candidate {
  what: string;
  intent: RandomIntent;
}

type Net = Record<string, unknown> & { name: string; vlan: number; leaves?: unknown };

const clone = (i: RandomIntent): RandomIntent => structuredClone(i);

function nets(i: RandomIntent): Net[] {
  return i.tenants.flatMap((t) => t.vrfs.flatMap((v) => v.networks as Net[]));
}

function dropEndpointsWhere(i: RandomIntent, pred: (e: Record<string, unknown>) => boolean): void {
  i.endpoints = i.endpoints.filter((e) => !pred(e));
}

function dropVlans(i: RandomIntent, vlans: Set<number>): void {
  dropEndpointsWhere(i, (e) => vlans.has(e.vlan as number));
}

/** Removes a node and every reference to it. */
function dropNode(i: RandomIntent, name: string): void {
  delete i.nodes[name];
  dropEndpointsWhere(i, (e) => e.leaf === name);
  for (const n of Object.values(i.nodes)) {
    if (n.pair === name) delete n.pair;
    if (Array.isArray(n.uplinks)) {
      n.uplinks = (n.uplinks as string[]).filter((u) => u !== name);
      if (!(n.uplinks as string[]).length) delete n.uplinks;
    }
  }
  for (const net of nets(i)) {
    if (Array.isArray(net.leaves)) {
      net.leaves = (net.leaves as string[]).filter((l) => l !== name);
      if (!(net.leaves as string[]).length) delete net.leaves;
    }
  }
  const overlay = i.fabric.overlay as { route_reflectors?: string[] };
  if (overlay.route_reflectors) {
    overlay.route_reflectors = overlay.route_reflectors.filter((r) => r !== name);
    if (!overlay.route_reflectors.length) delete overlay.route_reflectors;
  }
}

function roleOf(i: RandomIntent, name: string): string {
  const n = i.nodes[name];
  return String(n.role ?? (i.groups as Record<string, { role?: string }> | undefined)?.[String(n.group)]?.role ?? '');
}

/** Every one-step reduction of an intent, largest first. */
export function* reductions(src: RandomIntent): Generator<Candidate> {
  for (let t = 0; t < src.tenants.length; t++) {
    const i = clone(src);
    const [gone] = i.tenants.splice(t, 1);
    dropVlans(i, new Set(gone.vrfs.flatMap((v) => v.networks.map((n) => n.vlan as number))));
    yield { what: `tenant ${gone.name}`, intent: i };
  }
  const nodeNames = Object.keys(src.nodes);
  const byRole = (role: string) => nodeNames.filter((n) => roleOf(src, n) === role);
  for (const role of rolesEdgeFirst()) {
    // The last spine stays: a fabric without one has no underlay, a different failure.
    if (roleTier(role) === 'spine' && byRole(role).length < 2) continue;
    for (const name of byRole(role)) {
      const i = clone(src);
      dropNode(i, name);
      yield { what: `${role} ${name}`, intent: i };
    }
  }
  for (let t = 0; t < src.tenants.length; t++) {
    for (let v = 0; v < src.tenants[t].vrfs.length; v++) {
      if (src.tenants[t].vrfs.length < 2) continue;
      const i = clone(src);
      const [gone] = i.tenants[t].vrfs.splice(v, 1);
      dropVlans(i, new Set(gone.networks.map((n) => n.vlan as number)));
      yield { what: `VRF ${gone.name}`, intent: i };
    }
  }
  for (let t = 0; t < src.tenants.length; t++) {
    for (let v = 0; v < src.tenants[t].vrfs.length; v++) {
      for (let n = 0; n < src.tenants[t].vrfs[v].networks.length; n++) {
        const i = clone(src);
        const [gone] = i.tenants[t].vrfs[v].networks.splice(n, 1);
        dropVlans(i, new Set([gone.vlan as number]));
        yield { what: `network ${String(gone.name)}`, intent: i };
      }
    }
  }
  for (let e = 0; e < src.endpoints.length; e++) {
    const i = clone(src);
    const [gone] = i.endpoints.splice(e, 1);
    yield { what: `endpoint ${String(gone.name)}`, intent: i };
  }
  yield* simplifications(src);
}

function* simplifications(src: RandomIntent): Generator<Candidate> {
  const overlay = src.fabric.overlay as Record<string, unknown>;
  for (const key of ['route_reflectors', 'route_target_asn']) {
    if (overlay[key] === undefined) continue;
    const i = clone(src);
    delete (i.fabric.overlay as Record<string, unknown>)[key];
    yield { what: `overlay.${key}`, intent: i };
  }
  for (const [name, n] of Object.entries(src.nodes)) {
    for (const key of ['asn', 'uplinks', 'pair']) {
      if (n[key] === undefined) continue;
      const i = clone(src);
      delete i.nodes[name][key];
      const partner = key === 'pair' ? String(n.pair) : undefined;
      if (partner && i.nodes[partner]) delete i.nodes[partner].pair;
      yield { what: `${name}.${key}`, intent: i };
    }
  }
  for (let t = 0; t < src.tenants.length; t++) {
    for (let v = 0; v < src.tenants[t].vrfs.length; v++) {
      const vrf = src.tenants[t].vrfs[v] as Record<string, unknown>;
      for (const key of ['l3vni', 'l3vni_vlan', 'route_target', 'rd_index']) {
        if (vrf[key] === undefined) continue;
        const i = clone(src);
        delete (i.tenants[t].vrfs[v] as Record<string, unknown>)[key];
        yield { what: `VRF ${String(vrf.name)} ${key}`, intent: i };
      }
      for (let n = 0; n < src.tenants[t].vrfs[v].networks.length; n++) {
        const net = src.tenants[t].vrfs[v].networks[n];
        for (const keys of [['vni'], ['route_target'], ['rd_index'], ['leaves'], ['subnet6', 'gateway6']]) {
          if (net[keys[0]] === undefined) continue;
          const i = clone(src);
          for (const k of keys) delete i.tenants[t].vrfs[v].networks[n][k];
          if (keys[0] === 'subnet6') for (const e of i.endpoints) if (e.vlan === net.vlan) delete e.ipv6;
          yield { what: `network ${String(net.name)} ${keys[0]}`, intent: i };
        }
      }
    }
  }
  for (let e = 0; e < src.endpoints.length; e++) {
    if (src.endpoints[e].ipv6 === undefined) continue;
    const i = clone(src);
    delete i.endpoints[e].ipv6;
    yield { what: `endpoint ${String(src.endpoints[e].name)} ipv6`, intent: i };
  }
}

export interface MinimiseOptions {
  /** Is this candidate a valid intent? (e.g. it passes `netloom validate`) */
  valid: (i: RandomIntent) => boolean;
  /** Does it still fail? */
  fails: (i: RandomIntent, what: string) => Promise<boolean>;
  /** Stop trying after this many `fails` calls (each may be a lab run). */
  maxTries?: number;
  /** Stop trying at this time (ms since epoch). */
  deadline?: number;
  log?: (line: string) => void;
}

export interface Minimised {
  intent: RandomIntent;
  removed: string[];
  tries: number;
  /** False when a budget ran out before no reduction was left. */
  complete: boolean;
}

export async function minimise(start: RandomIntent, opts: MinimiseOptions): Promise<Minimised> {
  let current = start;
  const removed: string[] = [];
  let tries = 0;
  // Reductions that did not fail are needed; they are not tried again after later ones.
  const needed = new Set<string>();
  const outOfBudget = () => tries >= (opts.maxTries ?? Infinity) || Date.now() >= (opts.deadline ?? Infinity);
  for (;;) {
    let progressed = false;
    for (const c of reductions(current)) {
      if (outOfBudget()) return { intent: current, removed, tries, complete: false };
      if (needed.has(c.what) || !opts.valid(c.intent)) continue;
      tries++;
      if (await opts.fails(c.intent, c.what)) {
        opts.log?.(`  without ${c.what}: still fails`);
        current = c.intent;
        removed.push(c.what);
        progressed = true;
        break;
      }
      needed.add(c.what);
      opts.log?.(`  without ${c.what}: passes (kept)`);
    }
    if (!progressed) return { intent: current, removed, tries, complete: true };
  }
}
