/**
 * Continuous traffic on endpoint flows of a lab: one `ping -i 0.01` (100 packets/s) per flow
 * from the source host's namespace, `-O` so every unanswered packet is reported. Each flow's
 * sequence numbers are tracked, so the loss of any time window (between two marks) is exact:
 * packets sent in the window that never got an answer, and for an isolated pair the answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { findNode, type LabState } from '../../src/lab/index.ts';
import type { Flow } from '../../src/verify/flows.ts';
import { flowKey } from '../../src/verify/flows.ts';

interface Stream {
  flow: Flow;
  child: ChildProcess;
  /** Highest sequence number ping has reported (answered or not). */
  last: number;
  answered: Set<number>;
}

export interface WindowLoss {
  flow: Flow;
  sent: number;
  /** Packets of the window never answered. */
  lost: number;
  answered: number;
}

export type Mark = Map<string, number>;

export class FlowTraffic {
  private readonly streams = new Map<string, Stream>();

  constructor(lab: LabState, flows: readonly Flow[]) {
    for (const flow of flows) {
      const [cmd, ...pre] = findNode(lab, flow.src).enter;
      const child = spawn(cmd, [...pre, 'stdbuf', '-oL', 'ping', '-n', '-O', '-i', '0.01', flow.address], { stdio: ['ignore', 'pipe', 'ignore'] });
      const st: Stream = { flow, child, last: 0, answered: new Set() };
      let buf = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buf += chunk;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          const reply = /bytes from .*icmp_seq=(\d+)/.exec(l);
          const none = /no answer yet for icmp_seq=(\d+)/.exec(l);
          const seq = Number((reply ?? none)?.[1] ?? 0);
          if (reply) st.answered.add(seq);
          if (seq > st.last) st.last = seq;
        }
      });
      this.streams.set(flowKey(flow), st);
    }
  }

  /** Waits until every flow has reported packets (its ping is running). */
  async started(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ([...this.streams.values()].some((s) => s.last < 5)) {
      if (Date.now() > until) throw new Error(`ping did not start for ${[...this.streams.values()].filter((s) => s.last < 5).map((s) => flowKey(s.flow)).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  mark(): Mark {
    return new Map([...this.streams].map(([k, s]) => [k, s.last]));
  }

  /** Loss of every flow between two marks (call a moment after `to`, so the last answers are in). */
  window(from: Mark, to: Mark): WindowLoss[] {
    return [...this.streams].map(([k, s]) => {
      const a = from.get(k)!;
      const b = to.get(k)!;
      let answered = 0;
      for (let seq = a + 1; seq <= b; seq++) if (s.answered.has(seq)) answered++;
      return { flow: s.flow, sent: b - a, lost: b - a - answered, answered };
    });
  }

  stop(): void {
    for (const s of this.streams.values()) s.child.kill('SIGINT');
  }
}
