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
  run: (ctx) => {
    const list = sessions(ctx.node);
    // One round trip per poll: the summary and each session's advertised routes, NUL-separated.
    const cmds = [`show bgp summary json`, ...list.map((s) => `show bgp ${s.afi} unicast neighbors ${s.peer} advertised-routes json`)];
    const script = cmds.map((c) => `vtysh -c '${c}'`).join("; printf '\\0'; ");
    const json = <T>(text: string | undefined): T => {
      try {
        return JSON.parse(text ?? '') as T;
      } catch {
        return {} as T;
      }
    };
    return pollProblems(ctx.deadline, async () => {
      const out = (await ctx.exec(script)).split('\0');
      const summary = json<Record<string, { peers?: Record<string, { state?: string }> }>>(out[0]);
      const problems: string[] = [];
      list.forEach((s, i) => {
        const state = summary[`${s.afi}Unicast`]?.peers?.[s.peer]?.state ?? 'absent';
        if (state !== 'Established') {
          problems.push(`session to ${ctx.node.leaf} ${s.peer} (VRF ${s.vrf}) is ${state}`);
          return;
        }
        const have = Object.keys(json<{ advertisedRoutes?: Record<string, unknown> }>(out[1 + i]).advertisedRoutes ?? {}).sort();
        const want = [...s.prefixes].sort();
        const missing = want.filter((p) => !have.includes(p));
        const extra = have.filter((p) => !want.includes(p));
        if (missing.length) problems.push(`not advertised to ${ctx.node.leaf} (VRF ${s.vrf}): ${missing.join(', ')}`);
        if (extra.length) problems.push(`advertised to ${ctx.node.leaf} (VRF ${s.vrf}) but not in the model: ${extra.join(', ')}`);
      });
      return problems;
    });
  },
};
