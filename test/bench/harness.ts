/**
 * Tiny benchmark harness: every `test/bench/*.bench.ts` runs in its own Node process (so peak
 * memory is its own) and prints lines through `report`. Targets and published references are
 * printed beside each figure; a reference measured in the same run gives a ratio.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** e.g. "<= 3 s"; informational, benches never fail on speed. */
  target?: string;
  /** Same quantity for a reference implementation measured in this run (same unit). */
  reference?: { name: string; value: number; higherIsBetter?: boolean };
  note?: string;
}

export function report(f: Figure): void {
  const v = Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(f.value < 10 ? 3 : 1);
  let line = `  ${f.name}: ${v} ${f.unit}`;
  if (f.target) line += `  (target ${f.target})`;
  if (f.reference) {
    const r = f.reference;
    const ratio = r.higherIsBetter ? f.value / r.value : r.value / f.value;
    line += `  | ${r.name}: ${Number.isInteger(r.value) ? r.value : r.value.toFixed(3)} ${f.unit}, netloom ${ratio.toFixed(2)}x ${ratio >= 1 ? 'faster' : 'slower'}`;
  }
  if (f.note) line += `  [${f.note}]`;
  process.stdout.write(line + '\n');
}

export function peakRssMiB(): number {
  // resourceUsage().maxRSS is in KiB on Linux.
  return process.resourceUsage().maxRSS / 1024;
}

export async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}
