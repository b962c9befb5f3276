import type { Command } from '../command.ts';
import { boolOpt, numberOpt, stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { listenerStatus, startListeners, stopListeners } from '../../lab/listeners.ts';
import { runServiceProbes, serviceProbeName, type ServiceProbe, type ServiceProto } from '../../verify/live/service-probes.ts';

function ports(s: string | undefined, what: string): number[] {
  if (!s) return [];
  return s.split(',').map((p) => {
    if (!/^\d+$/.test(p.trim())) throw new UsageError(`--${what}: '${p}' is not a port (expected e.g. 80,443)`);
    return Number(p);
  });
}

export const labListenCommand: Command = {
  name: 'lab listen',
  summary: "TCP/UDP listeners on a lab endpoint that answer with what they saw (service probes' peer)",
  usage: 'netloom lab listen NODE [--name LAB] [--tcp P,P...] [--udp P,P...] [--stop]',
  options: {
    name: { type: 'string', arg: 'LAB', help: 'the lab (default: the only lab up)' },
    tcp: { type: 'string', arg: 'PORTS', help: 'TCP ports, comma-separated' },
    udp: { type: 'string', arg: 'PORTS', help: 'UDP ports, comma-separated' },
    stop: { type: 'boolean', help: 'stop the node\'s listeners' },
  },
  notes: ['Without ports and --stop: what the node listens on.'],
  async run(ctx) {
    const node = ctx.positionals[0];
    if (!node || ctx.positionals.length > 1) throw new UsageError(`usage: ${this.usage}`);
    const lab = stringOpt(ctx, 'name');
    if (boolOpt(ctx, 'stop')) {
      ctx.out((await stopListeners(lab, node)) ? `${node}: listeners stopped` : `${node}: no listeners; nothing to do`);
      return 0;
    }
    const tcp = ports(stringOpt(ctx, 'tcp'), 'tcp');
    const udp = ports(stringOpt(ctx, 'udp'), 'udp');
    if (!tcp.length && !udp.length) {
      const s = listenerStatus(lab, node);
      ctx.out(s ? `${node}: tcp ${s.tcp.join(',') || '-'} udp ${s.udp.join(',') || '-'} (pid ${s.pid})` : `${node}: no listeners`);
      return 0;
    }
    const r = await startListeners(lab, node, { tcp, udp });
    ctx.out(`${node}: ${r.started ? 'listening' : 'already listening'} on tcp ${tcp.join(',') || '-'} udp ${udp.join(',') || '-'} (pid ${r.pid})`);
    return 0;
  },
};

export const labProbeCommand: Command = {
  name: 'lab probe',
  summary: 'real connections from a lab endpoint: connected / refused / timeout, and what the listener saw',
  usage: 'netloom lab probe SRC ADDRESS tcp/PORT|udp/PORT|icmp... [--name LAB] [--deadline MS]',
  options: {
    name: { type: 'string', arg: 'LAB', help: 'the lab (default: the only lab up)' },
    deadline: { type: 'number', arg: 'MS', integer: true, min: 1, max: 60_000, default: 2000, help: 'how long a probe waits for an answer' },
  },
  notes: ['Exit status 0 whatever the outcomes: the outcomes are the answer.'],
  async run(ctx) {
    const [src, address, ...services] = ctx.positionals;
    if (!src || !address || !services.length) throw new UsageError(`usage: ${this.usage}`);
    const deadlineMs = numberOpt(ctx, 'deadline');
    const probes: ServiceProbe[] = services.map((s) => {
      const m = /^(tcp|udp)\/(\d+)$|^(icmp)$/.exec(s);
      if (!m) throw new UsageError(`'${s}' is not a service: tcp/PORT, udp/PORT or icmp`);
      return { src, address, proto: (m[1] ?? m[3]) as ServiceProto, ...(m[2] ? { port: Number(m[2]) } : {}), deadlineMs };
    });
    for (const r of await runServiceProbes(stringOpt(ctx, 'name'), probes)) {
      const saw = r.reply ? ` (${r.reply.endpoint} saw ${r.reply.dst} port ${r.reply.port} from ${r.reply.peer})` : r.detail ? ` (${r.detail})` : '';
      ctx.out(`${serviceProbeName(r)}: ${r.outcome}${saw}, ${r.ms} ms`);
    }
    return 0;
  },
};
