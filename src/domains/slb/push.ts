/**
 * The slb domain in a rollout: after a load-balancer node's push, HAProxy's runtime state must
 * be what the pushed haproxy.cfg says (every server of every backend there, none more, each with
 * its weight and in service), every server that was up before the push up again, and every new
 * one up within the deadline (its health checks passed `rise` times). A runtime API change the
 * worker did not take, or a reload that lost a server, fails here and is rolled back.
 */
import type { FabricModel } from '../../model/types.ts';
import { haproxyServers, runtimeApi } from '../../push/haproxy-step.ts';
import { pollProblems, type ServiceNodeCheck } from '../../push/service-node-checks.ts';
import { serviceNodePushSpec } from '../../push/service-node-driver.ts';

export interface ServerState {
  /** 0 stopped, 1 starting, 2 running, 3 stopping (HAProxy's srv_op_state). */
  op: number;
  /** Bits: 0x01 forced maintenance, 0x08 forced drain... (srv_admin_state); 0 = in service. */
  admin: number;
  weight: number;
  /** The last health check: 0 none yet, 1 neutral, 2 failed, 3 passed, 4 passed conditionally (srv_check_result). */
  checkResult: number;
}

/** `show servers state` -> "backend/server" -> state. */
export function parseServersState(text: string): Map<string, ServerState> {
  const out = new Map<string, ServerState>();
  const lines = text.split('\n');
  const head = lines.find((l) => l.startsWith('# '));
  if (!head) return out;
  const cols = head.slice(2).trim().split(/\s+/);
  const at = (c: string) => cols.indexOf(c);
  for (const l of lines) {
    if (!l.trim() || l.startsWith('#') || /^\d+$/.test(l.trim())) continue;
    const f = l.trim().split(/\s+/);
    if (f.length < cols.length - 2) continue;
    out.set(`${f[at('be_name')]}/${f[at('srv_name')]}`, { op: Number(f[at('srv_op_state')]), admin: Number(f[at('srv_admin_state')]), weight: Number(f[at('srv_uweight')]), checkResult: Number(f[at('srv_check_result')]) });
  }
  return out;
}

/** What a node's HAProxy should run: "backend/server" -> weight, and whether it is health-checked. */
export type WantedServers = Map<string, { weight: number; checked: boolean }>;

/** A haproxy.cfg's servers as WantedServers. */
export function wantedFromConfig(cfg: string): WantedServers {
  return new Map([...haproxyServers(cfg).servers].map(([id, l]) => [id, { weight: l.weight, checked: / check(\s|$)/.test(` ${l.spec}`) }]));
}

/**
 * What differs between HAProxy's runtime state and what it should run, given what was up
 * before (a server not up before may stay down: its member's problem, not the change's).
 */
export function serverStateProblems(want: WantedServers, now: Map<string, ServerState>, before: Map<string, ServerState> | undefined): string[] {
  const problems: string[] = [];
  for (const [id, w] of want) {
    const s = now.get(id);
    if (!s) {
      problems.push(`${id}: not in HAProxy's running configuration`);
      continue;
    }
    if (s.weight !== w.weight) problems.push(`${id}: weight ${s.weight}, the configuration says ${w.weight}`);
    if (s.admin !== 0) problems.push(`${id}: not in service (admin state ${s.admin})`);
    const was = before?.get(id);
    const mustBeUp = !was || was.op === 2;
    if (mustBeUp && s.op !== 2) problems.push(`${id}: ${was ? 'was up before the push, ' : 'new, '}now ${['stopped', 'starting', 'running', 'stopping'][s.op] ?? `state ${s.op}`}`);
    // HAProxy starts a new checked server as running before its first check: up means checked.
    else if (!was && w.checked && s.checkResult !== 3 && s.checkResult !== 4) problems.push(`${id}: new, ${s.checkResult === 2 ? 'its health check fails' : 'not checked yet'}`);
  }
  for (const id of now.keys()) if (!want.has(id)) problems.push(`${id}: running but not in the configuration`);
  return problems;
}

/** HAProxy's runtime state against the file it should be running. */
export function runtimeProblems(cfg: string, now: Map<string, ServerState>, before: Map<string, ServerState> | undefined): string[] {
  return serverStateProblems(wantedFromConfig(cfg), now, before);
}

export function slbServiceNodeChecks(model: FabricModel): ServiceNodeCheck[] {
  const lbs = new Set((model.serviceNodes ?? []).filter((n) => n.domain === 'slb').map((n) => n.name));
  return [
    {
      name: 'slb-runtime',
      appliesTo: (n) => lbs.has(n.name),
      run: (ctx) => {
        const files = serviceNodePushSpec(ctx.node).files.filter((f) => f.reload?.kind === 'haproxy');
        return pollProblems(ctx.deadline, async () => {
          const problems: string[] = [];
          for (const f of files) {
            const r = f.reload as { pidFile: string; socket: string };
            const now = parseServersState(await runtimeApi({ node: ctx.node.name, host: ctx.host, config: f.path, pidFile: r.pidFile, socket: r.socket }, ['show servers state']));
            const before = ctx.before.transient?.serversState?.[f.artifact];
            problems.push(...runtimeProblems(ctx.desired[f.artifact] ?? '', now, before === undefined ? undefined : parseServersState(before)));
          }
          return problems;
        });
      },
    },
  ];
}
