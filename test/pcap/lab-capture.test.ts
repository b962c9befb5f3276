/**
 * Captures taken in a real dc1 lab (`lab capture` on spine links while endpoints ping),
 * analysed against the model: a healthy fabric gives VXLAN tunnels and no VXLAN finding; a
 * leaf given a wrong VNI gives exactly that finding. Runs in CI always; elsewhere it needs
 * root and FRR.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labCapture, labDown, labExec, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { expectedSessions } from '../../src/lab/expected-from-model.ts';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { analyzeFile, type AnalysisReport } from '../../src/pcap/analyze.ts';
import { expectationsFromModel } from '../../src/pcap/expectations.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { inCI } from '../support/ci.ts';

const isRoot = process.getuid?.() === 0;
const hasFrr = existsSync('/usr/lib/frr/bgpd') && spawnSync('which', ['tcpdump']).status === 0;
const missing = [!isRoot && 'root', !hasFrr && 'FRR and tcpdump'].filter(Boolean);
if (missing.length && !inCI) process.stdout.write(`pcap lab capture: skipped, missing ${missing.join(', ')}\n`);

const lab = `pcx${process.pid % 10000}`;
let model: FabricModel;
let copy: { dir: string; cleanup: () => void } | undefined;
const work = mkdtempSync(path.join(tmpdir(), 'netloom-pcaplab-'));

/** Captures leaf2's two uplinks (on the spines) while `traffic` runs; analyses both. */
async function captureWhile(name: string, traffic: () => Promise<unknown>): Promise<AnalysisReport[]> {
  const files = ['spine1:eth2', 'spine2:eth2'].map((t) => ({ t, out: path.join(work, `${name}-${t.replace(':', '-')}.pcap`) }));
  const caps = files.map((f) => labCapture(lab, f.t, { seconds: 4, out: f.out }));
  await new Promise((r) => setTimeout(r, 500));
  await traffic();
  await Promise.all(caps);
  const exp = expectationsFromModel(model);
  return files.map((f) => analyzeFile(f.out, { expectations: exp }));
}

const vxlanFindings = (rs: AnalysisReport[]) => rs.flatMap((r) => r.findings.filter((f) => f.category === 'vxlan')).map((f) => f.message);
const tunnels = (rs: AnalysisReport[]) => new Set(rs.flatMap((r) => r.tunnels.map((t) => `${t.srcVtep}>${t.dstVtep}:${t.vni}`)));
const ping = (from: string, to: string) => labExec(lab, from, ['ping', '-c', '6', '-i', '0.3', '-W', '1', to]);

// Needs root, FRR and tcpdump (lab/install-deps.sh); outside CI a machine without them skips, in CI it never does.
describe.skipIf(missing.length > 0 && !inCI)('pcap analysis of captures from the dc1 lab', () => {
  beforeAll(async () => {
    copy = intentCopy('intents/dc1', 32);
    model = loadModelSync(copy.dir);
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: lab });
    await labUp(topology, { name: lab, baseDir });
    const c = await waitConverged(lab, { timeoutMs: 120_000, expected: expectedSessions(model) });
    expect(c.pending).toEqual([]);
    // Let hosts announce themselves so later captures carry known unicast too.
    await ping('h2', '10.10.10.11');
  }, 240_000);

  afterAll(async () => {
    await labDown(lab);
    copy?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('healthy: bridged and routed traffic in VXLAN tunnels, no VXLAN finding', async () => {
    const rs = await captureWhile('healthy', () => Promise.all([ping('h2', '10.10.10.11'), ping('h2', '10.10.20.13')]));
    const t = tunnels(rs);
    // h2 (leaf2, VTEP 10.0.1.2) to h1 over L2 VNI 10010 and to h3 routed over L3 VNI 50001.
    expect(t).toContain('10.0.1.2>10.0.1.1:10010');
    expect(t).toContain('10.0.1.1>10.0.1.2:10010');
    expect(t).toContain('10.0.1.2>10.0.1.3:50001');
    expect(vxlanFindings(rs)).toEqual([]);
  }, 60_000);

  it('a leaf given a wrong VNI: exactly that finding', async () => {
    const sh = (cmd: string) => labExec(lab, 'leaf2', ['sh', '-c', cmd]);
    // leaf2 maps VLAN 10 to VNI 10011 and floods it to leaf1 (head-end replication).
    await sh(
      'ip link del vx10010 && ip link add vx10011 type vxlan id 10011 local 10.0.1.2 dstport 4789 nolearning && ' +
        'ip link set vx10011 master br10 && ip link set vx10011 up && bridge fdb append 00:00:00:00:00:00 dev vx10011 dst 10.0.1.1',
    );
    try {
      const rs = await captureWhile('wrong-vni', () => labExec(lab, 'h2', ['arping', '-c', '3', '-w', '3', '-I', 'eth1', '10.10.10.11']).then(() => ping('h2', '10.10.10.11')));
      expect(tunnels(rs)).toContain('10.0.1.2>10.0.1.1:10011');
      expect([...new Set(vxlanFindings(rs))]).toEqual([
        'VNI 10011 is not configured on VTEP 10.0.1.2 (leaf2), yet it is the source of VXLAN 10.0.1.2 -> 10.0.1.1 VNI 10011',
        'VNI 10011 is not configured on VTEP 10.0.1.1 (leaf1), yet it is the destination of VXLAN 10.0.1.2 -> 10.0.1.1 VNI 10011',
      ]);
    } finally {
      await sh('ip link del vx10011; ip link add vx10010 type vxlan id 10010 local 10.0.1.2 dstport 4789 nolearning && ip link set vx10010 master br10 && ip link set vx10010 up');
    }
  }, 60_000);
});
