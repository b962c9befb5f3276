// The flows the push stage probes per wave: whether each answers is the live probes' own
// prediction, also when tenants reuse addresses (overlapping subnets in two VRFs).
import { describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { endpointFlows } from '../../src/verify/flows.ts';

describe('endpoint flows', () => {
  it('an isolated pair whose address another endpoint of the source VRF owns is predicted to answer', () => {
    const model = loadModelSync('test/verify/fixtures/dc1-overlap');
    // h4 (RED, on the same network as h5) takes h1's address (BLUE): tenants may reuse addresses.
    model.endpoints.find((e) => e.name === 'h4')!.ipv4 = '10.10.10.11/24';
    const flows = endpointFlows(model);
    const h5h1 = flows.find((f) => f.src === 'h5' && f.dst === 'h1')!;
    expect(h5h1.predicted).toBe('isolated');
    expect(h5h1.answers).toBe(true);
    // h2 (BLUE) pinging 10.10.10.11 reaches h1, the BLUE owner: bridged and answering.
    expect(flows.find((f) => f.src === 'h2' && f.dst === 'h1')).toMatchObject({ predicted: 'bridged', answers: true });
    // h3 (BLUE, another subnet) -> h5 (RED): isolated, and nobody in BLUE owns 10.10.10.15.
    expect(flows.find((f) => f.src === 'h3' && f.dst === 'h5')).toMatchObject({ predicted: 'isolated', answers: false });
  });
});
