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
    const [r] = compareSlb(model, observed());
    expect(r.findings.map((f) => f.message)).toEqual(['shop 10.10.99.10:443/https Host shop.example.com / from h3: h2 never answered in 16 requests (predicted: h1, h2)']);
  });

  it('unless its weight fell meanwhile (its health check flapped: slow start again), as read after the requests', () => {
    const [r] = compareSlb(model, observed(['lb1', 'lb2'].map((node) => ({ node, servers: [up('h1', 3), up('h2', node === 'lb1' ? 0 : 1)] }))));
    expect(r.findings).toEqual([]);
    expect(r.passed).toBe(true);
  });
});
