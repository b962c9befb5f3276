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
import { expectedForwarding, forwardingCommand, forwardingDiffs, parseForwarding, type ForwardingDiff } from '../domains/fabric/forwarding-state.ts';
import { evpnResyncCommands, REPAIR_AFTER_MS } from '../domains/fabric/evpn-resync.ts';
import { labExec } from './node-ops.ts';
import { shq } from '../util/shell-quote.ts';
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
  return (await leafForwardingDiffs(state, model, leaf)).map((d) => d.message);
}

/** A remote route the leaf lacks, with the leaves that must originate it. */
interface MissingRoute {
  leaf: string;
  vrf: string;
  prefix: string;
  origins: string[];
}

async function leafForwardingDiffs(state: LabState, model: FabricModel, leaf: string): Promise<(ForwardingDiff & { origins?: string[] })[]> {
  const dev = model.devices.find((d) => d.name === leaf)!;
  const r = await labExec(state, leaf, ['sh', '-c', forwardingCommand(dev)], { timeoutMs: 15_000 });
  if (r.code !== 0) return [{ message: `reading the forwarding state failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}` }];
  const byVtep = new Map(model.devices.filter((d) => d.vtep).map((d) => [d.vtep!.split('/')[0], d.name]));
  return forwardingDiffs(expectedForwarding(model, leaf), parseForwarding(r.stdout)).map((d) =>
    d.missingVia ? { ...d, origins: d.missingVia.map((v) => byVtep.get(v)).filter((x): x is string => !!x) } : d,
  );
}

const vrfRouteShow = (vrf: string, args: string) =>
  `if [ -e /run/netns/${shq(vrf)} ]; then ip -n ${shq(vrf)} ${args}; else ip ${args.replace(/^(-[46] )?route show/, '$1route show vrf ' + shq(vrf))}; fi`;

/**
 * Where a remote route the leaf lacks stops on its way, one line: the origin's kernel (its
 * endpoint host route), zebra, bgpd's VRF table and EVPN type-5, then the receiver's EVPN and
 * VRF tables. What a lab that did not settle reports, so the failure says which hop lost it.
 */
