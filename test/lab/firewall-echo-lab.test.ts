/**
 * A policy at the networks that drops echo (intents/fw2 without its echo rule), end to end with
 * `netloom pipeline`: the rollout's flow probes must not take the pings the policy stops for
 * a wave that broke them (they rolled every wave back before), and `verify --live` must find
 * those pings unanswered as predicted, with the firewall's service probes still run.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineOn } from '../support/pipeline.ts';
import { inCI } from '../support/ci.ts';
import { echoDroppedCopy } from '../support/fw-echo-dropped.ts';

const missing = process.getuid?.() !== 0 ? 'root' : !existsSync('/usr/lib/frr/bgpd') ? 'frr' : !existsSync('/usr/sbin/nft') ? 'nftables' : undefined;
if (missing && !inCI) console.log(`firewall-echo-lab: skipped, needs ${missing}`);

describe.skipIf(!!missing && !inCI)('netloom pipeline on a policy that drops echo', () => {
  const pipeline = pipelineOn(echoDroppedCopy(77, '172.31'), 'fwecho');
  afterAll(() => pipeline.cleanup(), 60_000);

  it('applies without a rollback and verifies green: the dropped pings predicted, the services probed', () => {
    const { status, text } = pipeline.run();
    expect(status, text.slice(-4000)).toBe(0);
    expect(text).not.toMatch(/rolled back/);
    expect(text).toMatch(/PASS\s+live-probes\s+\d+ probes/);
    expect(text).toMatch(/PASS\s+live-firewall-probes\s+\d+ probes/);
    expect(text).toMatch(/pipeline fwecho: ok/);
  }, 620_000);
});
