/**
 * The endpoint reachability matrix with ports and protocols (`verify --static`,
 * firewall-endpoint-services): per ordered endpoint pair the fabric forwards and a policy
 * filters, the services the firewall allows and denies (path-services.ts), as report lines.
 * Findings: a forwarded pair the firewall denies entirely (info: often the intent, shown for
 * review) and an accept rule taking new connections between endpoints the fabric does not
 * forward at all (warning: the rule can never be exercised for them).
 */
import type { Endpoint } from '../../model/types.ts';
import { ReachabilityModel } from '../../verify/reachability.ts';
import type { Finding } from '../../verify/findings.ts';
import type { StaticCheck } from '../../verify/checks/types.ts';
import { isEmpty } from '../../verify/packet-set/index.ts';
import { firewallPolicies, policyAnalysis } from './checks.ts';
import { policiesOnPath } from './live-plan.ts';
import { portForwardLines } from './forward-services.ts';
import { pathServices, servicesText, type PathServices } from './path-services.ts';
import type { FwPolicy } from './model.ts';

/** Ordered endpoint pairs analysed (about 2 ms each); past it the rest are counted, not analysed. */
export const PAIR_LIMIT = 500;
/** Matrix lines printed (pairs with the same services share one); past it, a summary line. */
export const LINES_SHOWN = 40;
/** Pairs named per finding. */
const EXAMPLES = 5;

const pairName = (s: { src: string; dst: string }) => `${s.src} -> ${s.dst}`;

interface Group {
  first: PathServices;
  text: string;
  pairs: string[];
}

/** Ordered endpoint pairs a policy would filter were they routed. */
function* policyPairs(eps: readonly Endpoint[], policies: readonly FwPolicy[]): Generator<[Endpoint, Endpoint]> {
  for (const a of eps) for (const b of eps) if (a !== b && policiesOnPath(policies, a, b, 'routed').length) yield [a, b];
}

