/**
 * Service probes: real connections from an endpoint of a lab to address:port/proto, classified
 * by what came back, so a firewall's verdicts are proven, not assumed:
 *   tcp  connected (with the listener's line: the destination and peer it saw, i.e. NAT made
 *        visible), refused (a RST - `reject with tcp reset` - or an ICMP port unreachable),
 *        unreachable (ICMP host/net/admin unreachable), timeout (nothing back: dropped)
 *   udp  answered (with the listener's line), icmp-unreachable, timeout
 *   icmp answered / timeout: the ping probes of probes.ts, with the same deadline.
 * Each source endpoint runs one client process (lab/probe-client.mjs, this host's node inside
 * its namespace) for all its probes, with bounded concurrency inside it and across sources.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FwAction } from '../../domains/firewall/model.ts';
import type { ListenerReply } from '../../lab/listeners.ts';
import type { WaveCheck } from '../../push/driver.ts';
import { labExec, type LabState } from '../../lab/index.ts';
import { parallel } from '../../lab/proc.ts';
import { getLabState } from '../../lab/state.ts';
import { EnvironmentError, UsageError } from '../../util/errors.ts';
import { measureProbes } from './probes.ts';

export const PROBE_CLIENT = fileURLToPath(new URL('../../../lab/probe-client.mjs', import.meta.url));

export type ServiceProto = 'tcp' | 'udp' | 'icmp';

export interface ServiceProbe {
  /** Source endpoint (a node of the lab). */
  src: string;
  address: string;
  proto: ServiceProto;
  /** tcp/udp destination port. */
  port?: number;
  /** Time a probe waits for an answer before it is a timeout (default 2000 ms). */
  deadlineMs?: number;
}

export type ServiceOutcome = 'connected' | 'refused' | 'unreachable' | 'timeout' | 'answered' | 'icmp-unreachable' | 'error';

export interface ServiceProbeResult extends ServiceProbe {
  outcome: ServiceOutcome;
  /** What the listener answered: where the packet arrived (after NAT) and whom it saw. */
  reply?: ListenerReply;
  detail?: string;
  ms: number;
}

export const DEFAULT_DEADLINE_MS = 2000;

export interface ServiceProbeOptions {
  /** Probes in flight per source endpoint (default 16). */
  concurrency?: number;
  /** Source endpoints probed at once (default 4: one node process each). */
  sources?: number;
}

export function serviceProbeName(p: ServiceProbe): string {
  return `${p.src} -> ${p.address} ${p.proto}${p.port !== undefined ? `/${p.port}` : ''}`;
}

/** What a probe of `proto` gets from a firewall rule with this action. */
export function expectedOutcome(action: FwAction, proto: ServiceProto): ServiceOutcome {
  if (action === 'drop') return 'timeout';
  if (proto === 'tcp') return action === 'accept' ? 'connected' : 'refused';
  if (proto === 'udp') return action === 'accept' ? 'answered' : 'icmp-unreachable';
  return action === 'accept' ? 'answered' : 'timeout';
}

function check(p: ServiceProbe): void {
  if (!net.isIP(p.address)) throw new UsageError(`service probe ${serviceProbeName(p)}: '${p.address}' is not an IP address`);
  if (p.proto !== 'icmp' && !(Number.isInteger(p.port) && p.port! >= 1 && p.port! <= 65535)) throw new UsageError(`service probe ${serviceProbeName(p)}: ${p.proto} needs a port 1-65535`);
  if (p.deadlineMs !== undefined && !(p.deadlineMs > 0 && p.deadlineMs <= 60_000)) throw new UsageError(`service probe ${serviceProbeName(p)}: deadline must be 1-60000 ms`);
}

interface ClientResult {
  id: number;
  outcome: ServiceOutcome;
  reply?: ListenerReply;
  detail?: string;
  ms: number;
}

