import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFile, type AnalysisReport } from '../../src/pcap/analyze.ts';
import { expectationsFromModel, type FabricExpectations } from '../../src/pcap/expectations.ts';
import { formatReport } from '../../src/pcap/format.ts';
import { pcapHeader, pcapRecord } from '../../src/pcap/writer.ts';
import { loadModel } from '../../src/model/index.ts';
import { arpRequest, bgpMessage, bgpOpen, eth, ipv4, ospfDbd, ospfHello, tcp, udp, vxlan } from './packets.ts';
import { CORPUS, corpusPresent, tsharkPresent } from './corpus.ts';
import { inCI } from '../support/ci.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-pcap-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const BC = 'ff:ff:ff:ff:ff:ff';

function writeCapture(name: string, packets: Array<[number, Buffer]>): string {
  const o = { linkType: 1 };
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([pcapHeader(o), ...packets.map(([t, p]) => pcapRecord(o, Math.floor(t), Math.round((t % 1) * 1e6), p))]));
  return file;
}

/** Leaf-to-leaf VXLAN carrying an inner TCP segment, as on a dc1 spine link. */
let innerSeq = 1000;
function vxlanPacket(src: string, dst: string, vni: number, o: { innerVlan?: number; mf?: boolean; sport?: number } = {}): Buffer {
  innerSeq += 100;
  const inner = eth('02:aa:00:00:00:02', '02:aa:00:00:00:01', 0x0800, ipv4('10.10.10.11', '10.10.10.12', 6, tcp(40000, 80, innerSeq, 1, 0x18, Buffer.alloc(100))), o.innerVlan);
  return eth(M2, M1, 0x0800, ipv4(src, dst, 17, udp(o.sport ?? 49152, 4789, vxlan(vni, inner)), { mf: o.mf }));
}

let exp: FabricExpectations;
beforeAll(async () => {
  exp = expectationsFromModel(await loadModel(path.join(root, 'intents/dc1')));
});

const vxlanFindings = (r: AnalysisReport) => r.findings.filter((f) => f.category === 'vxlan').map((f) => f.message);

describe('VXLAN compared with the dc1 model', () => {
  it('the model gives the VTEPs and VNIs the comparison needs', () => {
    expect(exp.vteps.get('10.0.1.1')?.device).toBe('leaf1');
    expect(exp.vteps.get('10.0.1.2')?.vnis.has(10010)).toBe(true);
    expect(exp.underlayMtu).toBeGreaterThan(1500);
    expect(exp.bgpSessions.length).toBeGreaterThan(0);
  });

  it('traffic between configured VTEPs on a configured VNI gives no VXLAN finding', () => {
    const file = writeCapture('clean.pcap', [
      [1, vxlanPacket('10.0.1.1', '10.0.1.2', 10010)],
      [1.1, vxlanPacket('10.0.1.2', '10.0.1.1', 10010)],
      [1.2, vxlanPacket('10.0.1.1', '10.0.1.4', 10030)],
    ]);
    const r = analyzeFile(file, { expectations: exp });
    expect(r.tunnels.map((t) => [t.srcVtep, t.dstVtep, t.vni, t.packets])).toEqual([
      ['10.0.1.1', '10.0.1.2', 10010, 1],
      ['10.0.1.1', '10.0.1.4', 10030, 1],
      ['10.0.1.2', '10.0.1.1', 10010, 1],
    ]);
    expect(r.tunnels[0].innerMacs).toEqual(['02:aa:00:00:00:01', '02:aa:00:00:00:02']);
    expect(r.tunnels[0].innerIps).toEqual(['10.10.10.11', '10.10.10.12']);
    expect(r.findings).toEqual([]);
  });

  it('a wrong VNI gives exactly that finding', () => {
    const file = writeCapture('wrong-vni.pcap', [
      [1, vxlanPacket('10.0.1.1', '10.0.1.2', 10010)],
      [2, vxlanPacket('10.0.1.1', '10.0.1.2', 10020)],
    ]);
    const r = analyzeFile(file, { expectations: exp });
    expect(vxlanFindings(r)).toEqual([
      'VNI 10020 is not configured on VTEP 10.0.1.1 (leaf1), yet it is the source of VXLAN 10.0.1.1 -> 10.0.1.2 VNI 10020',
      'VNI 10020 is not configured on VTEP 10.0.1.2 (leaf2), yet it is the destination of VXLAN 10.0.1.1 -> 10.0.1.2 VNI 10020',
    ]);
    expect(r.findings.find((f) => f.message.startsWith('VNI 10020'))?.packets).toEqual([2]);
  });

  it('unknown VTEP, inner VLAN not the one of the VNI, fragmented underlay', () => {
    const file = writeCapture('bad-vxlan.pcap', [
      [1, vxlanPacket('10.9.9.9', '10.0.1.2', 10010)],
      [2, vxlanPacket('10.0.1.1', '10.0.1.2', 10010, { innerVlan: 99 })],
      [3, vxlanPacket('10.0.1.2', '10.0.1.1', 10010, { mf: true })],
      [3, eth(M2, M1, 0x0800, ipv4('10.0.1.2', '10.0.1.1', 17, Buffer.alloc(200), { fragOffset: 1480 }))],
    ]);
    const r = analyzeFile(file, { expectations: exp });
    expect(vxlanFindings(r)).toEqual([
      'VXLAN 10.0.1.1 -> 10.0.1.2 VNI 10010: inner frames tagged VLAN 99, but the model maps VNI 10010 to VLAN 10',
      `VXLAN 10.0.1.2 -> 10.0.1.1 VNI 10010: 2 outer packet(s) fragmented (largest outer packet ${r.tunnels.find((t) => t.srcVtep === '10.0.1.2')!.largestOuter} bytes): inner frames are too big for the underlay MTU 9216`,
      'unknown VTEP 10.9.9.9: source of VXLAN 10.9.9.9 -> 10.0.1.2 VNI 10010, but no device in the model has this VTEP address',
    ]);
  });

  it('VXLAN on port 8472 when asked', () => {
    const p = eth(M2, M1, 0x0800, ipv4('10.0.1.1', '10.0.1.2', 17, udp(40000, 8472, vxlan(10010, eth(M1, M2, 0x0806, arpRequest(M1, '10.10.10.11', '10.10.10.12'))))));
    const file = writeCapture('p8472.pcap', [[1, p]]);
    expect(analyzeFile(file).tunnels).toEqual([]);
    expect(analyzeFile(file, { vxlanPorts: [8472] }).tunnels.map((t) => [t.vni, t.innerIps])).toEqual([[10010, ['10.10.10.11']]]);
  });
});

