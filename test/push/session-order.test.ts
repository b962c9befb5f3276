/**
 * The order a rollout pushes devices in when a change adds sessions: a device goes after a
 * changed peer that does not run their session yet (a leaf added under route-reflector spines
 * after the spines), on dc3 (OSPF underlay, iBGP overlay through route-reflector spines) with real rendered
 * configurations as the running ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { sessionOrder } from '../../src/push/session-order.ts';
import { intentCopy } from '../support/intent-copy.ts';

const base = loadModelSync('intents/dc3');
const copy = intentCopy('intents/dc3', 1);
const nodes = path.join(copy.dir, 'nodes.yaml');
const text = readFileSync(nodes, 'utf8');
writeFileSync(nodes, text.replace('  leaf4: { group: leaves, id: 4 }\n', '  leaf4: { group: leaves, id: 4 }\n  leafnew: { group: leaves, id: 9 }\n'));
const head = loadModelSync(copy.dir);
const conf = (m: typeof base, device: string) => renderModel(m, { devices: [device] }).artifacts.find((a) => a.artifact === 'frr.conf')!.content;
const spines = head.devices.filter((d) => d.role === 'spine').map((d) => d.name);

describe('the order a rollout pushes new sessions in', () => {
  afterAll(() => copy.cleanup());

  it('a new leaf goes after the spines that do not know it yet, whether it runs its configuration already or none', () => {
    expect(spines.length).toBeGreaterThan(1);
    const items = ['leafnew', ...spines];
    const running = new Map<string, string>([...spines.map((s) => [s, conf(base, s)] as [string, string]), ['leafnew', conf(head, 'leafnew')]]);
    expect(sessionOrder(items, head, (n) => n, (n) => running.get(n))).toEqual([...spines, 'leafnew']);
    running.set('leafnew', '');
    expect(sessionOrder(items, head, (n) => n, (n) => running.get(n))).toEqual([...spines, 'leafnew']);
  });

  it('keeps the given order when every peer runs the sessions already, when a device is not FRR, and when both sides lack one', () => {
    const items = ['leafnew', ...spines];
    const known = new Map(items.map((n) => [n, conf(head, n)]));
    expect(sessionOrder(items, head, (n) => n, (n) => known.get(n))).toEqual(items);
    const spinesUnknown = new Map(spines.map((s) => [s, conf(base, s)]));
    expect(sessionOrder(items, head, (n) => n, (n) => (n === 'leafnew' ? undefined : spinesUnknown.get(n)))).toEqual(items);
    // Both ends lack the session (the leaf's running configuration without it either): a cycle of needs, the given order.
    const leafWithout = conf(head, 'leafnew').split('\n').filter((l) => !/^ neighbor /.test(l)).join('\n');
    expect(sessionOrder(items, head, (n) => n, (n) => (n === 'leafnew' ? leafWithout : spinesUnknown.get(n)))).toEqual(items);
    // Every device new (a fabric the change creates): nothing runs BGP yet, the given order.
    expect(sessionOrder(items, head, (n) => n, () => '')).toEqual(items);
  });
});
