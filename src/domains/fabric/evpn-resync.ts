/**
 * The repair for FRR 8.4 losing router MACs (lab/README.md 3): bgpd hands zebra every selected
 * route of each EVPN VRF again (adds only, nothing withdrawn; the kernel routes are replaced in
 * place and the router MACs and next-hop neighbours come back). `no bgp bestpath bandwidth` is
 * the default (absent from the running config), so it changes nothing but re-announces the
 * instance's table as its side effect. One implementation for the push driver (after every
 * reload and rollback) and `lab up` / `lab wait --converged` (src/lab/settle.ts).
 */

/** `router bgp ASN vrf NAME` instances that import EVPN routes (an `address-family l2vpn evpn` block). */
export function evpnVrfInstances(config: string): { asn: string; vrf: string }[] {
  const out: { asn: string; vrf: string }[] = [];
  let cur: { asn: string; vrf: string } | undefined;
  for (const line of config.split('\n')) {
    const m = /^router bgp (\d+) vrf (\S+)\s*$/.exec(line);
    if (m) cur = { asn: m[1], vrf: m[2] };
    else if (/^\S/.test(line) && !/^!/.test(line)) cur = undefined;
    else if (cur && /^\s+address-family l2vpn evpn\b/.test(line) && !out.includes(cur)) out.push(cur);
  }
  return out;
}

/** vtysh `-c` commands re-announcing the EVPN VRFs of `config` (empty: nothing to do). */
export function evpnResyncCommands(config: string): string[] {
  const vrfs = evpnVrfInstances(config);
  if (!vrfs.length) return [];
  return ['configure terminal', ...vrfs.flatMap((v) => [`router bgp ${v.asn} vrf ${v.vrf}`, 'no bgp bestpath bandwidth', 'exit'])];
}

/**
 * How long a leaf's forwarding state may stay incomplete before it is repaired: EVPN routes from
 * the rest of the fabric land within a second of a session coming up or a reload, and a repair
 * too early is undone by the next replaced route.
 */
export const REPAIR_AFTER_MS = 900;

/** The re-announce as one shell command line (`vtysh -c ... -c ...`), or undefined when there is nothing to re-announce. */
export function evpnResyncShell(config: string): string | undefined {
  const cmds = evpnResyncCommands(config);
  return cmds.length ? `vtysh ${cmds.map((c) => `-c '${c.replace(/'/g, "'\\''")}'`).join(' ')}` : undefined;
}
