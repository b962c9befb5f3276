/**
 * live-slb-answers' comparison (pure) on slb1's model: which members must have answered, given
 * the nodes' runtime weights read before and after the requests.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { compareSlb, type SlbObserved } from '../../../src/domains/slb/live.ts';
import type { ServerStat } from '../../../src/domains/slb/haproxy-runtime.ts';
import { repoRoot } from '../../support/intent-copy.ts';

const model = loadModelSync(path.join(repoRoot, 'intents/slb1'));
const up = (server: string, weight: number): ServerStat => ({ backend: 'shop-web', server, status: 'UP', weight, checkStatus: 'L7OK' });
const onlyH1 = Array.from({ length: 16 }, () => ({ ok: true, member: 'h1', ms: 3 }));
const observed = (healthAfter?: SlbObserved['health']): SlbObserved => ({
  health: ['lb1', 'lb2'].map((node) => ({ node, servers: [up('h1', 3), up('h2', 1)] })),
  ...(healthAfter ? { healthAfter } : {}),
  cases: [{ service: 'shop', vip: '10.10.99.10', listener: { port: 443, protocol: 'https' }, client: 'h3', request: { host: 'shop.example.com', path: '/' }, pool: 'shop-web', why: 'default pool', verified: true, answers: onlyH1 }],
});

describe('live-slb-answers: members required to answer', () => {
  it('a member with a quarter of the weight that never answered 16 requests is missing', () => {
    const r = compareSlb(model, observed()).find((x) => x.check.id === 'live-slb-answers')!;
    expect(r.findings.map((f) => f.message)).toEqual(['shop 10.10.99.10:443/https Host shop.example.com / from h3: h2 never answered in 16 requests (predicted: h1, h2)']);
  });

  it('unless its weight fell meanwhile (its health check flapped: slow start again), as read after the requests', () => {
    const r = compareSlb(model, observed(['lb1', 'lb2'].map((node) => ({ node, servers: [up('h1', 3), up('h2', node === 'lb1' ? 0 : 1)] })))).find((x) => x.check.id === 'live-slb-answers')!;
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
  });

  it("nor while it is within its pool's slow start (30 s in slb1), whose ramp `show stat` does not print; after it, it is", () => {
    const since = (s: number) => ['lb1', 'lb2'].map((node) => ({ node, servers: [{ ...up('h1', 3), lastChangeS: 100 }, { ...up('h2', 1), lastChangeS: s }] }));
    const ramping = compareSlb(model, { ...observed(), health: since(12) }).find((x) => x.check.id === 'live-slb-answers')!;
    expect(ramping.findings).toEqual([]);
    const ramped = compareSlb(model, { ...observed(), health: since(31) }).find((x) => x.check.id === 'live-slb-answers')!;
    expect(ramped.findings.map((f) => f.message)).toEqual(['shop 10.10.99.10:443/https Host shop.example.com / from h3: h2 never answered in 16 requests (predicted: h1, h2)']);
  });
});

describe('live-slb-answers: a client the policies keep from the VIP', () => {
  const denied = (answers: { ok: boolean; member?: string; error?: string; ms: number }[]): SlbObserved => ({
    health: ['lb1', 'lb2'].map((node) => ({ node, servers: [up('h1', 3), up('h2', 1)] })),
    cases: [{ service: 'shop', vip: '10.10.99.10', listener: { port: 443, protocol: 'https' }, client: 'h4', pool: 'shop-web', why: 'default pool', verified: false, followUp: true, answers, denied: 'the connection is dropped: drop by rule x (firewall.yaml:9) of policy p on leaf3' }],
  });
  const answers = (o: SlbObserved) => compareSlb(model, o).find((x) => x.check.id === 'live-slb-answers')!;
  it('getting nothing is the prediction', () => {
    const r = answers(denied([{ ok: false, error: 'TimeoutError: timed out', ms: 3000 }, { ok: false, error: 'TimeoutError: timed out', ms: 3000 }]));
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
  });
  it('an answer is a finding naming the policy that should have stopped it', () => {
    const r = answers(denied([{ ok: true, member: 'h1', ms: 3 }, { ok: false, error: 'TimeoutError: timed out', ms: 3000 }]));
    expect(r.findings.map((f) => f.message)).toEqual(['shop 10.10.99.10:443/https from h4: 1 of 2 requests answered; the model predicts none (the connection is dropped: drop by rule x (firewall.yaml:9) of policy p on leaf3)']);
  });
});

const HEAD = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n';
const row = (be: string, srv: string, admin: number, weight: number) => `3 ${be} 1 ${srv} 10.0.0.1 2 ${admin} ${weight} ${weight} 2 8 3 0 6 0 0 0 - 8080 - 0 0 - - 0\n`;
/** lb2 serves the shop only: shop-web (h1 3, h2 1) and shop-api (h3 1, backup h2 1). */
const lb2 = (rows: string) => ({ notApplicable: undefined, cases: [], serversState: [{ node: 'lb2', text: HEAD + rows }] });

describe('live-slb-runtime: what HAProxy runs against the model', () => {
  const asModel = row('shop-web', 'h1', 0, 3) + row('shop-web', 'h2', 0, 1) + row('shop-api', 'h3', 0, 1) + row('shop-api', 'h2', 0, 1);
  it('as the model says: passes, counting the servers', () => {
    const r = compareSlb(model, lb2(asModel)).find((x) => x.check.id === 'live-slb-runtime')!;
    expect(r.findings).toEqual([]);
    expect(r.examined).toBe('4 servers on 1 node(s)');
  });

  it('drift: a weight changed at runtime, a member in maintenance, one deleted, one added by hand; each at its intent line', () => {
    const drifted = row('shop-web', 'h1', 0, 5) + row('shop-web', 'h2', 1, 1) + row('shop-api', 'h3', 0, 1) + row('shop-api', 'h9', 0, 1);
    const r = compareSlb(model, lb2(drifted)).find((x) => x.check.id === 'live-slb-runtime')!;
    expect(r.passed).toBe(false);
    expect(r.findings.map((f) => `${f.message} @${f.location?.line}`)).toEqual([
      "lb2: shop-api/h2: not in HAProxy's running configuration @40",
      'lb2: shop-web/h1: weight 5, the configuration says 3 @31',
      'lb2: shop-web/h2: not in service (admin state 1) @32',
      // Not the model's: located at the node.
      'lb2: shop-api/h9: running but not in the configuration @22',
    ]);
  });
});
