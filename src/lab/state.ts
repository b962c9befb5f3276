import type { LabHolder } from './holder.ts';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../util/errors.ts';
import { isSafeName } from './names.ts';
import type { NodeRole, PlannedLink } from './plan.ts';

/**
 * What a running lab is, recorded on disk so every later command (and other stages: push
 * logs in over ssh, verify asks vtysh, pcap tests capture) can find nodes without re-reading
 * the topology. One JSON file per lab under the run directory.
 */
export interface LabNodeState {
  name: string;
  role: NodeRole;
  kind: string;
  image: string;
  /** Network namespace: `ip netns exec <netns> ...`. */
  netns: string;
  hostname: string;
  /** Management address on eth0 (no prefix length), reachable from the host. */
  mgmtIpv4?: string;
  sshPort: number;
  sshUser: string;
  /** `SHA256:...` of the node's sshd host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint?: string;
  /** Public host key line (`ssh-ed25519 AAAA...`), e.g. for an ssh2 hostVerifier. */
  hostKeyPublic?: string;
  /** FRR nodes: `vtysh -N <pathspace>` on the host reaches this node's daemons. */
  pathspace?: string;
  /** FRR nodes: the node's /etc/frr (seen at /etc/frr inside the node and over ssh). */
  frrConfDir?: string;
  frrRunDir?: string;
  daemons: string[];
  interfaces: string[];
  hostVeth?: string;
  /**
   * argv prefix that runs a command inside the node as its own processes see it (namespace,
   * hostname, /etc/frr and /var/run/frr of the node, binds): `[...enter, 'vtysh', '-c', ...]`.
   */
  enter: string[];
  /**
   * The node's persistent mount and UTS namespaces (files they are bound to, netns driver):
   * every process of the node runs in them, like in a container.
   */
  view?: { mnt: string; uts: string; netnsDir: string };
  /** The node's environment (topology `env`): exec lines, its main process and `lab exec` get it, as `docker exec` does. */
  env?: Record<string, string>;
  /** FRR nodes with VRFs: 'netns' when they are network namespaces (zebra -n, kernel without VRF devices). */
  vrfBackend?: 'kernel' | 'netns';
  /**
   * Digest of what the node was built from, its FRR configuration aside (kind, image, exec lines,
   * env, sysctls, other binds): a later `up` extends the lab only when every node it has is unchanged.
   */
  shape?: string;
}

export interface LabState {
  name: string;
  runtime: 'netns' | 'containerlab';
  status: 'creating' | 'running' | 'stopping';
  stateDir: string;
  topologyFile?: string;
  /** Hash of the resolved plan: `up` of an identical topology on a running lab is a no-op. */
  planHash: string;
  createdAt: string;
  /** The process holding this lab for its lifetime, if any: a lab whose holder is gone is an orphan. */
  heldBy?: LabHolder;
  tag: string;
  mgmt?: { subnet: string; prefixLength: number; gateway: string; bridge: string };
  ssh: { privateKey: string; publicKey: string; knownHosts: string; config: string };
  nodes: LabNodeState[];
  links: PlannedLink[];
  /** Host interfaces this lab created (mgmt bridge and veth host ends). */
  hostInterfaces: string[];
  /** Directories under /etc/frr and /var/run/frr this lab created. */
  frrDirs: string[];
  /** Bind mount points this lab had to create on the host file system. */
  createdPaths: string[];
  /**
   * Every host path this lab's nodes bind onto, created by it or not: another lab's `down` must
   * not remove one (unlinking a mount point detaches the binds on it in every namespace).
   */
  mountPoints?: string[];
  /** Private tmpfs holding the nodes' namespace files and private /run/netns directories. */
  viewRoot?: string;
}

/** `$NETLOOM_STATE_DIR/labs` (default /var/lib/netloom/labs). */
export function labsRoot(): string {
  return path.join(process.env.NETLOOM_STATE_DIR ?? '/var/lib/netloom', 'labs');
}

/** Rendered configs and topology of a lab built from an intent (`lab up DIR`); `lab down` removes it. */
export function runDir(name: string): string {
  return path.join(process.env.NETLOOM_STATE_DIR ?? '/var/lib/netloom', 'runs', checkedLabName(name));
}

export function labDir(name: string): string {
  return path.join(labsRoot(), checkedLabName(name));
}

/** A lab name names a directory under the state root, never a path to somewhere else. */
function checkedLabName(name: string): string {
  if (!isSafeName(name)) throw new UsageError(`lab name '${name}' must be letters, digits, '_', '.', '-' (starting with a letter or digit)`);
  return name;
}

export function statePath(name: string): string {
  return path.join(labDir(name), 'state.json');
}

export function readLabState(name: string): LabState | undefined {
  const p = statePath(name);
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as LabState;
}

export function writeLabState(state: LabState): void {
  mkdirSync(state.stateDir, { recursive: true, mode: 0o700 });
  const p = statePath(state.name);
  writeFileSync(p + '.tmp', JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(p + '.tmp', p);
}

export function listLabs(): string[] {
  if (!existsSync(labsRoot())) return [];
  return readdirSync(labsRoot()).filter((d) => existsSync(path.join(labsRoot(), d, 'state.json')));
}

/** State of a lab that is up; EnvironmentError when there is none by that name. */
export function getLabState(name?: string): LabState {
  const n = name ?? defaultLabName();
  const s = readLabState(n);
  if (!s) throw new EnvironmentError(`no lab named '${n}' is up (labs: ${listLabs().join(', ') || 'none'})`);
  return s;
}

/** Without --name: the only lab that is up. */
export function defaultLabName(): string {
  const labs = listLabs();
  if (labs.length === 1) return labs[0];
  if (labs.length === 0) throw new EnvironmentError('no lab is up');
  throw new EnvironmentError(`several labs are up (${labs.join(', ')}): choose one with --name`);
}

export function findNode(state: LabState, node: string) {
  const n = state.nodes.find((x) => x.name === node);
  if (!n) throw new EnvironmentError(`lab '${state.name}' has no node '${node}' (nodes: ${state.nodes.map((x) => x.name).join(', ')})`);
  return n;
}
