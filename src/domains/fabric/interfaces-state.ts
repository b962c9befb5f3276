/**
 * An FRR device's interfaces as its kernel has them: one iproute2 command (`ip -j -s link
 * show`) read into two parts kept apart on purpose. The state (admin flag, carrier, operational
 * state, MTU, MAC, bridge) changes only when something happens to the interface; the counters
 * change on every reading. The service compares the state only when its signature changed and
 * the counters against the previous reading, so a busy interface costs a subtraction per poll,
 * not a re-check.
 */

export const LINK_COMMAND = 'ip -j -s link show';

export interface LinkState {
  name: string;
  /** The UP flag: administratively up. */
  admin: boolean;
  /** LOWER_UP: the link layer has carrier (a veth's peer is up, a cable is plugged). */
  carrier: boolean;
  /** The kernel's operational state (RFC 2863): UP, DOWN, LOWERLAYERDOWN, UNKNOWN, ... */
  oper: string;
  mtu: number;
  mac: string | null;
  /** The bridge (or VRF) the interface is enslaved to. */
  master: string | null;
}

export const COUNTERS = ['rxPackets', 'rxBytes', 'rxErrors', 'rxDropped', 'txPackets', 'txBytes', 'txErrors', 'txDropped'] as const;
export type CounterName = (typeof COUNTERS)[number];
export type LinkCounters = Record<CounterName, number>;
/** The counters whose growth means packets are lost (errors and drops). */
export const LOSS_COUNTERS: CounterName[] = ['rxErrors', 'rxDropped', 'txErrors', 'txDropped'];

export interface LinkReading {
  /** In the kernel's order (ifindex). */
  links: LinkState[];
  counters: Record<string, LinkCounters>;
  /** The state part as one string: equal signatures, equal state. */
  sig: string;
}

interface StatsJ { bytes?: number; packets?: number; errors?: number; dropped?: number }
interface LinkJ {
  ifname?: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  address?: string;
  master?: string;
  stats64?: { rx?: StatsJ; tx?: StatsJ };
  stats?: { rx?: StatsJ; tx?: StatsJ };
}

/** `ip -j -s link show` -> state and counters; throws on an answer that is not iproute2's JSON list. */
export function parseLinks(out: string): LinkReading {
  const json: unknown = JSON.parse(out.trim() || '[]');
  if (!Array.isArray(json)) throw new Error('not a list of links');
  const links: LinkState[] = [];
  const counters: Record<string, LinkCounters> = {};
  for (const j of json as LinkJ[]) {
    if (typeof j?.ifname !== 'string') continue;
    const flags = j.flags ?? [];
    links.push({ name: j.ifname, admin: flags.includes('UP'), carrier: flags.includes('LOWER_UP'), oper: j.operstate ?? 'UNKNOWN', mtu: j.mtu ?? 0, mac: j.address ?? null, master: j.master ?? null });
    // iproute2 prints stats64 where the kernel has 64-bit counters, stats otherwise.
    const s = j.stats64 ?? j.stats;
    if (s) {
      const n = (x: number | undefined) => (typeof x === 'number' ? x : 0);
      counters[j.ifname] = {
        rxPackets: n(s.rx?.packets), rxBytes: n(s.rx?.bytes), rxErrors: n(s.rx?.errors), rxDropped: n(s.rx?.dropped),
        txPackets: n(s.tx?.packets), txBytes: n(s.tx?.bytes), txErrors: n(s.tx?.errors), txDropped: n(s.tx?.dropped),
      };
    }
  }
  const sig = links.map((l) => `${l.name} ${+l.admin}${+l.carrier} ${l.oper} ${l.mtu} ${l.mac} ${l.master}`).join('\n');
  return { links, counters, sig };
}

/** Operationally up: admin up, carrier, and no down state from the kernel (UNKNOWN is what drivers without one say). */
export function linkUp(l: LinkState): boolean {
  return l.admin && l.carrier && !['DOWN', 'LOWERLAYERDOWN', 'NOTPRESENT', 'DORMANT'].includes(l.oper);
}

/** What went down, in words: "administratively down", "no carrier (oper DOWN)". */
export function downReason(l: LinkState): string {
  if (!l.admin) return 'administratively down';
  if (!l.carrier) return `no carrier (oper ${l.oper})`;
  return `oper ${l.oper}`;
}

/**
 * The loss counters that grew from `prev` to `cur`, with how much. A counter that went
 * backwards (the interface was re-created) is a fresh start, not a loss.
 */
export function counterGrowth(prev: LinkCounters | undefined, cur: LinkCounters | undefined): Partial<Record<CounterName, number>> {
  const out: Partial<Record<CounterName, number>> = {};
  if (!prev || !cur) return out;
  for (const k of LOSS_COUNTERS) if (cur[k] > prev[k]) out[k] = cur[k] - prev[k];
  return out;
}

/** "rxDropped" -> "rx dropped". */
export const counterLabel = (k: CounterName): string => k.replace(/^(rx|tx)/, '$1 ').toLowerCase();
