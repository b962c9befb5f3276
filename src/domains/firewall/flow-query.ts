/**
 * Questions about flows between named places of the fabric (`netloom fw query|search`): a
 * place is an endpoint, a tenant network, a VRF or an address, resolved through the model to
 * prefixes and the leaves it sits behind; a policy meets a flow when one of those leaves
 * enforces it and the flow is in its scope (between two of its VRFs, or to or from one of its
 * networks), and then decides it rule by rule (analysis.ts).
 */
import type { FabricModel } from '../../model/types.ts';
import { UsageError } from '../../util/errors.ts';
import { EMPTY, complement, example, intersect, isEmpty, prefixSet, size, union, type Packet, type PacketSet } from '../../verify/packet-set/index.ts';
import type { PolicyAnalysis } from './analysis.ts';
import { FULL_BOX, addressHull, type Box } from './analysis-index.ts';
import type { FwAction, FwPolicy } from './model.ts';
import { policyScope } from './render-common.ts';

export interface Place {
  /** What the user typed. */
  arg: string;
  kind: 'endpoint' | 'network' | 'vrf' | 'address';
  prefixes: string[];
  /** Leaves the place sits behind (where traffic from or to it enters the fabric). */
  leaves: string[];
}

const sideSet = (which: 'src' | 'dst', prefixes: string[]) => prefixes.reduce((s, c) => union(s, prefixSet(which, c)), EMPTY);

/** The packets a policy filters at all: between two of its VRFs (inter-vrf), to or from its networks. */
export function scopeSet(p: FwPolicy, model: FabricModel): PacketSet {
  const members = policyScope(p, model).map((m) => [...m.v4, ...m.v6]);
  if (p.enforcement.kind === 'inter-vrf') {
    let s = EMPTY;
    members.forEach((a, i) => members.forEach((b, j) => {
      if (i !== j) s = union(s, intersect(sideSet('src', a), sideSet('dst', b)));
    }));
    return s;
  }
  const all = members.flat();
  return union(sideSet('src', all), sideSet('dst', all));
}

export interface Decision {
  action: FwAction;
  /** The rule's name, or '(established/related)' / '(default)'. */
  rule: string;
  kind: 'rule' | 'stateful' | 'default';
  location: string;
  example: Packet;
  /** How many packets of the flow it decides (bigint as text). */
  packets: string;
}

export interface PolicyOnPath {
  policy: string;
  enforcement: string;
  /** Enforcing devices on the flow's path, with the side they are on. */
  devices: { device: string; side: 'source leaf' | 'destination leaf' | 'source and destination leaf' }[];
  /** False when the flow is outside the policy's scope (e.g. both ends in one VRF). */
  filters: boolean;
  decisions: Decision[];
}

export interface FlowVerdict {
  /** accepted: every packet of the flow passes every policy on the path; denied: none does. */
  verdict: 'accepted' | 'denied' | 'partly accepted';
  policies: PolicyOnPath[];
}

const where = (s: { file: string; line: number; col: number }) => `${s.file}:${s.line}:${s.col}`;

/** How each policy on the path between `src` and `dst` decides the packets of `flow`. */
export function queryFlow(model: FabricModel, policies: FwPolicy[], analysisOf: (p: FwPolicy) => PolicyAnalysis, src: Place, dst: Place, flow: PacketSet): FlowVerdict {
  const set = intersect(intersect(sideSet('src', src.prefixes), sideSet('dst', dst.prefixes)), flow);
  if (isEmpty(set)) throw new UsageError(`no packet goes from ${src.arg} to ${dst.arg} with that service (address families differ?)`);
  let passing = set;
  const out: PolicyOnPath[] = [];
  for (const p of policies) {
    const devices = p.enforcement.devices.flatMap((d) => {
      const s = src.leaves.includes(d);
      const t = dst.leaves.includes(d);
      return s || t ? [{ device: d, side: s && t ? ('source and destination leaf' as const) : s ? ('source leaf' as const) : ('destination leaf' as const) }] : [];
    });
    if (!devices.length) continue;
    const scope = scopeSet(p, model);
    const filtered = intersect(set, scope);
    const entry: PolicyOnPath = { policy: p.name, enforcement: p.enforcement.kind, devices, filters: !isEmpty(filtered), decisions: [] };
    out.push(entry);
    if (!entry.filters) continue;
    const box: Box = { src: addressHull(src.prefixes), dst: addressHull(dst.prefixes), protos: FULL_BOX.protos };
    let accepted = EMPTY;
    for (const { decider: d, set: s } of analysisOf(p).decisions(filtered, box)) {
      const kind = d.rule ? 'rule' : d.pos < 0 ? 'stateful' : 'default';
      entry.decisions.push({ action: d.action, rule: d.name, kind, location: where(d.source), example: example(s)!, packets: size(s).toString() });
      if (d.action === 'accept') accepted = union(accepted, s);
    }
    passing = intersect(passing, union(complement(scope), accepted));
  }
  const verdict = passing === set ? 'accepted' : isEmpty(passing) ? 'denied' : 'partly accepted';
  return { verdict, policies: out };
}