describe('BGP sessions', () => {
  const L = '169.254.0.1';
  const S = '169.254.0.2';
  const seg = (from: string, to: string, fp: number, tp: number, seq: number, flags: number, data: Buffer = Buffer.alloc(0)) => eth(M2, M1, 0x0800, ipv4(from, to, 6, tcp(fp, tp, seq, 1, flags, data)));
  function session(spineAfis: Array<[number, number]>, spineAsn = 65100): Array<[number, Buffer]> {
    const openL = bgpOpen(65101, 9, '10.0.0.1', [[1, 1], [25, 70]]);
    const openS = bgpOpen(spineAsn, 9, '10.0.0.101', spineAfis);
    const ka = bgpMessage(4, Buffer.alloc(0));
    const notif = bgpMessage(3, Buffer.from([6, 4]));
    return [
      [10, seg(L, S, 50000, 179, 100, 0x02)],
      [10.001, seg(S, L, 179, 50000, 500, 0x12)],
      // The OPEN split over two segments: reassembled.
      [10.002, seg(L, S, 50000, 179, 101, 0x18, openL.subarray(0, 20))],
      [10.003, seg(L, S, 50000, 179, 121, 0x18, openL.subarray(20))],
      [10.004, seg(S, L, 179, 50000, 501, 0x18, Buffer.concat([openS, ka]))],
      [10.005, seg(L, S, 50000, 179, 101 + openL.length, 0x18, ka)],
      [20, seg(S, L, 179, 50000, 501 + openS.length + ka.length, 0x18, notif)],
      [20.1, seg(S, L, 179, 50000, 501 + openS.length + ka.length + notif.length, 0x11)],
    ];
  }

  it('timeline, NOTIFICATION by name, flap, and comparison with the model', () => {
    const file = writeCapture('bgp.pcap', session([[1, 1]], 65199));
    const r = analyzeFile(file, { expectations: exp });
    expect(r.bgp).toHaveLength(1);
    const s = r.bgp[0];
    expect([s.a.ip, s.a.asn, s.a.routerId, s.b.ip, s.b.asn]).toEqual([L, 65101, '10.0.0.1', S, 65199]);
    expect(s.messages).toEqual({ OPEN: 2, KEEPALIVE: 2, NOTIFICATION: 1 });
    expect(s.timeline.map((e) => e.type)).toEqual(['OPEN', 'OPEN', 'ESTABLISHED', 'NOTIFICATION']);
    expect(s.flaps).toBe(1);
    const msgs = r.findings.filter((f) => f.category === 'bgp').map((f) => f.message);
    expect(msgs).toEqual([
      `BGP ${L} <-> ${S}: NOTIFICATION from ${S}: Cease / Administrative Reset (code 6, subcode 4)`,
      `BGP ${L} <-> ${S}: ${S} (spine1) announces AS 65199, the model expects AS 65100`,
      `BGP ${L} <-> ${S}: ${S} (spine1) does not announce L2VPN EVPN (25/70) expected by the model`,
      `BGP ${L} <-> ${S}: session flapped 1 time(s) (1 establishment(s) in the capture)`,
      `BGP ${L} <-> ${S}: address families announced by one side are not negotiated: L2VPN EVPN (25/70) by ${L} only`,
    ]);
  });

  it('a session as the model has it gives no BGP finding but the NOTIFICATION and flap', () => {
    const r = analyzeFile(writeCapture('bgp-ok.pcap', session([[1, 1], [25, 70]])), { expectations: exp });
    expect(r.findings.filter((f) => f.category === 'bgp').map((f) => f.message.split(': ')[1])).toEqual(['NOTIFICATION from 169.254.0.2', 'session flapped 1 time(s) (1 establishment(s) in the capture)']);
  });
});

