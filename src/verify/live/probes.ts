/**
 * Pings between endpoints from the source host's namespace (lab only), all in parallel. One
 * ping per pair until the first answer or the deadline (`ping -c 1 -w D -i 0.2`): an answering
 * flow returns in milliseconds even when its first packets wait for ARP, a silent one after D.
 */
import { labExec, type LabState } from '../../lab/index.ts';
import type { ProbeResult } from './compare.ts';

export interface ProbePair {
  src: string;
  dst: string;
  address: string;
  /** Whole seconds to wait for an answer (iputils takes integers; default 2). */
  deadlineS?: number;
}

export async function probePairs(lab: LabState, pairs: readonly ProbePair[]): Promise<ProbeResult[]> {
  return Promise.all(
    pairs.map(async (p) => {
      const w = String(p.deadlineS ?? 2);
      const r = await labExec(lab, p.src, ['ping', '-c', '1', '-w', w, '-i', '0.2', '-q', p.address], { timeoutMs: 10_000 });
      return { src: p.src, dst: p.dst, address: p.address, answered: r.code === 0, detail: r.stdout.trim().split('\n').filter(Boolean).slice(-2)[0] };
    }),
  );
}
