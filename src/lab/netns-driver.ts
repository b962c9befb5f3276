import { shq } from '../util/shell-quote.ts';
import { holderFromEnv } from './holder.ts';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync,
  statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../util/errors.ts';
import type { LabPlan, PlannedLink, PlannedNode } from './plan.ts';
import { labDir, listLabs, readLabState, writeLabState, type LabNodeState, type LabState } from './state.ts';
import { parallel, pidAlive, readPidFile, run, sleep, stopPids } from './proc.ts';
import { confHasVrfs, daemonStartScript, inferDaemons, missingDaemonBinaries, parseDaemonsFile, readIfExists } from './frr.ts';
import { cidrSize, cidrString, intToIp, ipToInt, overlaps, parseCidr, type Cidr } from './ipv4.ts';
import { mgmtBridgeName, mgmtHostVeth } from './names.ts';

const CONCURRENCY = 8;
const FRR_ETC = '/etc/frr';
const FRR_RUN = '/var/run/frr';
/**
 * Each lab's private tmpfs for its nodes' namespace files. Private, because a mount namespace
 * can only be bound to a file on a mount that does not propagate.
 */
const VIEW_ROOT = '/run/netloom/ns';

export interface UpOptions {
  /** Progress lines (CLI prints them). */
  log?: (line: string) => void;
}


function frrUid(): { uid: number; gid: number } {
  const pw = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
  if (!pw) throw new EnvironmentError("user 'frr' does not exist (apt-get install frr)");
  const f = pw.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Everything the namespace driver needs on the host; checked before anything is created. */
export function preflight(plan: LabPlan): void {
  if (process.getuid?.() !== 0) throw new EnvironmentError('the namespace lab needs root (network namespaces, veths, mounts)');
  const need = ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/unshare', '/usr/bin/nsenter'];
  const ipBin = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find(existsSync);
  if (!ipBin) throw new EnvironmentError('iproute2 (ip) is not installed');
  const missing = need.filter((b) => !existsSync(b));
  if (plan.nodes.some((n) => n.role === 'router')) {
    if (!existsSync('/usr/bin/vtysh')) missing.push('/usr/bin/vtysh');
    missing.push(...missingDaemonBinaries(['zebra', 'staticd']).map((d) => `/usr/lib/frr/${d}`));
    frrUid();
  }
  if (missing.length) throw new EnvironmentError(`missing on this host: ${missing.join(', ')} (apt-get install frr openssh-server iproute2 util-linux)`);
}

function planHash(plan: LabPlan): string {
  const h = createHash('sha256').update(JSON.stringify(plan));
  for (const n of plan.nodes) for (const b of n.binds) if (!b.isDir) h.update(readFileSync(b.source));
  return h.digest('hex').slice(0, 16);
}

/**
 * What a node is built from, its configuration files' contents aside: FRR's, and in a lab built
 * from an intent every rendered file (`configs/<node>/...`): changing those is `apply`'s job.
 */
function nodeShape(plan: LabPlan, node: PlannedNode): string {
  const rendered = path.join(plan.baseDir, 'configs') + path.sep;
  const isConfig = (b: PlannedNode['binds'][number]) => isFrrBind(node, b.target) || (plan.generated && b.source.startsWith(rendered));
  const h = createHash('sha256').update(JSON.stringify({
    kind: node.kind, image: node.image, role: node.role, hostname: node.hostname, exec: node.exec, env: node.env, sysctls: node.sysctls,
    main: node.main ?? null, mgmt: node.mgmt, mgmtIpv4: node.mgmtIpv4 ?? null, startupDelayS: node.startupDelayS,
    binds: node.binds.map((b) => [b.source, b.target, b.isDir]),
  }));
  for (const b of node.binds) if (!b.isDir && !isConfig(b)) h.update(readFileSync(b.source));
  return h.digest('hex').slice(0, 16);
}

/** Where each router's FRR files come from: binds into /etc/frr are copied, never mounted, so the lab never writes into the user's files. */
function frrFiles(node: PlannedNode): { fileBinds: { source: string; name: string }[]; dirBinds: string[] } {
  const fileBinds: { source: string; name: string }[] = [];
  const dirBinds: string[] = [];
  for (const b of node.binds) {
    if (b.target === FRR_ETC) {
      if (b.isDir) dirBinds.push(b.source);
    } else if (b.target.startsWith(FRR_ETC + '/')) {
      const rel = b.target.slice(FRR_ETC.length + 1);
      if (b.isDir) dirBinds.push(b.source); // rare: a sub-directory; copied as a whole below
      else fileBinds.push({ source: b.source, name: rel });
    }
  }
  return { fileBinds, dirBinds };
}

function isFrrBind(node: PlannedNode, target: string): boolean {
  return node.role === 'router' && (target === FRR_ETC || target.startsWith(FRR_ETC + '/'));
}

async function hostRoutes(): Promise<{ dst: Cidr; text: string }[]> {
  const r = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
  const out: { dst: Cidr; text: string }[] = [];
  for (const x of JSON.parse(r.stdout || '[]') as { dst: string; dev?: string }[]) {
    if (!x.dst || x.dst === 'default') continue;
    try {
      out.push({ dst: parseCidr(x.dst.includes('/') ? x.dst : `${x.dst}/32`), text: `${x.dst}${x.dev ? ` dev ${x.dev}` : ''}` });
    } catch {
      /* not IPv4 */
    }
  }
  return out;
}

/**
 * Management subnets are claimed with an exclusive file under /run (shared by every state
 * directory), so two labs brought up at the same moment never pick the same one.
 */
const CLAIMS = '/run/netloom/mgmt-claims';

function claimFile(c: Cidr): string {
  return path.join(CLAIMS, cidrString(c).replace('/', '_'));
}

function tryClaim(c: Cidr, owner: string): boolean {
  mkdirSync(CLAIMS, { recursive: true });
  const f = claimFile(c);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(f, owner, { flag: 'wx' });
      return true;
    } catch {
      const holder = readIfExists(f)?.trim();
      if (holder === owner) return true;
      // A claim whose lab state is gone is stale (a crashed up): take it over.
      if (holder && existsSync(holder)) return false;
      try {
        unlinkSync(f);
      } catch {
        /* raced */
      }
    }
  }
  return false;
}

