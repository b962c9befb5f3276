/**
 * The packet sets' own address text (the fast IPv4 parser, the RFC 5952 IPv6 writer) against the
 * ip-address library they replaced on the hot path: random and edge-case addresses, the same
 * values, the same text, the same errors.
 */
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import { formatAddress, parseCidr } from '../../../src/verify/packet-set/packet-set.ts';

/** A deterministic generator (xorshift32): failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

describe('address text', () => {
  it('writes IPv6 exactly as ip-address correctForm does, zero runs of every length and place included', () => {
    const r = rng(7);
    const values: bigint[] = [0n, 1n, (1n << 128n) - 1n, 0xffffn << 32n, 1n << 112n];
    for (let i = 0; i < 20_000; i++) {
      let v = 0n;
      // Groups zero with probability 1/2, so runs of zeros of all lengths and ties occur.
      for (let g = 0; g < 8; g++) v = (v << 16n) | (r() < 0.5 ? 0n : BigInt(Math.floor(r() * 0x10000)));
      values.push(v);
    }
    for (const v of values) expect(formatAddress(6, v), v.toString(16)).toBe(Address6.fromBigInt(v).correctForm());
  });

  it('parses dotted IPv4 and prefixes to the values ip-address gives, and refuses what the general parser refuses', () => {
    const r = rng(11);
    for (let i = 0; i < 5_000; i++) {
      const octets = [0, 1, 2, 3].map(() => Math.floor(r() * 256));
      const len = Math.floor(r() * 33);
      const text = `${octets.join('.')}/${len}`;
      const c = parseCidr(text);
      const mask = len === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - len)) - 1n);
      expect(c, text).toEqual({ family: 4, value: new Address4(octets.join('.')).bigInt() & mask, len });
      expect(formatAddress(4, c.value)).toBe(Address4.fromBigInt(c.value).correctForm());
    }
    expect(parseCidr('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203n, len: 32 });
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.4/33', '1.2.3.4/', '1..2.3', 'a.b.c.d', '1.2.3.4/3x', ' 1.2.3.4']) expect(() => parseCidr(bad), bad).toThrow(/invalid/);
  });
});
