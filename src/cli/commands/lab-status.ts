import type { Command } from '../command.ts';
import { boolOpt, stringOpt } from '../command.ts';
import { labStatus } from '../../lab/index.ts';

export const labStatusCommand: Command = {
  name: 'lab status',
  summary: 'nodes, daemons and BGP/OSPF neighbours of a lab',
  usage: 'netloom lab status [--name NAME] [--json]',
  options: { name: { type: 'string', arg: 'NAME', help: 'the lab (default: the only lab up)' }, json: { type: 'boolean', help: 'print the status as JSON' } },
  async run(ctx) {
    const st = await labStatus(stringOpt(ctx, 'name'));
    if (boolOpt(ctx, 'json')) {
      ctx.out(JSON.stringify(st, null, 2));
      return 0;
    }
    ctx.out(`lab ${st.name} (${st.runtime}, ${st.status})${st.mgmt ? `  mgmt ${st.mgmt.subnet} on ${st.mgmt.bridge}` : ''}`);
    for (const n of st.nodes) {
      const daemons = n.daemons.map((d) => `${d.name}${d.alive ? '' : '(down)'}`).join(' ');
      ctx.out(`  ${n.name.padEnd(10)} ${n.role.padEnd(6)} ${n.namespace ? 'ns ok' : 'ns MISSING'}  mgmt ${n.mgmtIpv4 ?? '-'}${n.sshd ? ` sshd ${n.sshd.alive ? 'up' : 'DOWN'}` : ''}  ${daemons}`);
      for (const b of n.bgp) ctx.out(`      bgp  ${b.peer}${b.vrf !== 'default' ? ` vrf ${b.vrf}` : ''}  as ${b.remoteAs ?? '?'}  ${b.hostname ?? ''}  ${b.state}`);
      for (const o of n.ospf) ctx.out(`      ospf ${o.routerId} on ${o.iface} (${o.address})  ${o.state}`);
      for (const e of n.errors) ctx.out(`      error: ${e}`);
    }
    return 0;
  },
};
