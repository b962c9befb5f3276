// The predicted ping matrix on a fabric whose VRFs reuse subnets and host addresses: a ping
// answers when its address belongs to the source itself or to an endpoint bridged or routed
// from it, whoever the probe was meant for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import { writeGeneratedIntent } from '../../src/intent/generate.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { predictProbes } from '../../src/verify/live/probes.ts';

// Seed 44142009: endpoints h3 and h9 share 10.104.4.30 in different VRFs.
const SEED = 44142009;

describe('predicted probes', () => {
  it('judge shared addresses by who owns them in the source VRF', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netloom-probes-'));
    try {
      writeGeneratedIntent(dir, intentFiles(randomIntent(SEED)));
      const m = loadModelSync(dir);
      const ep = new Map(m.endpoints.map((e) => [e.name, e]));
      expect(ep.get('h3')!.ipv4).toBe(ep.get('h9')!.ipv4);
      expect(ep.get('h3')!.vrf).not.toBe(ep.get('h9')!.vrf);
      const probes = predictProbes(m);
      const p = (src: string, dst: string) => probes.find((x) => x.src === src && x.dst === dst && x.family === 4)!;
      // h3 pinging "h9" pings its own address.
      expect(p('h3', 'h9')).toMatchObject({ predicted: 'isolated', answers: true });
      for (const x of probes.filter((q) => q.family === 4)) {
        const src = ep.get(x.src)!;
        const dst = ep.get(x.dst)!;
        const owners = m.endpoints.filter((e) => e.ipv4?.split('/')[0] === x.address);
        if (owners.length === 1) expect(x.answers, `${x.src} -> ${x.dst}`).toBe(x.predicted !== 'isolated' && x.predicted !== 'broken');
        // The same address in the source's VRF answers for the other VRF's endpoint.
        if (x.predicted === 'isolated' && owners.some((o) => o.vrf === src.vrf && o !== dst)) expect(x.answers).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