describe('OSPF, ARP flood, TCP health', () => {
  it('finds hello/dead/MTU mismatches between neighbours, an ARP flood, a failed handshake and retransmissions', () => {
    const ospf = (src: string, p: Buffer, dst = '224.0.0.5') => eth('01:00:5e:00:00:05', M1, 0x0800, ipv4(src, dst, 89, p, { ttl: 1 }));
    const pk: Array<[number, Buffer]> = [
      [1, ospf('10.1.0.1', ospfHello('1.1.1.1', '0.0.0.0', '255.255.255.252', 10, 40))],
      [1.5, ospf('10.1.0.2', ospfHello('2.2.2.2', '0.0.0.0', '255.255.255.252', 5, 20))],
      [2, ospf('10.1.0.1', ospfDbd('1.1.1.1', '0.0.0.0', 1500), '10.1.0.2')],
      [2.1, ospf('10.1.0.2', ospfDbd('2.2.2.2', '0.0.0.0', 9000), '10.1.0.1')],
      [3, eth(M2, M1, 0x0800, ipv4('10.2.0.1', '10.2.0.2', 6, tcp(40001, 443, 7, 0, 0x02)))],
      [3.5, eth(M2, M1, 0x0800, ipv4('10.2.0.1', '10.2.0.2', 6, tcp(40001, 443, 7, 0, 0x02)))],
      [4, eth(M2, M1, 0x0800, ipv4('10.2.0.1', '10.2.0.3', 6, tcp(40002, 22, 100, 5, 0x18, Buffer.alloc(50))))],
      [4.2, eth(M2, M1, 0x0800, ipv4('10.2.0.1', '10.2.0.3', 6, tcp(40002, 22, 100, 5, 0x18, Buffer.alloc(50))))],
      [4.3, eth(M1, M2, 0x0800, ipv4('10.2.0.3', '10.2.0.1', 6, tcp(22, 40002, 5, 150, 0x10, Buffer.alloc(0), 0)))],
    ];
    for (let i = 0; i < 150; i++) pk.push([5 + i / 1000, eth(BC, M1, 0x0806, arpRequest(M1, '10.3.0.1', `10.3.0.${(i % 250) + 2}`))]);
    const r = analyzeFile(writeCapture('mixed.pcap', pk));
    const msgs = r.findings.map((f) => `${f.severity} ${f.category} ${f.message}`);
    expect(msgs).toEqual([
      'error ospf OSPF hello interval mismatch between neighbours on 10.1.0.0/30: 1.1.1.1 (10.1.0.1) 10s vs 2.2.2.2 (10.1.0.2) 5s: the adjacency will not form',
      'error ospf OSPF dead interval mismatch between neighbours on 10.1.0.0/30: 1.1.1.1 (10.1.0.1) 40s vs 2.2.2.2 (10.1.0.2) 20s: the adjacency will not form',
      'error ospf OSPF MTU mismatch in database description between 1.1.1.1 (10.1.0.1) MTU 1500 and 2.2.2.2 (10.1.0.2) MTU 9000: the adjacency sticks in ExStart/Exchange',
      'warning tcp 1 TCP handshake(s) failed: 10.2.0.1:40001 <-> 10.2.0.2:443 (no SYN-ACK)',
      'warning tcp 2 TCP retransmission(s); most on 10.2.0.1:40002 <-> 10.2.0.3:22 (1 of 3 packets)',
      'warning tcp 1 TCP zero-window advertisement(s): a receiver could not keep up',
      'warning flood ARP flood: 150 ARP packets in one second (threshold 100/s), 150 in total',
    ]);
    expect(r.flood).toMatchObject({ arpPackets: 150, broadcastPackets: 150, maxArpPps: 150 });
    const text = formatReport(r, 'text');
    expect(text).toContain('OSPF ROUTERS (2)');
    expect(text).toMatch(/ERROR ospf +OSPF hello interval mismatch/);
    expect(JSON.parse(formatReport(r, 'json')).findings).toHaveLength(7);
    expect(formatReport(r, 'md')).toContain('| router id | source |');
  });
});

