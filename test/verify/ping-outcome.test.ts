// What a probe reports from real `ping -q` runs in a scratch network namespace (`unshare -n`):
// answered with its RTT, unanswered with the statistics line the loss metric reads, cut at the
// deadline by timeout(1), and ping's own error. No packet leaves the namespace.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pingOutcome } from '../../src/verify/live/probes.ts';
import { inCI } from '../support/ci.ts';

const isRoot = process.getuid?.() === 0;

/** Runs `cmd` in a fresh network namespace with lo up and a veth pair whose far side never answers ARP for 10.9.9.2. */
function inScratch(cmd: string): { output: string; code: number } {
  const setup = 'ip link set lo up && ip link add va type veth peer name vb && ip link set va up && ip link set vb up && ip addr add 10.9.9.1/24 dev va';
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `${setup} && { ${cmd}; }`], { encoding: 'utf8' });
  return { output: `${r.stdout}\n${r.stderr}`, code: r.status ?? -1 };
}

describe.skipIf(!isRoot && !inCI)('ping outcome [needs root: unshare -n]', () => {
  it('answered: the statistics line and the mean RTT', () => {
    const r = inScratch('ping -4 -c 2 -W 1 -i 0.2 -q 127.0.0.1');
    const o = pingOutcome(r.output, r.code);
    expect(o.answered).toBe(true);
    expect(o.detail).toMatch(/^2 packets transmitted, 2 received, 0% packet loss, time \d+ms$/);
    expect(o.rttMs).toBeGreaterThan(0);
  });

  it('unanswered until the deadline: the statistics line with 100% loss, not the "---" header', () => {
    const r = inScratch('ping -4 -c 1 -w 1 -i 0.2 -q 10.9.9.2');
    const o = pingOutcome(r.output, r.code, 1);
    expect(o).toEqual({ answered: false, detail: expect.stringMatching(/^\d+ packets transmitted, 0 received, 100% packet loss, time \d+ms$/) });
  });

  it('cut by timeout(1) before ping printed anything: says so with the deadline', () => {
    const r = inScratch('timeout 0.5 ping -4 -c 1 -w 1 -i 0.2 -q 10.9.9.2');
    expect(r.code).toBe(124);
    expect(pingOutcome(r.output, r.code, 0.5)).toEqual({ answered: false, detail: 'no answer within 0.5 s' });
  });

  it("no route: ping's own error", () => {
    const r = inScratch('ping -4 -c 1 -w 1 -q 192.0.2.1');
    expect(pingOutcome(r.output, r.code, 1)).toEqual({ answered: false, detail: 'ping: connect: Network is unreachable' });
  });
});
