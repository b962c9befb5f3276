/**
 * The repair for two FRR 8.4 faults of EVPN VRF routes (lab/README.md 3 and 7), one
 * implementation for the push driver (after every reload and rollback) and `lab up` /
 * `lab wait --converged` (src/lab/settle.ts):
 * - bgpd re-runs best-path selection on each EVPN VRF's table: routes imported into a VRF are
 *   not re-selected when the IGP metric of their VTEP changes (lab/README.md 7), so a VRF can
 *   keep one next hop where the EVPN table has equal-cost paths. Toggling
 *   `bgp bestpath med missing-as-worst` (every imported route carries MED 0, so the knob selects
 *   nothing differently) recalculates every best path as its side effect; a path that was
 *   already right does not change, so zebra hears nothing of it.
 * - bgpd hands zebra every selected route of each EVPN VRF again (adds only, nothing withdrawn;
 *   the kernel routes are replaced in place and the router MACs and next-hop neighbours come
 *   back, lab/README.md 3). `no bgp bestpath bandwidth` is the default (absent from the running
 *   config), so it changes nothing but re-announces the instance's table as its side effect.
 */

/** `router bgp ASN vrf NAME` instances that import EVPN routes (an `address-family l2vpn evpn` block). */
export function evpnVrfInstances(config: string): { asn: string; vrf: string; medLine?: string }[] {
  const out: { asn: string; vrf: string; medLine?: string }[] = [];
  let cur: { asn: string; vrf: string; medLine?: string } | undefined;
  for (const line of config.split('\n')) {
    const m = /^router bgp (\d+) vrf (\S+)\s*$/.exec(line);
    if (m) cur = { asn: m[1], vrf: m[2] };
    else if (/^\S/.test(line) && !/^!/.test(line)) cur = undefined;
    else if (cur && /^\s+bgp bestpath med .*missing-as-worst/.test(line)) cur.medLine = line.trim();
    else if (cur && /^\s+address-family l2vpn evpn\b/.test(line) && !out.includes(cur)) out.push(cur);
  }
  return out;
}

/** Two commands whose net effect is no change and whose side effect is a best-path recalculation of the instance. */
function recalcToggle(medLine: string | undefined): string[] {
  // An operator's own setting (possibly with `confed`) is put back exactly as it was.
  if (medLine) return [`no ${medLine}`, medLine];
  const on = 'bgp bestpath med missing-as-worst';
  return [on, `no ${on}`];
}

/** vtysh `-c` commands re-announcing the EVPN VRFs of `config` (empty: nothing to do). */
export function evpnResyncCommands(config: string): string[] {
  const vrfs = evpnVrfInstances(config);
  if (!vrfs.length) return [];
  return ['configure terminal', ...vrfs.flatMap((v) => [`router bgp ${v.asn} vrf ${v.vrf}`, ...recalcToggle(v.medLine), 'no bgp bestpath bandwidth', 'exit'])];
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
