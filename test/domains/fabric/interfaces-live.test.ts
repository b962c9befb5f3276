// live-fabric-interfaces against real kernel readings: the fixtures are `ip -j -s link show` from the
// devices of a dc1 lab (netns runtime, iproute2 6.1): every device healthy (<device>.json);
// and, from one run, leaf1 and spine1 healthy (-a), leaf1 5 s later, leaf1 after
// `ip link set eth1 down` and spine1 then (its end of the link without carrier, its transmit
// drops grown by 5).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareInterfaces, counterFindings, expectedPorts, InterfacesLive, stateFindings } from '../../../src/domains/fabric/interfaces-live.ts';
import { counterGrowth, downReason, linkUp, parseLinks, LINK_COMMAND } from '../../../src/domains/fabric/interfaces-state.ts';
import { Correlator } from '../../../src/service/correlate.ts';
import { eventKind, findingKey } from '../../../src/service/finding-key.ts';
import { DeviceViews } from '../../../src/service/views.ts';
import { formatLocation } from '../../../src/util/errors.ts';
import type { Finding } from '../../../src/verify/findings.ts';
import { buildFabricGraph } from '../../../src/verify/graph.ts';
import type { Collector, CommandResult } from '../../../src/verify/live/collector.ts';
import type { LiveTarget } from '../../../src/verify/live/run.ts';
import { ReplayCollector } from '../../support/replay-fabric.ts';
import { model as example } from '../../verify/helpers.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'ip-link');
const fixture = (name: string) => readFileSync(path.join(dir, `${name}.json`), 'utf8');
const DEVICES = ['leaf1', 'leaf2', 'leaf3', 'leaf4', 'spine1', 'spine2'];
const LINK = 'leaf1:eth1--spine1:eth1';

/** Replays the fixtures as the devices' shell answers (the lab's collector runs the same command). */
class ShellReplay implements Collector {
  readonly name = 'shell replay';
  readonly shell = true;
  answers = new Map(DEVICES.map((d) => [d, fixture(d)]));
  commands: string[] = [];
  async run(device: string, command: string, opts: { shell?: boolean } = {}): Promise<CommandResult> {
    this.commands.push(`${device}: ${opts.shell ? 'sh' : 'vtysh'} ${command}`);
    const out = this.answers.get(device);
    return out === undefined ? { ok: false, stdout: '', error: `${device}: connection refused` } : { ok: true, stdout: out };
  }
  async close() {}
}

/** A fixture with one interface edited as JSON. */
function edited(name: string, iface: string, edit: (j: Record<string, unknown>) => void): string {
  const list = JSON.parse(fixture(name)) as Record<string, unknown>[];
  const i = list.findIndex((x) => x.ifname === iface);
  edit(list[i]);
  return JSON.stringify(list);
}

