/**
 * A lab built from an intent is ready when the model's sessions are up AND every FRR leaf
 * forwards as the model says (kernel routes per VRF, router-MAC neighbours, VXLAN FDB and flood
 * lists: the same reading as the push's `forwarding-state` post-check). Sessions alone are not
 * enough: with iBGP through two route reflectors FRR 8.4 loses router MACs whenever the second
 * reflector's copy of a route wins (lab/README.md 3), which happened in 4 of 8 fresh dc3 labs.
 * A leaf whose forwarding state stays incomplete gets the push driver's repair (bgpd
 * re-announces its EVPN VRF routes; src/domains/fabric/evpn-resync.ts).
 */
import type { FabricModel } from '../model/types.ts';
import { expectedForwarding, forwardingCommand, forwardingProblems, parseForwarding } from '../domains/fabric/forwarding-state.ts';
import { evpnResyncCommands, REPAIR_AFTER_MS } from '../domains/fabric/evpn-resync.ts';
import { labExec } from './node-ops.ts';
import type { LabState } from './state.ts';
import { waitConverged, type ExpectedSession } from './status.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const POLL_MS = 300;
/** Clean polls in a row, spanning at least CLEAN_MS, before the lab counts as settled (a late route could still flip). */
const CLEAN_POLLS = 3;
const CLEAN_MS = 2_000;

export interface SettleOptions {
  timeoutMs?: number;
  expected?: ExpectedSession[];
  log?: (line: string) => void;
}

export interface SettleResult {
  settled: boolean;
  elapsedMs: number;
  /** Sessions not up or forwarding problems left, one line each. */
  pending: string[];
  /** Leaves repaired with a re-announce, each time. */
  repairs: string[];
}

/** The problems of one leaf's kernel forwarding state against the model. */
export async function leafForwardingProblems(state: LabState, model: FabricModel, leaf: string): Promise<string[]> {
  const dev = model.devices.find((d) => d.name === leaf)!;
  const r = await labExec(state, leaf, ['sh', '-c', forwardingCommand(dev)], { timeoutMs: 15_000 });
  if (r.code !== 0) return [`reading the forwarding state failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`];
  return forwardingProblems(expectedForwarding(model, leaf), parseForwarding(r.stdout));
}

/** bgpd re-announces the leaf's EVPN VRF routes to zebra (what the push driver does after a reload). */
export async function resyncLeaf(state: LabState, leaf: string): Promise<void> {
  const running = await labExec(state, leaf, ['vtysh', '-c', 'show running-config'], { timeoutMs: 15_000 });
  const cmds = evpnResyncCommands(running.stdout);
  if (cmds.length) await labExec(state, leaf, ['vtysh', ...cmds.flatMap((c) => ['-c', c])], { timeoutMs: 15_000 });
}

export async function settleLab(state: LabState, model: FabricModel, opts: SettleOptions = {}): Promise<SettleResult> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const conv = await waitConverged(state, { timeoutMs, expected: opts.expected });
  if (!conv.converged) return { settled: false, elapsedMs: Date.now() - t0, pending: conv.pending, repairs: [] };
  const nodes = new Set(state.nodes.map((n) => n.name));
  const leaves = model.devices.filter((d) => d.platform === 'frr' && d.vtep && nodes.has(d.name)).map((d) => d.name);
  const badSince = new Map<string, number>();
  const repairs: string[] = [];
  let clean = 0;
  let cleanSince = 0;
  let pending: string[] = [];
  for (;;) {
    const now = Date.now();
    const found = await Promise.all(leaves.map(async (l) => [l, await leafForwardingProblems(state, model, l)] as const));
    pending = found.flatMap(([l, ps]) => ps.map((p) => `${l}: ${p}`));
    clean = pending.length ? 0 : clean + 1;
    if (clean === 1) cleanSince = now;
    if (clean >= CLEAN_POLLS && Date.now() - cleanSince >= CLEAN_MS) return { settled: true, elapsedMs: Date.now() - t0, pending: [], repairs };
    if (Date.now() - t0 > timeoutMs) return { settled: false, elapsedMs: Date.now() - t0, pending, repairs };
    await Promise.all(
      found.map(async ([l, ps]) => {
        if (!ps.length) return void badSince.delete(l);
        const since = badSince.get(l) ?? now;
        badSince.set(l, since);
        if (now - since < REPAIR_AFTER_MS) return;
        opts.log?.(`${l}: forwarding state incomplete (${ps[0]}${ps.length > 1 ? ` and ${ps.length - 1} more` : ''}): EVPN VRF routes re-announced`);
        repairs.push(l);
        await resyncLeaf(state, l);
        badSince.set(l, Date.now());
      }),
    );
    await sleep(POLL_MS);
  }
}
