/**
 * The endpoint reachability matrix as static verification predicts it, per address family,
 * and the same matrix measured with real pings in both directions. A ping to an address is
 * predicted to answer when some endpoint owning that address is reachable from the source
 * (bridged or routed, as `verify --static` computes it), or is the source itself: with
 * overlapping subnets across VRFs two endpoints can share an address, and only the one in the
 * source's VRF (or the source) answers.
 */
import type { Endpoint, FabricModel } from '../../model/types.ts';
import { labExec, type LabState } from '../../lab/index.ts';
import { makeContext } from '../checks/types.ts';
import { buildFabricGraph, type FabricGraph } from '../graph.ts';
import { ReachabilityModel } from '../reachability.ts';

export type Family = 4 | 6;

export interface PredictedProbe {
  src: string;
  dst: string;
  family: Family;
  address: string;
  /** What static verification says forwarding between the pair is. */
  predicted: 'bridged' | 'routed' | 'isolated' | 'broken';
  answers: boolean;
}

export interface MeasuredProbe extends PredictedProbe {
  answered: boolean;
  detail?: string;
}

const addrOf = (e: Endpoint, f: Family) => (f === 4 ? e.ipv4 : e.ipv6)?.split('/')[0];

export function predictProbes(model: FabricModel, fg: FabricGraph = buildFabricGraph(model)): PredictedProbe[] {
  const reach = new ReachabilityModel(makeContext(fg));
  const eps = model.endpoints;
  const forwarding = new Map<string, PredictedProbe['predicted']>();
  const fwd = (a: Endpoint, b: Endpoint) => {
    const k = `${a.name}>${b.name}`;
    let v = forwarding.get(k);
    if (!v) forwarding.set(k, (v = reach.pairResult(a, b).actual));
    return v;
  };
  const out: PredictedProbe[] = [];
  for (const family of [4, 6] as const) {
    const owners = new Map<string, Endpoint[]>();
    for (const e of eps) {
      const a = addrOf(e, family);
      if (a) owners.set(a, [...(owners.get(a) ?? []), e]);
    }
    for (const a of eps) {
      if (!addrOf(a, family)) continue;
      for (const b of eps) {
        const address = addrOf(b, family);
        if (a === b || !address) continue;
        const predicted = fwd(a, b);
        // Routed IPv6 needs an IPv6 gateway at both ends; bridged needs none.
        const works = (x: Endpoint) => {
          const f = fwd(a, x);
          if (f === 'bridged') return true;
          if (f !== 'routed') return false;
          return family === 4 ? !!(a.gateway4 && x.gateway4) : !!(a.gateway6 && x.gateway6);
        };
        out.push({ src: a.name, dst: b.name, family, address, predicted, answers: owners.get(address)!.some((x) => x === a || works(x)) });
      }
    }
  }
  return out;
}

/** Pings every predicted probe from its source host's namespace, all at once. */
export async function measureProbes(lab: LabState, probes: PredictedProbe[]): Promise<MeasuredProbe[]> {
  return Promise.all(
    probes.map(async (p) => {
      const r = await labExec(lab, p.src, ['ping', `-${p.family}`, '-c', '2', '-i', '0.2', '-W', '1', '-q', p.address], { timeoutMs: 10_000 });
      return { ...p, answered: r.code === 0, detail: r.stdout.trim().split('\n').filter(Boolean).slice(-2)[0] };
    }),
  );
}
