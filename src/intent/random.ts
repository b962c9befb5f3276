/**
 * Seeded random intents across the whole schema, for differential testing of the static
 * prediction against the lab (`npm run fidelity`). Every intent is valid by construction
 * (test/fidelity/random-intent.test.ts validates hundreds of seeds) and FRR-only, because the
 * lab runs FRR. The same seed always gives the same intent; the management subnet is an
 * option so labs of different seeds can run side by side.
 *
 * Shapes: every underlay with its overlay transport, every leaf ASN scheme plus pinned ASNs,
 * route-reflector sets, 1-4 spines (sometimes two pods under super-spines), 2-8 leaves with
 * border leaves, 1-4 tenants whose VRFs reuse each other's subnets, IPv6, pinned VLAN/VNI/RD/RT,
 * leaves without tenants, endpoints on the same leaf, the same leaf pair and other leaves.
 */
import { stringify } from 'yaml';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { IntentInput } from './schema.ts';
import { INTENT_ROLE } from '../domains/fabric/roles.ts';
import type { GeneratedFile } from './generate.ts';

export interface RandomIntentOptions {
  /** Management pool (default 172.24.<seed mod 250 + 1>.0/24). */
  mgmt?: string;
  /** Fabric name (default f<seed>). */
  name?: string;
}

type Rng = ReturnType<typeof xoroshiro128plus>;

