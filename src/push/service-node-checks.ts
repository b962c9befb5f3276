/**
 * Post-checks of a pushed service node, run before its push is confirmed (a failure rolls it
 * back). The core's: every BGP session to the leaf is up and advertises exactly the node's
 * prefixes of that VRF and family (which also says the service is healthy: the announcement
 * loop puts them on lo only then). Domains add their own (the slb domain: HAProxy's runtime
 * state as the model says).
 */
import type { ServiceNode } from '../model/service-nodes.ts';
import type { DesiredConfig } from './driver.ts';
import type { CommandHost } from './nft-ruleset.ts';
import type { ServiceNodeSnapshot } from './service-node-driver.ts';

export interface ServiceNodeCheckContext {
  node: ServiceNode;
  /** Runs a command on the node; throws when it fails. */
  exec(cmd: string): Promise<string>;
  /** The node as a command host (stdin, exit codes). */
  host: CommandHost;
  desired: DesiredConfig;
  /** The node as the rollout found it. */
  before: ServiceNodeSnapshot;
  deadline: number;
}

export interface ServiceNodeCheck {
  name: string;
  appliesTo(node: ServiceNode): boolean;
  /** Polls until the node is as the model says or the deadline passes; the problems left. */
  run(ctx: ServiceNodeCheckContext): Promise<string[]>;
}

export async function serviceNodeProblems(checks: ServiceNodeCheck[], ctx: ServiceNodeCheckContext): Promise<string[]> {
  const applicable = checks.filter((c) => c.appliesTo(ctx.node));
  return (await Promise.all(applicable.map(async (c) => (await c.run(ctx)).map((p) => `${c.name}: ${p}`)))).flat();
}

/** Polls `probe` (problems, empty = good) every 300 ms until it passes or the deadline is reached. */
export async function pollProblems(deadline: number, probe: () => Promise<string[]>): Promise<string[]> {
  for (;;) {
    let problems: string[];
    try {
      problems = await probe();
    } catch (e) {
      problems = [(e as Error).message.split('\n')[0]];
    }
    if (!problems.length || Date.now() >= deadline) return problems;
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface Session {
  afi: 'ipv4' | 'ipv6';
  vrf: string;
  peer: string;
  prefixes: string[];
}

function sessions(n: ServiceNode): Session[] {
  return n.legs.flatMap((l) =>
    (['ipv4', 'ipv6'] as const).flatMap((afi) => {
      const peer = afi === 'ipv4' ? l.gateway4 : l.gateway6;
      if (!peer || !(afi === 'ipv4' ? l.ipv4 : l.ipv6)) return [];
      const prefixes = n.advertise.filter((a) => a.vrf === l.vrf && a.prefix.includes(':') === (afi === 'ipv6')).map((a) => a.prefix);
      return [{ afi, vrf: l.vrf, peer, prefixes }];
    }),
  );
}

export const serviceNodeBgpCheck: ServiceNodeCheck = {
  name: 'service-node-bgp',
  appliesTo: () => true,
  run: (ctx) =>
    pollProblems(ctx.deadline, async () => {
      const summary = JSON.parse(await ctx.exec(`vtysh -c 'show bgp summary json'`)) as Record<string, { peers?: Record<string, { state?: string }> }>;
      const problems: string[] = [];
      for (const s of sessions(ctx.node)) {
        const state = summary[`${s.afi}Unicast`]?.peers?.[s.peer]?.state ?? 'absent';
        if (state !== 'Established') {
          problems.push(`session to ${ctx.node.leaf} ${s.peer} (VRF ${s.vrf}) is ${state}`);
          continue;
        }
        const adv = JSON.parse(await ctx.exec(`vtysh -c 'show bgp ${s.afi} unicast neighbors ${s.peer} advertised-routes json'`)) as { advertisedRoutes?: Record<string, unknown> };
        const have = Object.keys(adv.advertisedRoutes ?? {}).sort();
        const want = [...s.prefixes].sort();
        const missing = want.filter((p) => !have.includes(p));
        const extra = have.filter((p) => !want.includes(p));
        if (missing.length) problems.push(`not advertised to ${ctx.node.leaf} (VRF ${s.vrf}): ${missing.join(', ')}`);
        if (extra.length) problems.push(`advertised to ${ctx.node.leaf} (VRF ${s.vrf}) but not in the model: ${extra.join(', ')}`);
      }
      return problems;
    }),
};
