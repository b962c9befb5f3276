/**
 * intents/mdc, the multi-site example, end to end: `netloom pipeline` (validate, render for
 * every target, verify --static, lab up with both sites and the WAN, apply, verify --live) on a
 * copy with its own management network. Every live check must pass, the cross-site probes and
 * both sites' DNS servers included.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineOn } from '../support/pipeline.ts';
import { inCI } from '../support/ci.ts';
import { sitesCopy } from '../support/intent-copy.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/pdns_server') ? 'pdns-server' : undefined;
if (missing && !inCI) console.log(`mdc-pipeline: skipped, needs ${missing}`);

describe.skipIf(!!missing && !inCI)('netloom pipeline on intents/mdc: two sites and a WAN, GSLB across them, every live check green', () => {
  const pipeline = pipelineOn(sitesCopy('intents/mdc', 98), 'mdc');
  afterAll(() => pipeline.cleanup(), 60_000);

  it('is green, and says so check by check', () => {
    const { status, text } = pipeline.run();
    const out = pipeline.out;
    expect(status, text.slice(-4000)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['border11', 'border12', 'border21', 'border22', 'lb1', 'lb2', 'leaf11', 'leaf12', 'leaf21', 'leaf22', 'manifest.json', 'ns1', 'ns2', 'spine11', 'spine12', 'spine21', 'spine22', 'wan1', 'wan2']);
    for (const ns of ['ns1', 'ns2']) expect(readdirSync(path.join(out, ns))).toEqual(expect.arrayContaining(['pdns.conf', 'gslb.example.com.zone', 'as3-gslb.json']));
    expect(text).toMatch(/PASS\s+endpoint-reachability\s+15 endpoint pairs: 2 bridged, 5 routed, 8 isolated, 0 wrong/);
    expect(text).toMatch(/PASS\s+live-bgp-sessions\s+24 sessions/);
    expect(text).toMatch(/PASS\s+live-probes\s+\d+ probes/);
    expect(text).toMatch(/PASS\s+live-slb-runtime\s+\d+ servers on 2 node\(s\)/);
    expect(text).toMatch(/PASS\s+live-gslb-answers\s+\d+ answers from 2 DNS server\(s\)/);
    expect(text).toMatch(/pipeline mdc: ok/);
  }, 620_000);
});
