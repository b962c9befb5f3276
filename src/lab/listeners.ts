/**
 * Small TCP/UDP listeners on an endpoint of a running lab (lab/listener.mjs, run with this
 * host's node inside the endpoint's namespace and view), so service probes can prove what a
 * firewall does with real connections: each answers with one JSON line naming the endpoint,
 * the port and destination address the packet arrived with (after NAT) and the peer it saw.
 *
 * One listener process per endpoint; its pid and ports are recorded in the lab's state
 * directory, so a start with the same ports is a no-op and a start with other ports replaces
 * it. The process lives in the endpoint's namespace and mount view: `lab down`, which kills
 * every process there, takes it down with the lab.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, UsageError } from '../util/errors.ts';
import { labExec } from './node-ops.ts';
import { pidAlive, stopPids } from './proc.ts';
import { findNode, getLabState, type LabState } from './state.ts';

export const LISTENER_PROGRAM = fileURLToPath(new URL('../../lab/listener.mjs', import.meta.url));

export interface ListenerPorts {
  tcp: number[];
  udp: number[];
}

export interface ListenerReply {
  endpoint: string;
  proto: 'tcp' | 'udp';
  /** Destination port and address the packet arrived with (what a DNAT made of them). */
  port: number;
  dst: string;
  /** Source address and port as the endpoint saw them (what a SNAT made of them). */
  peer: string;
  peerPort: number;
}

interface ListenerRecord extends ListenerPorts {
  pid: number;
}

function labOf(lab: string | LabState | undefined): LabState {
  const s = typeof lab === 'object' ? lab : getLabState(lab);
  if (s.runtime !== 'netns') throw new EnvironmentError(`lab '${s.name}': listeners run only in namespace labs (runtime netns), not ${s.runtime}`);
  return s;
}

const recordFile = (lab: LabState, node: string) => path.join(lab.stateDir, 'nodes', node, 'listeners.json');

const norm = (ports: number[]) => [...new Set(ports)].sort((a, b) => a - b);

function readRecord(lab: LabState, node: string): ListenerRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordFile(lab, node), 'utf8')) as ListenerRecord;
    // A recorded pid is ours only while it still runs the listener (pids are reused).
    const cmd = readFileSync(`/proc/${r.pid}/cmdline`, 'utf8');
    return pidAlive(r.pid) && cmd.includes(LISTENER_PROGRAM) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The listener running on `node`, if any. */
export function listenerStatus(lab: string | LabState | undefined, node: string): ListenerRecord | undefined {
  const s = labOf(lab);
  findNode(s, node);
  return readRecord(s, node);
}

/**
 * Starts (or keeps) the listeners of `node` on exactly these ports; returns once every port
 * listens. The lab's management interface (eth0, where sshd listens) is left out.
 */
export async function startListeners(lab: string | LabState | undefined, node: string, ports: ListenerPorts): Promise<{ pid: number; started: boolean }> {
  const s = labOf(lab);
  const n = findNode(s, node);
  const want = { tcp: norm(ports.tcp), udp: norm(ports.udp) };
  for (const p of [...want.tcp, ...want.udp]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UsageError(`listener port ${p} on ${node}: ports are 1-65535`);
  if (!want.tcp.length && !want.udp.length) throw new UsageError(`listeners on ${node}: no port given`);
  const have = readRecord(s, node);
  if (have && JSON.stringify([have.tcp, have.udp]) === JSON.stringify([want.tcp, want.udp])) return { pid: have.pid, started: false };
  if (have) await stopListeners(s, node);
  const argv = [process.execPath, LISTENER_PROGRAM, '--name', node, '--daemon'];
  if (want.tcp.length) argv.push('--tcp', want.tcp.join(','));
  if (want.udp.length) argv.push('--udp', want.udp.join(','));
  if (n.mgmtIpv4) argv.push('--skip-dev', 'eth0');
  const r = await labExec(s, node, argv, { timeoutMs: 20_000 });
  const m = /^ready (\d+)$/m.exec(r.stdout);
  if (r.code !== 0 || !m) throw new EnvironmentError(`listeners on ${node} did not start: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  const pid = Number(m[1]);
  writeFileSync(recordFile(s, node), JSON.stringify({ pid, ...want }) + '\n', { mode: 0o600 });
  return { pid, started: true };
}

/** Stops the listeners of `node`; false when none ran. */
export async function stopListeners(lab: string | LabState | undefined, node: string): Promise<boolean> {
  const s = labOf(lab);
  findNode(s, node);
  const have = readRecord(s, node);
  rmSync(recordFile(s, node), { force: true });
  if (!have) return false;
  await stopPids([have.pid], 2000);
  return true;
}
