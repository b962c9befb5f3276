/** Collector through the lab API's exec: runs vtysh inside the node (no SSH needed). */
import { labExec, type LabState } from '../../lab/index.ts';
import type { Collector, CommandResult, RunOptions } from './collector.ts';

export class LabExecCollector implements Collector {
  readonly name: string;
  readonly shell = true;
  private readonly state: LabState;
  constructor(state: LabState) {
    this.state = state;
    this.name = `lab:${state.name} (exec)`;
  }
  async run(device: string, command: string, opts: RunOptions = {}): Promise<CommandResult> {
    const r = await labExec(this.state, device, opts.shell ? ['sh', '-c', command] : ['vtysh', '-c', command], { timeoutMs: 20_000 });
    if (r.code !== 0) return { ok: false, stdout: r.stdout, error: (r.stderr || r.stdout).trim().split('\n')[0] || `exit ${r.code}` };
    return { ok: true, stdout: r.stdout };
  }
  async close(): Promise<void> {}
}
