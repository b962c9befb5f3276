/**
 * A lab can be tied to a process that holds it for its lifetime (a test run sets
 * NETLOOM_LAB_HOLDER_PID). When that process was killed before it took its labs down, the labs
 * are orphans: the next run reclaims them instead of failing on "already up". Labs without a
 * holder (a user's `netloom lab up`) are never touched.
 */
import { pidAlive, procStat } from './proc.ts';

export interface LabHolder {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22): a reused pid is another process. */
  startTicks: string;
}

/** The holder named by the environment, if any and if it is a live process. */
export function holderFromEnv(env: NodeJS.ProcessEnv = process.env): LabHolder | undefined {
  const pid = Number(env.NETLOOM_LAB_HOLDER_PID);
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const ticks = procStat(pid)?.startTicks;
  return ticks ? { pid, startTicks: ticks } : undefined;
}

/** Gone: no such process, a zombie, or another process with the pid since. */
export function holderGone(holder: LabHolder): boolean {
  return !pidAlive(holder.pid) || procStat(holder.pid)?.startTicks !== holder.startTicks;
}
