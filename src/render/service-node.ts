/**
 * Files of every service node (model.serviceNodes): FRR (eBGP to its leaf in each VRF it serves,
 * announcing only that VRF's prefixes on that session), the daemons file, node.sh (uplink,
 * addresses, routes, service start) and announce.sh (prefixes on lo while the service is
 * healthy), from templates/service-node/. The domain's own files (haproxy.cfg...) come from its
 * nodeArtifacts; these sit beside them in OUT/<node>/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import type { FabricModel, ServiceNode } from '../model/types.ts';
import type { NodeArtifact } from '../domains/types.ts';
import { loadPlatforms } from '../model/platforms.ts';
import { environment, templatesDir } from './templates.ts';
import { createHash } from 'node:crypto';

const DIR = 'service-node';
const FILES: { name: string; template: string; comment: string; mode?: string }[] = [
  { name: 'frr.conf', template: 'frr.conf.hbs', comment: '!' },
  { name: 'daemons', template: 'daemons.hbs', comment: '#' },
  { name: 'node.sh', template: 'node.sh.hbs', comment: '#', mode: '0755' },
  { name: 'announce.sh', template: 'announce.sh.hbs', comment: '#', mode: '0755' },
];
/** Seconds between two health checks of the announcement loop. */
export const ANNOUNCE_PERIOD_S = 0.5;

const compiled = new Map<string, Handlebars.TemplateDelegate>();
function template(file: string): Handlebars.TemplateDelegate {
  let fn = compiled.get(file);
  if (!fn) {
    fn = environment(DIR).compile(readFileSync(path.join(templatesDir, DIR, file), 'utf8'), { noEscape: true });
    compiled.set(file, fn);
  }
  return fn;
}

const host = (c?: string) => c?.split('/')[0];

function routerId(n: ServiceNode): string {
  const v4 = n.legs.find((l) => l.ipv4)?.ipv4;
  if (v4) return host(v4)!;
  const h = createHash('sha256').update(n.name).digest();
  return `10.255.${h[0]}.${h[1] || 1}`;
}

export function serviceNodeView(model: FabricModel, n: ServiceNode): object {
  const leaf = model.devices.find((d) => d.name === n.leaf)!;
  const peers = n.legs.flatMap((l) => (['ipv4', 'ipv6'] as const).flatMap((afi) => {
    const leafAddress = afi === 'ipv4' ? l.gateway4 : l.gateway6;
    if (!leafAddress || !(afi === 'ipv4' ? l.ipv4 : l.ipv6)) return [];
    const prefixes = n.advertise.filter((a) => a.vrf === l.vrf && a.prefix.includes(':') === (afi === 'ipv6'));
    return [{
      afi, leaf: n.leaf, vrf: l.vrf, leafAddress, leafAsn: leaf.asn,
      outList: `NL-VIP-${l.vrf}-${afi === 'ipv4' ? 4 : 6}`.toUpperCase(),
      plCommand: afi === 'ipv4' ? 'ip prefix-list' : 'ipv6 prefix-list',
      prefixes: prefixes.map((p, i) => ({ prefix: p.prefix, seq: 5 * (i + 1) })),
    }];
  }));
  const afis = (['ipv4', 'ipv6'] as const)
    .map((afi) => ({ afi, family: afi === 'ipv4' ? 4 : 6, peers: peers.filter((p) => p.afi === afi) }))
    .filter((a) => a.peers.length);
  const platform = loadPlatforms().get('frr');
  // Transit prefixes (announced into one VRF, routed out of the leg of another) are routes the
  // announcement loop installs while the service is healthy: node.sh leaves them out, and bgpd
  // redistributes kernel routes beside the connected VIPs.
  const transit = new Map<string, { prefix: string; v6: boolean; iface: string; gateway: string }>();
  for (const a of n.advertise) {
    const out = a.via === undefined ? undefined : n.legs.find((l) => l.vrf === a.via);
    const v6 = a.prefix.includes(':');
    const gateway = v6 ? out?.gateway6 : out?.gateway4;
    if (out && gateway) transit.set(a.prefix, { prefix: a.prefix, v6, iface: out.iface, gateway });
  }
  const hosts = [...new Set(n.advertise.filter((a) => a.via === undefined).map((a) => a.prefix))];
  return {
    name: n.name, role: n.role, leaf: n.leaf, asn: n.asn, routerId: routerId(n),
    fabricVars: platform?.render?.vars ?? { frr_version: '8.4' },
    legs: n.legs.map((l) => ({
      ...l, mtu: model.networks.find((x) => x.name === l.network)?.mtu ?? model.fabric.hostMtu,
      routes4: l.routes4.filter((p) => !transit.has(p)), routes6: l.routes6.filter((p) => !transit.has(p)),
    })),
    peers, afis: afis.map((a) => ({ ...a, kernel: [...transit.values()].some((t) => t.v6 === (a.afi === 'ipv6')) })),
    forward: transit.size > 0,
    start: n.run.start, check: n.run.check, runDir: n.run.runDir, periodS: ANNOUNCE_PERIOD_S,
    prefixes: hosts.map((prefix) => ({ prefix, v6: prefix.includes(':') })),
    routes: [...transit.values()],
  };
}

export function serviceNodeArtifacts(model: FabricModel): NodeArtifact[] {
  const out: NodeArtifact[] = [];
  for (const n of model.serviceNodes ?? []) {
    const view = serviceNodeView(model, n);
    for (const f of FILES) out.push({ node: n.name, target: 'service-node', name: f.name, content: template(f.template)(view), comment: f.comment, ...(f.mode ? { mode: f.mode } : {}) });
  }
  return out;
}
