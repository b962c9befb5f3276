import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { labDown, labUp, waitConverged } from '../../src/lab/index.ts';
import { topologyFromModel } from '../../src/lab/topology-from-model.ts';
import { inCI } from '../support/ci.ts';

/** Lab tests need root, iproute2 and FRR; under CI they must run, elsewhere they skip saying why. */
export function labSkipReason(): string | undefined {
  if (inCI) return undefined;
  if (process.getuid?.() !== 0) return 'lab tests need root';
  if (!existsSync('/usr/lib/frr/zebra')) return 'lab tests need FRR (apt-get install frr)';
  if (!existsSync('/usr/sbin/sshd')) return 'lab tests need openssh-server';
  return undefined;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function namespaces(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}

export function hostLinks(): string[] {
  return (JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
}

/** Live (non-zombie) processes whose command line mentions `needle`. */
export function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmd.includes(needle) && Number(pid) !== process.pid) out.push(`${pid} ${cmd}`);
    } catch {
      /* exited */
    }
  }
  return out;
}

/**
 * Registers, in the calling describe block, a lab of the intent copy brought up under `name`
 * before its tests (every session converged within `convergeMs`) and taken down after them,
 * the copy removed.
 */
export function intentLab(copy: { dir: string; cleanup: () => void }, name: string, convergeMs = 60_000): void {
  beforeAll(async () => {
    const { topology, baseDir } = await topologyFromModel(copy.dir, { name });
    await labUp(topology as never, { name, baseDir });
    expect((await waitConverged(name, { timeoutMs: convergeMs })).pending).toEqual([]);
  }, convergeMs + 90_000);

  afterAll(async () => {
    await labDown(name).catch(() => false);
    copy.cleanup();
  }, 60_000);
}
