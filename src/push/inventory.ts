/**
 * Inventory: which address, port, transport, credentials reference and host-key pin each
 * device is reached by. A YAML file (zod-validated, errors as file:line:col like intents) or
 * built from a running lab (`--target lab[:NAME]`). Credentials are references only: a key
 * file path, the name of an environment variable holding a password, or the ssh-agent; the
 * secret itself never appears in an inventory, a journal or a log line.
 *
 *   defaults: { username: root, credentials: { key_file: ~/.ssh/id_ed25519 }, host_key: { known_hosts: ./known_hosts } }
 *   devices:
 *     leaf1: { address: 192.0.2.1, transport: ssh, host_key: { fingerprint: "SHA256:..." } }
 *     leaf2: { address: 192.0.2.2, port: 830, transport: netconf, credentials: { password_env: LEAF2_PW } }
 */
import { existsSync } from 'node:fs';
import { LIMITS, readTextBounded } from '../util/safe-path.ts';
import { homedir } from 'node:os';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { IntentError, type Diagnostic, type SourceLocation } from '../util/errors.ts';
import { issueToDiagnostics, sortDiagnostics } from '../intent/issue-diagnostics.ts';
import type { Locator } from '../intent/validate.ts';
import type { LabState } from '../lab/state.ts';
import type { CredentialsInit, HostKeyPolicy } from './netconf/index.ts';
import type { FrrPaths } from './frr-driver.ts';
import type { Transport } from './driver.ts';
import { DeviceError } from './errors.ts';

export interface CredentialRef {
  keyFile?: string;
  keyFileEnv?: string;
  passwordEnv?: string;
  passphraseEnv?: string;
  agent?: boolean;
}

export interface InventoryDevice {
  name: string;
  address: string;
  port: number;
  transport: Transport;
  username: string;
  credentials: CredentialRef;
  hostKey: HostKeyPolicy;
  paths?: Partial<FrrPaths>;
  source?: SourceLocation;
}

export interface Inventory {
  /** Where it came from: a file path or `lab:NAME`. */
  origin: string;
  devices: InventoryDevice[];
}

const credSchema = z
  .object({
    key_file: z.string().min(1).optional(),
    key_file_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    password_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    passphrase_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    agent: z.boolean().optional(),
    password: z.never({ error: 'passwords are not written into inventories: name an environment variable with password_env' }).optional(),
  })
  .strict();

const hostKeySchema = z
  .object({
    fingerprint: z.union([z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'a SHA256:... fingerprint as ssh-keygen -lf prints it'), z.array(z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/))]).optional(),
    known_hosts: z.string().min(1).optional(),
  })
  .strict();

const pathsSchema = z
  .object({ frr_conf: z.string().optional(), network_script: z.string().optional(), state_dir: z.string().optional(), frr_reload: z.string().optional() })
  .strict();

const deviceSchema = z
  .object({
    address: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    transport: z.enum(['ssh', 'netconf']),
    username: z.string().min(1).optional(),
    credentials: credSchema.optional(),
    host_key: hostKeySchema.optional(),
    paths: pathsSchema.optional(),
  })
  .strict();

const fileSchema = z
  .object({
    defaults: z.object({ username: z.string().optional(), credentials: credSchema.optional(), host_key: hostKeySchema.optional(), paths: pathsSchema.optional() }).strict().optional(),
    devices: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a device name'), deviceSchema),
  })
  .strict();

function expandPath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(homedir(), p.slice(1));
  return path.resolve(base, p);
}

function locate(doc: ReturnType<typeof parseDocument>, lc: LineCounter, file: string, p: PropertyKey[], atKey = false): SourceLocation {
  let node: unknown = doc.contents;
  for (const [idx, k] of p.entries()) {
    if (atKey && idx === p.length - 1 && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === k);
      if (pair && isScalar(pair.key)) node = pair.key;
      break;
    }
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const next = (node as unknown as { get(k: unknown, keep: true): unknown }).get(typeof k === 'symbol' ? String(k) : k, true);
    if (next === undefined) {
      // An unknown key: point at the key itself.
      const pair = isMap(node) ? node.items.find((it) => isScalar(it.key) && it.key.value === k) : undefined;
      if (pair && isScalar(pair.key) && pair.key.range) node = pair.key;
      break;
    }
    node = next;
  }
  const range = (node as YamlNode | undefined)?.range;
  const pos = lc.linePos(range?.[0] ?? 0);
  return { file, line: pos.line, col: pos.col };
}

