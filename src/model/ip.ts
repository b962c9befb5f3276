/**
 * Address arithmetic on IPv4 prefixes as unsigned 32-bit numbers: allocation for 5,000
 * devices and 60,000 links must not build an object per address. IPv6 parsing and
 * containment go through ip-address.
 */
import { Address6 } from 'ip-address';

export interface Prefix4 {
  /** network address as uint32 */
  base: number;
  len: number;
  /** number of addresses */
  size: number;
}

export function parseIpv4(s: string): number {
  const p = s.split('.');
  return ((+p[0] << 24) >>> 0) + (+p[1] << 16) + (+p[2] << 8) + +p[3];
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function parsePrefix4(s: string): Prefix4 {
  const [addr, lenStr] = s.split('/');
  const len = Number(lenStr);
  const size = 2 ** (32 - len);
  const base = Math.floor(parseIpv4(addr) / size) * size;
  return { base, len, size };
}

/** True when the address part has host bits set ("10.0.0.1/24" given as a subnet). */
export function hasHostBits(s: string): boolean {
  const [addr] = s.split('/');
  return parseIpv4(addr) !== parsePrefix4(s).base;
}

export function formatPrefix4(p: Prefix4): string {
  return `${formatIpv4(p.base)}/${p.len}`;
}

export function contains4(p: Prefix4, addr: number): boolean {
  return addr >= p.base && addr < p.base + p.size;
}

export function overlaps4(a: Prefix4, b: Prefix4): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** The n-th address of a prefix, or undefined when the pool is exhausted. */
export function nth4(p: Prefix4, n: number): number | undefined {
  return n >= 0 && n < p.size ? p.base + n : undefined;
}

export function parsePrefix6(s: string): Address6 | undefined {
  try {
    return new Address6(s);
  } catch {
    return undefined;
  }
}

export function isValidIpv6(s: string): boolean {
  return Address6.isValid(s);
}

export function contains6(subnet: string, addr: string): boolean {
  const net = parsePrefix6(subnet);
  const a = parsePrefix6(addr.includes('/') ? addr : `${addr}/128`);
  if (!net || !a) return false;
  return a.isInSubnet(net);
}

export function overlaps6(a: string, b: string): boolean {
  const pa = parsePrefix6(a);
  const pb = parsePrefix6(b);
  if (!pa || !pb) return false;
  return pa.isInSubnet(pb) || pb.isInSubnet(pa);
}

/** MAC derived from a seed and an index, locally administered (02:...). */
export function derivedMac(prefixByte: number, n: number): string {
  const b = [2, prefixByte & 255, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
