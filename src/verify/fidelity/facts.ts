/**
 * Agreement between prediction and reality, per fact type. Fact types are the live
 * verification's check ids (whatever checks `verify --live` runs, so richer live checks are
 * picked up as they are added) plus the reachability matrix per address family measured
 * here. A live check's facts are what it examined (its `examined` count); each error finding
 * is one disagreement.
 */
import type { CheckResult } from '../findings.ts';
import type { PredictedProbe, ProbeResult } from '../live/probes.ts';

/** A probe as measured, with its prediction. */
export type MeasuredProbe = PredictedProbe & Pick<ProbeResult, 'answered' | 'detail'>;

export interface FactTally {
  type: string;
  facts: number;
  disagreements: number;
  /** A few disagreements, as messages. */
  examples: string[];
}

const EXAMPLES = 5;

export function tallyLive(results: CheckResult[]): FactTally[] {
  return results.map((r) => {
    const errors = r.findings.filter((f) => f.severity === 'error');
    const examined = Number(/^\d+/.exec(r.examined)?.[0] ?? 0);
    return { type: r.check.id, facts: Math.max(examined, errors.length), disagreements: errors.length, examples: errors.slice(0, EXAMPLES).map((f) => f.message) };
  });
}

export function tallyProbes(probes: MeasuredProbe[]): FactTally[] {
  return ([4, 6] as const).map((family) => {
    const mine = probes.filter((p) => p.family === family);
    const bad = mine.filter((p) => p.answers !== p.answered);
    return {
      type: `reachability-ipv${family}`,
      facts: mine.length,
      disagreements: bad.length,
      examples: bad.slice(0, EXAMPLES).map((p) => `${p.src} -> ${p.dst} (${p.address}): predicted ${p.predicted}, ${p.answers ? 'expected an answer' : 'expected no answer'}, ${p.answered ? 'answered' : 'no answer'}`),
    };
  });
}

export function failingTypes(tallies: FactTally[]): string[] {
  return tallies.filter((t) => t.disagreements > 0).map((t) => t.type);
}

/** Sums tallies of many seeds by fact type. */
export function mergeTallies(all: FactTally[][]): FactTally[] {
  const by = new Map<string, FactTally>();
  for (const list of all) {
    for (const t of list) {
      const m = by.get(t.type) ?? { type: t.type, facts: 0, disagreements: 0, examples: [] };
      m.facts += t.facts;
      m.disagreements += t.disagreements;
      if (m.examples.length < EXAMPLES) m.examples.push(...t.examples.slice(0, EXAMPLES - m.examples.length));
      by.set(t.type, m);
    }
  }
  return [...by.values()].sort((a, b) => a.type.localeCompare(b.type));
}

export function agreementTable(tallies: FactTally[]): string[] {
  const w = Math.max(10, ...tallies.map((t) => t.type.length));
  return [
    `${'fact type'.padEnd(w)}  ${'facts'.padStart(7)}  ${'disagree'.padStart(8)}  agreement`,
    ...tallies.map((t) => `${t.type.padEnd(w)}  ${String(t.facts).padStart(7)}  ${String(t.disagreements).padStart(8)}  ${t.facts ? ((100 * (t.facts - Math.min(t.facts, t.disagreements))) / t.facts).toFixed(1) + '%' : '-'}`),
  ];
}
