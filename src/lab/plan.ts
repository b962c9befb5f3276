import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { IntentError, type Diagnostic } from '../util/errors.ts';
import type { ClabEndpointObject, ClabNodeConfig } from './clab-types.ts';
import type { ParsedClab } from './clab-parse.ts';
import { isSafeName, isValidIfname, labTag, nodeNetns } from './names.ts';
import { cidrString, contains, ipToInt, parseCidr } from './ipv4.ts';

/**
 * A containerlab topology resolved into what the namespace driver creates: inheritance
 * (defaults < kinds < groups < node) applied, bind paths made absolute, every node classified
 * as an FRR router or a plain host, and everything it cannot run rejected up front, before a
 * single namespace exists.
 */
export type NodeRole = 'router' | 'host';

export interface BindSpec {
  source: string;
  target: string;
  readOnly: boolean;
  isDir: boolean;
}

export interface PlannedNode {
  name: string;
  /** 1-based position in the file; names host-side interfaces. */
  index: number;
  kind: string;
  image: string;
  role: NodeRole;
  netns: string;
  hostname: string;
  binds: BindSpec[];
  exec: string[];
  env: Record<string, string>;
  sysctls: Record<string, string>;
  /** The node's main process (entrypoint + cmd, split as a shell would), run in the background once the node is up. */
  main?: string[];
  /** Seconds after the start of the lab before this node is started (containerlab startup-delay). */
  startupDelayS: number;
  /** false for network-mode: none (no eth0, no sshd). */
  mgmt: boolean;
  mgmtIpv4?: string;
  /** Data-plane interfaces from the links, in file order. */
  interfaces: string[];
}

export interface PlannedLink {
  a: { node: string; iface: string };
  b: { node: string; iface: string };
  mtu: number;
}

export interface LabPlan {
  name: string;
  tag: string;
  nodes: PlannedNode[];
  links: PlannedLink[];
  mgmt: { subnet?: string; gateway?: string };
  file?: string;
  baseDir: string;
  /**
   * Built by netloom from an intent (its nodes carry `netloom.*` labels): only then does the
   * lab follow netloom's own conventions (VRFs as namespaces run by network.sh, waiting for L3
   * VNIs). A topology written by others is run as containerlab runs it, and nothing is awaited.
   */
  generated: boolean;
}

/** containerlab gives veth links MTU 9500 unless told otherwise. */
const DEFAULT_LINK_MTU = 9500;
const FRR_IMAGE = /(^|[/_-])frr(outing)?([:/_-]|$)/i;
const HOST_IMAGES = /^(alpine|busybox|debian|ubuntu|netshoot|network-multitool|centos|fedora|rockylinux|almalinux|archlinux|python)$/i;

export function classifyImage(image: string): NodeRole | undefined {
  if (FRR_IMAGE.test(image) || /frrouting/i.test(image)) return 'router';
  const last = image.replace(/@.*$/, '').split('/').pop()!.replace(/:.*$/, '');
  return HOST_IMAGES.test(last) ? 'host' : undefined;
}

function stringMap(v: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v ?? {})) out[k] = String(x);
  return out;
}

/** `src:dst[:ro|rw|...]`, the docker bind syntax containerlab uses. */
function parseBind(spec: string): { source: string; target: string; readOnly: boolean } | undefined {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) return undefined;
  const opts = (parts[2] ?? '').split(',');
  return { source: parts[0], target: parts[1], readOnly: opts.includes('ro') };
}

/**
 * Splits a command line as a POSIX shell would (quotes, backslash escapes), without expansion:
 * what docker does with a string CMD/ENTRYPOINT in a containerlab file. Undefined when a quote
 * is left open.
 */
export function splitCommandLine(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) out.push(cur);
  return out;
}

export interface PlanOptions {
  /** Lab name override (`--name`); defaults to the topology's name. */
  name?: string;
}

