/**
 * `pcap analyze --intent DIR` for the firewall: TCP connections a capture shows completing their
 * handshake although every policy on their path denies them (a rule missing on a device, a
 * ruleset never loaded, traffic bypassing the enforcement point). The capture has no direction
 * of its own (flows are kept in canonical order): the server is the side on the registered
 * port (< 32768) when the other is ephemeral, else both directions are asked and the flow is
 * reported only when both are denied.
 */
import type { FabricModel } from '../../model/types.ts';
import type { AnalysisReport, Finding, Flow } from '../../pcap/analyze.ts';
import { NetloomError } from '../../util/errors.ts';
import { parseCidr } from '../../verify/packet-set/index.ts';
import { analysisCache } from './analysis.ts';
import { addressPlace, hostPrefix, queryFlow, type FlowVerdict } from './flow-query.ts';
import type { FirewallModel } from './model.ts';

/** Findings listed one by one; the rest are counted in one more. */
const LISTED = 20;

type Direction = { client: string; cport: number; server: string; sport: number };

function directions(f: Flow): Direction[] {
  const ab: Direction = { client: f.a, cport: f.aPort, server: f.b, sport: f.bPort };
  const ba: Direction = { client: f.b, cport: f.bPort, server: f.a, sport: f.aPort };
  const lo = Math.min(f.aPort, f.bPort);
  const hi = Math.max(f.aPort, f.bPort);
  if (lo < 32768 && hi >= 32768) return [f.bPort === lo ? ab : ba];
  return [ab, ba];
}

const ep = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

export function firewallCaptureFindings(model: FabricModel, report: AnalysisReport): Finding[] {
  const fw = model.domains?.firewall as FirewallModel | undefined;
  if (!fw?.policies.length) return [];
  const analysisOf = analysisCache();
  const ask = (d: Direction): FlowVerdict | undefined => {
    const src = addressPlace(model, parseCidr(hostPrefix(d.client)));
    const dst = addressPlace(model, parseCidr(hostPrefix(d.server)));
    if (!src.leaves.length && !dst.leaves.length) return undefined;
    try {
      return queryFlow(model, fw.policies, analysisOf, src, dst, [{ protocol: 'tcp', dstPorts: [{ from: d.sport, to: d.sport }], srcPorts: [{ from: d.cport, to: d.cport }], icmp: [] }], ['new']);
    } catch (e) {
      if (e instanceof NetloomError) return undefined;
      throw e;
    }
  };
  const out: Finding[] = [];
  let more = 0;
  for (const f of report.flows) {
    if (f.proto !== 'tcp' || !f.tcp?.established) continue;
    const asked = directions(f).map((d) => ({ d, v: ask(d) }));
    if (!asked.every((x) => x.v?.verdict === 'denied' && x.v.policies.some((p) => p.filters))) continue;
    if (out.length >= LISTED) {
      more++;
      continue;
    }
    const { d, v } = asked[0]!;
    const why = v!.policies
      .filter((p) => p.filters)
      .flatMap((p) => p.decisions.filter((x) => x.action !== 'accept').slice(0, 1).map((x) => `policy ${p.policy} ${x.action === 'reject' ? 'rejects' : 'drops'} it (${x.kind === 'rule' ? `rule ${x.rule}` : x.rule} at ${x.location})`));
    out.push({
      severity: 'error',
      category: 'firewall',
      message: `TCP ${ep(d.client, d.cport)} -> ${ep(d.server, d.sport)}${f.vni !== undefined ? ` (VNI ${f.vni})` : ''} completed its handshake (${f.packets} packets) although ${why.join('; ')}`,
    });
  }
  if (more) out.push({ severity: 'error', category: 'firewall', message: `${more} more TCP connection(s) the policy denies completed their handshake` });
  return out;
}
