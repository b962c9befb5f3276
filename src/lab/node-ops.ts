import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../util/errors.ts';
import { findNode, getLabState, type LabNodeState, type LabState } from './state.ts';
import { run, type RunResult } from './proc.ts';

export interface ExecResult extends RunResult {}

function resolve(lab: string | LabState | undefined, node: string): { state: LabState; node: LabNodeState } {
  const state = typeof lab === 'object' ? lab : getLabState(lab);
  return { state, node: findNode(state, node) };
}

/**
 * Runs a command inside a node as the node sees itself (`docker exec`): its namespace, hostname,
 * binds and environment and, for FRR nodes, its own /etc/frr and /var/run/frr (so plain `vtysh`
 * talks to its daemons).
 * `stdio: 'inherit'` streams to the caller's terminal (CLI); otherwise output is collected.
 */
export async function labExec(
  lab: string | LabState | undefined,
  nodeName: string,
  argv: string[],
  opts: { inherit?: boolean; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  if (argv.length === 0) throw new UsageError('no command given');
  const { node } = resolve(lab, nodeName);
  const [cmd, ...pre] = node.enter;
  if (opts.inherit) {
    return new Promise((res, rej) => {
      const child = spawn(cmd, [...pre, ...argv], { stdio: 'inherit', env: { ...process.env, ...node.env } });
      child.on('error', (e) => rej(new EnvironmentError(e.message)));
      child.on('close', (code, sig) => res({ code: code ?? (sig ? 128 : 1), stdout: '', stderr: '' }));
    });
  }
  return run(cmd, [...pre, ...argv], { allowFail: true, timeoutMs: opts.timeoutMs, input: opts.input, env: node.env });
}

/** `vtysh -N <pathspace> -c CMD` from the host; parsed JSON when the command ends in `json`. */
export async function vtysh(lab: string | LabState | undefined, nodeName: string, command: string): Promise<string> {
  const { node } = resolve(lab, nodeName);
  if (!node.pathspace) throw new EnvironmentError(`node '${nodeName}' does not run FRR`);
  const r = await run('vtysh', ['-N', node.pathspace, '-c', command], { allowFail: true, timeoutMs: 30_000 });
  if (r.code !== 0) throw new EnvironmentError(`vtysh on ${nodeName} ('${command}') failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface CaptureOptions {
  seconds: number;
  out: string;
  /** tcpdump filter expression, e.g. 'ospf'. */
  filter?: string;
  /** Stop after this many packets (tcpdump -c): with `snaplen`, a bound on the file's size. */
  maxPackets?: number;
  /** Bytes kept of each packet (tcpdump -s). */
  snaplen?: number;
}

/**
 * Captures on a node's interface with tcpdump inside its namespace for `seconds` (counted
 * from the moment tcpdump is listening), then stops it cleanly so the pcap is complete.
 */
export async function labCapture(lab: string | LabState | undefined, target: string, opts: CaptureOptions): Promise<{ file: string; packets: number }> {
  const m = /^([^:]+):(.+)$/.exec(target);
  if (!m) throw new UsageError(`capture target must be NODE:IFACE, got '${target}'`);
  const { node } = resolve(lab, m[1]);
  if (!node.interfaces.includes(m[2]) && m[2] !== 'eth0' && m[2] !== 'any' && m[2] !== 'lo') {
    // Interfaces made by exec lines (bridges, VXLAN) are fine too: let tcpdump decide.
  }
  const file = path.resolve(opts.out);
  const args = ['netns', 'exec', node.netns, 'tcpdump', '-i', m[2], '-U', '-n', '-Z', 'root', '-w', file];
  if (opts.maxPackets) args.push('-c', String(Math.floor(opts.maxPackets)));
  if (opts.snaplen) args.push('-s', String(Math.floor(opts.snaplen)));
  if (opts.filter) args.push(...opts.filter.split(/\s+/));
  return new Promise((res, rej) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!timer && /listening on/.test(stderr)) timer = setTimeout(() => child.kill('SIGINT'), opts.seconds * 1000);
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), opts.seconds * 1000 + 15_000);
    child.on('error', (e) => rej(new EnvironmentError(`tcpdump: ${e.message}`)));
    child.on('close', () => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const cm = /(\d+) packets? captured/.exec(stderr);
      if (!timer || !cm) return rej(new EnvironmentError(`capture on ${target} failed: ${stderr.trim()}`));
      try {
        statSync(file);
      } catch {
        return rej(new EnvironmentError(`capture on ${target} wrote no file`));
      }
      res({ file, packets: Number(cm[1]) });
    });
  });
}
