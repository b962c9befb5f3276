/**
 * Generates intent directories of any size, for benchmarks and lab scale tests. The default
 * shape is the largest published AVD benchmark: 12 super-spines, 18 pods of 12 spines and
 * 265 leaves (4,998 devices). Ids are laid out so every derived address, ASN and port stays
 * inside its pool: leaves 1..N, spines from 50001, super-spines from 60001.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { IntentInput, PlatformName } from './schema.ts';
import { TIER_ROLE } from '../domains/fabric/roles.ts';
import { UsageError } from '../util/errors.ts';

export interface GenerateOptions {
  name?: string;
  superSpines?: number;
  pods?: number;
  spinesPerPod?: number;
  leavesPerPod?: number;
  tenants?: number;
  vrfsPerTenant?: number;
  networksPerVrf?: number;
  /** Endpoints per leaf (one network each, round robin). */
  endpointsPerLeaf?: number;
  underlay?: 'ebgp-unnumbered' | 'ebgp' | 'ospf';
  leafPlatform?: PlatformName;
  spinePlatform?: PlatformName;
}

export interface GeneratedFile {
  name: string;
  text: string;
}

export const AVD_BENCHMARK_SHAPE: GenerateOptions = { superSpines: 12, pods: 18, spinesPerPod: 12, leavesPerPod: 265, tenants: 10, vrfsPerTenant: 1, networksPerVrf: 10, endpointsPerLeaf: 1 };

const SPINE_ID_BASE = 50000;
const SUPER_SPINE_ID_BASE = 60000;
const HEADER_PREFIX = '# yaml-language-server: $schema=';
const HEADER = `${HEADER_PREFIX}../../models/intent.schema.json\n`;