async function runFromSource(lab: LabState, src: string, items: { i: number; p: ServiceProbe }[], concurrency: number): Promise<[number, Omit<ServiceProbeResult, keyof ServiceProbe>][]> {
  const input = items.map(({ i, p }) => ({ id: i, proto: p.proto, address: p.address, port: p.port, deadlineMs: p.deadlineMs ?? DEFAULT_DEADLINE_MS }));
  const longest = Math.max(...input.map((x) => x.deadlineMs));
  const timeoutMs = Math.ceil(items.length / concurrency) * longest + 15_000;
  const r = await labExec(lab, src, [process.execPath, PROBE_CLIENT, '--concurrency', String(concurrency)], { input: JSON.stringify(input), timeoutMs });
  let out: ClientResult[];
  try {
    out = JSON.parse(r.stdout) as ClientResult[];
  } catch {
    throw new EnvironmentError(`service probes from ${src} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  }
  return out.map((o) => [o.id, { outcome: o.outcome, ms: o.ms, ...(o.reply ? { reply: o.reply } : {}), ...(o.detail ? { detail: o.detail } : {}) }]);
}

/** Runs every probe from its source's namespace; results in the order of `probes`. */
export async function runServiceProbes(lab: string | LabState | undefined, probes: readonly ServiceProbe[], opts: ServiceProbeOptions = {}): Promise<ServiceProbeResult[]> {
  const state = typeof lab === 'object' ? lab : getLabState(lab);
  probes.forEach(check);
  const results: ServiceProbeResult[] = new Array(probes.length);
  const bySrc = new Map<string, { i: number; p: ServiceProbe }[]>();
  const pings: { i: number; p: ServiceProbe }[] = [];
  probes.forEach((p, i) => {
    if (p.proto === 'icmp') pings.push({ i, p });
    else bySrc.set(p.src, [...(bySrc.get(p.src) ?? []), { i, p }]);
  });
  const concurrency = Math.max(1, opts.concurrency ?? 16);
  const done = await parallel([...bySrc], Math.max(1, opts.sources ?? 4), ([src, items]) => runFromSource(state, src, items, concurrency));
  for (const [i, r] of done.flat()) results[i] = { ...probes[i], ...r };
  // Pings: the fabric's own probe code, one ping until the first answer or the deadline.
  await parallel(pings, concurrency, async ({ i, p }) => {
    const t0 = Date.now();
    const [r] = await measureProbes(state, [{ src: p.src, dst: p.address, address: p.address, family: net.isIPv6(p.address) ? 6 : 4, deadlineS: Math.max(1, Math.ceil((p.deadlineMs ?? DEFAULT_DEADLINE_MS) / 1000)) }]);
    results[i] = { ...p, outcome: r.answered ? 'answered' : 'timeout', ms: Date.now() - t0, ...(r.detail ? { detail: r.detail } : {}) };
  });
  return results;
}

/** A probe with the outcome the policy predicts (and, for NAT, what the listener must have seen). */
export interface ExpectedServiceProbe extends ServiceProbe {
  expect: ServiceOutcome;
  /** Fields the listener's reply must have: `{ port: 8080 }` for a port forward to 8080. */
  reply?: Partial<ListenerReply>;
  /** Devices whose rules decide this probe (a wave check probes it after their wave); absent: every wave. */
  via?: string[];
  /** Why that outcome is expected, for messages: "rule db-deny (firewall.yaml:42) on leaf4". */
  why?: string;
}

/** One line per probe whose outcome (or reply) is not the predicted one. */
export function serviceProbeProblems(expected: readonly ExpectedServiceProbe[], results: readonly ServiceProbeResult[]): string[] {
  const out: string[] = [];
  expected.forEach((e, i) => {
    const r = results[i];
    const because = e.why ? ` (${e.why})` : '';
    if (r.outcome !== e.expect) {
      out.push(`${serviceProbeName(e)}: ${r.outcome}${r.detail ? ` [${r.detail}]` : ''}, expected ${e.expect}${because}`);
      return;
    }
    const wrong = Object.entries(e.reply ?? {}).filter(([k, v]) => r.reply?.[k as keyof ListenerReply] !== v);
    if (wrong.length) {
      const saw = wrong.map(([k]) => `${k} ${r.reply?.[k as keyof ListenerReply] ?? '(none)'}`).join(', ');
      out.push(`${serviceProbeName(e)}: the listener saw ${saw}, expected ${wrong.map(([k, v]) => `${k} ${v}`).join(', ')}${because}`);
    }
  });
  return out;
}

/**
 * Service probes as a wave check of a rollout into a lab: after each wave, the probes decided
 * by its devices must give the predicted outcome, or the wave is rolled back with the probe
 * named. (Nothing is recorded before: a policy rollout is expected to change outcomes.)
 */
export function serviceProbeWaveCheck(lab: LabState, probes: readonly ExpectedServiceProbe[], opts: ServiceProbeOptions = {}): WaveCheck {
  return {
    name: 'service-probes',
    async before() {},
    async after(devices) {
      const list = probes.filter((p) => !p.via || p.via.some((d) => devices.includes(d)));
      if (!list.length) return [];
      return serviceProbeProblems(list, await runServiceProbes(lab, list, opts));
    },
  };
}
