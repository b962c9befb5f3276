/**
 * What a lab built from an intent must converge to: every BGP session and OSPF adjacency of
 * the model, seen from both ends. `lab up DIR` leaves the model in the lab's run directory so
 * `lab wait --converged` and later stages compare against it without the intent.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FabricModel } from '../model/types.ts';
import type { ExpectedSession } from './status.ts';
import { servicePeerings } from '../model/service-nodes.ts';
import { runDir } from './state.ts';

export function expectedSessions(model: FabricModel): ExpectedSession[] {
  const out: ExpectedSession[] = [];
  for (const s of model.bgpSessions) {
    for (const [me, peer] of [
      [s.a, s.b],
      [s.b, s.a],
    ] as const) {
      out.push({ node: me.device, protocol: 'bgp', peer: me.interface ?? peer.address ?? peer.routerId });
    }
  }
  // Service nodes: eBGP between each node and its leaf's VRF, one session per address family.
  for (const n of model.serviceNodes ?? []) {
    for (const p of servicePeerings(model, n.leaf).filter((x) => x.node === n.name)) {
      out.push({ node: n.leaf, protocol: 'bgp', peer: p.nodeAddress, vrf: p.vrf });
      out.push({ node: n.name, protocol: 'bgp', peer: p.leafAddress });
    }
  }
  for (const o of model.ospfAdjacencies) {
    out.push({ node: o.a.device, protocol: 'ospf', peer: o.b.routerId });
    out.push({ node: o.b.device, protocol: 'ospf', peer: o.a.routerId });
  }
  return out;
}

const MODEL_FILE = 'model.json';

export function saveLabModel(labName: string, model: FabricModel): void {
  mkdirSync(runDir(labName), { recursive: true });
  writeFileSync(path.join(runDir(labName), MODEL_FILE), JSON.stringify(model));
}

/** The model a lab was built from, or undefined for labs started from a .clab.yml file. */
export function readLabModel(labName: string): FabricModel | undefined {
  const f = path.join(runDir(labName), MODEL_FILE);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as FabricModel) : undefined;
}