export function generateFabricIntent(opts: GenerateOptions = {}): GeneratedFile[] {
  const o = {
    name: 'gen',
    superSpines: 0,
    pods: 1,
    spinesPerPod: 2,
    leavesPerPod: 4,
    tenants: 2,
    vrfsPerTenant: 1,
    networksPerVrf: 2,
    endpointsPerLeaf: 1,
    underlay: 'ebgp-unnumbered' as const,
    leafPlatform: 'frr' as PlatformName,
    spinePlatform: 'frr' as PlatformName,
    ...opts,
  };
  const totalLeaves = o.pods * o.leavesPerPod;
  if (o.spinesPerPod * o.pods > 9999 || totalLeaves > 49999 || o.superSpines > 999) throw new UsageError('generator: shape too large (at most 9,999 spines, 49,999 leaves and 999 super-spines)');
  const ibgp = o.underlay === 'ospf';
  // Headroom (the schema's default, 8) for spines added later: raising max_uplinks moves every
  // derived link's /31 in a numbered underlay.
  const maxUplinks = Math.max(o.spinesPerPod, o.superSpines, 8);

  const fabric: IntentInput = {
    fabric: {
      name: o.name,
      site: 'generated',
      underlay: o.underlay,
      overlay: { transport: ibgp ? 'ibgp' : 'ebgp' },
      asn: ibgp
        ? { fabric: 65000 }
        : { super_spine: 4_000_000_001, spine: `4100000001-${4_100_000_000 + o.pods}`, leaf: `4200000001-${4_200_000_000 + totalLeaves}`, leaf_scheme: 'per-leaf' },
      mtu: 9216,
      max_uplinks: maxUplinks,
    },
    pools: {
      loopback: '10.0.0.0/16',
      vtep: '10.1.0.0/16',
      ...(o.underlay !== 'ebgp-unnumbered' ? { p2p: '10.128.0.0/10' } : {}),
      mgmt: '100.64.0.0/16',
    },
  } as IntentInput;

  const groups: Record<string, object> = {};
  const nodes: Record<string, object> = {};
  if (o.superSpines > 0) {
    groups['super-spines'] = { role: TIER_ROLE.superSpine, platform: o.spinePlatform, downlink_port_base: SPINE_ID_BASE };
    for (let s = 1; s <= o.superSpines; s++) nodes[`ss${s}`] = { group: 'super-spines', id: SUPER_SPINE_ID_BASE + s };
  }
  for (let p = 1; p <= o.pods; p++) {
    const leafBase = (p - 1) * o.leavesPerPod;
    // Spines take leaves on ports 1..leavesPerPod and uplink to super-spines after them.
    groups[`pod${p}-spines`] = { role: TIER_ROLE.spine, platform: o.spinePlatform, pod: p, downlink_port_base: leafBase, uplink_port_start: o.leavesPerPod + 1 };
    groups[`pod${p}-leaves`] = { role: TIER_ROLE.leaf, platform: o.leafPlatform, pod: p };
    for (let s = 1; s <= o.spinesPerPod; s++) nodes[`p${p}-spine${s}`] = { group: `pod${p}-spines`, id: SPINE_ID_BASE + (p - 1) * o.spinesPerPod + s };
    for (let l = 1; l <= o.leavesPerPod; l++) nodes[`p${p}-leaf${l}`] = { group: `pod${p}-leaves`, id: leafBase + l };
  }

  const tenants: object[] = [];
  const networks: { vlan: number; subnet: number }[] = [];
  let vrfId = 0;
  for (let t = 1; t <= o.tenants; t++) {
    const vrfs: object[] = [];
    for (let v = 1; v <= o.vrfsPerTenant; v++) {
      vrfId++;
      const nets: object[] = [];
      for (let n = 1; n <= o.networksPerVrf; n++) {
        const idx = networks.length;
        const vlan = 100 + idx;
        // 172.16.0.0/12 split in /20s: up to 256 networks of 4,094 hosts.
        const subnet = (172 << 24) + (16 << 16) + idx * 4096;
        networks.push({ vlan, subnet });
        nets.push({ name: `t${t}-v${v}-n${n}`, vlan, subnet: `${ip(subnet)}/20`, gateway: ip(subnet + 1) });
      }
      vrfs.push({ name: `T${t}V${v}`, id: vrfId, networks: nets });
    }
    tenants.push({ name: `tenant${t}`, vrfs });
  }

  const endpoints: object[] = [];
  const perNet = new Map<number, number>();
  for (let leafId = 1; leafId <= totalLeaves && networks.length; leafId++) {
    const p = Math.floor((leafId - 1) / o.leavesPerPod) + 1;
    const l = leafId - (p - 1) * o.leavesPerPod;
    for (let e = 0; e < o.endpointsPerLeaf; e++) {
      const net = networks[(leafId + e) % networks.length];
      const host = (perNet.get(net.vlan) ?? 10) + 1;
      perNet.set(net.vlan, host);
      endpoints.push({ name: `h${leafId}-${e + 1}`, leaf: `p${p}-leaf${l}`, port: portName(o.leafPlatform, 40 + e), vlan: net.vlan, ipv4: `${ip(net.subnet + host)}/20` });
    }
  }

  const dump = (v: object) => HEADER + stringify(v, { lineWidth: 0, flowCollectionPadding: false, collectionStyle: 'block' });
  return [
    { name: 'fabric.yaml', text: dump(fabric) },
    { name: 'nodes.yaml', text: HEADER + stringify({ groups }, { lineWidth: 0 }) + 'nodes:\n' + Object.entries(nodes).map(([k, v]) => `  ${k}: ${flow(v)}\n`).join('') },
    { name: 'tenants.yaml', text: dump({ tenants }) },
    { name: 'endpoints.yaml', text: HEADER + 'endpoints:\n' + endpoints.map((e) => `  - ${flow(e)}\n`).join('') },
  ];
}

function flow(v: object): string {
  return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${x}`).join(', ')} }`;
}

function ip(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function portName(platform: PlatformName, n: number): string {
  switch (platform) {
    case 'eos':
      return `Ethernet${n}`;
    case 'nxos':
      return `Ethernet1/${n}`;
    case 'junos':
      return `et-0/0/${n - 1}`;
    case 'srlinux':
      return `ethernet-1/${n}`;
    default:
      return `eth${n}`;
  }
}

const SCHEMA_FILE = fileURLToPath(new URL('../../models/intent.schema.json', import.meta.url));

/** Writes the files, their schema comment pointing at netloom's schema from wherever `dir` is. */
export function writeGeneratedIntent(dir: string, files: GeneratedFile[]): void {
  mkdirSync(dir, { recursive: true });
  const schemaRef = path.relative(path.resolve(dir), SCHEMA_FILE).split(path.sep).join('/');
  for (const f of files) {
    const text = f.text.startsWith(HEADER_PREFIX) ? f.text.replace(/^[^\n]*/, `${HEADER_PREFIX}${schemaRef}`) : f.text;
    writeFileSync(path.join(dir, f.name), text);
  }
}