export function releaseMgmtClaim(state: LabState): void {
  if (!state.mgmt) return;
  const f = claimFile(parseCidr(state.mgmt.subnet));
  if (readIfExists(f)?.trim() === state.stateDir) rmSync(f, { force: true });
  for (const d of [CLAIMS, path.dirname(CLAIMS)]) {
    try {
      rmdirSync(d);
    } catch {
      /* still used by another lab */
    }
  }
}

async function chooseMgmt(plan: LabPlan, owner: string): Promise<{ subnet: Cidr; gateway: number }> {
  const taken = await hostRoutes();
  for (const other of listLabs()) {
    const s = readLabState(other);
    if (s?.mgmt && other !== plan.name) taken.push({ dst: parseCidr(s.mgmt.subnet), text: `lab ${other}` });
  }
  const clash = (c: Cidr) => taken.find((t) => overlaps(t.dst, c));
  let subnet: Cidr | undefined;
  if (plan.mgmt.subnet) {
    subnet = parseCidr(plan.mgmt.subnet);
    const c = clash(subnet);
    if (c) throw new EnvironmentError(`management subnet ${plan.mgmt.subnet} overlaps ${c.text} on this host: choose another mgmt.ipv4-subnet`);
    if (!tryClaim(subnet, owner)) throw new EnvironmentError(`management subnet ${plan.mgmt.subnet} is in use by another lab (${readIfExists(claimFile(subnet))?.trim()})`);
  } else {
    for (let third = 20; third < 256 && !subnet; third++) {
      const cand = parseCidr(`172.20.${third}.0/24`);
      if (!clash(cand) && tryClaim(cand, owner)) subnet = cand;
    }
    if (!subnet) throw new EnvironmentError('no free management subnet in 172.20.20.0-172.20.255.0/24');
  }
  const gateway = plan.mgmt.gateway ? ipToInt(plan.mgmt.gateway) : subnet.network + 1;
  return { subnet, gateway };
}

/**
 * Management addresses for `nodes`: pinned ones as given, the others the free ones in order. In a
 * lab built from an intent, device ids pin the bottom of the pool (and a fabric grows upward), so
 * unpinned nodes (hosts, service nodes) are numbered from the top down: a device added later
 * never finds its address taken. Elsewhere bottom-up, as containerlab assigns.
 */
function assignMgmt(plan: LabPlan, nodes: PlannedNode[], subnet: Cidr, gateway: number, taken: Iterable<number> = []): Map<string, string> {
  const used = new Set<number>([gateway, ...taken]);
  const out = new Map<string, string>();
  for (const n of nodes) if (n.mgmt && n.mgmtIpv4) {
    if (ipToInt(n.mgmtIpv4) === gateway) throw new EnvironmentError(`node '${n.name}': mgmt-ipv4 ${n.mgmtIpv4} is the management gateway`);
    if (used.has(ipToInt(n.mgmtIpv4))) throw new EnvironmentError(`node '${n.name}': mgmt-ipv4 ${n.mgmtIpv4} is taken in lab '${plan.name}'`);
    used.add(ipToInt(n.mgmtIpv4));
    out.set(n.name, n.mgmtIpv4);
  }
  const first = subnet.network + 2;
  const last = subnet.network + cidrSize(subnet) - 2;
  const step = plan.generated ? -1 : 1;
  let next = plan.generated ? last : first;
  for (const n of nodes) {
    if (!n.mgmt || out.has(n.name)) continue;
    while (used.has(next) && next >= first && next <= last) next += step;
    if (next < first || next > last) throw new EnvironmentError(`management subnet ${cidrString(subnet)} has no room for ${nodes.length} nodes`);
    used.add(next);
    out.set(n.name, intToIp(next));
  }
  return out;
}

/** A planned node's state in the lab: where it runs, how to enter it, what it was built from. */
function nodeState(plan: LabPlan, n: PlannedNode, viewRoot: string, mgmtIpv4: string | undefined, hostVeth: string | undefined): LabNodeState {
  const view = viewOf(viewRoot, n.name);
  const router = n.role === 'router';
  return {
    name: n.name, role: n.role, kind: n.kind, image: n.image, netns: n.netns, hostname: n.hostname, mgmtIpv4, sshPort: 22, sshUser: 'root',
    pathspace: router ? n.netns : undefined,
    frrConfDir: router ? `${FRR_ETC}/${n.netns}` : undefined,
    frrRunDir: router ? `${FRR_RUN}/${n.netns}` : undefined,
    daemons: [],
    interfaces: [...n.interfaces],
    env: Object.keys(n.env).length ? n.env : undefined,
    shape: nodeShape(plan, n),
    hostVeth,
    view,
    enter: ['nsenter', `--net=/run/netns/${n.netns}`, `--mount=${view.mnt}`, `--uts=${view.uts}`, '--wd=/', '--'],
  };
}

