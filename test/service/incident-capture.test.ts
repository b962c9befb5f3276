/**
 * Where an incident's capture runs and where its files may be: both ends of a failed link, a
 * failed device's fabric interfaces (bounded), with what the model runs over each; files only
 * under the state directory, by incident id and number. The captures themselves run in the
 * lab: test/api/serve-capture-lab.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabState } from '../../src/lab/state.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { IncidentCaptures, labCaptureSource } from '../../src/service/incident-capture.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';

const model = loadModelSync('intents/dc1');
const lab = { name: 'none', nodes: model.devices.map((d) => ({ name: d.name })) } as unknown as LabState;
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-capture-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const caps = new IncidentCaptures(model, buildFabricGraph(model), labCaptureSource(lab), dir, () => undefined, { maxInterfaces: 3 });

describe('incident captures: where', () => {
  it('a link: both ends, each with the BGP session the model runs over it', () => {
    expect(caps.points('link:leaf1:eth1--spine1:eth1')).toEqual([
      { device: 'leaf1', interface: 'eth1', expects: ['BGP session leaf1:eth1--spine1:eth1'] },
      { device: 'spine1', interface: 'eth1', expects: ['BGP session leaf1:eth1--spine1:eth1'] },
    ]);
  });

  it('a device: its fabric interfaces, at most maxInterfaces; an endpoint or unknown element: none', () => {
    expect(caps.points('device:spine1').map((p) => `${p.device}:${p.interface}`)).toEqual(['spine1:eth1', 'spine1:eth2', 'spine1:eth3']);
    expect(caps.points('endpoint:h1')).toEqual([]);
    expect(caps.points('link:leaf1:eth9--spine1:eth9')).toEqual([]);
  });

  it('serves files by incident id and number only', () => {
    mkdirSync(path.join(dir, 'captures', 'inc-0123456789ab'), { recursive: true });
    writeFileSync(path.join(dir, 'captures', 'inc-0123456789ab', '2.pcap'), '');
    writeFileSync(path.join(dir, 'secret.pcap'), '');
    expect(caps.file('inc-0123456789ab', 2)).toBe(path.join(dir, 'captures', 'inc-0123456789ab', '2.pcap'));
    expect(caps.file('inc-0123456789ab', 1)).toBeUndefined();
    expect(caps.file('inc-0123456789ab', 4)).toBeUndefined();
    expect(caps.file('../../secret', 1)).toBeUndefined();
    expect(caps.file('inc-0123456789ab/../..', 2)).toBeUndefined();
  });
});