describe('ip -j -s link show, parsed', () => {
  it('state and counters of a real leaf', () => {
    const r = parseLinks(fixture('leaf1-a'));
    expect(r.links.map((l) => l.name)).toEqual(['lo', 'eth0', 'eth1', 'eth2', 'eth10', 'eth11', 'br10', 'vx10010', 'br30', 'vx10030']);
    const eth1 = r.links.find((l) => l.name === 'eth1')!;
    expect(eth1).toEqual({ name: 'eth1', admin: true, carrier: true, oper: 'UP', mtu: 9216, mac: '6e:62:b4:07:83:ea', master: null });
    expect(linkUp(eth1)).toBe(true);
    expect(r.links.find((l) => l.name === 'eth10')).toMatchObject({ mtu: 1500, master: 'br10' });
    // Loopback and VXLAN devices say UNKNOWN: up for the kernel.
    expect(linkUp(r.links.find((l) => l.name === 'lo')!)).toBe(true);
    expect(r.counters.eth1).toEqual({ rxPackets: 87, rxBytes: 11107, rxErrors: 0, rxDropped: 0, txPackets: 99, txBytes: 12820, txErrors: 0, txDropped: 0 });
  });

  it('counters move, the state signature does not', () => {
    const a = parseLinks(fixture('leaf1-a'));
    const b = parseLinks(fixture('leaf1-a-5s-later'));
    expect(b.sig).toBe(a.sig);
    expect(b.counters.eth1.rxPackets).toBeGreaterThan(a.counters.eth1.rxPackets);
    expect(counterGrowth(a.counters.eth1, b.counters.eth1)).toEqual({});
  });

  it('admin down on one end, no carrier on the other, and the drops it caused', () => {
    const leaf = parseLinks(fixture('leaf1-a-eth1-down')).links.find((l) => l.name === 'eth1')!;
    expect([linkUp(leaf), downReason(leaf)]).toEqual([false, 'administratively down']);
    expect(parseLinks(fixture('leaf1-a-eth1-down')).sig).not.toBe(parseLinks(fixture('leaf1-a')).sig);
    const before = parseLinks(fixture('spine1-a'));
    const after = parseLinks(fixture('spine1-a-peer-down'));
    const spine = after.links.find((l) => l.name === 'eth1')!;
    expect([spine.admin, spine.carrier, linkUp(spine), downReason(spine)]).toEqual([true, false, false, 'no carrier (oper DOWN)']);
    expect(counterGrowth(before.counters.eth1, after.counters.eth1)).toEqual({ txDropped: 5 });
    // A counter going backwards is a re-created interface, not a loss.
    expect(counterGrowth(after.counters.eth1, before.counters.eth1)).toEqual({});
  });

  it('an answer that is not iproute2 JSON throws', () => {
    expect(() => parseLinks('Device "eth9" does not exist.')).toThrow();
    expect(() => parseLinks('{"ifname":"eth1"}')).toThrow(/not a list/);
  });
});

