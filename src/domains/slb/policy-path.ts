/**
 * What the policies at the leaves (every domain's verify.pathVerdict: a firewall's) do to the
 * load balancer's own connections: from a node to a pool member (health checks and traffic),
 * and from a client to a VIP. The static member check and the live check's choice of clients
 * ask the same question.
 */
import type { Endpoint, FabricModel } from '../../model/types.ts';
import type { Packet } from '../../verify/packet-set/packet-set.ts';
import { pathDenial } from '../index.ts';
import type { SlbModel, SlbNodeLeg, SlbService } from './model.ts';

/** A typical ephemeral source port of a connection (rules matching source ports are judged with it). */
const CLIENT_PORT = 40000;

/** A service node's leg (a load balancer's, a DNS server's) as an endpoint named `name` on one of its leaves: what the fabric's pair check takes. */
export function legEndpoint(model: FabricModel, name: string, leg: SlbNodeLeg, leaf: string): Endpoint | undefined {
  const net = model.networks.find((n) => n.name === leg.network);
  if (!net) return undefined;
  return { name, leaf, port: '', vlan: net.vlan, tagged: false, network: net.name, vrf: net.vrf, tenant: net.tenant, l2vni: net.l2vni, ipv4: leg.ipv4, ipv6: leg.ipv6, mac: '', source: leg.source };
}

/**
 * The first policy on the pair's leaves that stops a TCP connection from `a` (address `from`)
 * to `to`:`port` at `b`, or its replies, in words; undefined when it passes.
 */
export function connectionDenial(model: FabricModel, a: Endpoint, b: Endpoint, forwarding: 'bridged' | 'routed', from: string | undefined, to: string, port: number): string | undefined {
  const src = from?.split('/')[0];
  if (!src) return undefined;
  const family = to.includes(':') ? 6 : 4;
  const syn: Packet = { family, src, dst: to, protocol: 6, srcPort: CLIENT_PORT, dstPort: port, state: 'new' };
  const how = (x: 'drop' | 'reject') => (x === 'drop' ? 'dropped' : 'rejected');
  const request = pathDenial(model, a, b, forwarding, syn);
  if (request) return `the connection is ${how(request.action)}: ${request.text}`;
  const reply = pathDenial(model, b, a, forwarding, { ...syn, src: to, dst: src, srcPort: port, dstPort: CLIENT_PORT, state: 'established' });
  return reply && `its replies are ${how(reply.action)}: ${reply.text}`;
}

/** Why the policies keep `client` from the service's VIP on `port` at some leg of its nodes; undefined when they let it through at every one. */
export function vipDenial(model: FabricModel, m: SlbModel, s: SlbService, vip: string, port: number, client: Endpoint): string | undefined {
  for (const nn of s.nodes) {
    const node = m.nodes.find((n) => n.name === nn);
    const leg = node?.legs.find((l) => l.vrf === s.vrf);
    if (!node || !leg) continue;
    for (const leaf of node.attach) {
      const me = legEndpoint(model, node.name, leg, leaf);
      // A VIP is no address of a network: always routed to the node.
      const denied = me && connectionDenial(model, client, me, 'routed', vip.includes(':') ? client.ipv6 : client.ipv4, vip, port);
      if (denied) return denied;
    }
  }
  return undefined;
}