export function planLab(parsed: ParsedClab, opts: PlanOptions = {}): LabPlan {
  const t = parsed.topology;
  const file = parsed.file ?? '<topology>';
  const diags: Diagnostic[] = [];
  const at = (segs: (string | number)[]) => parsed.locate?.(segs) ?? { line: 1, col: 1 };
  const fail = (segs: (string | number)[], message: string) => diags.push({ loc: { file, ...at(segs) }, message });

  const name = opts.name ?? t.name;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || name.length > 32) {
    fail(['name'], `lab name '${name}' must be 1-32 characters of letters, digits, '_', '.', '-'`);
  }
  const topo = t.topology;
  const defaults = topo.defaults ?? {};
  const nodes: PlannedNode[] = [];
  let index = 0;
  for (const [nodeName, raw] of Object.entries(topo.nodes ?? {})) {
    index++;
    const n: ClabNodeConfig = raw ?? {};
    const segs = ['topology', 'nodes', nodeName];
    if (!isSafeName(nodeName)) fail(segs, `node name '${nodeName}' must be letters, digits, '_', '.', '-' (it names a network namespace)`);
    const group: ClabNodeConfig = n.group ? topo.groups?.[n.group] ?? {} : {};
    if (n.group && !topo.groups?.[n.group]) fail([...segs, 'group'], `node '${nodeName}' refers to undefined group '${n.group}'`);
    const kindName = n.kind ?? group.kind ?? defaults.kind;
    const kind: ClabNodeConfig = kindName ? topo.kinds?.[kindName] ?? {} : {};
    const layers = [defaults, kind, group, n];
    const pick = <K extends keyof ClabNodeConfig>(k: K): ClabNodeConfig[K] | undefined => {
      for (let i = layers.length - 1; i >= 0; i--) if (layers[i][k] !== undefined) return layers[i][k];
      return undefined;
    };
    if (!kindName) {
      fail(segs, `node '${nodeName}' has no kind (set kind on the node, its group or topology.defaults)`);
      continue;
    }
    if (kindName !== 'linux') {
      fail([...segs, 'kind'], `node '${nodeName}': kind '${kindName}' cannot run in netloom's namespace lab (supported: linux nodes with an FRR image, or plain Linux hosts such as alpine)`);
      continue;
    }
    const image = pick('image');
    if (!image) {
      fail(segs, `node '${nodeName}' (kind linux) has no image`);
      continue;
    }
    const role = classifyImage(image);
    if (!role) {
      fail([...segs, 'image'], `node '${nodeName}': image '${image}' is neither FRR nor a plain Linux host image (alpine, debian, ubuntu, busybox, netshoot...); the namespace lab runs FRR from the host's frr package, not container images`);
      continue;
    }
    const networkMode = pick('network-mode');
    if (networkMode !== undefined && networkMode !== 'none' && networkMode !== 'bridge') {
      fail([...segs, 'network-mode'], `node '${nodeName}': network-mode '${networkMode}' is not supported (it would share a namespace outside the lab)`);
    }
    const binds = new Map<string, BindSpec>();
    for (const layer of layers) {
      for (const spec of layer.binds ?? []) {
        const b = parseBind(spec);
        if (!b) {
          fail([...segs, 'binds'], `node '${nodeName}': bind '${spec}' is not 'source:target[:ro]'`);
          continue;
        }
        if (!path.isAbsolute(b.target)) {
          fail([...segs, 'binds'], `node '${nodeName}': bind target '${b.target}' must be an absolute path`);
          continue;
        }
        const source = path.resolve(parsed.baseDir, b.source.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
        if (!existsSync(source)) {
          fail([...segs, 'binds'], `node '${nodeName}': bind source '${b.source}' does not exist (resolved to ${source})`);
          continue;
        }
        binds.set(path.normalize(b.target), { source, target: path.normalize(b.target), readOnly: b.readOnly, isDir: statSync(source).isDirectory() });
      }
    }
    const mgmtIpv4 = pick('mgmt-ipv4');
    const main: string[] = [];
    for (const key of ['entrypoint', 'cmd'] as const) {
      const line = pick(key);
      if (line === undefined || line === '') continue;
      const argv = typeof line === 'string' ? splitCommandLine(line) : undefined;
      if (!argv) fail([...segs, key], `node '${nodeName}': ${key} '${String(line)}' is not a command line (unbalanced quotes)`);
      else main.push(...argv);
    }
    const delay = pick('startup-delay');
    if (delay !== undefined && !(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0)) {
      fail([...segs, 'startup-delay'], `node '${nodeName}': startup-delay must be a number of seconds >= 0`);
    }
    nodes.push({
      name: nodeName,
      index,
      kind: kindName,
      image,
      role,
      netns: nodeNetns(name, nodeName),
      hostname: pick('hostname') ?? nodeName,
      binds: [...binds.values()],
      exec: layers.flatMap((l) => l.exec ?? []),
      env: Object.assign({}, ...layers.map((l) => stringMap(l.env))),
      sysctls: Object.assign({}, ...layers.map((l) => stringMap(l.sysctls as Record<string, unknown>))),
      main: main.length ? main : undefined,
      startupDelayS: typeof delay === 'number' && delay > 0 ? delay : 0,
      mgmt: networkMode !== 'none',
      mgmtIpv4: typeof mgmtIpv4 === 'string' ? mgmtIpv4 : undefined,
      interfaces: [],
    });
  }
  if (index === 0) fail(['topology', 'nodes'], 'topology has no nodes');

  const byName = new Map(nodes.map((n) => [n.name, n]));
  const links: PlannedLink[] = [];
  (topo.links ?? []).forEach((l, i) => {
    const segs = ['topology', 'links', i];
    if (l.type !== undefined && l.type !== 'veth') {
      fail(segs, `link ${i + 1}: type '${l.type}' is not supported (only veth links between lab nodes; nothing may reach the host or outside)`);
      return;
    }
    const eps = (l.endpoints ?? []).map((e) => {
      if (typeof e === 'string') {
        const c = e.indexOf(':');
        return c > 0 ? { node: e.slice(0, c), iface: e.slice(c + 1) } : { node: e, iface: '' };
      }
      const o = e as ClabEndpointObject;
      return { node: o.node, iface: o.interface };
    });
    if (eps.length !== 2) {
      fail(segs, `link ${i + 1}: needs exactly two endpoints`);
      return;
    }
    for (const ep of eps) {
      if (['host', 'mgmt-net', 'macvlan', 'ovs-bridge'].includes(ep.node)) {
        fail(segs, `link ${i + 1}: endpoint '${ep.node}:${ep.iface}' leaves the lab (links to the host or the management network are not supported)`);
        return;
      }
      const node = byName.get(ep.node);
      if (!node) {
        // A node that exists but was rejected already has its own diagnostic.
        if (!(ep.node in (topo.nodes ?? {}))) fail(segs, `link ${i + 1}: endpoint node '${ep.node}' is not defined in topology.nodes`);
        return;
      }
      if (!isValidIfname(ep.iface)) {
        fail(segs, `link ${i + 1}: interface name '${ep.iface}' of node '${ep.node}' must be 1-15 characters without '/', ':' or spaces`);
        return;
      }
      if (ep.iface === 'eth0' && node.mgmt) {
        fail(segs, `link ${i + 1}: '${ep.node}:eth0' is the management interface (use eth1 and up, or network-mode: none)`);
        return;
      }
      if (ep.iface === 'lo' || node.interfaces.includes(ep.iface)) {
        fail(segs, `link ${i + 1}: interface '${ep.node}:${ep.iface}' is used twice`);
        return;
      }
      node.interfaces.push(ep.iface);
    }
    links.push({ a: eps[0], b: eps[1], mtu: typeof l.mtu === 'number' ? l.mtu : DEFAULT_LINK_MTU });
  });

  const mgmt: LabPlan['mgmt'] = {};
  const subnet = t.mgmt?.['ipv4-subnet'];
  if (subnet && subnet !== 'auto') {
    try {
      const c = parseCidr(subnet);
      if (c.prefix > 29) throw new Error(`management subnet ${subnet} is too small`);
      mgmt.subnet = cidrString(c);
      const gw = t.mgmt?.['ipv4-gw'];
      if (gw) {
        if (!contains(c, ipToInt(gw))) throw new Error(`ipv4-gw ${gw} is outside ${subnet}`);
        mgmt.gateway = gw;
      }
      for (const n of nodes) {
        if (n.mgmtIpv4 && !contains(c, ipToInt(n.mgmtIpv4))) fail(['topology', 'nodes', n.name, 'mgmt-ipv4'], `node '${n.name}': mgmt-ipv4 ${n.mgmtIpv4} is outside the management subnet ${subnet}`);
      }
    } catch (e) {
      fail(['mgmt'], (e as Error).message);
    }
  } else if (nodes.some((n) => n.mgmtIpv4)) {
    // containerlab's default management network.
    mgmt.subnet = '172.20.20.0/24';
  }
  const seen = new Map<string, string>();
  for (const n of nodes) {
    if (!n.mgmtIpv4) continue;
    if (seen.has(n.mgmtIpv4)) fail(['topology', 'nodes', n.name, 'mgmt-ipv4'], `node '${n.name}': mgmt-ipv4 ${n.mgmtIpv4} is also used by '${seen.get(n.mgmtIpv4)}'`);
    seen.set(n.mgmtIpv4, n.name);
  }
  if (diags.length) throw new IntentError(diags);
  const generated = Object.values(topo.nodes ?? {}).some((n) => n?.labels && 'netloom.role' in n.labels);
  return { name, tag: labTag(name), nodes, links, mgmt, file: parsed.file, baseDir: parsed.baseDir, generated };
}
