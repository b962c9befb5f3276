import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { getLabState, type LabNodeState, type LabState } from './state.ts';
import { parallel, pidAlive, readPidFile, run, sleep } from './proc.ts';
import {
  bgpEstablished, bgpSessionState, ospfAdjacencyUp, parseBgpNeighbors, parseOspfNeighbors, type BgpPeerState, type OspfNeighborState,
} from '../domains/fabric/session-state.ts';

/** A BGP neighbour as FRR reports it (the shared session-state reading). */
export type BgpNeighborStatus = BgpPeerState;
export type OspfNeighborStatus = OspfNeighborState;

export interface OspfInterfaceStatus {
  name: string;
  passive: boolean;
  up: boolean;
  neighbors: number;
  adjacent: number;
  networkType?: string;
}

export interface NodeStatus {
  name: string;
  role: LabNodeState['role'];
  netns: string;
  mgmtIpv4?: string;
  namespace: boolean;
  daemons: { name: string; pid?: number; alive: boolean }[];
  sshd?: { pid?: number; alive: boolean };
  bgp: BgpNeighborStatus[];
  ospf: OspfNeighborStatus[];
  ospfInterfaces: OspfInterfaceStatus[];
  /** Queries that failed (a daemon not answering). */
  errors: string[];
}

export interface LabStatus {
  name: string;
  runtime: LabState['runtime'];
  status: LabState['status'];
  mgmt?: LabState['mgmt'];
  nodes: NodeStatus[];
}

