/** Polls `probe` every 100 ms until it returns `want` (compared joined); the milliseconds that took, or an error naming the last value. */
export async function until(what: string, probe: () => Promise<string[]>, want: string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v.join() === want.join()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${v.join(',')}, want ${want.join(',')})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
