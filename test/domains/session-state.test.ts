import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bgpSessionState, parseBgpNeighbors, parseBgpSummary } from '../../src/domains/fabric/session-state.ts';
import { bgpProblems, expectedBgpPeers } from '../../src/push/postcheck.ts';
import { compareLive } from '../../src/verify/live/compare.ts';
import { convergencePending, type LabStatus } from '../../src/lab/status.ts';
import type { LabState } from '../../src/lab/state.ts';
import { model, recordedObservations } from '../verify/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
// FRR 8.4's `show bgp vrf all summary json` recorded on dc1's leaf1, with eth2 (to spine2) Active.
const summary = () => {
  const j = JSON.parse(readFileSync(path.join(root, 'test/verify/fixtures/dc1-lab/leaf1.bgp-vrf-all-summary.json'), 'utf8'));
  for (const afi of ['ipv4Unicast', 'l2VpnEvpn']) j.default[afi].peers.eth2.state = 'Active';
  return j;
};

describe('one BGP session-state reading for lab, push and verify', () => {
  it('reads a recorded summary: configured, up per address family, down with its state', () => {
    const peers = parseBgpSummary(summary());
    const up = bgpSessionState(peers, { key: 'eth1', vrf: 'default' }, ['ipv4-unicast', 'l2vpn-evpn']);
    expect(up).toMatchObject({ configured: true, up: true, down: [], missingAfis: [] });
    const down = bgpSessionState(peers, { key: 'eth2', vrf: 'default' }, ['ipv4-unicast', 'l2vpn-evpn']);
    expect(down).toMatchObject({ configured: true, up: false, down: [{ afi: 'ipv4Unicast', state: 'Active' }, { afi: 'l2VpnEvpn', state: 'Active' }] });
    expect(bgpSessionState(peers, { key: 'eth9' }).configured).toBe(false);
  });

  it('the push post-check, live verification and lab convergence all see the same session down', () => {
    const m = model('dc1');
    // push: `show bgp summary json` is the default VRF's part of the same output.
    expect(bgpProblems(summary().default, expectedBgpPeers(m, 'leaf1'))).toEqual(['BGP session to spine2 (eth2) is Active (ipv4Unicast, l2VpnEvpn)']);
    // verify --live
    const obs = recordedObservations().map((o) => (o.device === 'leaf1' ? { ...o, bgp: parseBgpSummary(summary()) } : o));
    const live = compareLive(m, { devices: obs, probes: [] }).find((r) => r.check.id === 'live-bgp-sessions')!;
    expect(live.findings.map((f) => f.message)).toEqual(['session leaf1:eth2--spine2:eth1 not established: leaf1: ipv4-unicast is Active; leaf1: l2vpn-evpn is Active']);
    // lab wait --converged: `show bgp vrf all neighbors json` of the same state.
    const bgp = parseBgpNeighbors({ default: { eth1: { bgpState: 'Established', remoteAs: 65100 }, eth2: { bgpState: 'Active', remoteAs: 65100 } } });
    const status = { name: 'x', runtime: 'netns', status: 'running', nodes: [{ name: 'leaf1', role: 'router', netns: 'nl-x-leaf1', namespace: true, daemons: [], bgp, ospf: [], ospfInterfaces: [], errors: [] }] } as unknown as LabStatus;
    const pending = convergencePending({ links: [] } as unknown as LabState, status, [{ node: 'leaf1', protocol: 'bgp', peer: 'eth1' }, { node: 'leaf1', protocol: 'bgp', peer: 'eth2' }]);
    expect(pending).toEqual(['leaf1: BGP eth2 is Active']);
  });
});
