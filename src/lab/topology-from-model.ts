/**
 * The model as a containerlab topology: one node per device (kind, image and startup files
 * from models/containerlab.yaml), one `linux` host per endpoint configured by `exec` lines,
 * every fabric link and every endpoint's access link, and the management network. The same
 * file runs under containerlab with Docker, or under `netloom lab up` with namespaces.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { loadModelSync, loadPlatforms, type Endpoint, type FabricModel } from '../model/index.ts';
import { modelsDir } from '../model/platforms.ts';
import { renderModel } from '../render/index.ts';
import { writeOutput } from '../render/write.ts';
import { formatIpv4, parsePrefix4 } from '../model/ip.ts';
import type { ClabNodeConfig, ClabTopology } from './clab-types.ts';
import { readLabState, runDir } from './state.ts';
import { saveLabModel } from './expected-from-model.ts';
import { domains } from '../domains/index.ts';
import { SERVICE_RUN_DIR } from './service-run.ts';
import { SERVICE_NODE_PATHS } from '../model/service-nodes.ts';

export { SERVICE_RUN_DIR };

const clabData = z.object({
  platforms: z.record(
    z.string(),
    z.object({
      kind: z.string(),
      image: z.string(),
      interface: z.string(),
      binds: z.record(z.string(), z.string()).optional(),
      exec: z.array(z.string()).optional(),
      startup_config: z.string().optional(),
    }),
  ),
  hosts: z.object({ kind: z.string(), image: z.string(), interface: z.string() }),
});
export type ContainerlabData = z.output<typeof clabData>;

export function loadContainerlabData(file = path.join(modelsDir, 'containerlab.yaml')): ContainerlabData {
  return clabData.parse(parse(readFileSync(file, 'utf8')));
}

export interface TopologyOptions {
  /** Directory holding rendered configs as OUT/<device>/<artifact>, relative to the topology file. */
  configDir: string;
  /** Lab name (default: the fabric name). */
  name?: string;
}

/** Host-side address of the management bridge: the pool's gateway, else its last usable address. */
export function mgmtGateway(model: FabricModel): string {
  if (model.fabric.pools.mgmtGateway) return model.fabric.pools.mgmtGateway;
  const p = parsePrefix4(model.fabric.pools.mgmt);
  return formatIpv4(p.base + p.size - 2);
}

function hostExec(e: Endpoint, mtu: number): string[] {
  const dev = e.tagged ? `eth1.${e.vlan}` : 'eth1';
  const lines = [`ip link set eth1 mtu ${mtu}`];
  if (e.tagged) lines.push(`ip link add link eth1 name ${dev} type vlan id ${e.vlan}`);
  lines.push(`ip link set ${dev} address ${e.mac}`, `ip link set ${dev} up`);
  if (e.ipv4) lines.push(`ip addr add ${e.ipv4} dev ${dev}`);
  if (e.ipv6) lines.push(`ip -6 addr add ${e.ipv6} dev ${dev} nodad`);
  if (e.ipv4 && e.gateway4) lines.push(`ip route add default via ${e.gateway4} dev ${dev}`);
  if (e.ipv6 && e.gateway6) lines.push(`ip -6 route add default via ${e.gateway6} dev ${dev}`);
  return lines;
}