async function vtyshJson(ns: string, cmd: string): Promise<unknown> {
  const r = await run('vtysh', ['-N', ns, '-c', cmd], { allowFail: true, timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`'${cmd}': ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  return JSON.parse(r.stdout.trim() || '{}');
}

function parseOspfInterfaces(json: unknown): OspfInterfaceStatus[] {
  const ifs = ((json ?? {}) as { interfaces?: Record<string, Record<string, unknown>> }).interfaces ?? {};
  return Object.entries(ifs).map(([name, i]) => ({
    name,
    passive: i.timerPassiveIface === true || i.networkType === 'LOOPBACK',
    up: i.ifUp === true,
    neighbors: Number(i.nbrCount ?? 0),
    adjacent: Number(i.nbrAdjacentCount ?? 0),
    networkType: typeof i.networkType === 'string' ? i.networkType : undefined,
  }));
}

async function nodeStatus(state: LabState, n: LabNodeState, nsPresent: Set<string>): Promise<NodeStatus> {
  const st: NodeStatus = {
    name: n.name, role: n.role, netns: n.netns, mgmtIpv4: n.mgmtIpv4, namespace: nsPresent.has(n.netns),
    daemons: [], bgp: [], ospf: [], ospfInterfaces: [], errors: [],
  };
  for (const d of n.daemons) {
    const pid = n.frrRunDir ? readPidFile(path.join(n.frrRunDir, `${d}.pid`)) : undefined;
    st.daemons.push({ name: d, pid, alive: !!pid && pidAlive(pid) });
  }
  if (n.mgmtIpv4 && state.runtime === 'netns') {
    const pid = readPidFile(path.join(state.stateDir, 'nodes', n.name, 'sshd.pid'));
    st.sshd = { pid, alive: !!pid && pidAlive(pid) };
  }
  if (!n.pathspace || !st.namespace) return st;
  const alive = (d: string) => st.daemons.some((x) => x.name === d && x.alive);
  const jobs: Promise<void>[] = [];
  if (alive('bgpd')) {
    jobs.push(vtyshJson(n.pathspace, 'show bgp vrf all neighbors json').then((j) => void (st.bgp = parseBgpNeighbors(j)), (e) => void st.errors.push(String((e as Error).message))));
  }
  if (alive('ospfd')) {
    jobs.push(vtyshJson(n.pathspace, 'show ip ospf neighbor json').then((j) => void (st.ospf = parseOspfNeighbors(j)), (e) => void st.errors.push(String((e as Error).message))));
    jobs.push(vtyshJson(n.pathspace, 'show ip ospf interface json').then((j) => void (st.ospfInterfaces = parseOspfInterfaces(j)), (e) => void st.errors.push(String((e as Error).message))));
  }
  await Promise.all(jobs);
  return st;
}

/** Nodes, daemons alive, and BGP/OSPF neighbours per node as FRR itself reports them. */
export async function labStatus(lab?: string | LabState): Promise<LabStatus> {
  const state = typeof lab === 'object' ? lab : getLabState(lab);
  const nsPresent = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  const nodes = await parallel(state.nodes, 8, (n) => nodeStatus(state, n, nsPresent));
  return { name: state.name, runtime: state.runtime, status: state.status, mgmt: state.mgmt, nodes };
}

/** A session the caller (e.g. the model) expects to be up. */
export interface ExpectedSession {
  node: string;
  protocol: 'bgp' | 'ospf';
  /**
   * BGP: the neighbor as configured (address or interface), its address, or its hostname.
   * OSPF: the neighbor's router-id, or the local interface it is reached on.
   */
  peer: string;
  vrf?: string;
}

export interface ConvergeOptions {
  timeoutMs?: number;
  pollMs?: number;
  expected?: ExpectedSession[];
  onPoll?: (pending: string[]) => void;
  /**
   * Only these nodes (and links between them) must converge: a running lab just given new nodes
   * runs them with sessions their peers learn only when `apply` pushes the change.
   */
  only?: ReadonlySet<string>;
}

export interface ConvergeResult {
  converged: boolean;
  elapsedMs: number;
  /** Why it is not (yet) converged, one line per reason; empty when converged. */
  pending: string[];
  status: LabStatus;
}

/** Reasons a status is not converged; empty when it is. */
export function convergencePending(state: LabState, st: LabStatus, expected: ExpectedSession[] = [], only?: ReadonlySet<string>): string[] {
  const pending: string[] = [];
  const byName = new Map(st.nodes.map((n) => [n.name, n]));
  const counted = (node: string) => !only || only.has(node);
  for (const n of st.nodes) {
    if (!counted(n.name)) continue;
    if (!n.namespace) pending.push(`${n.name}: namespace ${n.netns} is missing`);
    for (const d of n.daemons) if (!d.alive) pending.push(`${n.name}: ${d.name} is not running`);
    for (const e of n.errors) pending.push(`${n.name}: ${e}`);
    for (const b of n.bgp) if (!bgpEstablished(b.state)) pending.push(`${n.name}: BGP ${b.peer}${b.vrf !== 'default' ? ` (vrf ${b.vrf})` : ''} is ${b.state}`);
    for (const o of n.ospf) if (!ospfAdjacencyUp(o)) pending.push(`${n.name}: OSPF neighbor ${o.routerId} on ${o.iface} is ${o.state}`);
  }
  // Every lab link with OSPF running (not passive) at both ends must carry an adjacency.
  for (const l of state.links) {
    if (!counted(l.a.node) || !counted(l.b.node)) continue;
    const a = byName.get(l.a.node)?.ospfInterfaces.find((i) => i.name === l.a.iface);
    const b = byName.get(l.b.node)?.ospfInterfaces.find((i) => i.name === l.b.iface);
    if (!a || !b || a.passive || b.passive) continue;
    for (const [node, i] of [[l.a.node, a], [l.b.node, b]] as const) {
      const full = byName.get(node)!.ospf.some((o) => o.iface === i.name && ospfAdjacencyUp(o));
      if (!full) pending.push(`${node}: no full OSPF adjacency on ${i.name} yet`);
    }
  }
  for (const e of expected) {
    const n = byName.get(e.node);
    if (!n) {
      pending.push(`${e.node}: expected node is not in the lab`);
      continue;
    }
    if (e.protocol === 'bgp') {
      const s = bgpSessionState(n.bgp, { key: e.peer, aliases: [e.peer], vrf: e.vrf });
      if (!s.configured) pending.push(`${e.node}: expected BGP session to ${e.peer} is not configured`);
      else if (!s.up && !pending.some((p) => p.startsWith(`${e.node}: BGP ${s.peers[0].peer}`))) pending.push(`${e.node}: BGP ${e.peer} is ${s.down[0].state}`);
    } else {
      const s = n.ospf.find((o) => o.routerId === e.peer || o.iface === e.peer);
      if (!s) pending.push(`${e.node}: expected OSPF neighbor ${e.peer} is not seen`);
      else if (!ospfAdjacencyUp(s) && !pending.some((p) => p.startsWith(`${e.node}: OSPF neighbor ${s.routerId}`))) pending.push(`${e.node}: OSPF neighbor ${e.peer} is ${s.state}`);
    }
  }
  return pending;
}

/**
 * Polls FRR until every configured BGP neighbour is Established, every OSPF neighbour Full
 * (2-Way between DROthers), every OSPF-enabled lab link has its adjacency, and every expected
 * session is up; or until the timeout.
 */
export async function waitConverged(lab?: string | LabState, opts: ConvergeOptions = {}): Promise<ConvergeResult> {
  const state = typeof lab === 'object' ? lab : getLabState(lab);
  const timeout = opts.timeoutMs ?? 60_000;
  const poll = opts.pollMs ?? 250;
  const t0 = Date.now();
  for (;;) {
    const status = await labStatus(state);
    const pending = convergencePending(state, status, opts.expected, opts.only);
    const elapsedMs = Date.now() - t0;
    if (pending.length === 0) return { converged: true, elapsedMs, pending, status };
    opts.onPoll?.(pending);
    if (elapsedMs >= timeout) return { converged: false, elapsedMs, pending, status };
    await sleep(Math.min(poll, Math.max(0, timeout - elapsedMs)));
  }
}
