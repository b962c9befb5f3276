/**
 * The order a rollout pushes its changed FRR devices in: the model's, except that a device goes
 * after a changed peer that runs BGP but not their session yet while the device does (or while
 * the device runs no BGP at all: one the change adds). Pushed first, the device's post-checks
 * would wait for sessions, and the EVPN routes learnt over them, that only the peer's later wave
 * brings up: a leaf added under route-reflector spines is pushed after the spines learn it.
 * A session both sides lack (a new link between running devices) keeps the model's order.
 */
import type { FabricModel } from '../model/types.ts';
import { expectedBgpPeers } from './postcheck.ts';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const configures = (running: string, key: string) => new RegExp(`^ neighbor ${escape(key)} `, 'm').test(running);

/**
 * `running(t)` is the device's running FRR configuration, or undefined when it is not an FRR
 * device (its order is the model's). Dependencies come first; a cycle keeps the given order.
 */
export function sessionOrder<T>(items: T[], model: FabricModel, name: (t: T) => string, running: (t: T) => string | undefined): T[] {
  const byName = new Map(items.map((t) => [name(t), t]));
  const deps = new Map<T, T[]>();
  for (const s of items) {
    const rs = running(s);
    if (rs === undefined) continue;
    const isNew = !/^router bgp /m.test(rs);
    for (const e of expectedBgpPeers(model, name(s))) {
      const p = byName.get(e.peer);
      const rp = p === undefined ? undefined : running(p);
      if (p === undefined || rp === undefined || e.peerKey === undefined) continue;
      // Only a peer that runs BGP already decides: two devices the change adds wait for nothing.
      if (/^router bgp /m.test(rp) && !configures(rp, e.peerKey) && (isNew || configures(rs, e.key))) deps.set(s, [...(deps.get(s) ?? []), p]);
    }
  }
  if (!deps.size) return items;
  const out: T[] = [];
  const done = new Set<T>();
  const onPath = new Set<T>();
  const visit = (t: T) => {
    if (done.has(t) || onPath.has(t)) return;
    onPath.add(t);
    for (const d of deps.get(t) ?? []) visit(d);
    onPath.delete(t);
    done.add(t);
    out.push(t);
  };
  for (const t of items) visit(t);
  return out;
}
