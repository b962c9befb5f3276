/**
 * Rule hit counters over time: nftables counters only say how many packets a rule matched
 * since its ruleset was loaded, so "unused since" needs memory. Each read of a lab's rulesets
 * is folded into a small JSON file in the lab's state directory (gone with `lab down`): per
 * counted rule instance (device, namespace, policy, rule) the packets last read, when they last
 * grew and when the instance was first read. A count lower than the last one is a reload (the
 * counter restarted): it counts as a hit when it is not zero.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface HitRecord {
  packets: number;
  /** ISO time the counter was first read. */
  firstRead: string;
  /** ISO time the counter was last seen growing (absent: never, since firstRead). */
  lastHit?: string;
}

export type HitHistory = Record<string, HitRecord>;

export interface CounterReading {
  device: string;
  netns?: string;
  policy: string;
  rule: string;
  packets: number;
}

export const hitKey = (r: Omit<CounterReading, 'packets'>): string => `${r.device}|${r.netns ?? ''}|${r.policy}|${r.rule}`;

/** The history after `readings` taken at `now` (pure; instances not read this time are kept). */
export function foldHits(prev: HitHistory, readings: readonly CounterReading[], now: Date): HitHistory {
  const at = now.toISOString();
  const next: HitHistory = { ...prev };
  // Several nft rules may carry one policy rule (IPv4 and IPv6 halves): summed per instance.
  const sums = new Map<string, number>();
  for (const r of readings) sums.set(hitKey(r), (sums.get(hitKey(r)) ?? 0) + r.packets);
  for (const [key, packets] of sums) {
    const old = prev[key];
    if (!old) next[key] = { packets, firstRead: at, ...(packets > 0 ? { lastHit: at } : {}) };
    else if (packets > old.packets || (packets < old.packets && packets > 0)) next[key] = { ...old, packets, lastHit: at };
    else next[key] = { ...old, packets };
  }
  return next;
}

/** Reads, folds and writes the history file (written whole through a temporary file). */
export function recordHits(file: string, readings: readonly CounterReading[], now = new Date()): HitHistory {
  let prev: HitHistory = {};
  if (existsSync(file)) {
    try {
      prev = JSON.parse(readFileSync(file, 'utf8')) as HitHistory;
    } catch {
      prev = {}; // a torn or hand-edited file restarts the memory, it does not stop verification
    }
  }
  const next = foldHits(prev, readings, now);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(next, null, 1) + '\n');
  renameSync(`${file}.tmp`, file);
  return next;
}