/** The check with its bounds (tests lower them). */
export function endpointServicesCheck(pairLimit = PAIR_LIMIT, linesShown = LINES_SHOWN): StaticCheck {
  return {
    id: 'firewall-endpoint-services', title: 'Endpoint reachability matrix: services the firewall allows', kind: 'static', layer: 'endpoint', severity: 'warning',
    description: 'per endpoint pair the fabric forwards, the services the firewall policies on the path allow and deny (exact); a forwarded pair denied entirely is info, an accept rule between endpoints the fabric does not forward a warning',
    run(ctx) {
      const policies = firewallPolicies(ctx.fg.model);
      if (!policies.length) return { findings: [], examined: 'no firewall policy: not applicable', details: [] };
      const analysisOf = (p: FwPolicy) => policyAnalysis(ctx, p);
      const rm = new ReachabilityModel(ctx);
      const eps = ctx.fg.model.endpoints;
      const groups = new Map<string, Group>();
      const denied: PathServices[] = [];
      // Per accept rule, the unforwarded pairs it accepts services for.
      const unexercised = new Map<string, { policy: FwPolicy; rule: string; location: string; source: Finding['location']; pairs: string[]; services: string[]; forwarding: string }>();
      // Accept rules some forwarded pair's connections pass through.
      const exercised = new Set<string>();
      let analysed = 0;
      let skipped = 0;
      let forwarded = 0;
      let unfiltered = 0;
      let unforwarded = 0;
      for (const [a, b] of policyPairs(eps, policies)) {
        if (analysed >= pairLimit) {
          skipped++;
          continue;
        }
        analysed++;
        const fwd = rm.pairResult(a, b).actual;
        const s = pathServices(policies, analysisOf, a, b, fwd);
        if (isEmpty(s.flow)) continue;
        // Bridged past stateful policies (no bridge table): nothing filters it.
        if (!s.policies.length) {
          unfiltered++;
          continue;
        }
        if (fwd === 'bridged' || fwd === 'routed') {
          forwarded++;
          const text = servicesText(s);
          const key = `${fwd}|${text}`;
          const g = groups.get(key) ?? { first: s, text, pairs: [] };
          groups.set(key, g);
          g.pairs.push(pairName(s));
          if (isEmpty(s.passing)) denied.push(s);
          for (const p of s.policies) for (const r of p.accepts) exercised.add(`${p.policy}|${r.rule}`);
          continue;
        }
        unforwarded++;
        for (const p of s.policies) {
          for (const r of p.accepts) {
            if (r.kind !== 'rule') continue;
            const key = `${p.policy}|${r.rule}`;
            const policy = policies.find((x) => x.name === p.policy)!;
            const u = unexercised.get(key) ?? { policy, rule: r.rule, location: r.location, source: policy.rules.find((x) => x.name === r.rule)?.source, pairs: [], services: r.services, forwarding: fwd };
            unexercised.set(key, u);
            u.pairs.push(pairName(s));
          }
        }
      }
      const findings: Finding[] = [];
      // Pairs denied entirely, one finding per rule denying most of their packets.
      const deniedBy = new Map<string, { policy: FwPolicy; rule: string; action: string; kind: string; location: string; pairs: PathServices[] }>();
      for (const s of denied) {
        const all = s.policies.flatMap((p) => p.denies.map((d) => ({ p, d })));
        const top = all.reduce((x, y) => (BigInt(y.d.packets) > BigInt(x.d.packets) ? y : x));
        const key = `${top.p.policy}|${top.d.rule}`;
        const g = deniedBy.get(key) ?? { policy: policies.find((x) => x.name === top.p.policy)!, rule: top.d.rule, action: top.d.action, kind: top.d.kind, location: top.d.location, pairs: [] };
        deniedBy.set(key, g);
        g.pairs.push(s);
      }
      for (const g of deniedBy.values()) {
        const at = g.kind === 'rule' ? g.policy.rules.find((r) => r.name === g.rule)?.source : g.policy.source;
        const first = g.pairs[0]!;
        const n = g.pairs.length;
        findings.push({
          check: 'firewall-endpoint-services', severity: 'info',
          message: `${pairName(first)} (${first.forwarding})${n > 1 ? ` and ${n - 1} more pair${n === 2 ? '' : 's'}` : ''}: forwarded by the fabric, denied entirely by the firewall (${g.kind === 'rule' ? `rule ${g.rule}` : `default ${g.action}`} of policy ${g.policy.name}, ${g.location})`,
          evidence: { policy: g.policy.name, rule: g.rule, action: g.action, pairs: n, examples: g.pairs.slice(0, EXAMPLES).map(pairName) },
          ...(at ? { location: at } : {}),
          elements: { endpoints: [...new Set(g.pairs.slice(0, EXAMPLES).flatMap((x) => [x.src, x.dst]))], devices: g.policy.enforcement.devices },
        });
      }
      // Only a rule no forwarded pair exercises, and only when every pair was analysed.
      for (const [key, u] of skipped ? [] : unexercised) {
        if (exercised.has(key)) continue;
        const n = u.pairs.length;
        findings.push({
          check: 'firewall-endpoint-services', severity: 'warning',
          message: `policy '${u.policy.name}': rule '${u.rule}' accepts ${u.services.join(', ')} from ${u.pairs[0]}${n > 1 ? ` (and ${n - 1} more pair${n === 2 ? '' : 's'})` : ''}, which the fabric does not forward (${u.forwarding}), and no pair the fabric forwards: the rule can never be exercised between endpoints`,
          evidence: { policy: u.policy.name, rule: u.rule, pairs: n, examples: u.pairs.slice(0, EXAMPLES), services: u.services },
          ...(u.source ? { location: u.source } : {}),
          elements: { devices: u.policy.enforcement.devices },
        });
      }
      const details: string[] = [];
      // Port forwards: the pre-NAT address from each source the rule takes, translated first.
      const byName = new Map(eps.map((e) => [e.name, e]));
      const forwards = portForwardLines(ctx.fg.model, policies, analysisOf, (a, b) => rm.pairResult(byName.get(a)!, byName.get(b)!).actual === 'routed');
      const sorted = [...groups.values()];
      for (const g of sorted.slice(0, linesShown)) {
        const more = g.pairs.length > 1 ? ` [and ${g.pairs.length - 1} more pair${g.pairs.length === 2 ? '' : 's'} alike: ${g.pairs.slice(1, 1 + EXAMPLES).join(', ')}${g.pairs.length - 1 > EXAMPLES ? ', ...' : ''}]` : '';
        details.push(`${pairName(g.first)} (${g.first.forwarding}): firewall ${g.text}${more}`);
      }
      if (sorted.length > linesShown) {
        const rest = sorted.slice(linesShown);
        const pairs = rest.reduce((n, g) => n + g.pairs.length, 0);
        details.push(`... ${rest.length} more distinct line${rest.length === 1 ? '' : 's'} (${pairs} pair${pairs === 1 ? '' : 's'}) past the first ${linesShown}`);
      }
      if (skipped) details.push(`... ${skipped} more pairs with a policy not analysed (bound: ${pairLimit} ordered pairs)`);
      details.push(...forwards.slice(0, linesShown).map((f) => f.text));
      if (forwards.length > linesShown) details.push(`... ${forwards.length - linesShown} more port-forward line${forwards.length - linesShown === 1 ? '' : 's'}`);
      const examined = `${analysed} ordered endpoint pairs with a policy on the path: ${forwarded} forwarded and filtered (${denied.length} denied entirely), ${unfiltered} forwarded past no policy (bridged), ${unforwarded} not forwarded${skipped ? `, ${skipped} past the bound of ${pairLimit}` : ''}${forwards.length ? `; ${forwards.length} port-forwarded flow${forwards.length === 1 ? '' : 's'} (${forwards.filter((f) => f.verdict === 'accepted').length} accepted)` : ''}`;
      return { findings, examined, details };
    },
  };
}

export const endpointServices = endpointServicesCheck();