describe('live-fabric-interfaces against the dc1 model', () => {
  const m = example('dc1');
  const ports = expectedPorts(m);

  it('expects both ends of every link and every endpoint port, with the model MTU and the intent line', () => {
    expect(ports.get('leaf1')!.map((p) => `${p.interface} ${p.mtu} ${p.link ?? p.endpoints.join(',')}`)).toEqual([`eth1 9216 ${LINK}`, 'eth2 9216 leaf1:eth2--spine2:eth1', 'eth10 1500 h1', 'eth11 1500 h5']);
    expect(ports.get('spine1')!.map((p) => p.interface)).toEqual(['eth1', 'eth2', 'eth3', 'eth4']);
    const link = m.links.find((l) => `${l.a.device}:${l.a.interface}--${l.b.device}:${l.b.interface}` === LINK)!;
    expect(ports.get('spine1')![0].source).toEqual(link.source);
  });

  it('every device of a healthy lab passes', () => {
    for (const d of DEVICES) expect(stateFindings(ports.get(d)!, d, parseLinks(fixture(d)).links), d).toEqual([]);
  });

  it('a link down: its two ends, each naming the link, the device (with no carrier, the other end too) and the link\'s intent line', () => {
    const leaf = stateFindings(ports.get('leaf1')!, 'leaf1', parseLinks(fixture('leaf1-a-eth1-down')).links);
    const spine = stateFindings(ports.get('spine1')!, 'spine1', parseLinks(fixture('spine1-a-peer-down')).links);
    expect([...leaf, ...spine].map((f) => f.message)).toEqual(['leaf1: eth1 (to spine1:eth1) is down: administratively down', 'spine1: eth1 (to leaf1:eth1) is down: no carrier (oper DOWN)']);
    // Shut down here: this device's doing. No carrier: the link, or the device at the other end.
    expect(leaf[0].elements).toEqual({ links: [LINK], devices: ['leaf1'] });
    expect(spine[0].elements).toEqual({ links: [LINK], devices: ['spine1', 'leaf1'] });
    for (const f of [...leaf, ...spine]) expect(formatLocation(f.location!)).toMatch(/^intents\/dc1\/nodes\.yaml:15:\d+$/);
    expect(findingKey(leaf[0])).toBe('live-fabric-interfaces|leaf1|interface=eth1|property=state');
    expect(eventKind('live-fabric-interfaces', true)).toBe('interface-down');
    expect(eventKind('live-fabric-interfaces', false)).toBe('interface-up');
  });

  it('the drops on the spine\'s end: a warning with the growth, naming the link', () => {
    const growth = { eth1: counterGrowth(parseLinks(fixture('spine1-a')).counters.eth1, parseLinks(fixture('spine1-a-peer-down')).counters.eth1) };
    const [w] = counterFindings(ports.get('spine1')!, 'spine1', growth, 2);
    expect(w).toMatchObject({ severity: 'warning', message: 'spine1: eth1 (to leaf1:eth1) tx dropped growing between polls', evidence: { growth: { txDropped: 5 }, seconds: 2, property: 'counters' }, elements: { links: [LINK], devices: ['spine1', 'leaf1'] } });
  });

  it('an MTU other than the model\'s, a missing endpoint port', () => {
    const text = edited('leaf1', 'eth2', (j) => (j.mtu = 1500));
    const list = (JSON.parse(text) as { ifname: string }[]).filter((x) => x.ifname !== 'eth10');
    const fs = stateFindings(ports.get('leaf1')!, 'leaf1', parseLinks(JSON.stringify(list)).links);
    expect(fs.map((f) => f.message)).toEqual(['leaf1: eth2 (to spine2:eth1) has MTU 1500, the model says 9216', 'leaf1: eth10 (to endpoint h1) does not exist in the kernel']);
    expect(fs[1].elements).toEqual({ devices: ['leaf1'], endpoints: ['h1'] });
    expect(findingKey(fs[0])).toBe('live-fabric-interfaces|leaf1|interface=eth2|property=mtu');
  });

  it('the correlator explains the interfaces and the session of a link down with that one link', () => {
    const fg = buildFabricGraph(m);
    const session = m.bgpSessions.find((s) => s.a.device === 'leaf1' && s.a.interface === 'eth1')!;
    const down: Finding[] = [
      ...stateFindings(ports.get('leaf1')!, 'leaf1', parseLinks(fixture('leaf1-a-eth1-down')).links),
      ...stateFindings(ports.get('spine1')!, 'spine1', parseLinks(fixture('spine1-a-peer-down')).links),
      ...counterFindings(ports.get('spine1')!, 'spine1', { eth1: { txDropped: 5 } }, 2),
      { check: 'live-bgp-sessions', severity: 'error', message: `session ${session.id} down`, evidence: { session: session.id }, elements: { devices: ['leaf1', 'spine1'], links: [LINK] } },
    ];
    const x = new Correlator(fg).explain(new Map(down.map((f) => [findingKey(f), f])));
    expect(x.map((e) => [e.element, e.findings.length])).toEqual([[`link:${LINK}`, 4]]);
  });

  it('before the session is reported down (a hold timer running), the link\'s interfaces alone make the routes on it explainable by it', () => {
    // Findings recorded from this link down in a dc1 lab (test/service/fixtures), without the session's.
    const recorded = (JSON.parse(readFileSync(path.join(dir, '..', '..', '..', '..', 'service', 'fixtures', 'dc1-spine-link-down.json'), 'utf8')) as Finding[]).filter((f) => f.check !== 'live-bgp-sessions');
    expect(recorded.filter((f) => f.check === 'live-underlay-ecmp').length).toBeGreaterThan(0);
    const interfaces = [
      ...stateFindings(ports.get('leaf1')!, 'leaf1', parseLinks(fixture('leaf1-a-eth1-down')).links),
      ...stateFindings(ports.get('spine1')!, 'spine1', parseLinks(fixture('spine1-a-peer-down')).links),
    ];
    const all = new Map([...recorded, ...interfaces].map((f) => [findingKey(f), f]));
    const x = new Correlator(buildFabricGraph(m)).explain(all);
    expect(x.map((e) => e.element)).toEqual([`link:${LINK}`]);
    expect(x[0].findings).toHaveLength(all.size);
  });
});

