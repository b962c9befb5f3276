// The flow table is bounded: a capture with more flows than the table holds gives the largest
// flows, exact totals and an estimated flow count, not memory proportional to the flows.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeFile, FLOW_LIMITS } from '../../src/pcap/analyze.ts';
import { writeManyFlowsCapture } from '../../src/pcap/writer.ts';
import { formatReport } from '../../src/pcap/format.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'netloom-flow-bound-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flow table bound', () => {
  const file = path.join(dir, 'flows.pcap');
  const gen = writeManyFlowsCapture(file, 30_000, 10);
  const flows = 30_000 + 10;

  it('keeps the largest flows, exact totals and an estimated count past the bound', () => {
    const r = analyzeFile(file, { maxFlows: 2_000, keepFlows: 500 });
    expect(r.packets).toBe(gen.packets);
    expect(r.flows).toHaveLength(500);
    // The ten heavy flows (1,500-byte segments every 1,000 packets) survive every fold.
    expect(r.flows.slice(0, 10).map((f) => f.a).sort()).toEqual(Array.from({ length: 10 }, (_, k) => `172.16.0.${k}`).sort());
    expect(r.flows.slice(0, 10).every((f) => f.packets === 3)).toBe(true);
    expect(r.flowCountEstimated).toBe(true);
    expect(Math.abs(r.flowCount - flows) / flows).toBeLessThan(0.03);
    // Totals stay exact: every flow is TCP, every SYN-only one a failed handshake.
    expect(r.tcp.flows).toBe(flows);
    expect(r.tcp.failedHandshakes).toBe(30_000);
    expect(r.flows.reduce((s, f) => s + f.packets, 0) + r.otherFlows!.packets).toBe(gen.packets);
    expect(formatReport(r, 'text')).toMatch(/FLOWS \(ABOUT [\d,]+: TOP 500 KEPT, TOP 20 BY BYTES\)/);
    expect(r.findings.find((f) => f.category === 'tcp')!.message).toMatch(/^30000 TCP handshake\(s\) failed: /);
  });

  it('counts exactly below the bound', () => {
    const r = analyzeFile(file, { maxFlows: 50_000, keepFlows: 100 });
    expect(r.flowCount).toBe(flows);
    expect(r.flowCountEstimated).toBeUndefined();
    expect(r.flows).toHaveLength(100);
    expect(r.otherFlows!.packets).toBe(gen.packets - r.flows.reduce((s, f) => s + f.packets, 0));
  });

  it('has documented defaults', () => {
    expect(FLOW_LIMITS).toEqual({ tracked: 200_000, kept: 10_000 });
  });
});