class Pick {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed | 0);
  }
  int(lo: number, hi: number): number {
    return uniformInt(this.rng, lo, hi);
  }
  chance(p: number): boolean {
    return this.int(0, 9999) < p * 10000;
  }
  one<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }
  /** k distinct values from lo..hi, in the order drawn. */
  distinct(k: number, lo: number, hi: number): number[] {
    const seen = new Set<number>();
    while (seen.size < k) seen.add(this.int(lo, hi));
    return [...seen];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/** The intent as plain data (the YAML a user would write), before schema defaults. */
export type RandomIntent = Omit<IntentInput, 'nodes' | 'tenants' | 'endpoints'> & {
  nodes: Record<string, Record<string, unknown> & { id: number }>;
  tenants: { name: string; vrfs: { name: string; id: number; networks: Record<string, unknown>[] }[] }[];
  endpoints: Record<string, unknown>[];
};

/** Management subnets of random fabrics: BASE.(seed mod 250 + 1).0/24, BASE two octets. */
export const DEFAULT_MGMT_BASE = '172.24';

export function defaultMgmtFor(seed: number, base = DEFAULT_MGMT_BASE): string {
  return `${base}.${(Math.abs(seed) % 250) + 1}.0/24`;
}

/** A management base as `--mgmt-base` takes it: two octets of a private IPv4 range. */
export function isMgmtBase(base: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(base);
  return !!m && Number(m[1]) <= 255 && Number(m[2]) <= 255;
}

export function randomIntent(seed: number, opts: RandomIntentOptions = {}): RandomIntent {
  const r = new Pick(seed);
  const underlay = r.one(['ebgp-unnumbered', 'ebgp', 'ospf'] as const);
  const ibgp = underlay === 'ospf';
  // Two pods under super-spines now and then; otherwise one pod of 1-4 spines.
  const pods = r.chance(0.12) ? 2 : 1;
  const superSpines = pods === 2 ? r.int(1, 2) : 0;
  const spinesPerPod = pods === 2 ? r.int(1, 2) : r.int(1, 4);
  const leafCount = r.int(2, 8);
  const scheme = r.one(['per-leaf', 'per-leaf-pair', 'per-pod'] as const);

  const nodes: RandomIntent['nodes'] = {};
  const spineIds = r.distinct(spinesPerPod * pods, 101, 160).sort((a, b) => a - b);
  const spines: string[] = [];
  for (let p = 1; p <= pods; p++) {
    for (let s = 0; s < spinesPerPod; s++) {
      const name = `spine${spines.length + 1}`;
      spines.push(name);
      nodes[name] = { group: pods === 2 ? `pod${p}-spines` : 'spines', id: spineIds[(p - 1) * spinesPerPod + s] };
    }
  }
  for (const [i, id] of r.distinct(superSpines, 201, 220).sort((a, b) => a - b).entries()) nodes[`super${i + 1}`] = { group: 'super-spines', id };
  const leafIds = r.distinct(leafCount, 1, 60).sort((a, b) => a - b);
  const leaves: string[] = [];
  const borderCount = r.chance(0.4) ? r.int(1, Math.min(2, leafCount - 1)) : 0;
  leafIds.forEach((id, i) => {
    const name = i >= leafCount - borderCount ? `border${i - (leafCount - borderCount) + 1}` : `leaf${i + 1}`;
    leaves.push(name);
    const pod = pods === 2 ? (i < Math.ceil(leafCount / 2) ? 1 : 2) : 1;
    nodes[name] = { group: name.startsWith('border') ? `pod${pod}-borders` : `pod${pod}-leaves`, id };
  });
  const podOf = (leaf: string) => Number(String(nodes[leaf].group).match(/^pod(\d)/)![1]);
  // Leaf pairs: neighbours in the list within a pod (the per-leaf-pair scheme shares an ASN).
  const pairOf = new Map<string, string>();
  for (let i = 0; i + 1 < leaves.length; i += 2) {
    if (podOf(leaves[i]) !== podOf(leaves[i + 1]) || !r.chance(0.7)) continue;
    pairOf.set(leaves[i], leaves[i + 1]);
    pairOf.set(leaves[i + 1], leaves[i]);
    if (scheme === 'per-leaf-pair') {
      nodes[leaves[i]].pair = leaves[i + 1];
      nodes[leaves[i + 1]].pair = leaves[i];
    }
  }
  // A leaf that uplinks to a subset of its spines (fewer ECMP paths).
  if (spinesPerPod > 1 && r.chance(0.25)) {
    const leaf = r.one(leaves);
    const podSpines = spines.slice((podOf(leaf) - 1) * spinesPerPod, podOf(leaf) * spinesPerPod);
    nodes[leaf].uplinks = r.shuffle(podSpines).slice(0, r.int(1, spinesPerPod - 1)).sort();
  }

  const asn: Record<string, unknown> = {};
  const fourByte = r.chance(0.3);
  const overlay: Record<string, unknown> = { transport: ibgp ? 'ibgp' : 'ebgp' };
  if (ibgp) {
    asn.fabric = fourByte ? 4200000100 : r.int(64512, 65534);
    if (r.chance(0.4)) {
      // Explicit route reflectors: a subset of spines, sometimes a border leaf too.
      const rr = r.shuffle(spines).slice(0, r.int(1, spines.length));
      const borders = leaves.filter((l) => l.startsWith('border'));
      if (borders.length && r.chance(0.3)) rr.push(r.one(borders));
      overlay.route_reflectors = rr.sort();
    }
  } else {
    const base = fourByte ? 4200000000 : 65000;
    asn.spine = pods === 2 ? `${base + 100}-${base + 101}` : base + 100;
    asn.leaf = `${base + 101 + 1}-${base + 199}`;
    asn.leaf_scheme = scheme;
    if (superSpines) asn.super_spine = base + 99;
    // Pinned ASNs: a private one of its own, or the same as another leaf.
    for (const leaf of leaves) {
      if (!r.chance(0.15)) continue;
      nodes[leaf].asn = r.chance(0.5) ? base + 250 + r.int(0, 3) : base + 102 + Number(nodes[r.one(leaves)].id) - 1;
    }
  }
  if (r.chance(0.25)) overlay.route_target_asn = r.int(1, 65535);

  const groups: Record<string, Record<string, unknown>> = {};
  if (pods === 2) {
    groups['super-spines'] = { role: INTENT_ROLE.superSpine, platform: 'frr', downlink_port_base: 100 };
    for (let p = 1; p <= 2; p++) {
      groups[`pod${p}-spines`] = { role: INTENT_ROLE.spine, platform: 'frr', pod: p, uplink_port_start: 100 };
    }
  } else groups.spines = { role: INTENT_ROLE.spine, platform: 'frr' };
  for (let p = 1; p <= pods; p++) {
    if (leaves.some((l) => nodes[l].group === `pod${p}-leaves`)) groups[`pod${p}-leaves`] = { role: INTENT_ROLE.leaf, platform: 'frr', ...(pods === 2 ? { pod: p } : {}) };
    if (leaves.some((l) => nodes[l].group === `pod${p}-borders`)) groups[`pod${p}-borders`] = { role: INTENT_ROLE.borderLeaf, platform: 'frr', ...(pods === 2 ? { pod: p } : {}) };
  }

  // Tenants: VRFs draw subnets from a small shared set, so different VRFs overlap.
  const tenantCount = r.int(1, 4);
  const vrfIds = r.distinct(8, 1, 60);
  const vlans = r.distinct(16, 10, 999);
  const usedVnis = new Set<number>();
  const tenants: RandomIntent['tenants'] = [];
  const allNets: { net: Record<string, unknown>; vrf: string; third: number; v6: boolean }[] = [];
  let vrfN = 0;
  let vlanN = 0;
  for (let t = 1; t <= tenantCount; t++) {
    const vrfs: RandomIntent['tenants'][number]['vrfs'] = [];
    const nVrfs = vrfN < 7 && r.chance(0.25) ? 2 : 1;
    for (let v = 0; v < nVrfs; v++) {
      const id = vrfIds[vrfN++];
      const vrfName = `T${t}V${v + 1}`;
      const vrf: RandomIntent['tenants'][number]['vrfs'][number] & Record<string, unknown> = { name: vrfName, id, networks: [] };
      if (r.chance(0.2)) {
        vrf.l3vni = pinVni(r, usedVnis, 70000, 79999);
      }
      if (r.chance(0.15)) vrf.l3vni_vlan = 3900 + id;
      if (r.chance(0.15)) vrf.route_target = `65500:${id}`;
      if (r.chance(0.15)) vrf.rd_index = 20000 + id;
      const nNets = Math.min(r.int(1, 3), 16 - vlanN);
      const thirds = r.distinct(nNets, 1, 4);
      for (let n = 0; n < nNets; n++) {
        const vlan = vlans[vlanN++];
        const third = thirds[n];
        const net: Record<string, unknown> = { name: `${vrfName.toLowerCase()}-n${n + 1}`, vlan, subnet: `10.${100 + third}.${third}.0/24`, gateway: `10.${100 + third}.${third}.1` };
        const v6 = r.chance(0.4);
        if (v6) Object.assign(net, { subnet6: `fd00:${third}::/64`, gateway6: `fd00:${third}::1` });
        if (r.chance(0.15)) net.vni = pinVni(r, usedVnis, 20000, 29999);
        if (r.chance(0.1)) net.route_target = `65501:${vlan}`;
        if (r.chance(0.1)) net.rd_index = 5000 + vlan;
        vrf.networks.push(net);
        allNets.push({ net, vrf: vrfName, third, v6 });
      }
      vrfs.push(vrf);
    }
    tenants.push({ name: `tenant${t}`, vrfs });
  }

  // Endpoints: one or more per network, placed on a leaf, then often beside another endpoint
  // of the network on the same leaf, its pair partner, or another leaf.
  const endpoints: RandomIntent['endpoints'] = [];
  const nextPort = new Map<string, number>();
  const port = (leaf: string) => {
    const p = nextPort.get(leaf) ?? 10;
    nextPort.set(leaf, p + 1);
    return `eth${p}`;
  };
  // Some leaves stay without tenants (no endpoint, no network).
  const tenantless = new Set(leaves.length > 2 && r.chance(0.35) ? [r.one(leaves)] : []);
  const hostLeaves = leaves.filter((l) => !tenantless.has(l));
  let hostN = 0;
  for (const { net, third, v6 } of allNets) {
    const count = r.int(0, 3);
    const hosts = r.distinct(count, 10, 250);
    let leaf = r.one(hostLeaves);
    const placed: string[] = [];
    for (const h of hosts) {
      if (placed.length) {
        const how = r.int(0, 2);
        const partner = pairOf.get(leaf);
        if (how === 0) leaf = r.one(placed);
        else if (how === 1 && partner && !tenantless.has(partner)) leaf = partner;
        else leaf = r.one(hostLeaves);
      }
      placed.push(leaf);
      const ep: Record<string, unknown> = { name: `h${++hostN}`, leaf, port: port(leaf), vlan: net.vlan, ipv4: `10.${100 + third}.${third}.${h}/24` };
      if (v6 && r.chance(0.8)) ep.ipv6 = `fd00:${third}::${h.toString(16)}/64`;
      // No tagged ports: the lab kernel has no 802.1Q devices ('ip link add ... type vlan' fails).
      endpoints.push(ep);
    }
    // Where the network lives beyond its endpoints: nowhere else, every leaf, or a list.
    const where = r.int(0, 5);
    if (where === 0 && !tenantless.size) net.leaves = 'all';
    else if (where === 1) {
      const extra = r.shuffle(hostLeaves).slice(0, r.int(1, hostLeaves.length));
      net.leaves = [...new Set([...placed, ...extra])].sort((a, b) => leaves.indexOf(a) - leaves.indexOf(b));
    }
  }

  const name = opts.name ?? `f${Math.abs(seed)}`;
  return {
    fabric: {
      name,
      underlay,
      overlay: overlay as never,
      asn: asn as never,
      mtu: 9216,
      max_uplinks: Math.max(4, spinesPerPod, superSpines),
    },
    pools: {
      loopback: '10.0.0.0/24',
      ...(r.chance(0.5) ? { vtep: '10.0.1.0/24' } : {}),
      ...(underlay !== 'ebgp-unnumbered' ? { p2p: '10.0.16.0/20' } : {}),
      mgmt: opts.mgmt ?? defaultMgmtFor(seed),
    },
    groups: groups as never,
    nodes,
    tenants,
    endpoints,
  } as RandomIntent;
}

function pinVni(r: Pick, used: Set<number>, lo: number, hi: number): number {
  for (;;) {
    const v = r.int(lo, hi);
    if (!used.has(v)) {
      used.add(v);
      return v;
    }
  }
}

const HEADER = '# yaml-language-server: $schema=../../models/intent.schema.json\n';

/** The intent as the directory a user would commit: one file per section. */
export function intentFiles(intent: RandomIntent, comment?: string): GeneratedFile[] {
  const top = comment ? comment.split('\n').map((l) => `# ${l}\n`).join('') : '';
  const dump = (v: object) => HEADER + top + stringify(v, { lineWidth: 0 });
  const { fabric, pools, groups, nodes, links, tenants, endpoints } = intent;
  return [
    { name: 'fabric.yaml', text: dump({ fabric, pools }) },
    { name: 'nodes.yaml', text: dump({ groups, nodes, ...(links?.length ? { links } : {}) }) },
    { name: 'tenants.yaml', text: dump({ tenants }) },
    { name: 'endpoints.yaml', text: dump({ endpoints: endpoints ?? [] }) },
  ];
}