function fingerprint(pubLine: string): string {
  const blob = Buffer.from(pubLine.split(/\s+/)[1] ?? '', 'base64');
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function nodeDir(state: LabState, node: string): string {
  return path.join(state.stateDir, 'nodes', node);
}

/**
 * Builds the node's view once, in a new mount and UTS namespace that every process of the
 * node then enters (as in a container): its hostname, /sys of its network namespace, its
 * /etc/frr and /var/run/frr, its binds, and a /run/netns of its own, so `ip netns add` inside
 * the node (VRF namespaces) is seen by the node's zebra and by nothing else. Propagation is
 * private both ways, and the copies of the host's namespace mounts (other labs' nodes, other
 * views) are detached, so this view keeps no other namespace alive.
 */
function viewScript(node: PlannedNode, netnsDir: string, ipWrapper?: string): string {
  const lines = [
    'set -e',
    'umount -l /sys',
    'mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
    `while awk '$5 == "/run/netns" { f = 1 } END { exit !f }' /proc/self/mountinfo; do umount -l /run/netns; done`,
    `mount --bind ${shq(netnsDir)} /run/netns`,
    `for m in $(awk '$5 ~ "^${VIEW_ROOT}/[^/]+$" { print $5 }' /proc/self/mountinfo); do umount -l "$m"; done`,
    `hostname ${shq(node.hostname)}`,
    // A home of its own, as a container has: without it every SSH command of a node sourced the
    // host's ~/.bashrc (pyenv init and rehash: a machine-wide lock, seconds per command, and a
    // stale lock when a session is cut mid-rehash stalled every login for 60 s).
    'mount -t tmpfs -o mode=0700,size=4m netloom-home /root',
  ];
  if (node.role === 'router') {
    lines.push(`mount --bind ${shq(`${FRR_ETC}/${node.netns}`)} ${FRR_ETC}`);
    lines.push(`mount --bind ${shq(`${FRR_RUN}/${node.netns}`)} ${FRR_RUN}`);
  }
  for (const b of node.binds) {
    if (isFrrBind(node, b.target)) continue;
    lines.push(`mount --bind ${shq(b.source)} ${shq(b.target)}`);
    if (b.readOnly) lines.push(`mount -o remount,bind,ro ${shq(b.target)}`);
  }
  if (ipWrapper) lines.push(`mount --bind ${shq(ipWrapper)} ${shq(IP_BIN)}`);
  return lines.join('\n') + '\n';
}

/** iproute2's binary (/sbin/ip and /usr/sbin/ip are links to it on Debian). */
const IP_BIN = '/usr/bin/ip';

/**
 * On a kernel without VRF devices, a foreign lab's own scripts (run by exec lines or `lab
 * exec`) still create VRFs with `ip link add NAME type vrf ...`, as they would in containerlab.
 * This stands in for `ip` inside each node: the VRF creation is skipped with one line naming the
 * node and the command; later commands that name a VRF that could not be made are skipped
 * silently (`master VRF` alone is dropped, so `ip link set br10 master red addrgenmode none`
 * still sets the rest). Everything else runs the real ip unchanged.
 */
function ipWrapperScript(node: string, realIp: string, missingFile: string): string {
  return `#!/bin/bash
# netloom lab: iproute2 for node ${node} on a kernel without VRF devices (see netns-driver.ts).
real=${shq(realIp)}
missing=${shq(missingFile)}
is_vrf_add=0; name=; prev=; after_add=0
for a in "$@"; do
  if [ $after_add = 1 ]; then case "$a" in name|dev) ;; *) name=$a; after_add=0 ;; esac; fi
  if [ "$a" = add ] && [ -z "$name" ]; then after_add=1; fi
  if [ "$prev" = type ] && [ "$a" = vrf ]; then is_vrf_add=1; fi
  prev=$a
done
if [ $is_vrf_add = 1 ]; then
  if "$real" "$@" 2>/dev/null; then exit 0; fi
  printf '%s\n' "$name" >> "$missing"
  echo "netloom: node ${node}: this kernel has no VRF devices: skipped 'ip $*' (VRF $name does not exist; commands naming it are skipped, interfaces stay in the default table)" >&2
  exit 0
fi
if [ -s "$missing" ]; then
  out=(); skip=0; drop_next=0
  for a in "$@"; do
    if [ $drop_next = 1 ]; then drop_next=0; continue; fi
    if grep -qxF -- "$a" "$missing"; then
      if [ \${#out[@]} -gt 0 ] && [ "\${out[\${#out[@]}-1]}" = master ]; then unset 'out[\${#out[@]}-1]'; continue; fi
      skip=1
    fi
    out+=("$a")
  done
  [ $skip = 1 ] && exit 0
  if [ \${#out[@]} -ne $# ]; then
    # Only 'master VRF' was dropped: nothing left to set means nothing to run.
    [ "\${out[*]}" = "link set \${out[2]}" ] || [ "\${out[*]}" = "link set dev \${out[3]}" ] && exit 0
    exec "$real" "\${out[@]}"
  fi
fi
exec "$real" "$@"
`;
}

function viewOf(viewRoot: string, node: string): { mnt: string; uts: string; netnsDir: string } {
  const d = path.join(viewRoot, node);
  return { mnt: path.join(d, 'mnt'), uts: path.join(d, 'uts'), netnsDir: path.join(d, 'netns') };
}

async function createView(state: LabState, node: PlannedNode, ns: LabNodeState, ipWrapper?: string): Promise<void> {
  const v = ns.view!;
  mkdirSync(v.netnsDir, { recursive: true, mode: 0o755 });
  writeFileSync(v.mnt, '');
  writeFileSync(v.uts, '');
  const script = path.join(nodeDir(state, node.name), 'view.sh');
  writeFileSync(script, viewScript(node, v.netnsDir, ipWrapper));
  await run('unshare', [`--mount=${v.mnt}`, `--uts=${v.uts}`, '--propagation', 'private', 'nsenter', `--net=/run/netns/${node.netns}`, 'sh', script]);
}

/** Inode of a namespace file bound by createView (0 when it is not bound). */
function nsInode(file: string): number {
  try {
    const st = statSync(file);
    return st.size === 0 && st.ino > 0xf0000000 ? st.ino : 0;
  } catch {
    return 0;
  }
}

/** Whether this kernel has VRF devices, tried inside one of the lab's namespaces. */
async function kernelHasVrf(netns: string): Promise<boolean> {
  const forced = process.env.NETLOOM_LAB_VRF_BACKEND;
  if (forced === 'netns' || forced === 'kernel') return forced === 'kernel';
  const r = await run('ip', ['-n', netns, 'link', 'add', 'name', 'nlvrfprobe', 'type', 'vrf', 'table', '1'], { allowFail: true });
  if (r.code === 0) await run('ip', ['-n', netns, 'link', 'del', 'nlvrfprobe'], { allowFail: true });
  return r.code === 0;
}

/** `env` reaches every ssh session (push runs network.sh over ssh and needs the VRF mode). */
function sshdConfig(dir: string, mgmtIp: string, authorizedKeys: string, env: Record<string, string> = {}): string {
  return [
    ...Object.entries(env).map(([k, v]) => `SetEnv ${k}=${v}`),
    `ListenAddress ${mgmtIp}`,
    'Port 22',
    `HostKey ${dir}/ssh_host_ed25519_key`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // The key files live in the lab's run directory, which may sit under a sticky /tmp in tests.
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    'MaxStartups 100:30:200',
    'MaxSessions 50',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** Mount points a bind needs on the host file system; created (and recorded) only when absent. */
function ensureMountPoint(target: string, isDir: boolean, created: string[]): void {
  if (existsSync(target)) return;
  let top = target;
  while (!existsSync(path.dirname(top))) top = path.dirname(top);
  mkdirSync(path.dirname(target), { recursive: true });
  if (isDir) mkdirSync(target);
  else writeFileSync(target, '');
  created.push(top);
}

async function nodeSetup(state: LabState, node: PlannedNode, mgmtIp: string | undefined, prefix: number): Promise<void> {
  const sys: string[] = [
    'set -e',
    // DAD off so link-local addresses (BGP unnumbered) are usable the moment links come up.
    'for f in /proc/sys/net/ipv6/conf/*/accept_dad; do echo 0 > "$f"; done',
  ];
  if (node.role === 'router') {
    sys.push(
      'echo 1 > /proc/sys/net/ipv4/ip_forward',
      'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding',
      'echo 1 > /proc/sys/net/ipv6/conf/default/forwarding',
      'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter',
      'echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter',
    );
  }
  for (const [k, v] of Object.entries(node.sysctls)) sys.push(`sysctl -q -w ${shq(`${k}=${v}`)}`);
  const batch = ['link set lo up'];
  for (const i of node.interfaces) batch.push(`link set dev ${i} up`);
  if (mgmtIp) batch.push(`address add ${mgmtIp}/${prefix} dev eth0`, 'link set dev eth0 up');
  sys.push(`ip -batch - <<'NLEOF'\n${batch.join('\n')}\nNLEOF`);
  const script = path.join(nodeDir(state, node.name), 'setup.sh');
  writeFileSync(script, sys.join('\n') + '\n');
  await run('ip', ['netns', 'exec', node.netns, 'sh', script]);
}

async function waitPidFile(file: string, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pid = readPidFile(file);
    if (pid && pidAlive(pid)) return pid;
    if (Date.now() > deadline) return undefined;
    await sleep(20);
  }
}

async function startNode(state: LabState, node: PlannedNode, ns: LabNodeState): Promise<void> {
  if (node.role === 'router') {
    const daemonsText = readIfExists(`${FRR_ETC}/${node.netns}/daemons`);
    const script = path.join(nodeDir(state, node.name), 'start-frr.sh');
    const profile = daemonsText ? parseDaemonsFile(daemonsText).profile : undefined;
    writeFileSync(script, daemonStartScript(ns.daemons, { profile, vrfNetns: ns.vrfBackend === 'netns' }));
    await run(ns.enter[0], [...ns.enter.slice(1), 'sh', script]);
    const dead: string[] = [];
    await Promise.all(ns.daemons.map(async (d) => {
      if (!(await waitPidFile(`${FRR_RUN}/${node.netns}/${d}.pid`, 5000))) dead.push(d);
    }));
    if (dead.length) throw new EnvironmentError(`node '${node.name}': FRR daemon(s) ${dead.join(', ')} did not stay up (check ${FRR_ETC}/${node.netns}/frr.conf)`);
    const boot = await run(ns.enter[0], [...ns.enter.slice(1), 'vtysh', '-b'], { allowFail: true, timeoutMs: 60_000 });
    if (boot.code !== 0) {
      throw new EnvironmentError(`node '${node.name}': FRR refused its configuration (vtysh -b, exit ${boot.code}): ${(boot.stdout + boot.stderr).trim().slice(0, 1000)}`);
    }
  }
  if (ns.mgmtIpv4) {
    const dir = nodeDir(state, node.name);
    await run(ns.enter[0], [...ns.enter.slice(1), '/usr/sbin/sshd', '-f', `${dir}/sshd_config`, '-E', `${dir}/sshd.log`]);
    if (!(await waitPidFile(`${dir}/sshd.pid`, 5000))) throw new EnvironmentError(`node '${node.name}': sshd did not start (see ${dir}/sshd.log)`);
  }
}

async function runExec(node: PlannedNode, ns: LabNodeState, log: (l: string) => void): Promise<void> {
  for (const line of node.exec) {
    // network.sh builds VRFs as namespaces when told, matching zebra's -n.
    const env = ns.vrfBackend === 'netns' ? { NETLOOM_VRF_MODE: 'netns', ...node.env } : node.env;
    const r = await run(ns.enter[0], [...ns.enter.slice(1), 'sh', '-c', line], { env, allowFail: true, timeoutMs: 120_000 });
    for (const l of r.stderr.split('\n')) if (l.startsWith('netloom: ')) log(l.slice('netloom: '.length));
    if (r.code !== 0) {
      throw new EnvironmentError(`node '${node.name}': exec '${line}' failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 1000)}`);
    }
  }
}

/**
 * The node's main process (entrypoint + cmd), as a container's: started in the background in
 * the node's view with its env, output in nodes/<node>/main.log; lab down ends it with the rest.
 * It starts once the node's interfaces exist (containerlab attaches links after the start, so
 * such scripts usually wait for them; here they need not).
 */
async function startMain(state: LabState, node: PlannedNode, ns: LabNodeState): Promise<void> {
  if (!node.main) return;
  const logFile = path.join(nodeDir(state, node.name), 'main.log');
  await run(ns.enter[0], [...ns.enter.slice(1), 'setsid', '-f', 'sh', '-c', 'exec "$@" >>"$NETLOOM_MAIN_LOG" 2>&1 </dev/null', 'main', ...node.main], {
    env: { ...node.env, NETLOOM_MAIN_LOG: logFile },
  });
}

async function zebraJson(ns: LabNodeState, cmd: string): Promise<Record<string, unknown>> {
  const r = await run('vtysh', ['-N', ns.pathspace!, '-c', cmd], { allowFail: true, timeoutMs: 15_000 });
  try {
    return r.code === 0 ? (JSON.parse(r.stdout || '{}') as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Every L3 VNI zebra knows must be Up once network.sh has run: network.sh creates a VRF's
 * devices only after zebra has picked up its namespace, which is what FRR 8.4 needs to map
 * the VNI's VXLAN device to its bridge. Nothing is flapped to get there: taking an L3 VNI's
 * device down and up makes bgpd withdraw and re-add the whole VRF, and zebra 8.4 can apply
 * that out of order and lose its router MACs (lab/README.md). A VNI still Down after the
 * timeout is an error naming it.
 */
export async function waitL3VnisUp(ns: LabNodeState, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const vnis = Object.values(await zebraJson(ns, 'show evpn vni json')) as { vni: number; type?: string }[];
    const down: string[] = [];
    for (const v of vnis) {
      if (v.type === 'L2') continue;
      const d = (await zebraJson(ns, `show evpn vni ${v.vni} json`)) as { state?: string; vrf?: string; sviIntf?: string };
      if (d.state !== 'Up') down.push(`${v.vni} (VRF ${d.vrf ?? '?'}, SVI ${d.sviIntf ?? 'None'})`);
    }
    if (!down.length) return;
    if (Date.now() > deadline) throw new EnvironmentError(`node '${ns.name}': L3 VNI(s) ${down.join(', ')} stay Down in zebra`);
    await sleep(250);
  }
}

function healthy(state: LabState): boolean {
  const nsList = new Set(readdirSync('/run/netns', { withFileTypes: false }).map(String));
  return state.nodes.every((n) => {
    if (!nsList.has(n.netns)) return false;
    if (n.pathspace && n.daemons.some((d) => !pidAlive(readPidFile(`${FRR_RUN}/${n.pathspace}/${d}.pid`) ?? 0))) return false;
    if (n.view && (!nsInode(n.view.mnt) || !nsInode(n.view.uts))) return false;
    return true;
  });
}

/**
 * What `up` did: built the lab, found it up as planned, added nodes or links to it, or found its
 * cabling as planned with configurations that differ (those are pushed by apply, never here).
 */
export type UpOutcome = 'created' | 'unchanged' | 'extended' | 'cabled';

export async function labUpNetns(plan: LabPlan, opts: UpOptions = {}): Promise<{ state: LabState; outcome: UpOutcome }> {
  const log = opts.log ?? (() => {});
  preflight(plan);
  const hash = planHash(plan);
  const existing = readLabState(plan.name);
  if (existing) {
    if (existing.status === 'running' && existing.planHash === hash && existsSync('/run/netns') && healthy(existing)) {
      log(`lab ${plan.name} is already up with this topology`);
      return { state: existing, outcome: 'unchanged' };
    }
    if (existing.status === 'running' && existing.runtime === 'netns' && existsSync('/run/netns') && healthy(existing)) {
      const ext = extensionOf(existing, plan);
      if (!('reason' in ext)) return extendNetns(existing, plan, ext, log);
      throw new EnvironmentError(`lab '${plan.name}' is already up with a different topology (${ext.reason}): run 'netloom lab down --name ${plan.name}' first`);
    }
    throw new EnvironmentError(
      existing.status === 'running' && existing.planHash === hash
        ? `lab '${plan.name}' exists but is degraded (a namespace or daemon is gone): run 'netloom lab down --name ${plan.name}' first`
        : `lab '${plan.name}' is already up with a different topology: run 'netloom lab down --name ${plan.name}' first`,
    );
  }
  const existingNs = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  const clash = plan.nodes.filter((n) => existingNs.has(n.netns));
  if (clash.length) throw new EnvironmentError(`network namespace(s) ${clash.map((n) => n.netns).join(', ')} already exist (left over or another lab): remove them first`);
  for (const other of listLabs()) {
    if (readLabState(other)?.tag === plan.tag) throw new EnvironmentError(`lab '${other}' uses the same interface tag '${plan.tag}' as '${plan.name}': pick another lab name`);
  }
  const hostLinks = new Set(JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]').map((l: { ifname: string }) => l.ifname));
  const bridge = mgmtBridgeName(plan.tag);
  if (hostLinks.has(bridge)) throw new EnvironmentError(`host interface ${bridge} already exists: another lab or a leftover (ip link del ${bridge})`);
  const stateDir = labDir(plan.name);
  const viewRoot = path.join(VIEW_ROOT, plan.name);
  if (existsSync(viewRoot)) throw new EnvironmentError(`${viewRoot} exists: another lab named '${plan.name}' (other state directory) or a leftover`);
  const anyMgmt = plan.nodes.some((n) => n.mgmt);
  const mgmt = anyMgmt ? await chooseMgmt(plan, stateDir) : undefined;
  let mgmtIps: Map<string, string>;
  try {
    mgmtIps = mgmt ? assignMgmt(plan, plan.nodes, mgmt.subnet, mgmt.gateway) : new Map<string, string>();
  } catch (e) {
    if (mgmt) rmSync(claimFile(mgmt.subnet), { force: true });
    throw e;
  }

  const t0 = Date.now();
  const sshDir = path.join(stateDir, 'ssh');
  const state: LabState = {
    name: plan.name,
    runtime: 'netns',
    status: 'creating',
    stateDir,
    topologyFile: plan.file,
    planHash: hash,
    createdAt: new Date().toISOString(),
    heldBy: holderFromEnv(),
    tag: plan.tag,
    mgmt: mgmt ? { subnet: cidrString(mgmt.subnet), prefixLength: mgmt.subnet.prefix, gateway: intToIp(mgmt.gateway), bridge } : undefined,
    ssh: {
      privateKey: path.join(sshDir, 'id_ed25519'),
      publicKey: path.join(sshDir, 'id_ed25519.pub'),
      knownHosts: path.join(sshDir, 'known_hosts'),
      config: path.join(sshDir, 'config'),
    },
    nodes: plan.nodes.map((n) => nodeState(plan, n, viewRoot, mgmtIps.get(n.name), n.mgmt ? mgmtHostVeth(plan.tag, n.index) : undefined)),
    links: plan.links,
    hostInterfaces: [],
    frrDirs: [],
    createdPaths: [],
    mountPoints: [],
    viewRoot,
  };
  mkdirSync(path.dirname(stateDir), { recursive: true, mode: 0o755 });
  try {
    mkdirSync(stateDir, { mode: 0o700 });
  } catch {
    if (mgmt) rmSync(claimFile(mgmt.subnet), { force: true });
    throw new EnvironmentError(`lab '${plan.name}' is being created by another process (${stateDir} exists)`);
  }
  writeLabState(state);
  try {
    await buildNodes(state, plan, plan.nodes, plan.links, { fresh: true, mgmt, bridge, log, t0 });
    state.status = 'running';
    writeLabState(state);
    log(`lab ${plan.name} up: ${state.nodes.length} nodes, ${plan.links.length} links in ${Date.now() - t0} ms`);
    return { state, outcome: 'created' };
  } catch (e) {
    await labDownNetns(state).catch(() => {});
    throw e;
  }
}

interface BuildContext {
  /** A new lab (bridge, lab key, view root made here) or an extension of a running one. */
  fresh: boolean;
  mgmt?: { subnet: Cidr; gateway: number };
  bridge: string;
  log: (l: string) => void;
  t0: number;
}

/**
 * Builds `nodes` and `links` of the plan into the lab `state` (whose node list holds them
 * already): namespaces, veths, files and keys, views, daemons, exec lines. An extension's links
 * may end in nodes that run already: their new interface is created in their namespace and set up.
 */
async function buildNodes(state: LabState, plan: LabPlan, nodes: PlannedNode[], links: PlannedLink[], ctx: BuildContext): Promise<void> {
  const { fresh, mgmt, bridge, log, t0 } = ctx;
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  const building = new Set(nodes.map((n) => n.name));
  const built = state.nodes.filter((n) => building.has(n.name));
  const stateDir = state.stateDir;
  // 1. Namespaces.
  if (nodes.length) await run('ip', ['-batch', '-'], { input: nodes.map((n) => `netns add ${n.netns}`).join('\n') + '\n' });
  // 2. Links: veth ends are created directly inside their namespaces, named as the topology says.
  const create: string[] = [];
  if (mgmt && fresh) {
    create.push(`link add ${bridge} type bridge`);
    state.hostInterfaces.push(bridge);
  }
  for (const n of built) if (n.hostVeth) {
    create.push(`link add ${n.hostVeth} mtu 1500 type veth peer name eth0 netns ${n.netns}`);
    state.hostInterfaces.push(n.hostVeth);
  }
  for (const l of links) {
    create.push(`link add ${l.a.iface} netns ${byName.get(l.a.node)!.netns} mtu ${l.mtu} type veth peer name ${l.b.iface} netns ${byName.get(l.b.node)!.netns} mtu ${l.mtu}`);
  }
  writeLabState(state);
  if (create.length) await run('ip', ['-batch', '-'], { input: create.join('\n') + '\n' });
  if (mgmt) {
    // The host reaches the lab only through this bridge; nothing received on it is forwarded
    // anywhere (per-interface forwarding off, no IPv6 on it), and there is no NAT.
    if (fresh) {
      writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '0');
      writeFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '1');
    }
    for (const n of built) if (n.hostVeth) writeFileSync(`/proc/sys/net/ipv6/conf/${n.hostVeth}/disable_ipv6`, '1');
    const up = fresh ? [`address add ${intToIp(mgmt.gateway)}/${mgmt.subnet.prefix} dev ${bridge}`, `link set ${bridge} up`] : [];
    for (const n of built) if (n.hostVeth) up.push(`link set ${n.hostVeth} master ${bridge} up`);
    if (up.length) await run('ip', ['-batch', '-'], { input: up.join('\n') + '\n' });
  }
  // Running nodes given a new link: their end comes up now (their sysctls' defaults apply to it).
  const grown = new Map<string, string[]>();
  for (const l of links) for (const end of [l.a, l.b]) if (!building.has(end.node)) grown.set(end.node, [...(grown.get(end.node) ?? []), end.iface]);
  for (const [node, ifaces] of grown) {
    await run('ip', ['-n', byName.get(node)!.netns, '-batch', '-'], { input: ifaces.map((i) => `link set dev ${i} up`).join('\n') + '\n' });
  }
  log(`namespaces and links: ${Date.now() - t0} ms`);

  // 3. Files: ssh keys, FRR directories, node views, sshd configs.
  const sshDir = path.dirname(state.ssh.privateKey);
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const { uid, gid } = plan.nodes.some((n) => n.role === 'router') ? frrUid() : { uid: 0, gid: 0 };
  if (fresh) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `netloom-lab-${plan.name}`, '-f', state.ssh.privateKey]);
  // On a kernel without VRF devices, routers with VRFs run netns VRFs (zebra -n); every
  // router's SSH sessions learn the mode, so network.sh run by push builds the same layout.
  const routers = state.nodes.filter((n) => n.frrConfDir);
  const hasVrf = await kernelHasVrf(state.nodes[0].netns);
  // netloom's own labs run VRFs as namespaces (its network.sh knows how); a lab written by
  // others keeps kernel VRFs, and where there are none its scripts are told so (ipWrapperScript).
  const backend = plan.generated && routers.length && !hasVrf ? 'netns' : 'kernel';
  const ipWrappers = new Map<string, string>();
  if (!plan.generated && !hasVrf) {
    const realIp = path.join(stateDir, 'bin', 'ip');
    mkdirSync(path.dirname(realIp), { recursive: true });
    if (!existsSync(realIp)) {
      copyFileSync(IP_BIN, realIp);
      chmodSync(realIp, 0o755);
    }
    for (const n of nodes) {
      const dir = nodeDir(state, n.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const w = path.join(dir, 'ip');
      writeFileSync(w, ipWrapperScript(n.name, realIp, path.join(dir, 'vrfs-missing')), { mode: 0o755 });
      ipWrappers.set(n.name, w);
    }
  }
  await parallel(nodes, CONCURRENCY, async (node) => {
    const ns = byName.get(node.name)!;
    const dir = nodeDir(state, node.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (ns.mgmtIpv4) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${node.name}@${plan.name}`, '-f', `${dir}/ssh_host_ed25519_key`]);
      const pub = readFileSync(`${dir}/ssh_host_ed25519_key.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
      ns.hostKeyPublic = pub;
      ns.hostKeyFingerprint = fingerprint(pub);
      writeFileSync(`${dir}/sshd_config`, sshdConfig(dir, ns.mgmtIpv4, state.ssh.publicKey, backend === 'netns' && ns.frrConfDir ? { NETLOOM_VRF_MODE: 'netns' } : {}));
    }
    if (node.role === 'router') {
      const etc = `${FRR_ETC}/${node.netns}`;
      const runDir = `${FRR_RUN}/${node.netns}`;
      for (const d of [etc, runDir]) {
        rmSync(d, { recursive: true, force: true });
        mkdirSync(d, { recursive: true });
        state.frrDirs.push(d);
      }
      const { fileBinds, dirBinds } = frrFiles(node);
      for (const src of dirBinds) cpSync(src, etc, { recursive: true });
      for (const f of fileBinds) {
        mkdirSync(path.dirname(path.join(etc, f.name)), { recursive: true });
        copyFileSync(f.source, path.join(etc, f.name));
      }
      if (!existsSync(`${etc}/frr.conf`)) writeFileSync(`${etc}/frr.conf`, `hostname ${node.hostname}\n!\n`);
      if (!existsSync(`${etc}/vtysh.conf`)) writeFileSync(`${etc}/vtysh.conf`, 'service integrated-vtysh-config\n');
      const daemonsText = readIfExists(`${etc}/daemons`);
      ns.daemons = daemonsText ? parseDaemonsFile(daemonsText).enabled : inferDaemons(readFileSync(`${etc}/frr.conf`, 'utf8'));
      const missing = missingDaemonBinaries(ns.daemons);
      if (missing.length) throw new EnvironmentError(`node '${node.name}': daemons file enables ${missing.join(', ')}, not installed on this host`);
      for (const d of [etc, runDir]) {
        chownSync(d, uid, gid);
        for (const f of readdirSync(d, { recursive: true }) as string[]) chownSync(path.join(d, f), uid, gid);
      }
      chmodSync(runDir, 0o755);
    }
    for (const b of node.binds) {
      if (isFrrBind(node, b.target)) continue;
      ensureMountPoint(b.target, b.isDir, state.createdPaths);
      // Its parents too: removing a created directory above a bind detaches it as well.
      const used = (state.mountPoints ??= []);
      for (let p = b.target; p !== path.dirname(p); p = path.dirname(p)) if (!used.includes(p)) used.push(p);
    }
  });
  const vrfNodes = routers.filter((n) => building.has(n.name)).filter((n) => confHasVrfs(readIfExists(`${n.frrConfDir}/frr.conf`) ?? ''));
  for (const n of vrfNodes) n.vrfBackend = backend;
  if (backend === 'netns' && vrfNodes.length) log(`this kernel has no VRF devices: VRFs of ${vrfNodes.map((n) => n.name).join(', ')} run as network namespaces (zebra -n)`);
  const known = state.nodes.filter((n) => n.mgmtIpv4).map((n) => `${n.mgmtIpv4} ${n.hostKeyPublic}`);
  writeFileSync(state.ssh.knownHosts, known.join('\n') + '\n');
  writeFileSync(
    state.ssh.config,
    state.nodes
      .filter((n) => n.mgmtIpv4)
      .map((n) => [`Host ${n.name}`, `  HostName ${n.mgmtIpv4}`, '  User root', `  IdentityFile ${state.ssh.privateKey}`, `  UserKnownHostsFile ${state.ssh.knownHosts}`, '  StrictHostKeyChecking yes', '  IdentitiesOnly yes', ''].join('\n'))
      .join('\n'),
  );
  writeLabState(state);
  log(`files and keys: ${Date.now() - t0} ms`);

  // 4. Each node's own view (mount and UTS namespaces), then inside it: sysctls, interfaces up, management address.
  const viewRoot = state.viewRoot!;
  if (fresh) {
    mkdirSync(viewRoot, { recursive: true, mode: 0o700 });
    await run('mount', ['-t', 'tmpfs', '-o', 'mode=0700,size=4m', `netloom-${plan.name}`, viewRoot]);
    await run('mount', ['--make-private', viewRoot]);
  }
  await parallel(nodes, CONCURRENCY, (node) => createView(state, node, byName.get(node.name)!, ipWrappers.get(node.name)));
  await parallel(nodes, CONCURRENCY, (node) => nodeSetup(state, node, byName.get(node.name)!.mgmtIpv4, mgmt?.subnet.prefix ?? 24));
  // 5. FRR daemons and sshd.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  // startup-delay counts from here; nodes without one go first.
  const tStart = Date.now();
  const byDelay = [...nodes].sort((a, b) => a.startupDelayS - b.startupDelayS);
  await parallel(byDelay, CONCURRENCY, async (node) => {
    const wait = tStart + node.startupDelayS * 1000 - Date.now();
    if (wait > 0) {
      log(`${node.name}: startup-delay ${node.startupDelayS} s`);
      await sleep(wait);
    }
    await startNode(state, node, byName.get(node.name)!);
    await startMain(state, node, byName.get(node.name)!);
  });
  log(`daemons started: ${Date.now() - t0} ms`);
  // 6. The topology's exec lines, in file order per node, nodes in parallel.
  await parallel(nodes, CONCURRENCY, (node) => runExec(node, byName.get(node.name)!, log));
  // Only in netloom's own labs: a foreign lab's L3 VNIs may come from scripts run after deploy.
  await parallel(plan.generated ? built.filter((n) => n.vrfBackend === 'netns') : [], CONCURRENCY, (n) => waitL3VnisUp(n));
}

type Extension = { nodes: PlannedNode[]; links: PlannedLink[] } | { reason: string };

const linkKey = (l: PlannedLink) => [`${l.a.node}:${l.a.iface}`, `${l.b.node}:${l.b.iface}`].sort().join(' -- ');

/**
 * What `plan` adds to the running lab `state`, when it only adds: every node the lab has is in the
 * plan and built from the same things (its FRR configuration aside: pushing that is `apply`'s
 * job, staged and checked), every link it has is there with the same MTU. Otherwise the reason.
 */
function extensionOf(state: LabState, plan: LabPlan): Extension {
  const planned = new Map(plan.nodes.map((n) => [n.name, n]));
  for (const n of state.nodes) {
    const p = planned.get(n.name);
    if (!p) return { reason: `node ${n.name} is not in it` };
    if (!n.shape || n.shape !== nodeShape(plan, p)) return { reason: `node ${n.name} is built differently` };
  }
  const plannedLinks = new Map(plan.links.map((l) => [linkKey(l), l]));
  for (const l of state.links) {
    const p = plannedLinks.get(linkKey(l));
    if (!p) return { reason: `link ${linkKey(l)} is not in it` };
    if (p.mtu !== l.mtu) return { reason: `link ${linkKey(l)} has MTU ${p.mtu}, the lab's ${l.mtu}` };
  }
  const have = new Set(state.nodes.map((n) => n.name));
  const haveLinks = new Set(state.links.map(linkKey));
  return { nodes: plan.nodes.filter((n) => !have.has(n.name)), links: plan.links.filter((l) => !haveLinks.has(linkKey(l))) };
}

/**
 * Adds the plan's new nodes and links to a running lab, the way cabling a new host or device in
 * does: nothing that runs is restarted or reconfigured. The new nodes start with their rendered
 * configuration; the running ones' changes are left to `apply`.
 */
async function extendNetns(state: LabState, plan: LabPlan, ext: { nodes: PlannedNode[]; links: PlannedLink[] }, log: (l: string) => void): Promise<{ state: LabState; outcome: UpOutcome }> {
  if (!ext.nodes.length && !ext.links.length) {
    log(`lab ${plan.name} is already up with this cabling (configurations that differ are pushed by netloom apply)`);
    return { state, outcome: 'cabled' };
  }
  const t0 = Date.now();
  const mgmt = state.mgmt ? { subnet: parseCidr(state.mgmt.subnet), gateway: ipToInt(state.mgmt.gateway) } : undefined;
  if (ext.nodes.some((n) => n.mgmt) && !mgmt) throw new EnvironmentError(`lab '${plan.name}' has no management network for the new node(s): run 'netloom lab down --name ${plan.name}' first`);
  // The new nodes' management addresses and host veths, beside the running nodes' own.
  const ips = mgmt ? assignMgmt(plan, ext.nodes, mgmt.subnet, mgmt.gateway, state.nodes.filter((n) => n.mgmtIpv4).map((n) => ipToInt(n.mgmtIpv4!))) : new Map<string, string>();
  const hostVeths = new Set(state.hostInterfaces);
  let index = 0;
  const freeVeth = () => {
    for (;;) {
      const v = mgmtHostVeth(state.tag, ++index);
      if (!hostVeths.has(v)) return v;
    }
  };
  for (const n of ext.nodes) state.nodes.push(nodeState(plan, n, state.viewRoot!, ips.get(n.name), n.mgmt ? freeVeth() : undefined));
  const planned = new Map(plan.nodes.map((n) => [n.name, n]));
  for (const n of state.nodes) n.interfaces = [...planned.get(n.name)!.interfaces];
  state.links = [...state.links, ...ext.links];
  const existingNs = new Set(readdirSync('/run/netns'));
  const clash = ext.nodes.filter((n) => existingNs.has(n.netns));
  if (clash.length) throw new EnvironmentError(`network namespace(s) ${clash.map((n) => n.netns).join(', ')} already exist (left over or another lab): remove them first`);
  try {
    await buildNodes(state, plan, ext.nodes, ext.links, { fresh: false, mgmt, bridge: state.mgmt?.bridge ?? mgmtBridgeName(state.tag), log, t0 });
  } catch (e) {
    writeLabState(state);
    const why = e instanceof Error ? e.message : String(e);
    throw new EnvironmentError(`lab '${plan.name}': adding ${[...ext.nodes.map((n) => n.name), ...ext.links.map(linkKey)].join(', ')} failed (${why}); the lab holds what was made: 'netloom lab down --name ${plan.name}' removes it all`);
  }
  state.planHash = planHash(plan);
  writeLabState(state);
  log(`lab ${plan.name} extended: ${ext.nodes.length} node(s) (${ext.nodes.map((n) => n.name).join(', ') || 'none'}), ${ext.links.length} link(s) in ${Date.now() - t0} ms`);
  return { state, outcome: 'extended' };
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFail: true });
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Processes whose mount namespace has this inode. */
function pidsInMountNs(ino: number): number[] {
  if (!ino) return [];
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (statSync(`/proc/${p}/ns/mnt`).ino === ino) out.push(Number(p));
    } catch {
      /* exited */
    }
  }
  return out;
}

