/**
 * The slb domain's post-check of a pushed load-balancer node: HAProxy's runtime state (as
 * Debian's HAProxy 2.6 prints `show servers state`) against the haproxy.cfg pushed.
 */
import { describe, expect, it } from 'vitest';
import { parseServersState, runtimeProblems } from '../../../src/domains/slb/push.ts';

const HEAD = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n';
const row = (srv: string, op: number, admin: number, weight: number, result: number) => `3 web 1 ${srv} 10.0.0.1 ${op} ${admin} ${weight} ${weight} 2 8 ${result} 0 6 0 0 0 - 8080 - 0 0 - - 0\n`;
const cfg = 'backend web\n    balance roundrobin\n    server a 10.0.0.1:8080 weight 3 check inter 2000ms\n    server b 10.0.0.2:8080 weight 1 check inter 2000ms\n';

describe('HAProxy runtime state against the pushed configuration', () => {
  it('parses `show servers state`', () => {
    expect(parseServersState(HEAD + row('a', 2, 0, 3, 3))).toEqual(new Map([['web/a', { op: 2, admin: 0, weight: 3, checkResult: 3 }]]));
  });

  it('as configured and checked: no problem', () => {
    const now = parseServersState(HEAD + row('a', 2, 0, 3, 3) + row('b', 2, 0, 1, 3));
    expect(runtimeProblems(cfg, now, now)).toEqual([]);
  });

  it('names a missing or extra server, a weight the worker did not take, maintenance, a server that went down', () => {
    const before = parseServersState(HEAD + row('a', 2, 0, 3, 3) + row('b', 2, 0, 1, 3));
    const now = parseServersState(HEAD + row('a', 0, 1, 2, 2) + row('c', 2, 0, 1, 3));
    expect(runtimeProblems(cfg, now, before)).toEqual([
      'web/a: weight 2, the configuration says 3',
      'web/a: not in service (admin state 1)',
      'web/a: was up before the push, now stopped',
      "web/b: not in HAProxy's running configuration",
      'web/c: running but not in the configuration',
    ]);
  });

  it('a new checked server counts as up only once a check passed (HAProxy starts it as running)', () => {
    const before = parseServersState(HEAD + row('a', 2, 0, 3, 3));
    expect(runtimeProblems(cfg, parseServersState(HEAD + row('a', 2, 0, 3, 3) + row('b', 2, 0, 1, 0)), before)).toEqual(['web/b: new, not checked yet']);
    expect(runtimeProblems(cfg, parseServersState(HEAD + row('a', 2, 0, 3, 3) + row('b', 2, 0, 1, 2)), before)).toEqual(['web/b: new, its health check fails']);
    // A server down before the push may stay down: its member's problem, not the push's.
    const wasDown = parseServersState(HEAD + row('a', 2, 0, 3, 3) + row('b', 0, 0, 1, 2));
    expect(runtimeProblems(cfg, wasDown, wasDown)).toEqual([]);
  });
});
