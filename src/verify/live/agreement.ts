/**
 * How far the static prediction (the simulated control plane and the reachability matrix)
 * agrees with what the devices show, per fact type: the figure the randomized fidelity runner
 * reports. Every fact is counted once, agreeing or not; a disagreement is described in one
 * line naming the device and the fact.
 *
 *   factAgreement(model, observed, opts?) -> { sessions, rib, flood, ecmp, macs, reachability }
 *
 * - sessions: (session, end, AFI/SAFI): Established or not, and prefixes received or not;
 * - rib: (device, VRF, prefix) over the union of predicted and observed routes (default table:
 *   loopback and VTEP /32s), agreeing when protocol and next hops match;
 * - flood: (leaf, L2 VNI): the remote VTEP set;
 * - ecmp: (leaf, remote VTEP /32): the number of next hops;
 * - macs: (leaf, VNI, endpoint MAC): present where predicted (local on its port or behind
 *   its leaf's VTEP), absent where not;
 * - reachability: (probe, per address family): answered exactly when the destination address
 *   belongs to the source or to an endpoint the static matrix bridges or routes it to.
 */
import type { FabricModel } from '../../model/types.ts';
import { buildFabricGraph, type FabricGraph } from '../graph.ts';
import { LiveComparison, type ObservedState } from './compare.ts';
import { AFI_KEYS } from './observed.ts';
import { compareTable, describeDiff } from './rib-compare.ts';

export type FactType = 'sessions' | 'rib' | 'flood' | 'ecmp' | 'macs' | 'reachability';
export const FACT_TYPES: FactType[] = ['sessions', 'rib', 'flood', 'ecmp', 'macs', 'reachability'];

export interface FactAgreement {
  agreed: number;
  total: number;
  /** One line per disagreeing fact. */
  disagreements: string[];
}

export type Agreement = Record<FactType, FactAgreement>;