async function removeViews(state: LabState): Promise<void> {
  const root = state.viewRoot;
  if (!root || !existsSync(root)) return;
  const mounted = (): string[] =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && (m === root || m.startsWith(root + '/')));
  // Deepest first: the namespace files, then the tmpfs itself.
  for (const m of mounted().sort((a, b) => b.length - a.length)) await run('umount', [m], { allowFail: true });
  const left = mounted();
  if (left.length) for (const m of left.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m], { allowFail: true });
  rmSync(root, { recursive: true, force: true });
  for (const d of [VIEW_ROOT, path.dirname(VIEW_ROOT)]) {
    try {
      rmdirSync(d);
    } catch {
      /* still used by another lab */
    }
  }
}

/** Removes everything a lab made; safe on a half-created lab and when called twice. */
export async function labDownNetns(state: LabState): Promise<void> {
  state.status = 'stopping';
  if (existsSync(state.stateDir)) writeLabState(state);
  await parallel(state.nodes, CONCURRENCY, async (n) => {
    const pids: number[] = [];
    if (n.frrRunDir && existsSync(n.frrRunDir)) {
      for (const f of readdirSync(n.frrRunDir)) if (f.endsWith('.pid')) {
        const p = readPidFile(path.join(n.frrRunDir, f));
        if (p) pids.push(p);
      }
    }
    const sshdPid = readPidFile(path.join(state.stateDir, 'nodes', n.name, 'sshd.pid'));
    if (sshdPid) pids.push(sshdPid);
    await stopPids(pids);
    // Anything else still living in the namespace or the node's view (exec'd background
    // jobs, captures, processes inside a VRF namespace).
    const rest = [...new Set([...(await netnsPids(n.netns)), ...(n.view ? pidsInMountNs(nsInode(n.view.mnt)) : [])])].filter(pidAlive);
    for (const p of rest) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await stopPids(rest, 500);
  });
  // Unbinding the views ends the nodes' mount namespaces, and with them the VRF namespaces
  // (bound only inside them) and every device those held.
  await removeViews(state);
  const present = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  const batch = state.nodes.filter((n) => present.has(n.netns)).map((n) => `netns delete ${n.netns}`);
  const links = new Set(JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout || '[]').map((l: { ifname: string }) => l.ifname));
  for (const i of [...state.hostInterfaces].reverse()) if (links.has(i)) batch.push(`link delete ${i}`);
  if (batch.length) await run('ip', ['-force', '-batch', '-'], { input: batch.join('\n') + '\n', allowFail: true });
  for (const d of state.frrDirs) rmSync(d, { recursive: true, force: true });
  // Mount points this lab created, unless another lab that is up still binds onto them.
  const others = listLabs().filter((l) => l !== state.name).flatMap((l) => readLabState(l) ?? []);
  const othersUse = new Set(others.flatMap((o) => [...o.createdPaths, ...(o.mountPoints ?? [])]));
  for (const p of [...state.createdPaths].reverse()) {
    if (othersUse.has(p)) {
      // Left for a lab that binds onto it, which removes it when it goes down in turn.
      const heir = others.find((o) => o.mountPoints?.includes(p) && !o.createdPaths.includes(p));
      if (heir) {
        // Before what lies below it: paths are removed in reverse order.
        heir.createdPaths = [...heir.createdPaths.filter((x) => !x.startsWith(`${p}/`)), p, ...heir.createdPaths.filter((x) => x.startsWith(`${p}/`))];
        writeLabState(heir);
      }
      continue;
    }
    try {
      if (statSync(p).isDirectory()) rmSync(p, { recursive: true, force: true });
      else unlinkSync(p);
    } catch {
      /* gone */
    }
  }
  releaseMgmtClaim(state);
  rmSync(state.stateDir, { recursive: true, force: true });
  try {
    rmdirSync(path.dirname(state.stateDir));
  } catch {
    /* other labs remain */
  }
}