export async function traceMissingRoute(state: LabState, m: MissingRoute): Promise<string> {
  const [addr, len] = m.prefix.split('/');
  const fam = addr.includes(':') ? 'ipv6' : 'ip';
  const af = addr.includes(':') ? 'ipv6' : 'ipv4';
  const evpn = `vtysh -c 'show bgp l2vpn evpn route type prefix' | grep -c -F ${shq(`]:[${len}]:[${addr}]`)}`;
  const script = (origin: boolean) =>
    [
      ...(origin ? [vrfRouteShow(m.vrf, `-${af === 'ipv6' ? 6 : 4} route show ${m.prefix}`) + ' | head -1'] : []),
      `echo @@; vtysh -c ${shq(`show ${fam} route vrf ${m.vrf} ${m.prefix} json`)}`,
      `echo @@; vtysh -c ${shq(`show bgp vrf ${m.vrf} ${af} unicast ${m.prefix} json`)}`,
      `echo @@; ${evpn}`,
    ].join('; ');
  const read = async (node: string, origin: boolean): Promise<string> => {
    const r = await labExec(state, node, ['sh', '-c', script(origin)], { timeoutMs: 15_000 }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
    const parts = r.stdout.split('@@\n');
    if (parts.length < 4) return `${node}: unreadable (${(r.stderr || r.stdout).trim().split('\n')[0]})`;
    const json = (t: string): Record<string, unknown> => {
      try {
        return JSON.parse(t) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    const zebra = (json(parts[1])[m.prefix] as { protocol?: string; selected?: boolean }[] | undefined) ?? [];
    const bgp = (json(parts[2]).paths as unknown[] | undefined) ?? [];
    const kernel = origin ? `kernel ${parts[0].trim() ? 'has it' : 'lacks it'}, ` : '';
    return `${node}: ${kernel}zebra ${zebra.length ? zebra.map((z) => `${z.protocol}${z.selected ? ' selected' : ''}`).join('+') : 'lacks it'}, bgp VRF ${bgp.length} path(s), EVPN type-5 ${Number(parts[3].trim()) > 0 ? 'has it' : 'lacks it'}`;
  };
  const lines = await Promise.all([...m.origins.map((o) => read(o, true)), read(m.leaf, false)]);
  return `${m.leaf} VRF ${m.vrf} ${m.prefix} from ${m.origins.join(', ')}: ${lines.join('; ')}`;
}

/**
 * The origin's side of remote routes that do not arrive: an endpoint host route its kernel
 * lacks is added again (what network.sh adds: the endpoint's /32 on its VLAN's gateway in the
 * VRF namespace), the host routes it has are replaced in place (the kernel notifies zebra
 * again, so a route zebra missed is redistributed), and its EVPN routes are sent to its peers
 * again. Nothing else is touched: the leaf carries service nodes' legs too.
 */
export async function refreshOrigin(state: LabState, model: FabricModel, leaf: string, missing: MissingRoute[]): Promise<void> {
  const lines: string[] = [];
  const vrfs = new Set<string>();
  for (const m of missing.filter((x) => x.origins.includes(leaf))) {
    vrfs.add(m.vrf);
    const [addr, len] = m.prefix.split('/');
    const ep = model.endpoints.find((e) => e.leaf === leaf && e.vrf === m.vrf && (e.ipv4?.split('/')[0] === addr || e.ipv6?.split('/')[0] === addr));
    if (!ep || (len !== '32' && len !== '128')) continue;
    lines.push(`[ ! -e /run/netns/${shq(m.vrf)} ] || ip -n ${shq(m.vrf)} route replace ${shq(m.prefix)} dev gw${ep.vlan} proto 99`);
  }
  for (const v of vrfs) {
    for (const f of ['-4', '-6']) lines.push(`[ ! -e /run/netns/${shq(v)} ] || ip -n ${shq(v)} ${f} route show proto 99 | while read dst dev d rest; do [ "$dev" = dev ] && ip -n ${shq(v)} ${f} route replace "$dst" dev "$d" proto 99; done`);
  }
  lines.push("vtysh -c 'clear bgp l2vpn evpn * soft out' >/dev/null");
  await labExec(state, leaf, ['sh', '-c', lines.join('; ')], { timeoutMs: 30_000 });
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
  const repairedOnce = new Set<string>();
  let missing: MissingRoute[] = [];
  let clean = 0;
  let cleanSince = 0;
  let pending: string[] = [];
  for (;;) {
    const now = Date.now();
    const diffs = await Promise.all(leaves.map(async (l) => [l, await leafForwardingDiffs(state, model, l)] as const));
    const found = diffs.map(([l, ds]) => [l, ds.map((d) => d.message)] as const);
    pending = found.flatMap(([l, ps]) => ps.map((p) => `${l}: ${p}`));
    missing = diffs.flatMap(([l, ds]) => ds.filter((d) => d.origins?.length).map((d) => ({ leaf: l, vrf: d.vrf!, prefix: d.prefix!, origins: d.origins! })));
    clean = pending.length ? 0 : clean + 1;
    if (clean === 1) cleanSince = now;
    if (clean >= CLEAN_POLLS && Date.now() - cleanSince >= CLEAN_MS) return { settled: true, elapsedMs: Date.now() - t0, pending: [], repairs };
    if (Date.now() - t0 > timeoutMs) {
      const traces = await Promise.all(missing.slice(0, 3).map((m) => traceMissingRoute(state, m)));
      return { settled: false, elapsedMs: Date.now() - t0, pending: [...traces.map((t) => `trace: ${t}`), ...pending], repairs };
    }
    // A route still missing after its receiver was re-announced is lost on the origin's side.
    const origins = new Set(missing.filter((m) => repairedOnce.has(m.leaf) && (badSince.get(m.leaf) ?? now) + REPAIR_AFTER_MS <= now).flatMap((m) => m.origins));
    await Promise.all(
      found.map(async ([l, ps]) => {
        if (!ps.length) return void badSince.delete(l);
        const since = badSince.get(l) ?? now;
        badSince.set(l, since);
        if (now - since < REPAIR_AFTER_MS) return;
        opts.log?.(`${l}: forwarding state incomplete (${ps[0]}${ps.length > 1 ? ` and ${ps.length - 1} more` : ''}): EVPN VRF routes re-announced`);
        repairs.push(l);
        repairedOnce.add(l);
        await resyncLeaf(state, l);
        badSince.set(l, Date.now());
      }),
    );
    for (const o of origins) {
      const trace = missing.find((m) => m.origins.includes(o))!;
      opts.log?.(`${o}: originates ${trace.prefix} (VRF ${trace.vrf}) that ${trace.leaf} still lacks: ${await traceMissingRoute(state, trace)}; its missing endpoint host routes added, the others replaced, EVPN routes sent again`);
      repairs.push(o);
      await refreshOrigin(state, model, o, missing);
    }
    await sleep(POLL_MS);
  }
}
