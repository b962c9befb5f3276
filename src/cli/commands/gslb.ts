/** `netloom gslb query`: what a GSLB name answers a client when pools are down, from the model. */
import type { Command } from '../command.ts';
import { boolOpt, stringListOpt, stringOpt } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { loadModelSync } from '../../model/index.ts';
import type { GslbModel, RecordType } from '../../domains/gslb/model.ts';
import { queryGslb, queryLines } from '../../domains/gslb/query.ts';
import { intentDirArg } from '../intent-dir.ts';

export const gslbQueryCommand: Command = {
  name: 'gslb query',
  summary: 'the answer a GSLB name gives a client subnet, with pools taken down, predicted from the model',
  usage: 'netloom gslb query NAME [DIR] [--from SUBNET] [--down POOL]... [--type A|AAAA] [--json]',
  options: {
    from: { type: 'string', arg: 'SUBNET', help: 'the client: its address, or the EDNS Client Subnet a resolver sends' },
    down: { type: 'string', arg: 'POOL', multiple: true, help: 'a pool (or member address) taken as down' },
    type: { type: 'string', choices: ['A', 'AAAA'], default: 'A', help: 'record type' },
    json: { type: 'boolean', help: 'the answer as JSON' },
  },
  notes: ['When no member is healthy every member counts as up (PowerDNS fails open).', 'exit 0 with the answer, 2 on a usage error'],
  async run(ctx) {
    const [name, dir, extra] = ctx.positionals;
    if (!name || extra !== undefined) throw new UsageError(`${name ? `unexpected argument '${extra}'` : 'NAME is required'}\nusage: ${this.usage}`);
    const model = loadModelSync(intentDirArg(dir, 'gslb query'));
    const m = model.domains.gslb as GslbModel | undefined;
    if (!m) throw new UsageError(`${model.name} has no gslb: section`);
    const r = queryGslb(m, { name, type: stringOpt(ctx, 'type') as RecordType, from: stringOpt(ctx, 'from'), down: stringListOpt(ctx, 'down') });
    if ('error' in r) throw new UsageError(r.error);
    if (boolOpt(ctx, 'json')) ctx.out(JSON.stringify(r, null, 2));
    else for (const l of queryLines(r)) ctx.out(l);
    return 0;
  },
};