export function loadInventory(file: string): Inventory {
  if (!existsSync(file)) throw new IntentError([{ loc: { file, line: 1, col: 1 }, message: 'inventory file not found' }]);
  const text = readTextBounded(file, LIMITS.inventory, 'the inventory');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    throw new IntentError(
      doc.errors.map((e) => {
        const p = lc.linePos(e.pos[0]);
        return { loc: { file, line: p.line, col: p.col }, message: e.message.split('\n')[0] };
      }),
    );
  }
  const raw: unknown = doc.toJS();
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    // The intent's wording ("required key 'address' is missing", "unknown key 'host'").
    const at: Locator = { at: (p, key = false) => locate(doc, lc, file, [...p], key) };
    throw new IntentError(sortDiagnostics(parsed.error.issues.flatMap((i) => issueToDiagnostics(i, raw, at))));
  }
  const base = path.dirname(path.resolve(file));
  const d = parsed.data.defaults ?? {};
  const devices: InventoryDevice[] = [];
  const diags: Diagnostic[] = [];
  for (const [name, v] of Object.entries(parsed.data.devices)) {
    const c = { ...(d.credentials ?? {}), ...(v.credentials ?? {}) };
    const hk = v.host_key ?? d.host_key ?? {};
    const loc = locate(doc, lc, file, ['devices', name]);
    const credentials: CredentialRef = {};
    if (c.key_file) credentials.keyFile = expandPath(c.key_file, base);
    if (c.key_file_env) credentials.keyFileEnv = c.key_file_env;
    if (c.password_env) credentials.passwordEnv = c.password_env;
    if (c.passphrase_env) credentials.passphraseEnv = c.passphrase_env;
    if (c.agent) credentials.agent = true;
    if (!credentials.keyFile && !credentials.keyFileEnv && !credentials.passwordEnv && !credentials.agent) {
      diags.push({ loc, message: `devices.${name}: no credentials (key_file, key_file_env, password_env or agent), here or in defaults` });
    }
    const fps = hk.fingerprint === undefined ? [] : Array.isArray(hk.fingerprint) ? hk.fingerprint : [hk.fingerprint];
    if (!fps.length && !hk.known_hosts) diags.push({ loc, message: `devices.${name}: no host key pin (host_key.fingerprint or host_key.known_hosts), here or in defaults` });
    const hostKey: HostKeyPolicy = {};
    if (fps.length) hostKey.fingerprints = fps;
    if (hk.known_hosts) hostKey.knownHostsFile = expandPath(hk.known_hosts, base);
    const p = { ...(d.paths ?? {}), ...(v.paths ?? {}) };
    const paths: Partial<FrrPaths> = {};
    if (p.frr_conf) paths.frrConf = p.frr_conf;
    if (p.network_script) paths.networkScript = p.network_script;
    if (p.state_dir) paths.stateDir = p.state_dir;
    if (p.frr_reload) paths.frrReload = p.frr_reload;
    devices.push({
      name,
      address: v.address,
      port: v.port ?? (v.transport === 'netconf' ? 830 : 22),
      transport: v.transport,
      username: v.username ?? d.username ?? 'root',
      credentials,
      hostKey,
      paths,
      source: loc,
    });
  }
  if (diags.length) throw new IntentError(diags);
  return { origin: path.resolve(file), devices };
}

/** The FRR nodes of a running lab, reached over their sshd with the lab's key and recorded host keys. */
export function inventoryFromLab(state: LabState): Inventory {
  const devices: InventoryDevice[] = [];
  for (const n of state.nodes) {
    if (n.role !== 'router' || !n.mgmtIpv4) continue;
    const hostKey: HostKeyPolicy = {};
    if (n.hostKeyFingerprint) hostKey.fingerprints = [n.hostKeyFingerprint];
    else hostKey.knownHostsFile = state.ssh.knownHosts;
    devices.push({
      name: n.name,
      address: n.mgmtIpv4,
      port: n.sshPort,
      transport: 'ssh',
      username: n.sshUser,
      credentials: { keyFile: state.ssh.privateKey },
      hostKey,
      // The node's /etc/frr is its own (a per-node directory of the host), unlike /var/lib.
      paths: { stateDir: '/etc/frr/netloom' },
    });
  }
  return { origin: `lab:${state.name}`, devices };
}

/** Resolves a credential reference at connect time; errors name the reference, never a secret. */
export function credentialsFor(dev: InventoryDevice, env: NodeJS.ProcessEnv = process.env): CredentialsInit {
  const c: CredentialsInit = { username: dev.username };
  const r = dev.credentials;
  const need = (v: string): string => {
    const x = env[v];
    if (!x) throw new DeviceError(dev.name, 'auth', `${dev.name}: environment variable ${v} (named by the inventory) is not set`);
    return x;
  };
  if (r.passwordEnv) c.password = need(r.passwordEnv);
  if (r.keyFile) c.privateKeyFile = r.keyFile;
  if (r.keyFileEnv) c.privateKeyFile = need(r.keyFileEnv);
  if (r.passphraseEnv) c.passphrase = need(r.passphraseEnv);
  if (r.agent) c.agent = true;
  return c;
}