export function factAgreement(model: FabricModel, observed: ObservedState, opts: { graph?: FabricGraph } = {}): Agreement {
  const fg = opts.graph ?? buildFabricGraph(model);
  const lc = new LiveComparison(model, fg);
  const out = Object.fromEntries(FACT_TYPES.map((t) => [t, { agreed: 0, total: 0, disagreements: [] as string[] }])) as Agreement;
  const count = (t: FactType, ok: boolean, why: () => string) => {
    out[t].total++;
    if (ok) out[t].agreed++;
    else out[t].disagreements.push(why());
  };
  const obs = new Map(observed.devices.map((o) => [o.device, o]));

  model.bgpSessions.forEach((s, i) => {
    for (const me of ['a', 'b'] as const) {
      const end = s[me];
      const other = me === 'a' ? s.b : s.a;
      const o = obs.get(end.device);
      if (!o?.bgp) continue;
      const key = end.interface ?? other.address;
      for (const afi of s.afiSafis) {
        const p = o.bgp.find((x) => x.vrf === 'default' && x.afi === AFI_KEYS[afi] && (x.peer === key || (!end.interface && x.hostname === other.device)));
        const up = lc.cp.sessionUp[i] === 1;
        const carries = afi !== 'ipv6-unicast' && up && lc.cp.sessionCarries(i, me, afi);
        const seenUp = p?.state === 'Established';
        const seenPfx = p?.pfxRcd === undefined ? carries : p.pfxRcd > 0;
        count('sessions', up === seenUp && (!seenUp || carries === seenPfx), () => `${end.device} -> ${other.device} ${afi}: predicted ${up ? 'Established' : 'down'}${up ? (carries ? ' with prefixes' : ' without prefixes') : ''}, observed ${p ? `${p.state}${p.pfxRcd !== undefined ? ` pfxRcd=${p.pfxRcd}` : ''}` : 'not configured'}`);
      }
    }
  });

  for (const d of model.devices) {
    const o = obs.get(d.name);
    const ex = lc.expectation(d.name);
    if (!o || !ex) continue;
    if (o.routes?.default) {
      const diffs = compareTable('default', ex.defaults, o.routes.default, { include: (p) => lc.isFabricHost(p) });
      const facts = new Set([...ex.defaults.map((r) => r.prefix), ...o.routes.default.filter((r) => lc.isFabricHost(r.prefix)).map((r) => r.prefix)]);
      out.rib.total += facts.size;
      out.rib.agreed += facts.size - diffs.length;
      out.rib.disagreements.push(...diffs.map((x) => describeDiff(d.name, x)));
    }
    for (const v of ex.vrfs) {
      const routes = o.routes?.[v.vrf];
      if (!routes) continue;
      const has6 = routes.some((r) => r.prefix.includes(':'));
      const predicted = has6 ? v.predicted : v.predicted.filter((r) => !r.prefix.includes(':'));
      const diffs = compareTable(v.vrf, predicted, routes, { ownerVrfs: (p) => (lc.vrfOwners(p).includes(v.vrf) ? [] : lc.vrfOwners(p)) });
      const facts = new Set([...predicted.map((r) => r.prefix), ...routes.filter((r) => !/^(fe80:|ff[0-9a-f]{2}:)/i.test(r.prefix)).map((r) => r.prefix)]);
      out.rib.total += facts.size;
      out.rib.agreed += facts.size - diffs.length;
      out.rib.disagreements.push(...diffs.map((x) => describeDiff(d.name, x)));
    }
    if (o.vnis) {
      for (const e of ex.vnis) {
        if (e.type !== 'L2') continue;
        const v = o.vnis.find((x) => x.vni === e.vni);
        const seen = v ? [...v.remoteVteps].sort() : undefined;
        count('flood', !!seen && seen.join(',') === e.remote.join(','), () => `${d.name} VNI ${e.vni}: predicted flood list [${e.remote.join(', ')}], observed ${seen ? `[${seen.join(', ')}]` : 'no VNI'}`);
      }
    }
    if (o.routes?.default) {
      const byPrefix = new Map(o.routes.default.map((r) => [r.prefix, r]));
      for (const u of ex.underlay) {
        const r = byPrefix.get(u.prefix);
        count('ecmp', r?.nexthops === u.nexthops, () => `${d.name} -> ${u.device} VTEP ${u.prefix}: predicted ${u.nexthops} next hops, observed ${r ? r.nexthops : 'no route'}`);
      }
    }
    if (o.macs) {
      const seen = new Map(o.macs.map((m) => [`${m.vni}/${m.mac}`, m]));
      const predicted = new Set<string>();
      for (const e of ex.macs) {
        const key = `${e.vni}/${e.mac}`;
        predicted.add(key);
        const m = seen.get(key);
        const ok = !!m && (e.local ? m.type === 'local' && (!m.intf || m.intf === e.local) : m.type === 'remote' && m.remoteVtep === e.remoteVtep);
        count('macs', ok, () => `${d.name} VNI ${e.vni} MAC ${e.mac} (${e.endpoint}): predicted ${e.local ? `local on ${e.local}` : `behind ${e.remoteVtep}`}, observed ${m ? (m.type === 'local' ? `local on ${m.intf}` : `behind ${m.remoteVtep}`) : 'absent'}`);
      }
      // Endpoint MACs the simulation says this leaf cannot learn must be absent.
      const vnis = new Set(d.vlans.map((x) => x.l2vni));
      for (const e of model.endpoints) {
        const key = `${e.l2vni}/${e.mac.toLowerCase()}`;
        if (!vnis.has(e.l2vni) || predicted.has(key)) continue;
        count('macs', !seen.has(key), () => `${d.name} VNI ${e.l2vni} MAC ${e.mac} (${e.name}): predicted absent, observed ${seen.get(key)!.type}`);
      }
    }
  }

  for (const p of observed.probes) {
    const e = lc.probePrediction(p);
    if (!e) continue;
    count('reachability', e.answers === p.answered, () => `${p.src} -> ${p.dst} (${p.address}): predicted ${e.predicted}${e.reason ? ` (${e.reason})` : ''}${e.answeredBy && e.answeredBy !== p.dst ? `, answered by ${e.answeredBy}` : ''}, ${p.answered ? 'answered' : 'no answer'}`);
  }
  return out;
}

/** "sessions 40/40, rib 212/214, ..." */
export function formatAgreement(a: Agreement): string {
  return FACT_TYPES.map((t) => `${t} ${a[t].agreed}/${a[t].total}`).join(', ');
}
