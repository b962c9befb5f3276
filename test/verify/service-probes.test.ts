/**
 * Service probes without a lab: what each action predicts, how mismatches read, and bad probes
 * refused before anything runs (the lab-backed proof is test/lab/firewall-enforce.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { LabState } from '../../src/lab/state.ts';
import { expectedOutcome, runServiceProbes, serviceProbeProblems, type ServiceProbeResult } from '../../src/verify/live/service-probes.ts';

describe('service probes', () => {
  it('predicts the outcome of each action per protocol', () => {
    expect((['accept', 'reject', 'drop'] as const).map((a) => [expectedOutcome(a, 'tcp'), expectedOutcome(a, 'udp'), expectedOutcome(a, 'icmp')])).toEqual([
      ['connected', 'answered', 'answered'],
      ['refused', 'icmp-unreachable', 'timeout'],
      ['timeout', 'timeout', 'timeout'],
    ]);
  });

  it('names the probe, what it got and what was expected', () => {
    const p = { src: 'h1', address: '10.0.0.2', proto: 'tcp' as const, port: 5432 };
    const got = (r: Partial<ServiceProbeResult>): ServiceProbeResult => ({ ...p, outcome: 'connected', ms: 1, ...r });
    expect(
      serviceProbeProblems(
        [
          { ...p, expect: 'refused', why: 'rule db-deny (firewall.yaml:42) on leaf4' },
          { ...p, expect: 'connected', reply: { port: 9090 } },
          { ...p, expect: 'connected', reply: { port: 9090 } },
        ],
        [got({ outcome: 'timeout' }), got({ reply: { endpoint: 'h2', proto: 'tcp', port: 5432, dst: '10.0.0.2', peer: '10.0.0.1', peerPort: 1 } }), got({ reply: { endpoint: 'h2', proto: 'tcp', port: 9090, dst: '10.0.0.2', peer: '10.0.0.1', peerPort: 1 } })],
      ),
    ).toEqual([
      'h1 -> 10.0.0.2 tcp/5432: timeout, expected refused (rule db-deny (firewall.yaml:42) on leaf4)',
      'h1 -> 10.0.0.2 tcp/5432: the listener saw port 5432, expected port 9090',
    ]);
  });

  it('refuses a probe without an address or a port before running anything', async () => {
    const lab = { name: 'none', nodes: [] } as unknown as LabState;
    await expect(runServiceProbes(lab, [{ src: 'h1', address: 'h2', proto: 'tcp', port: 80 }])).rejects.toThrow("service probe h1 -> h2 tcp/80: 'h2' is not an IP address");
    await expect(runServiceProbes(lab, [{ src: 'h1', address: '10.0.0.2', proto: 'udp' }])).rejects.toThrow('service probe h1 -> 10.0.0.2 udp: udp needs a port 1-65535');
  });
});