describe('the service\'s poller', () => {
  const m = example('dc1');

  it('a collector without shell: not read, nothing faked', async () => {
    const target: LiveTarget = { collector: new ReplayCollector(), describe: 'replay' };
    const { result, observed } = await new InterfacesLive(m).poll(target);
    expect(observed).toEqual({ notApplicable: 'replay runs no shell commands', devices: [] });
    expect([result.passed, result.examined, result.findings]).toEqual([true, 'not read: replay runs no shell commands', []]);
  });

  it('counters every poll, the state re-checked only where it changed, the same findings as one reading compared whole', async () => {
    const c = new ShellReplay();
    const target: LiveTarget = { collector: c, describe: 'replay' };
    const live = new InterfacesLive(m);
    const first = await live.poll(target);
    expect(c.commands.sort()).toEqual(DEVICES.map((d) => `${d}: sh ${LINK_COMMAND}`));
    expect([first.result.passed, first.result.examined, first.result.findings]).toEqual([true, '21 interfaces on 6 devices', []]);
    expect(live.rechecked).toBe(6);

    // Counters moved on leaf1, nothing else: no re-check, the state objects kept.
    c.answers.set('leaf1', fixture('leaf1-a')).set('spine1', fixture('spine1-a'));
    const before = (await live.poll(target)).observed.devices.find((d) => d.device === 'leaf1')!;
    const rechecked = live.rechecked;
    c.answers.set('leaf1', fixture('leaf1-a-5s-later'));
    const later = await live.poll(target);
    const leaf1 = later.observed.devices.find((d) => d.device === 'leaf1')!;
    expect(live.rechecked).toBe(rechecked);
    expect(leaf1.links).toBe(before.links);
    expect(leaf1.counters!.eth1.rxPackets).toBeGreaterThan(before.counters!.eth1.rxPackets);
    expect(leaf1.growth).toEqual({});

    // The link goes down: two devices re-checked, the spine's drops a warning.
    c.answers.set('leaf1', fixture('leaf1-a-eth1-down')).set('spine1', fixture('spine1-a-peer-down'));
    const down = await live.poll(target);
    expect(live.rechecked).toBe(rechecked + 2);
    expect(down.result.passed).toBe(false);
    expect(down.result.findings.map((f) => `${f.severity} ${f.message}`)).toEqual([
      'error leaf1: eth1 (to spine1:eth1) is down: administratively down',
      'error spine1: eth1 (to leaf1:eth1) is down: no carrier (oper DOWN)',
      'warning spine1: eth1 (to leaf1:eth1) tx dropped growing between polls',
    ]);
    // One reading of the same answers compared whole: the same errors (growth needs two readings).
    const whole = compareInterfaces(m, { devices: down.observed.devices.map(({ growth: _g, interval: _i, ...d }) => d) });
    expect(whole.findings).toEqual(down.result.findings.filter((f) => f.severity === 'error'));

    // A device that stops answering: its failure, and no growth guessed across the gap.
    c.answers.delete('leaf2');
    const gap = await live.poll(target);
    expect(gap.result.findings.map((f) => f.message)).toContain('leaf2: interfaces not read: leaf2: connection refused');
    c.answers.set('leaf2', fixture('leaf2'));
    const back = await live.poll(target);
    expect(back.observed.devices.find((d) => d.device === 'leaf2')!.growth).toBeUndefined();
  });

  it('the interfaces view: expected beside the kernel, a link down disagrees', async () => {
    const c = new ShellReplay();
    c.answers.set('leaf1', fixture('leaf1-a-eth1-down'));
    const { observed } = await new InterfacesLive(m).poll({ collector: c, describe: 'replay' });
    const views = new DeviceViews(m, buildFabricGraph(m));
    const rows = views.interfaces('leaf1', undefined, observed.devices.find((d) => d.device === 'leaf1'));
    const eth1 = rows.find((r) => r.name === 'eth1')!;
    expect(eth1.kernel).toMatchObject({ exists: true, up: false, admin: 'down', carrier: false, oper: 'DOWN', mtu: 9216, mac: '6e:62:b4:07:83:ea', growth: null });
    expect(eth1.agrees).toBe(false);
    expect(rows.find((r) => r.name === 'eth10')!.kernel).toMatchObject({ up: true, mtu: 1500, master: 'br10' });
    expect(rows.find((r) => r.name === 'lo')!).toMatchObject({ agrees: null, kernel: { exists: true, mtu: 65536 } });
    expect(views.interfaces('leaf1', undefined).every((r) => r.kernel === null)).toBe(true);
  });
});
