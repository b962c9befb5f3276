/**
 * intents/slb2, the example every load-balancer target can express, end to end: `netloom
 * pipeline` (validate, render for HAProxy, nginx and F5 AS3, verify --static, lab up, apply,
 * verify --live) on a copy with its own management subnet. lb1 runs Debian's nginx, lb2 HAProxy;
 * both serve the shop VIP. Every live check must pass, the load balancers' included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown } from '../../src/lab/index.ts';
import { inCI } from '../support/ci.ts';
import { intentCopy, repoRoot } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/haproxy') ? 'haproxy' : !existsSync('/usr/sbin/nginx') ? 'nginx' : undefined;
if (missing && !inCI) console.log(`slb2-pipeline: skipped, needs ${missing}`);

describe.skipIf(!!missing && !inCI)('netloom pipeline on intents/slb2: three targets rendered, nginx and HAProxy nodes running, every live check green', () => {
  const copy = intentCopy('intents/slb2', 76, '172.31');
  const out = mkdtempSync(path.join(tmpdir(), 'netloom-slb2-out-'));
  afterAll(async () => {
    await labDown('slb2').catch(() => false);
    copy.cleanup();
    rmSync(out, { recursive: true, force: true });
  }, 60_000);

  it('is green, and says so check by check', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'src/cli/bin.mjs'), 'pipeline', copy.dir, '--out', out, '--down'], { encoding: 'utf8', timeout: 600_000 });
    const text = r.stdout + r.stderr;
    expect(r.status, text.slice(-4000)).toBe(0);
    for (const node of ['lb1', 'lb2']) expect(readdirSync(path.join(out, node))).toEqual(expect.arrayContaining(['haproxy.cfg', 'nginx.conf', 'as3-blue.json']));
    expect(text).toMatch(/PASS\s+live-slb-runtime\s+\d+ servers on 1 node\(s\)/);
    expect(text).toMatch(/PASS\s+live-slb-answers\s+\d+ requests, \d+ routes/);
    // The shop over both nodes (nginx and HAProxy): its default pool split as the weights say.
    expect(text).toMatch(/shop 10\.10\.99\.10:443\/https Host shop\.example\.com \/ from \S+ -> shop-web \(default pool\): h1 \d+, h2 \d+/);
    expect(text).toMatch(/orders-db 10\.20\.30\.101:5432\/tcp from \S+ -> orders-db \(default pool\): h4 \d+/);
    expect(text).toMatch(/pipeline slb2: ok/);
  }, 620_000);
});
