import { holderFromEnv } from './holder.ts';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { EnvironmentError } from '../util/errors.ts';
import type { ParsedClab } from './clab-parse.ts';
import type { LabPlan } from './plan.ts';
import { labDir, writeLabState, type LabState } from './state.ts';
import { run } from './proc.ts';

/**
 * Where containerlab and a Docker engine exist, `lab up` hands the topology to containerlab.
 * Not exercised on netloom's own machines (no Docker engine there): kept deliberately thin.
 */
export async function containerlabAvailable(): Promise<boolean> {
  const which = await run('sh', ['-c', 'command -v containerlab'], { allowFail: true }).catch(() => undefined);
  if (!which || which.code !== 0) return false;
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { allowFail: true, timeoutMs: 5000 }).catch(() => undefined);
  return !!info && info.code === 0 && info.stdout.trim() !== '';
}

export async function containerlabDeploy(parsed: ParsedClab, plan: LabPlan, log?: (l: string) => void): Promise<LabState> {
  const dir = labDir(plan.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let file = parsed.file;
  if (!file || parsed.topology.name !== plan.name) {
    file = path.join(dir, 'topology.clab.yml');
    writeFileSync(file, stringify({ ...parsed.topology, name: plan.name }));
  }
  log?.(`containerlab deploy -t ${file}`);
  await run('containerlab', ['deploy', '-t', file, '--reconfigure'], { timeoutMs: 600_000 });
  const inspect = JSON.parse((await run('containerlab', ['inspect', '-t', file, '--format', 'json'])).stdout) as Record<string, { name: string; ipv4_address?: string }[]> | { containers?: { name: string; ipv4_address?: string }[] };
  const containers = Array.isArray((inspect as { containers?: unknown }).containers)
    ? (inspect as { containers: { name: string; ipv4_address?: string }[] }).containers
    : Object.values(inspect as Record<string, { name: string; ipv4_address?: string }[]>).flat();
  const state: LabState = {
    name: plan.name,
    runtime: 'containerlab',
    status: 'running',
    stateDir: dir,
    topologyFile: file,
    planHash: '',
    createdAt: new Date().toISOString(),
    heldBy: holderFromEnv(),
    tag: plan.tag,
    ssh: { privateKey: '', publicKey: '', knownHosts: '', config: '' },
    nodes: plan.nodes.map((n) => {
      const cname = `clab-${plan.name}-${n.name}`;
      const c = containers.find((x) => x.name === cname);
      return {
        name: n.name, role: n.role, kind: n.kind, image: n.image, netns: cname, hostname: n.hostname,
        mgmtIpv4: c?.ipv4_address?.split('/')[0], sshPort: 22, sshUser: 'root', daemons: [], interfaces: n.interfaces,
        enter: ['docker', 'exec', '-i', cname],
      };
    }),
    links: plan.links,
    hostInterfaces: [],
    frrDirs: [],
    createdPaths: [],
  };
  writeLabState(state);
  return state;
}

export async function containerlabDestroy(state: LabState): Promise<void> {
  if (!state.topologyFile) throw new EnvironmentError(`lab '${state.name}': no topology file recorded`);
  await run('containerlab', ['destroy', '-t', state.topologyFile, '--cleanup'], { timeoutMs: 600_000 });
  rmSync(state.stateDir, { recursive: true, force: true });
}