export function buildTopology(model: FabricModel, opts: TopologyOptions): ClabTopology {
  const data = loadContainerlabData();
  const platforms = loadPlatforms();
  const nodes: Record<string, ClabNodeConfig> = {};
  const ifName = (device: string, port: string): string => {
    const d = model.devices.find((x) => x.name === device)!;
    const spec = data.platforms[d.platform];
    const n = platforms.get(d.platform)!.portNumber(port);
    if (n === undefined) throw new Error(`${device}: interface ${port} has no port number`);
    return spec.interface.replace('{n}', String(n));
  };

  for (const d of model.devices) {
    const spec = data.platforms[d.platform];
    if (!spec) throw new Error(`models/containerlab.yaml has no entry for platform '${d.platform}'`);
    const dir = `${opts.configDir}/${d.name}`;
    const node: ClabNodeConfig = {
      kind: spec.kind,
      image: spec.image,
      'mgmt-ipv4': d.mgmt.ipv4.split('/')[0],
      labels: { 'netloom.role': d.role, 'netloom.platform': d.platform, 'netloom.id': String(d.id) },
    };
    if (spec.binds) node.binds = Object.entries(spec.binds).map(([artifact, target]) => `${dir}/${artifact}:${target}`);
    if (spec.exec) node.exec = [...spec.exec];
    if (spec.startup_config) node['startup-config'] = `${dir}/${spec.startup_config}`;
    nodes[d.name] = node;
  }

  const devIface = (device: string, port: string) => model.devices.find((d) => d.name === device)?.interfaces.find((i) => i.name === port);
  const mtuOf = new Map(model.networks.map((n) => [n.vlan, n.mtu]));
  for (const e of model.endpoints) {
    if (nodes[e.name]) throw new Error(`endpoint '${e.name}' has the name of a device; containerlab needs unique node names`);
    nodes[e.name] = {
      kind: data.hosts.kind,
      image: data.hosts.image,
      exec: hostExec(e, mtuOf.get(e.vlan) ?? model.fabric.hostMtu),
      labels: { 'netloom.role': 'endpoint', 'netloom.vlan': String(e.vlan), 'netloom.vrf': e.vrf },
    };
  }

  // Service nodes of the domains (load balancers, DNS servers...) beside the devices.
  const serviceLinks: ClabTopology['topology']['links'] = [];
  for (const dom of domains()) {
    const extra = dom.lab?.nodes?.(model);
    if (!extra) continue;
    for (const [n, cfg] of Object.entries(extra.nodes)) {
      if (nodes[n]) throw new Error(`domain ${dom.id}: service node '${n}' has the name of another node`);
      nodes[n] = cfg;
    }
    serviceLinks.push(...extra.links);
  }

  // Service nodes (model.serviceNodes): FRR for their announcements, their service, one uplink.
  const frrSpec = data.platforms.frr;
  for (const n of model.serviceNodes ?? []) {
    if (nodes[n.name]) throw new Error(`service node '${n.name}' has the name of another node`);
    const dir = `${opts.configDir}/${n.name}`;
    nodes[n.name] = {
      kind: frrSpec.kind,
      image: frrSpec.image,
      binds: [
        `${dir}/frr.conf:${SERVICE_NODE_PATHS.frrConf}`,
        `${dir}/daemons:${SERVICE_NODE_PATHS.daemons}`,
        `${dir}/node.sh:${SERVICE_NODE_PATHS.nodeScript}`,
        `${dir}/announce.sh:${SERVICE_NODE_PATHS.announceScript}`,
        ...Object.entries(n.run.files).map(([artifact, target]) => `${dir}/${artifact}:${target}`),
        // Pid files and sockets stay the node's own, whatever else runs on the host.
        `${SERVICE_RUN_DIR}/${n.name}:${n.run.runDir}`,
      ],
      exec: [`sh ${SERVICE_NODE_PATHS.nodeScript}`],
      env: { NETLOOM_ANNOUNCE_LOG: `${n.run.runDir}/announce.log` },
      labels: { 'netloom.role': n.role, 'netloom.domain': n.domain, 'netloom.leaf': n.leaf },
    };
    for (const l of n.legs) serviceLinks.push({ endpoints: [`${n.leaf}:${ifName(n.leaf, l.port)}`, `${n.name}:${l.iface}`], mtu: devIface(n.leaf, l.port)?.mtu ?? model.fabric.hostMtu });
  }
  for (const dom of domains()) {
    const p = dom.lab?.provision?.(model);
    if (!p) continue;
    for (const [n, binds] of Object.entries(p.binds)) if (nodes[n]) nodes[n].binds = [...(nodes[n].binds ?? []), ...binds];
    for (const [n, exec] of Object.entries(p.exec)) if (nodes[n]) nodes[n].exec = [...(nodes[n].exec ?? []), ...exec];
  }

  const links = [
    ...model.links.map((l) => ({ endpoints: [`${l.a.device}:${ifName(l.a.device, l.a.interface)}`, `${l.b.device}:${ifName(l.b.device, l.b.interface)}`], mtu: l.mtu })),
    ...model.endpoints.map((e) => ({ endpoints: [`${e.leaf}:${ifName(e.leaf, e.port)}`, `${e.name}:${data.hosts.interface}`], mtu: mtuOf.get(e.vlan) ?? model.fabric.hostMtu })),
    ...serviceLinks,
  ];

  const name = opts.name ?? model.name;
  return {
    name,
    mgmt: { network: `netloom-${name}`, 'ipv4-subnet': model.fabric.pools.mgmt, 'ipv4-gw': mgmtGateway(model) },
    topology: { nodes, links },
  };
}

export function topologyYaml(t: ClabTopology, model: FabricModel): string {
  return (
    `# containerlab topology of fabric ${model.name}, intent revision ${model.revision}, generated by netloom.\n` +
    `# Runs with \`containerlab deploy -t\` where Docker is available, or \`netloom lab up\` (network namespaces).\n` +
    stringify(t, { lineWidth: 0 })
  );
}

/**
 * For `netloom lab up DIR`: resolve the model, render every device into the lab's run
 * directory and write the topology beside it; for a lab that runs already, only the nodes it
 * does not have (`running` says which case it was).
 */
export async function topologyFromModel(dir: string, opts: { name?: string } = {}): Promise<{ topology: ClabTopology; baseDir: string; file: string; model: FabricModel; running: boolean }> {
  const model = loadModelSync(dir);
  const name = opts.name ?? model.name;
  const base = runDir(name);
  mkdirSync(base, { recursive: true });
  const running = readLabState(name);
  const inLab = running?.status === 'running' ? new Set(running.nodes.map((n) => n.name)) : undefined;
  if (!inLab) {
    // writeOutput rewrites changed files in place and removes stale ones.
    writeOutput(renderModel(model), path.join(base, 'configs'));
  } else {
    // A running lab's nodes see their rendered files through bind mounts: only nodes it does not
    // have yet get theirs here (`up` adds them); the running ones' changes are `apply`'s to push,
    // staged and checked, and the lab's model stays the one it runs until then.
    const added = renderModel(model).artifacts.filter((a) => !inLab.has(a.device));
    if (added.length) writeOutput({ revision: model.revision, fabric: model.name, artifacts: added }, path.join(base, 'configs'), { partial: true });
  }
  const topology = buildTopology(model, { configDir: 'configs', name });
  for (const n of model.serviceNodes ?? []) mkdirSync(path.join(base, SERVICE_RUN_DIR, n.name), { recursive: true });
  if (!inLab) for (const dom of domains()) dom.lab?.provision?.(model).prepare?.(base);
  const file = path.join(base, `${name}.clab.yml`);
  writeFileSync(file, topologyYaml(topology, model));
  if (!inLab) saveLabModel(name, model);
  return { topology, baseDir: base, file, model, running: !!inLab };
}
