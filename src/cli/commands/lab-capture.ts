import type { Command } from '../command.ts';
import { numberOpt, stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { labCapture } from '../../lab/index.ts';

export const labCaptureCommand: Command = {
  name: 'lab capture',
  summary: 'capture packets on a node interface into a pcap file',
  usage: 'netloom lab capture NODE:IFACE --seconds N --out FILE.pcap [--filter EXPR] [--name LAB]',
  options: {
    name: { type: 'string', arg: 'LAB', help: 'the lab (default: the only lab up)' },
    seconds: { type: 'number', min: 0.1, max: 3600, default: 5, help: 'how long to capture' },
    out: { type: 'string', arg: 'FILE.pcap', help: 'capture file to write (required)' },
    filter: { type: 'string', arg: 'EXPR', help: 'tcpdump filter expression' },
  },
  async run(ctx) {
    const target = ctx.positionals[0];
    const out = stringOpt(ctx, 'out');
    if (!target || !out) throw new UsageError(`usage: ${this.usage}`);
    const r = await labCapture(stringOpt(ctx, 'name'), target, { seconds: numberOpt(ctx, 'seconds'), out, filter: stringOpt(ctx, 'filter') });
    ctx.out(`${r.packets} packets written to ${r.file}`);
    return 0;
  },
};
