/**
 * Which link an interface is cabled to, and which link each underlay session and OSPF adjacency
 * runs over (FabricGraph.linkAt, underlayOnLink), against the plain reading: every end keyed by
 * device and interface (or address), a later link winning a key. On the examples, random
 * fabrics (numbered, unnumbered and OSPF underlays) and a model with ends on a device it lacks.
 */
import { describe, expect, it } from 'vitest';
import { intentFiles, randomIntent } from '../../src/intent/random.ts';
import type { FabricModel } from '../../src/model/types.ts';
import { buildFabricGraph } from '../../src/verify/graph.ts';
import { generatedModel, model } from './helpers.ts';

function reference(m: FabricModel) {
  const byEnd = new Map<string, number>();
  const byAddr = new Map<string, number>();
  m.links.forEach((l, i) => {
    for (const e of [l.a, l.b]) {
      byEnd.set(JSON.stringify([e.device, e.interface]), i);
      if (e.ipv4) byAddr.set(JSON.stringify([e.device, e.ipv4.split('/')[0]]), i);
    }
  });
  const known = new Set(m.devices.map((d) => d.name));
  const onLink = new Map<number, string[]>();
  const put = (i: number | undefined, id: string) => {
    if (i !== undefined) onLink.set(i, [...(onLink.get(i) ?? []), id]);
  };
  for (const s of m.bgpSessions) {
    if (s.layer === 'overlay' || !known.has(s.a.device) || !known.has(s.b.device)) continue;
    put(s.a.interface ? byEnd.get(JSON.stringify([s.a.device, s.a.interface])) : s.a.address ? byAddr.get(JSON.stringify([s.a.device, s.a.address])) : undefined, s.id);
  }
  for (const o of m.ospfAdjacencies) {
    if (!known.has(o.a.device) || !known.has(o.b.device)) continue;
    const a = byEnd.get(JSON.stringify([o.a.device, o.a.interface]));
    if (a !== undefined && a === byEnd.get(JSON.stringify([o.b.device, o.b.interface]))) put(a, o.id);
  }
  return { byEnd, onLink };
}

function agrees(m: FabricModel): number {
  const fg = buildFabricGraph(m);
  const want = reference(m);
  for (const [key, i] of want.byEnd) {
    const [device, iface] = JSON.parse(key) as [string, string];
    expect(fg.linkAt(device, iface), key).toBe(m.links[i]);
  }
  expect(fg.linkAt(m.devices[0].name, 'no-such-interface')).toBeUndefined();
  expect(Object.fromEntries([...fg.underlayOnLink].map(([i, xs]) => [i, xs.map((x) => x.id)]))).toEqual(Object.fromEntries(want.onLink));
  expect([...fg.sessionById.keys()]).toEqual([...new Set(m.bgpSessions.map((s) => s.id))]);
  return want.onLink.size;
}

describe('links by interface and the underlay over them', () => {
  it('agree with every end keyed by device and interface on the examples and random fabrics', () => {
    let carried = 0;
    for (const m of [model('dc1'), model('dc2'), ...Array.from({ length: 16 }, (_, i) => generatedModel(intentFiles(randomIntent(300 + i))))]) carried += agrees(m);
    expect(carried).toBeGreaterThan(100);
  });

  it('find a link whose end is on a device the model lacks, and never a device-and-interface pair run together', () => {
    const m = structuredClone(model('dc1'));
    const l = m.links[0];
    m.links.push({ ...l, a: { ...l.a, device: 'ghost', interface: 'eth9' } });
    // Device "leaf1:eth" with interface "1", device "leaf1" with interface "eth:1": one "leaf1:eth:1" if run together.
    m.links.push({ ...l, a: { ...l.a, device: `${l.a.device}:eth`, interface: '1' } });
    m.links.push({ ...l, a: { ...l.a, interface: 'eth:1' } });
    agrees(m);
    const fg = buildFabricGraph(m);
    expect(fg.linkAt('ghost', 'eth9')).toBe(m.links.at(-3));
    expect(fg.linkAt(`${l.a.device}:eth`, '1')).toBe(m.links.at(-2));
    expect(fg.linkAt(l.a.device, 'eth:1')).toBe(m.links.at(-1));
    expect(fg.linkAt(l.a.device, l.a.interface)).toBe(l);
  });
});
