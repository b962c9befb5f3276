/**
 * Two versions of the firewall policies compared policy by policy (`netloom fw diff`, `netloom
 * plan`): the packets newly accepted, newly denied and moved between drop and reject, with the
 * rules responsible on each side, and the sentences both commands print about them.
 */
import { formatLocation as where } from '../../util/errors.ts';
import { DEFAULT, ESTABLISHED, type RelatedRule } from './analysis.ts';
import { diff } from './analysis-query.ts';
import type { FwPolicy } from './model.ts';
import type { Packet } from '../../verify/packet-set/index.ts';
import { formatPacket } from './packet-text.ts';

export interface DiffSide {
  rule: string;
  action: string;
  location: string;
}
export interface DiffEntry {
  /** Exact count of distinct packet headers, as a decimal string. */
  packets: string;
  example: Packet;
  before: DiffSide;
  after: DiffSide;
}
export interface PolicyChange {
  policy: string;
  change: 'added' | 'removed' | 'changed';
  newlyAccepted: DiffEntry[];
  newlyDenied: DiffEntry[];
  denialChanged: DiffEntry[];
}

const side = (r: RelatedRule): DiffSide => ({ rule: r.name, action: r.action, location: where(r.source) });

/** Every policy of either version (or only `only`), in first-seen order. */
export function policyChanges(before: FwPolicy[], after: FwPolicy[], only?: string): PolicyChange[] {
  const names = [...new Set([...before, ...after].map((p) => p.name))];
  const out: PolicyChange[] = [];
  for (const n of only ? [only] : names) {
    const a = before.find((p) => p.name === n);
    const b = after.find((p) => p.name === n);
    if (!a || !b) {
      out.push({ policy: n, change: a ? 'removed' : 'added', newlyAccepted: [], newlyDenied: [], denialChanged: [] });
      continue;
    }
    const d = diff(a, b);
    const parts = (list: typeof d.newlyAccepted): DiffEntry[] => list.map((x) => ({ packets: x.count.toString(), example: x.example, before: side(x.before), after: side(x.after) }));
    out.push({ policy: n, change: 'changed', newlyAccepted: parts(d.newlyAccepted), newlyDenied: parts(d.newlyDenied), denialChanged: parts(d.denialChanged) });
  }
  return out;
}

/** A decider for a sentence: a rule with its line, or one of the policy's implicit deciders. */
export function deciderText(rule: string, location: string): string {
  if (rule === DEFAULT) return `the default action (policy at ${location})`;
  if (rule === ESTABLISHED) return `the stateful acceptance of established/related packets (policy at ${location})`;
  return `rule ${rule} at ${location}`;
}

/** Packet counts: exact up to a million, then in scientific notation (JSON keeps them exact). */
export const countText = (n: string): string => (n.length <= 7 ? n : `about ${Number(n).toPrecision(3).replace('e+', 'e')}`);

/** The lines `fw diff` prints for one policy, `indent` before each. */
export function policyChangeLines(p: PolicyChange, indent = ''): string[] {
  if (p.change !== 'changed') return [`${indent}policy ${p.policy}: ${p.change}`];
  const total = p.newlyAccepted.length + p.newlyDenied.length + p.denialChanged.length;
  const lines = [`${indent}policy ${p.policy}: ${total ? '' : 'no flow decided differently'}`.trimEnd()];
  for (const [title, list] of [['newly accepted', p.newlyAccepted], ['newly denied', p.newlyDenied], ['drop/reject changed', p.denialChanged]] as const) {
    for (const x of list) {
      lines.push(`${indent}  ${title}: ${countText(x.packets)} packets, e.g. ${formatPacket(x.example)}`);
      lines.push(`${indent}    before: ${x.before.action} by ${deciderText(x.before.rule, x.before.location)}`);
      lines.push(`${indent}    after:  ${x.after.action} by ${deciderText(x.after.rule, x.after.location)}`);
    }
  }
  return lines;
}
