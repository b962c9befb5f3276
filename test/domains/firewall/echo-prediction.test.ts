// A policy at the leaves that drops echo: the ping predictions (live-probes, the rollout's flow
// probes, fidelity) must say those pings go unanswered and why, while the firewall's own
// service probes still cover every pair the fabric forwards.
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../../src/model/index.ts';
import { predictProbes } from '../../../src/verify/live/probes.ts';
import { firewallProbePlan } from '../../../src/domains/firewall/live-plan.ts';
import { endpointFlows } from '../../../src/verify/flows.ts';
import { echoDroppedCopy } from '../../support/fw-echo-dropped.ts';

describe('echo dropped by a policy at the networks', () => {
  const copy = echoDroppedCopy(250, '172.31');
  afterAll(() => copy.cleanup());
  const model = loadModelSync(copy.dir);
  const withEcho = loadModelSync('intents/fw2');
  const filtered = new Set(model.endpoints.filter((e) => ['web', 'app', 'db'].includes(e.network)).map((e) => e.name));

  it('predicts no answer for forwarded pings the policy drops, naming the rule and the leaf', () => {
    const probes = predictProbes(model);
    const before = new Map(predictProbes(withEcho).map((p) => [`${p.src}>${p.dst}/${p.family}`, p]));
    let dropped = 0;
    for (const p of probes) {
      const old = before.get(`${p.src}>${p.dst}/${p.family}`)!;
      expect(p.predicted).toBe(old.predicted);
      // The policy is stateful: it filters what is routed to and from its networks, not what is
      // bridged inside one.
      const touches = (filtered.has(p.src) || filtered.has(p.dst)) && p.predicted === 'routed';
      if (old.answers && touches && p.src !== old.answeredBy) {
        expect(p.answers, `${p.src} -> ${p.dst} v${p.family}`).toBe(false);
        expect(p.reason).toMatch(/^the echo (request|reply) is refused: drop by the default action \(firewall\.yaml:\d+\) of policy \S+ on leaf\d/);
        dropped++;
      } else {
        expect(p.answers, `${p.src} -> ${p.dst} v${p.family}`).toBe(old.answers);
      }
    }
    expect(dropped).toBeGreaterThan(0);
    // The rollout's flow probes take the same prediction.
    const flows = endpointFlows(model);
    expect(flows.filter((f) => f.predicted === 'routed' && !f.answers).length).toBeGreaterThan(0);
  });

  it("keeps the firewall's service probes for every forwarded pair", () => {
    const plan = firewallProbePlan(model).probes.map((p) => `${p.src}>${p.dst}/${p.family} ${p.service}`);
    const reference = firewallProbePlan(withEcho).probes.map((p) => `${p.src}>${p.dst}/${p.family} ${p.service}`);
    expect(plan.length).toBeGreaterThan(0);
    expect(plan).toEqual(reference);
  });
});
