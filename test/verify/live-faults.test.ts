/**
 * Fault injection in a real dc1 lab (network namespaces + FRR): healthy -> no failure; a spine
 * link down -> exactly that link's session and the reduced ECMP; bgpd stopped on a leaf ->
 * exactly its sessions with the reason; a leaf with a wrong VNI -> that VNI mismatch.
 * Runs in CI always; elsewhere it needs root and FRR. (Kernels without VRF devices run the
 * VRFs as namespaces inside the leaves: see src/lab.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp, waitConverged, getLabState } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { settleLab } from '../../src/lab/settle.ts';
import { loadModelSync } from '../../src/model/index.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { verifyLive } from '../../src/verify/live/run.ts';
import type { CheckResult } from '../../src/verify/findings.ts';
import { intentCopy } from '../support/intent-copy.ts';
import { inCI } from '../support/ci.ts';

const isRoot = process.getuid?.() === 0;
const hasFrr = existsSync('/usr/lib/frr/bgpd') && spawnSync('which', ['vtysh']).status === 0;
const missing = [!isRoot && 'root', !hasFrr && 'FRR (/usr/lib/frr/bgpd, vtysh)'].filter(Boolean);
if (missing.length && !inCI) process.stdout.write(`live-faults: skipped, missing ${missing.join(', ')}\n`);

const lab = `vfx${process.pid % 10000}`;
let model: FabricModel;
let copy: { dir: string; cleanup: () => void } | undefined;

const failing = (rs: CheckResult[], id?: string) => rs.filter((r) => !id || r.check.id === id).flatMap((r) => r.findings.filter((f) => f.severity === 'error'));

/** Re-verify until `done` holds (state takes seconds to settle) or the time is up. */
async function verifyUntil(done: (rs: CheckResult[]) => boolean, opts: { probes?: boolean; timeoutMs?: number } = {}): Promise<CheckResult[]> {
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const { results } = await verifyLive(model, `lab:${lab}`, { probes: opts.probes ?? false });
    if (done(results) || Date.now() > until) return results;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const healthy = (rs: CheckResult[]) => failing(rs).length === 0;

/**
 * After a fault is undone: FRR 8.4 can keep kernel entries dropped on other leaves once a session
 * is back (live-fabric-forwarding, lab/README.md 3); `lab wait --converged` repairs them.
 */
async function repaired(): Promise<void> {
  const s = await settleLab(getLabState(lab), model, { timeoutMs: 90_000 });
  expect(s.pending).toEqual([]);
}

describe.skipIf(missing.length > 0 && !inCI)('live verification with injected faults (dc1 lab)', () => {
  beforeAll(async () => {
    copy = intentCopy('intents/dc1', 31);
    model = loadModelSync(copy.dir);
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name: lab });
    await labUp(topology as never, { name: lab, baseDir });
    const c = await waitConverged(lab, { timeoutMs: 120_000 });
    expect(c.pending).toEqual([]);
  }, 240_000);
  afterAll(async () => {
    await labDown(lab);
    copy?.cleanup();
  }, 120_000);

  it('healthy fabric: zero failures, probes included', async () => {
    // MACs are learned once hosts speak; probes make them speak.
    const rs = await verifyUntil(healthy, { probes: true, timeoutMs: 90_000 });
    expect(failing(rs).map((f) => f.message)).toEqual([]);
  }, 120_000);

  it('a spine link down: exactly that link\'s session and the reduced ECMP', async () => {
    await labExec(lab, 'leaf1', ['ip', 'link', 'set', 'eth1', 'down']);
    try {
      const rs = await verifyUntil((r) => failing(r, 'live-bgp-sessions').length > 0 && failing(r, 'live-underlay-ecmp').length >= 6);
      expect(failing(rs, 'live-bgp-sessions').map((f) => f.evidence.session)).toEqual(['leaf1:eth1--spine1:eth1']);
      expect(failing(rs, 'live-bgp-sessions')[0].elements?.links).toEqual(['leaf1:eth1--spine1:eth1']);
      const ecmp = failing(rs, 'live-underlay-ecmp').map((f) => f.message).sort();
      expect(ecmp).toEqual([
        "leaf1: reduced ECMP to leaf2's VTEP 10.0.1.2/32: 1 next hop, expected 2",
        "leaf1: reduced ECMP to leaf3's VTEP 10.0.1.3/32: 1 next hop, expected 2",
        "leaf1: reduced ECMP to leaf4's VTEP 10.0.1.4/32: 1 next hop, expected 2",
        "leaf2: reduced ECMP to leaf1's VTEP 10.0.1.1/32: 1 next hop, expected 2",
        "leaf3: reduced ECMP to leaf1's VTEP 10.0.1.1/32: 1 next hop, expected 2",
        "leaf4: reduced ECMP to leaf1's VTEP 10.0.1.1/32: 1 next hop, expected 2",
      ]);
    } finally {
      await labExec(lab, 'leaf1', ['ip', 'link', 'set', 'eth1', 'up']);
    }
    await repaired();
    expect(failing(await verifyUntil(healthy)).map((f) => f.message)).toEqual([]);
  }, 180_000);

  it('bgpd stopped on a leaf: exactly its sessions, with the reason', async () => {
    const node = getLabState(lab).nodes.find((n) => n.name === 'leaf2')!;
    const pid = Number(readFileSync(path.join(node.frrRunDir!, 'bgpd.pid'), 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    try {
      const rs = await verifyUntil((r) => failing(r, 'live-bgp-sessions').length === 2 && failing(r, 'live-bgp-sessions').every((f) => /bgpd is not running/.test(f.message)));
      const f = failing(rs, 'live-bgp-sessions');
      expect(f.map((x) => x.evidence.session)).toEqual(['leaf2:eth1--spine1:eth2', 'leaf2:eth2--spine2:eth2']);
      for (const x of f) expect(x.message).toMatch(/leaf2: bgpd is not running/);
      // Everything else that fails is a consequence on leaf2's VTEP, never another session. The
      // kernel entries FRR 8.4 drops meanwhile (live-fabric-forwarding) can be any VTEP's: its
      // bug, not a consequence of the fault, and repaired below.
      for (const x of failing(rs).filter((y) => y.check !== 'live-bgp-sessions' && y.check !== 'live-fabric-forwarding')) expect(JSON.stringify(x)).toMatch(/leaf2|10\.0\.1\.2/);
    } finally {
      await labExec(lab, 'leaf2', ['sh', '-c', '/usr/lib/frr/bgpd -d -f /dev/null -i /var/run/frr/bgpd.pid -P 0 -F datacenter && sleep 1 && vtysh -b']);
    }
    await repaired();
    expect(failing(await verifyUntil(healthy, { timeoutMs: 90_000 })).map((f) => f.message)).toEqual([]);
  }, 240_000);

  it('a leaf configured with a wrong VNI: that VNI mismatch', async () => {
    const sh = (cmd: string) => labExec(lab, 'leaf2', ['sh', '-c', cmd]);
    await sh('ip link del vx10010 && ip link add vx10011 type vxlan id 10011 local 10.0.1.2 dstport 4789 nolearning && ip link set vx10011 master br10 && ip link set vx10011 up');
    try {
      // leaf2's own VNIs change at once; leaf1's flood list only once leaf2's type-3 withdrawal arrives.
      const want = ['leaf2: VNI 10010 (L2) is not configured', 'leaf2: unexpected VNI 10011 (L2)', 'leaf1: VNI 10010 remote VTEPs lack 10.0.1.2 (leaf2)'];
      const rs = await verifyUntil((r) => want.every((w) => failing(r, 'live-evpn-vnis').some((f) => f.message === w)));
      const msgs = failing(rs, 'live-evpn-vnis').map((f) => f.message);
      for (const w of want) expect(msgs).toContain(w);
    } finally {
      await sh('ip link del vx10011; ip link add vx10010 type vxlan id 10010 local 10.0.1.2 dstport 4789 nolearning && ip link set vx10010 master br10 && ip link set vx10010 up');
    }
    await repaired();
    expect(failing(await verifyUntil(healthy, { timeoutMs: 90_000 })).map((f) => f.message)).toEqual([]);
  }, 180_000);
});
