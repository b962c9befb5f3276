/**
 * Which HAProxy changes the runtime API can make without a reload (server weights, drains as
 * weight 0) and which need a checked reload, on slb1's rendered haproxy.cfg.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { planHaproxy, runtimeOnlyChange, type HaproxyTarget } from '../../src/push/haproxy-step.ts';
import { repoRoot } from '../support/intent-copy.ts';

const cfg = renderModel(loadModelSync(path.join(repoRoot, 'intents/slb1')), { artifactSets: [] }).artifacts.find((a) => a.path === 'lb1/haproxy.cfg')!.content;
const target = { node: 'lb1' } as HaproxyTarget;

describe('runtime-only HAProxy changes', () => {
  it('weights and drains (weight 0) of existing servers: one op each, in file order', () => {
    const to = cfg.replace('server h1 10.10.10.11:8080 weight 3', 'server h1 10.10.10.11:8080 weight 7').replace('server h5 10.20.30.15:8080 weight 1', 'server h5 10.20.30.15:8080 weight 0');
    expect(runtimeOnlyChange(cfg, to)).toEqual([{ op: 'weight', backend: 'orders-web', server: 'h5', weight: 0 }, { op: 'weight', backend: 'shop-web', server: 'h1', weight: 7 }]);
    expect(planHaproxy(target, { config: cfg }, to).summary).toBe('haproxy runtime API: orders-web/h5 weight 0, shop-web/h1 weight 7');
  });

  it('anything else needs a reload: another server option, a new server, a frontend or global change', () => {
    expect(runtimeOnlyChange(cfg, cfg.replace('rise 2 fall 3 slowstart', 'rise 3 fall 3 slowstart'))).toBeUndefined();
    expect(runtimeOnlyChange(cfg, cfg.replace('bind 10.20.30.100:80', 'bind 10.20.30.100:8080'))).toBeUndefined();
    expect(runtimeOnlyChange(cfg, cfg.replace('timeout client 30000ms', 'timeout client 45000ms'))).toBeUndefined();
    const p = planHaproxy(target, { config: cfg }, cfg.replace('timeout client 30000ms', 'timeout client 45000ms'));
    expect(p.runtime).toBeUndefined();
    expect(p.summary).toBe('haproxy.cfg: checked, hitless reload');
    expect(p.diff).toContain('-    timeout client 30000ms\n+    timeout client 45000ms');
  });

  it('servers added and removed where HAProxy 2.6 takes dynamic servers: a dynamic algorithm, no cookie', () => {
    const added = cfg.replace('    server h5 10.20.30.15:8080 weight 1 check inter 2000ms rise 2 fall 3\n', '    server h5 10.20.30.15:8080 weight 1 check inter 2000ms rise 2 fall 3\n    server h6 10.20.30.16:8080 weight 2 check inter 2000ms rise 2 fall 3\n');
    expect(added).not.toBe(cfg);
    expect(runtimeOnlyChange(cfg, added)).toEqual([{ op: 'add', backend: 'orders-web', server: 'h6', spec: '10.20.30.16:8080 weight 2 check inter 2000ms rise 2 fall 3', check: true }]);
    expect(runtimeOnlyChange(added, cfg)).toEqual([{ op: 'del', backend: 'orders-web', server: 'h6' }]);
    expect(planHaproxy(target, { config: added }, cfg.replace('server h4 10.20.30.14:8080 weight 1', 'server h4 10.20.30.14:8080 weight 4')).summary).toBe('haproxy runtime API: remove server orders-web/h6, orders-web/h4 weight 4');
    // Cookie persistence (shop-web): HAProxy refuses `cookie` on a dynamic server.
    const withCookie = cfg.replace(/(    server h2 10\.10\.10\.12:8080 [^\n]*\n)/, '$1    server h9 10.10.10.19:8080 weight 1 check cookie h9\n');
    expect(withCookie).not.toBe(cfg);
    expect(runtimeOnlyChange(cfg, withCookie)).toBeUndefined();
    // static-rr is a static algorithm: no dynamic servers.
    const staticRr = cfg.replace(/(backend orders-web\n    mode http\n    balance) roundrobin/, '$1 static-rr');
    expect(staticRr).not.toBe(cfg);
    expect(runtimeOnlyChange(staticRr, staticRr.replace('    server h5 10.20.30.15:8080', '    server h6 10.20.30.16:8080 check\n    server h5 10.20.30.15:8080'))).toBeUndefined();
    // A server whose options change otherwise: a reload.
    expect(runtimeOnlyChange(cfg, cfg.replace('server h4 10.20.30.14:8080 weight 1 check inter 2000ms', 'server h4 10.20.30.24:8080 weight 1 check inter 2000ms'))).toBeUndefined();
  });

  it('the same file: nothing to do; no file on the node: a reload of the whole file', () => {
    expect(planHaproxy(target, { config: cfg }, cfg)).toEqual({ changed: false, diff: '', summary: '' });
    expect(planHaproxy(target, { config: null }, cfg).runtime).toBeUndefined();
  });
});
