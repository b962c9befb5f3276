/**
 * Data-plane probes: every ordered endpoint pair pinged from the source host's namespace, per
 * address family, and what the static prediction says each ping gets. `verify --live` and the
 * fidelity runner share both halves.
 *
 * A ping goes to an address, not to an endpoint: with overlapping tenant address space two
 * endpoints in different VRFs can own the same address, and a ping from the source's VRF is
 * answered by whoever owns it there (the source itself when the address is its own), whatever
 * endpoint the probe was meant for. So a probe is predicted to answer when some owner of the
 * address is the source or is bridged or routed from it (as the simulated control plane makes
 * `verify --static` compute it) in that address family.
 */
import type { Endpoint, FabricModel } from '../../model/types.ts';
import { labExec, type LabState } from '../../lab/index.ts';
import { makeContext } from '../checks/types.ts';
import { buildFabricGraph, type FabricGraph } from '../graph.ts';
import { ReachabilityModel, type PairResult } from '../reachability.ts';
import { domains, pathDenial } from '../../domains/index.ts';
import { transitBetween } from '../../model/service-nodes.ts';
import type { Packet } from '../packet-set/packet-set.ts';

export type Family = 4 | 6;

export interface Probe {
  src: string;
  dst: string;
  family: Family;
  /** The destination's address in that family. */
  address: string;
}

export interface ProbeResult extends Probe {
  answered: boolean;
  /** Last line of ping's output, as evidence. */
  detail?: string;
  /** Average round-trip time when anything answered. */
  rttMs?: number;
}

export interface ProbePrediction {
  /** What static verification says forwarding from the source to the probe's destination is. */
  predicted: PairResult['actual'];
  /** Why that forwarding differs from what the intent asks for. */
  reason?: string;
  answers: boolean;
  /** The endpoint predicted to answer (the source itself, or an owner of the address reachable from it). */
  answeredBy?: string;
}

export type PredictedProbe = Probe & ProbePrediction;

export const addressOf = (e: Endpoint, f: Family): string | undefined => (f === 4 ? e.ipv4 : e.ipv6)?.split('/')[0];

/** Every ordered pair of distinct endpoints with an address in the family, both families. */
export function probePlan(endpoints: Endpoint[]): Probe[] {
  const out: Probe[] = [];
  for (const family of [4, 6] as const) {
    for (const a of endpoints) {
      if (!addressOf(a, family)) continue;
      for (const b of endpoints) {
        const address = addressOf(b, family);
        if (a !== b && address) out.push({ src: a.name, dst: b.name, family, address });
      }
    }
  }
  return out;
}

/**
 * A ping from `a` to `x` as a policy sees it: the echo request (a new packet) and its reply
 * (accepted as established by a stateful policy, by a rule otherwise).
 */
function echoPackets(a: Endpoint, x: Endpoint, family: Family): { request: Packet; reply: Packet } | undefined {
  const src = addressOf(a, family);
  const dst = addressOf(x, family);
  if (!src || !dst) return undefined;
  const protocol = family === 4 ? 1 : 58;
  return {
    request: { family, src, dst, protocol, icmpType: family === 4 ? 8 : 128, icmpCode: 0, state: 'new' },
    reply: { family, src: dst, dst: src, protocol, icmpType: family === 4 ? 0 : 129, icmpCode: 0, state: 'established' },
  };
}

/** Predictions of single probes, memoised per endpoint pair (the reachability matrix is exact per pair). */
export class ProbePredictor {
  readonly reach: ReachabilityModel;
  private readonly eps: Map<string, Endpoint>;
  private readonly owners = new Map<string, Endpoint[]>();
  private readonly pairs = new Map<string, PairResult>();
  private readonly echoDenials = new Map<string, string | undefined>();

  constructor(private readonly model: FabricModel, fg: FabricGraph = buildFabricGraph(model), reach?: ReachabilityModel) {
    this.reach = reach ?? new ReachabilityModel(makeContext(fg));
    this.eps = new Map(model.endpoints.map((e) => [e.name, e]));
    for (const e of model.endpoints) {
      for (const family of [4, 6] as const) {
        const a = addressOf(e, family);
        if (!a) continue;
        const k = `${family}/${a}`;
        this.owners.set(k, [...(this.owners.get(k) ?? []), e]);
      }
    }
  }

  private pair(a: Endpoint, b: Endpoint): PairResult {
    const k = `${a.name}>${b.name}`;
    let r = this.pairs.get(k);
    if (!r) this.pairs.set(k, (r = this.reach.pairResult(a, b)));
    return r;
  }

  /** Whether the service node routing a -> x lets an echo request through, and its reply back (its domain's verdicts). */
  private echoPasses(node: string, a: Endpoint, x: Endpoint, family: Family): boolean {
    const echo = echoPackets(a, x, family);
    const n = (this.model.serviceNodes ?? []).find((s) => s.name === node);
    if (!echo || !n) return false;
    const d = domains().find((m) => m.id === n.domain);
    const request = d?.verify.transitVerdict?.(this.model, node, echo.request);
    const reply = d?.verify.transitVerdict?.(this.model, node, echo.reply);
    return (!request || request.action === 'accept') && (!reply || reply.action === 'accept');
  }

  /**
   * The first policy enforced at the pair's leaves that stops the echo from `a` to `x` or its
   * reply (accepted as established by a stateful policy, by a rule otherwise), in words.
   */
  private echoDeniedAtLeaves(a: Endpoint, x: Endpoint, forwarding: 'bridged' | 'routed', family: Family): string | undefined {
    const k = `${a.name}>${x.name}/${family}/${forwarding}`;
    if (!this.echoDenials.has(k)) this.echoDenials.set(k, this.echoDenial(a, x, forwarding, family));
    return this.echoDenials.get(k);
  }

