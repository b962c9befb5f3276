/**
 * intents/slb2, the example every load-balancer target can express, end to end: `netloom
 * pipeline` (validate, render for HAProxy, nginx and F5 AS3, verify --static, lab up, apply,
 * verify --live) on a copy with its own management subnet. lb1 runs Debian's nginx, lb2 HAProxy;
 * both serve the shop VIP. Every live check must pass, the load balancers' included.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineOn } from '../support/pipeline.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/haproxy') ? 'haproxy' : !existsSync('/usr/sbin/nginx') ? 'nginx' : undefined;
if (missing && !inCI) console.log(`slb2-pipeline: skipped, needs ${missing}`);

describe.skipIf(!!missing && !inCI)('netloom pipeline on intents/slb2: three targets rendered, nginx and HAProxy nodes running, every live check green', () => {
  const pipeline = pipelineOn(intentCopy('intents/slb2', 76, '172.31'), 'slb2');
  afterAll(() => pipeline.cleanup(), 60_000);

  it('is green, and says so check by check', () => {
    const { status, text } = pipeline.run();
    const out = pipeline.out;
    expect(status, text.slice(-4000)).toBe(0);
    for (const node of ['lb1', 'lb2']) expect(readdirSync(path.join(out, node))).toEqual(expect.arrayContaining(['haproxy.cfg', 'nginx.conf', 'as3-blue.json']));
    expect(text).toMatch(/PASS\s+live-slb-runtime\s+\d+ servers on 1 node\(s\)/);
    expect(text).toMatch(/PASS\s+live-slb-answers\s+\d+ requests, \d+ routes/);
    // The shop over both nodes (nginx and HAProxy): its default pool split as the weights say.
    expect(text).toMatch(/shop 10\.10\.99\.10:443\/https Host shop\.example\.com \/ from \S+ -> shop-web \(default pool\): h1 \d+, h2 \d+/);
    expect(text).toMatch(/orders-db 10\.20\.30\.101:5432\/tcp from \S+ -> orders-db \(default pool\): h4 \d+/);
    expect(text).toMatch(/pipeline slb2: ok/);
  }, 620_000);
});
