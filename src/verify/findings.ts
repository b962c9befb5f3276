/**
 * What every verification question answers: findings with evidence and the intent location
 * behind them. Static (model-only) and live (observed state) checks share these types, so
 * every report format and the API read one shape.
 */
import type { SourceLocation } from '../util/errors.ts';

export type Severity = 'error' | 'warning' | 'info';
export type CheckKind = 'static' | 'live';

/** Fabric elements a finding is about, so reports can mark them (e.g. red in the picture). */
export interface FindingElements {
  devices?: string[];
  /** Links as "devA:ifA--devB:ifB" (the model's link ends, a before b). */
  links?: string[];
  endpoints?: string[];
}

export interface Finding {
  /** The check (question) that produced it, e.g. "bgp-session-compat". */
  check: string;
  severity: Severity;
  /** Short statement of what is wrong, naming the objects. */
  message: string;
  /** The facts that prove it: key -> value as seen in the model or on the device. */
  evidence: Record<string, unknown>;
  /** The intent line behind the object at fault. */
  location?: SourceLocation;
  elements?: FindingElements;
}

export interface CheckInfo {
  id: string;
  title: string;
  kind: CheckKind;
  /** Layer of the fabric the question is about. */
  layer: 'physical' | 'underlay' | 'overlay' | 'endpoint';
  /** Severity of its findings unless a finding says otherwise. */
  severity: Severity;
  description: string;
}

export interface CheckResult {
  check: CheckInfo;
  /** Failed when any finding has severity error (warnings keep it passing). */
  passed: boolean;
  findings: Finding[];
  /** What it looked at, e.g. "12 sessions", for the summary table. */
  examined: string;
  /** Lines shown under the check in every report format (bounded by the check). */
  details?: string[];
  ms: number;
}

export interface VerifyReport {
  fabric: string;
  revision: string;
  mode: 'static' | 'live' | 'static+live';
  target?: string;
  results: CheckResult[];
  /** Links and devices for the fabric picture. */
  topology: { devices: { name: string; role: string }[]; links: { id: string; a: string; b: string }[] };
  ms: number;
}

export function failedResults(r: VerifyReport): CheckResult[] {
  return r.results.filter((x) => !x.passed);
}

export function linkKey(a: { device: string; interface: string }, b: { device: string; interface: string }): string {
  return `${a.device}:${a.interface}--${b.device}:${b.interface}`;
}

export function isFailing(f: Finding): boolean {
  return f.severity === 'error';
}