// Needs ../shared/corpus/pcap beside the project; outside CI a checkout without it skips, in CI it never does.
describe.skipIf(!corpusPresent && !inCI)('corpus captures through the analyzer', () => {
  it('bgp-evpn: OPEN timeline with L2VPN EVPN', () => {
    const r = analyzeFile(path.join(CORPUS, 'bgp-evpn.pcap'));
    const s = r.bgp[0];
    expect(s.timeline[0].detail).toBe('AS 65000, hold 90s, router-id 2.2.2.2, IPv4 VPN (1/128), L2VPN EVPN (25/70)');
  });
  it('bgp-bfd-cease: NOTIFICATION Cease / BFD Down', () => {
    const r = analyzeFile(path.join(CORPUS, 'bgp-bfd-cease.pcap'));
    expect(r.bgp[0].notifications.map((n) => n.reason)).toEqual(['Cease / BFD Down']);
  });
  // tshark is the oracle (lab/install-deps.sh installs it); only a machine without it outside CI skips.
  it.skipIf(!tsharkPresent && !inCI)('the VNI/VTEP table equals what tshark reports', () => {
    for (const f of ['vxlan.pcap', 'vxlan_port_8472.pcap', 'gso-ipv4-vxlan-ipv4.pcap', 'gso-ipv6-vxlan-ipv6.pcap']) {
      const file = path.join(CORPUS, f);
      const r = analyzeFile(file, { vxlanPorts: [8472] });
      const out = execFileSync('tshark', ['-r', file, '-d', 'udp.port==8472,vxlan', '-Y', 'vxlan', '-T', 'fields', '-E', 'occurrence=f', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'vxlan.vni'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const counts = new Map<string, number>();
      for (const l of out.split('\n').filter(Boolean)) {
        const [s4, s6, d4, d6, vni] = l.split('\t');
        const k = `${s4 || s6} ${d4 || d6} ${vni}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      expect(Object.fromEntries(r.tunnels.map((t) => [`${t.srcVtep} ${t.dstVtep} ${t.vni}`, t.packets])), f).toEqual(Object.fromEntries(counts));
    }
  });
});

describe('netloom pcap analyze (CLI)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'src/cli/bin.mjs'), 'pcap', 'analyze', ...args], { encoding: 'utf8' });
  it('prints JSON, exits 1 with --intent when a finding is an error, 2 for a file that is not a capture', () => {
    const file = writeCapture('cli.pcap', [[1, vxlanPacket('10.0.1.1', '10.0.1.2', 10020)]]);
    const plain = cli([file, '--format', 'json']);
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout).tunnels[0]).toMatchObject({ srcVtep: '10.0.1.1', dstVtep: '10.0.1.2', vni: 10020 });
    const withIntent = cli([file, '--intent', path.join(root, 'intents/dc1')]);
    expect(withIntent.status).toBe(1);
    expect(withIntent.stdout).toContain('ERROR vxlan  VNI 10020 is not configured on VTEP 10.0.1.1 (leaf1)');
    const notPcap = path.join(dir, 'not.pcap');
    writeFileSync(notPcap, 'hello world, not a capture');
    const bad = cli([notPcap]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a pcap or pcapng file');
    expect(bad.stderr).not.toContain('    at ');
    expect(cli([file, '--format', 'xml']).status).toBe(2);
  });
});
