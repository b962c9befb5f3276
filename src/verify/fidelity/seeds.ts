import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/**
 * `count` seeds drawn from `origin` (e.g. the time), so every run tries different fabrics and
 * the printed seeds reproduce them.
 */
export function seedsFrom(origin: number, count: number): number[] {
  const rng = xoroshiro128plus(Math.floor(origin) | 0);
  const seen = new Set<number>();
  while (seen.size < count) seen.add(uniformInt(rng, 1, 99_999_999));
  return [...seen];
}
