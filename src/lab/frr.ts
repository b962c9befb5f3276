import { shq } from '../util/shell-quote.ts';
import { existsSync, readFileSync } from 'node:fs';

/** FRR's own start order (frrcommon.sh): zebra first, the rest after it. */
export const FRR_DAEMONS = [
  'zebra', 'bgpd', 'ripd', 'ripngd', 'ospfd', 'ospf6d', 'isisd', 'babeld', 'pimd', 'pim6d', 'ldpd',
  'nhrpd', 'eigrpd', 'sharpd', 'pbrd', 'staticd', 'bfdd', 'fabricd', 'vrrpd', 'pathd',
] as const;

export const FRR_BIN_DIR = process.env.NETLOOM_FRR_BIN_DIR ?? '/usr/lib/frr';

export interface DaemonsFile {
  enabled: string[];
  /** `frr_profile` (traditional / datacenter), passed to every daemon as -F. */
  profile?: string;
}

/** Reads FRR's /etc/frr/daemons: `bgpd=yes` lines; zebra and staticd always run (as frrinit does). */
export function parseDaemonsFile(text: string): DaemonsFile {
  const vals = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9_]+)\s*=\s*"?([^"#]*?)"?\s*(#.*)?$/.exec(raw);
    if (m) vals.set(m[1], m[2]);
  }
  const enabled = FRR_DAEMONS.filter((d) => d === 'zebra' || d === 'staticd' || vals.get(d) === 'yes');
  const profile = vals.get('frr_profile') || undefined;
  return { enabled: [...enabled], profile };
}

const CONF_HINTS: [RegExp, string][] = [
  [/^\s*router bgp\b/m, 'bgpd'],
  [/^\s*router ospf\b(?!6)/m, 'ospfd'],
  [/^\s*(ip ospf\b)/m, 'ospfd'],
  [/^\s*router ospf6\b/m, 'ospf6d'],
  [/^\s*ipv6 ospf6\b/m, 'ospf6d'],
  [/^\s*router isis\b/m, 'isisd'],
  [/^\s*router rip\b/m, 'ripd'],
  [/^\s*router ripng\b/m, 'ripngd'],
  [/^\s*bfd\b/m, 'bfdd'],
  [/^\s*neighbor \S+ bfd\b/m, 'bfdd'],
  [/^\s*pbr-map\b/m, 'pbrd'],
  [/^\s*vrrp\b/m, 'vrrpd'],
  [/^\s*(router pim|ip pim)\b/m, 'pimd'],
];

/** Without a daemons file: the daemons a frr.conf needs (zebra and staticd always). */
export function inferDaemons(frrConf: string): string[] {
  const want = new Set(['zebra', 'staticd']);
  for (const [re, d] of CONF_HINTS) if (re.test(frrConf)) want.add(d);
  return FRR_DAEMONS.filter((d) => want.has(d));
}

export function missingDaemonBinaries(daemons: string[]): string[] {
  return daemons.filter((d) => !existsSync(`${FRR_BIN_DIR}/${d}`));
}

export function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}


/**
 * Shell lines that start a node's daemons, run inside the node's own view (its /etc/frr,
 * /var/run/frr and /run/netns), without configuration: as FRR's own init does with an
 * integrated frr.conf, `vtysh -b` then hands each daemon its part. (A daemon reading the whole
 * file itself takes lines of other daemons' blocks for its own: zebra read the `vni N` of
 * bgpd's EVPN block as the default VRF's L3 VNI.) The TCP vty is off (-P 0); vtysh uses the
 * unix sockets, which the host reaches with `vtysh -N <netns>`. `vrfNetns` starts zebra with
 * -n: every network namespace the node sees is a VRF of the same name.
 */
export function daemonStartScript(daemons: string[], opts: { profile?: string; vrfNetns?: boolean } = {}): string {
  const lines = ['set -e'];
  for (const d of daemons) {
    const args = ['-d', '-f', '/dev/null', '-i', `/var/run/frr/${d}.pid`, '-P', '0'];
    if (opts.profile) args.push('-F', opts.profile);
    if (d === 'zebra') {
      args.push('-s', '90000000');
      if (opts.vrfNetns) args.push('-n');
    }
    lines.push([`${FRR_BIN_DIR}/${d}`, ...args].map(shq).join(' '));
  }
  return lines.join('\n') + '\n';
}

/** frr.conf defines VRFs (`vrf NAME` blocks): on a kernel without VRF devices they become namespaces. */
export function confHasVrfs(frrConf: string): boolean {
  return /^vrf \S+/m.test(frrConf);
}
