/**
 * A lab can be tied to a process that holds it for its lifetime (a test run sets
 * NETLOOM_LAB_HOLDER_PID). When that process was killed before it took its labs down, the labs
 * are orphans: the next run reclaims them instead of failing on "already up". Labs without a
 * holder (a user's `netloom lab up`) are never touched.
 */
import { readFileSync } from 'node:fs';

export interface LabHolder {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22): a reused pid is another process. */
  startTicks: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command start at field 3 (state); starttime is field 22.
    return fields[22 - 3];
  } catch {
    return undefined;
  }
}

/** The holder named by the environment, if any and if it is a live process. */
export function holderFromEnv(env: NodeJS.ProcessEnv = process.env): LabHolder | undefined {
  const pid = Number(env.NETLOOM_LAB_HOLDER_PID);
  if (!Number.isInteger(pid) || pid < 1) return undefined;
  const ticks = startTicks(pid);
  return ticks ? { pid, startTicks: ticks } : undefined;
}

export function holderGone(holder: LabHolder): boolean {
  return startTicks(holder.pid) !== holder.startTicks;
}