  private echoDenial(a: Endpoint, x: Endpoint, forwarding: 'bridged' | 'routed', family: Family): string | undefined {
    const echo = echoPackets(a, x, family);
    if (!echo) return undefined;
    const request = pathDenial(this.model, a, x, forwarding, echo.request);
    if (request) return `the echo request is refused: ${request.text}`;
    const reply = pathDenial(this.model, x, a, forwarding, echo.reply);
    return reply && `the echo reply is refused: ${reply.text}`;
  }

  /**
   * Undefined when the probe names an endpoint the model does not have. With `policies: false`
   * the forwarding alone is judged (the firewall's own probes ask which pairs are forwarded).
   */
  predict(p: Probe, opts: { policies?: boolean } = {}): ProbePrediction | undefined {
    const a = this.eps.get(p.src);
    const b = this.eps.get(p.dst);
    if (!a || !b) return undefined;
    const policies = opts.policies !== false;
    const toDst = this.pair(a, b);
    let denied: string | undefined;
    // Routed IPv6 needs an IPv6 gateway at both ends (and IPv4 an IPv4 one); bridged needs none.
    const works = (x: Endpoint) => {
      if (x === a) return true;
      const r = this.pair(a, x);
      const f = r.actual;
      if (f !== 'bridged' && f !== 'routed') return false;
      if (f === 'routed') {
        // Through a service node: only when it routes this family between the two VRFs too.
        if (r.via && (!transitBetween(this.model, a, x, p.family) || (policies && !this.echoPasses(r.via, a, x, p.family)))) return false;
        if (!(p.family === 4 ? !!(a.gateway4 && x.gateway4) : !!(a.gateway6 && x.gateway6))) return false;
      }
      const no = policies ? this.echoDeniedAtLeaves(a, x, f, p.family) : undefined;
      denied ??= no;
      return !no;
    };
    const by = (this.owners.get(`${p.family}/${p.address}`) ?? []).find(works);
    // Forwarded, but the ping still goes unanswered: a policy refuses it, or the family is not routed.
    const reason = by ? toDst.reason : denied ?? (toDst.actual === 'routed' ? `IPv${p.family} is routed only with an IPv${p.family} gateway on both networks` : toDst.reason);
    return { predicted: toDst.actual, ...(reason ? { reason } : {}), answers: !!by, ...(by ? { answeredBy: by.name } : {}) };
  }
}

/** The whole plan with its predictions (endpoints of the model). */
export function predictProbes(model: FabricModel, fg: FabricGraph = buildFabricGraph(model)): PredictedProbe[] {
  const pred = new ProbePredictor(model, fg);
  return probePlan(model.endpoints).map((p) => ({ ...p, ...pred.predict(p)! }));
}

/**
 * Pings every probe from its source host's namespace, all at once. With a deadline, one ping
 * until the first answer or D seconds (`-c 1 -w D`, a fraction cut by timeout(1)): an answering
 * flow returns in milliseconds even when its first packets wait for ARP, a silent one after D.
 */
export async function measureProbes(lab: LabState, probes: readonly (Probe & { deadlineS?: number })[]): Promise<ProbeResult[]> {
  return Promise.all(
    probes.map(async (p) => {
      const count = p.deadlineS === undefined ? ['-c', '2', '-W', '1'] : ['-c', '1', '-w', String(Math.max(1, Math.ceil(p.deadlineS)))];
      // ping's deadline is whole seconds: a shorter one is cut by timeout(1) (exit 124: no answer).
      const cut = p.deadlineS !== undefined && !Number.isInteger(p.deadlineS) ? ['timeout', String(p.deadlineS)] : [];
      const r = await labExec(lab, p.src, [...cut, 'ping', `-${p.family}`, ...count, '-i', '0.2', '-q', p.address], { timeoutMs: 10_000 });
      return { src: p.src, dst: p.dst, family: p.family, address: p.address, ...pingOutcome(`${r.stdout}\n${r.stderr}`, r.code, p.deadlineS) };
    }),
  );
}

/**
 * What one `ping -q` run says: answered (exit 0), its mean RTT, and a line for people: the
 * statistics ("N packets transmitted, M received, L% packet loss": the metrics read the loss
 * from it), or why there are none (cut by timeout(1) at the deadline, or ping's own error).
 */
export function pingOutcome(output: string, code: number, deadlineS?: number): { answered: boolean; detail?: string; rttMs?: number } {
  const lines = output.trim().split('\n').filter(Boolean);
  const rtt = lines.map((l) => /^rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\//.exec(l)).find(Boolean);
  const stats = lines.find((l) => /packets transmitted/.test(l));
  const detail = stats ?? (code === 124 ? `no answer within ${deadlineS ?? '?'} s` : lines.at(-1));
  return { answered: code === 0, ...(detail ? { detail } : {}), ...(rtt ? { rttMs: Number(rtt[1]) } : {}) };
}

/** IPv4 endpoint pairs with a per-pair deadline (the push's flow checks). */
export function probePairs(lab: LabState, pairs: readonly { src: string; dst: string; address: string; deadlineS?: number }[]): Promise<ProbeResult[]> {
  return measureProbes(lab, pairs.map((p) => ({ src: p.src, dst: p.dst, address: p.address, family: 4 as const, deadlineS: p.deadlineS ?? 2 })));
}

/** Probes between the endpoints that are hosts of the lab. */
export function runProbes(lab: LabState, model: FabricModel): Promise<ProbeResult[]> {
  const hosts = new Set(lab.nodes.map((n) => n.name));
  return measureProbes(lab, probePlan(model.endpoints.filter((e) => hosts.has(e.name))));
}
