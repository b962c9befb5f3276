/**
 * Post-checks run on each device of a wave after its push and before its confirmation. The
 * built-in ones: for FRR (over the device's own ssh) every BGP session and OSPF adjacency the
 * model expects on the device must come up; for NETCONF the running datastore must hold the
 * payload. They poll until they pass or the deadline (within the confirm timeout) passes.
 * The verification stage adds its live checks by passing more PostCheck objects to the engine.
 */
import type { Device, FabricModel } from '../model/types.ts';
import type { PostCheck, PostCheckContext } from './driver.ts';
import { NetconfDriver } from './netconf-driver.ts';
import { bgpSessionState, ospfAdjacencyUp, parseBgpSummary, parseOspfNeighbors } from '../domains/fabric/session-state.ts';
import { contextLines } from './frr-disturbance.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Post-checks poll: short intervals, so a check passes within a fraction of a second of the state. */
const POLL_MS = 250;

export interface ExpectedPeer {
  /** Key in `show bgp summary json`: interface for unnumbered sessions, else the peer address. */
  key: string;
  peer: string;
  remoteAs: number;
  /** How the peer names this session in its own config (its interface, or our address). */
  peerKey?: string;
  /** The peer is pushed later: its AS may still be the old one. */
  anyAs?: boolean;
}

export function expectedBgpPeers(model: FabricModel, device: string): ExpectedPeer[] {
  const out: ExpectedPeer[] = [];
  for (const s of model.bgpSessions) {
    const [me, other] = s.a.device === device ? [s.a, s.b] : s.b.device === device ? [s.b, s.a] : [undefined, undefined];
    if (!me || !other) continue;
    const key = me.interface ?? other.address?.split('/')[0];
    const peerKey = other.interface ?? me.address?.split('/')[0];
    if (key) out.push({ key, peer: other.device, remoteAs: other.asn, ...(peerKey ? { peerKey } : {}) });
  }
  return out;
}

export interface ExpectedOspfNeighbor {
  routerId: string;
  peer: string;
  iface: string;
  /** The peer's end of the link. */
  peerIface: string;
}

export function expectedOspfNeighbors(model: FabricModel, device: string): ExpectedOspfNeighbor[] {
  const out: ExpectedOspfNeighbor[] = [];
  for (const a of model.ospfAdjacencies) {
    if (a.a.device === device) out.push({ routerId: a.b.routerId, peer: a.b.device, iface: a.a.interface, peerIface: a.b.interface });
    else if (a.b.device === device) out.push({ routerId: a.a.routerId, peer: a.a.device, iface: a.b.interface, peerIface: a.a.interface });
  }
  return out;
}

/** Whether an FRR configuration runs OSPF on the interface (`interface IFACE` > `ip ospf area ...`). */
export function runsOspfOn(config: string, iface: string): boolean {
  return contextLines(config).some((l) => l.startsWith(`interface ${iface} > ip ospf area `));
}

type BgpSummary = Record<string, { peers?: Record<string, { state?: string; remoteAs?: number }> }>;

export function bgpProblems(summary: BgpSummary, expected: ExpectedPeer[]): string[] {
  const problems: string[] = [];
  const peers = parseBgpSummary(summary, 'default');
  for (const e of expected) {
    const st = bgpSessionState(peers, { key: e.key });
    if (!st.configured) {
      problems.push(`BGP session to ${e.peer} (${e.key}) is not configured`);
      continue;
    }
    if (st.down.length) {
      problems.push(`BGP session to ${e.peer} (${e.key}) is ${st.down[0].state} (${st.down.map((d) => d.afi).join(', ')})`);
      continue;
    }
    const asn = st.remoteAs;
    if (asn !== undefined && asn !== e.remoteAs && !e.anyAs) problems.push(`BGP session to ${e.peer} (${e.key}) is up with AS ${asn}, the model says AS ${e.remoteAs}`);
  }
  return problems;
}

export function ospfProblems(json: unknown, expected: ReadonlyArray<{ routerId: string; peer: string; iface: string }>): string[] {
  const nbrs = parseOspfNeighbors(json);
  const problems: string[] = [];
  for (const e of expected) {
    const list = nbrs.filter((n) => n.routerId === e.routerId);
    if (!list.some(ospfAdjacencyUp)) problems.push(`OSPF adjacency with ${e.peer} (${e.routerId} on ${e.iface}) is ${list[0]?.state || 'absent'}`);
  }
  return problems;
}

async function poll(ctx: PostCheckContext, once: () => Promise<string[]>): Promise<string[]> {
  let last: string[] = ['not checked'];
  for (;;) {
    try {
      last = await once();
    } catch (e) {
      last = [(e as Error).message];
    }
    if (last.length === 0 || Date.now() + POLL_MS > ctx.deadline) return last;
    await sleep(POLL_MS);
  }
}

/** FRR: every model BGP session of the device Established (with the model's peer AS). */
export function bgpSessionsCheck(model: FabricModel): PostCheck {
  return {
    name: 'bgp-sessions',
    appliesTo: (d: Device, t) => t === 'ssh' && expectedBgpPeers(model, d.name).length > 0,
    run: (ctx) => {
      // A session to a peer pushed later must stay up if the peer already has it configured
      // (whatever AS it still has); a session the peer does not have yet is checked with it.
      const expected = expectedBgpPeers(model, ctx.device.name)
        .filter((e) => !ctx.pending.has(e.peer) || (e.peerKey !== undefined && new RegExp(`^ neighbor ${e.peerKey.replace(/[.]/g, '\\.')} `, 'm').test(ctx.pending.get(e.peer)!)))
        .map((e) => (ctx.pending.has(e.peer) ? { ...e, anyAs: true } : e));
      return poll(ctx, async () => bgpProblems(JSON.parse((await ctx.exec!(`vtysh -c 'show bgp summary json'`)) || '{}') as BgpSummary, expected));
    },
  };
}

/** FRR: every model OSPF adjacency of the device Full. */
export function ospfNeighborsCheck(model: FabricModel): PostCheck {
  return {
    name: 'ospf-neighbors',
    appliesTo: (d: Device, t) => t === 'ssh' && expectedOspfNeighbors(model, d.name).length > 0,
    run: (ctx) => {
      // As with BGP: an adjacency with a peer pushed later must stay Full if the peer already
      // runs OSPF on its end (a change of this end, its MTU say, must not take it down); one the
      // peer does not have yet is checked with it.
      const expected = expectedOspfNeighbors(model, ctx.device.name).filter((e) => !ctx.pending.has(e.peer) || runsOspfOn(ctx.pending.get(e.peer)!, e.peerIface));
      return poll(ctx, async () => ospfProblems(JSON.parse((await ctx.exec!(`vtysh -c 'show ip ospf neighbor json'`)) || '{}'), expected));
    },
  };
}

/** NETCONF: running holds exactly the payload (netconfd can ack a commit that did nothing). */
export const netconfRunningCheck: PostCheck = {
  name: 'netconf-running',
  appliesTo: (_d, t) => t === 'netconf',
  run: async (ctx) => {
    if (!(ctx.driver instanceof NetconfDriver)) return [];
    return ctx.driver.verifyRunning(ctx.desired);
  },
};

export function defaultPostChecks(model: FabricModel): PostCheck[] {
  return [bgpSessionsCheck(model), ospfNeighborsCheck(model), netconfRunningCheck];
}
