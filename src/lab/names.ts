import { createHash } from 'node:crypto';

/** Linux interface names are at most 15 bytes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;
const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function isSafeName(s: string): boolean {
  return SAFE.test(s) && s.length <= 64;
}

/** Network namespace (and FRR pathspace) of a node: two labs differ by their lab name. */
export function nodeNetns(lab: string, node: string): string {
  return `nl-${lab}-${node}`;
}

/**
 * Short tag for host-side interface names, which must fit 15 bytes: the lab name when it is
 * short, else a prefix plus a hash so two long names do not collide.
 */
export function labTag(lab: string): string {
  if (/^[a-z0-9]{1,7}$/i.test(lab)) return lab;
  const h = createHash('sha256').update(lab).digest('hex').slice(0, 4);
  return `${lab.replace(/[^a-z0-9]/gi, '').slice(0, 3)}${h}`;
}

export function mgmtBridgeName(tag: string): string {
  return `nl-${tag}`;
}

/** Host end of node `index`'s management veth (its lab end is eth0 in the node). */
export function mgmtHostVeth(tag: string, index: number): string {
  const n = `nl-${tag}-${index}`;
  if (n.length > IFNAME_MAX) throw new Error(`interface name ${n} exceeds ${IFNAME_MAX} characters`);
  return n;
}

export function isValidIfname(s: string): boolean {
  return s.length > 0 && s.length <= IFNAME_MAX && !/[\s/:]/.test(s) && s !== '.' && s !== '..';
}
