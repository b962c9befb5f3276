import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Analyzer } from '../../src/pcap/analyze.ts';
import { PacketDecoder } from '../../src/pcap/decode.ts';
import type { Problem } from '../../src/pcap/problems.ts';
import { bufferSource, CaptureReader, CaptureFormatError } from '../../src/pcap/reader.ts';
import { CORPUS, corpusCaptures, corpusPresent, isMalformedByName } from './corpus.ts';
import { inCI } from '../support/ci.ts';

/** Broken captures whose broken part is in a protocol we decode: each must yield a recorded problem. */
const MUST_REPORT = [
  'arp-oobr.pcap', 'bgp-aigp-oobr.pcap', 'bgp-as-path-oobr.pcap', 'bgp-bgp_capabilities_print-oobr-1.pcap', 'bgp-bgp_capabilities_print-oobr-2.pcap',
  'bgp-infinite-loop.pcap', 'bgp-ub.pcap', 'bgp_mp_reach_nlri-oobr.pcap', 'bgp_mvpn_6_and_7_oobr.pcap', 'bgp_pmsi_tunnel-oobr.pcap', 'bgp_vpn_rt-oobr.pcap',
  'icmp-icmp_print-oobr-1.pcap', 'icmp6_mobileprefix_asan.pcap', 'ipv4_invalid_hdr_length.pcap', 'ipv4_invalid_length.pcap', 'ipv4_invalid_total_length_2.pcap',
  'ipv6-next-header-oobr-1.pcap', 'ipv6-next-header-oobr-2.pcap', 'ipv6-rthdr-oobr.pcap', 'ipv6-srh-tlv-pad1-padn-5-trunc.pcap', 'ipv6_invalid_length.pcap',
  'ipv6hdr-heapoverflow.pcap', 'ospf6_decode_v3_asan.pcap', 'tcp-auth-heapoverflow.pcap', 'tcp_header_heapoverflow.pcap', 'udp-length-heapoverflow.pcap',
];

/** Runs the full decoder and the analyzer over capture bytes; returns every problem. */
function runBoth(data: Buffer): { problems: Problem[]; packets: number } {
  let r: CaptureReader;
  try {
    r = new CaptureReader(bufferSource(data));
  } catch (e) {
    if (e instanceof CaptureFormatError) return { problems: [{ packet: 0, layer: 'file', reason: e.message }], packets: 0 };
    throw e;
  }
  const dec = new PacketDecoder({ vxlanPorts: [8472] });
  const an = new Analyzer({ vxlanPorts: [8472] });
  const problems: Problem[] = [];
  let packets = 0;
  for (let f = r.next(); f; f = r.next()) {
    packets++;
    problems.push(...dec.decode(f).problems);
    an.add(f);
  }
  const rep = an.finish({ readerProblems: r.problems });
  problems.push(...rep.problems);
  return { problems, packets };
}

const internal = (ps: Problem[]) => ps.filter((p) => p.layer === 'decoder' || p.layer === 'analyzer');

if (!corpusPresent && !inCI) console.log(`malformed-capture tests skipped: missing corpus ${CORPUS}`);

// Needs ../shared/corpus/pcap; outside CI a checkout without it skips (and says so above), in CI it never does.
describe.skipIf(!corpusPresent && !inCI)('malformed captures from the corpus', () => {
  const files = corpusCaptures();
  const broken = files.filter(isMalformedByName);
  it('the corpus has its broken captures', () => {
    expect(broken.length).toBeGreaterThan(50);
    for (const f of MUST_REPORT) expect(files).toContain(f);
  });
  it.each(files)('%s: decoded to the end without an internal error', (f) => {
    const { problems } = runBoth(readFileSync(path.join(CORPUS, f)));
    expect(internal(problems)).toEqual([]);
    if (MUST_REPORT.includes(f)) {
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) {
        expect(p.packet).toBeGreaterThan(0);
        expect(p.layer).toMatch(/^[a-z0-9]+$/);
        expect(p.reason.length).toBeGreaterThan(5);
      }
    }
  });
});

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const kind = Math.floor(rnd() * 4);
  const n = 1 + Math.floor(rnd() * 8);
  // Keep the file header mostly intact so mutations reach the packet decoders.
  const from = Math.min(24, b.length - 1);
  for (let i = 0; i < n; i++) {
    const at = from + Math.floor(rnd() * (b.length - from));
    if (kind === 0) b[at] = Math.floor(rnd() * 256);
    else if (kind === 1) b[at] ^= 1 << Math.floor(rnd() * 8);
    else if (kind === 2) b[at] = rnd() < 0.5 ? 0 : 0xff;
    else return b.subarray(0, at);
  }
  return b;
}

const FUZZ_SEEDS = ['vxlan.pcap', 'vxlan_port_8472.pcap', 'bgp-evpn.pcap', 'bgp-addpath.pcap', 'bgp-4byte-asn.pcap', 'bgp-large-community.pcap', 'OSPFv2_Capture_FINAL.pcapng', 'ospf-ack.pcap', 'bfd-raw-auth-md5.pcap', 'dns_udp.pcap', 'dns_tcp.pcap', 'LACP.pcap', 'lldp_8021_linkagg.pcap', 'geneve.pcap', 'gso-ipv4-vxlan-ipv6.pcap', 'tcp-handshake-nano.pcap', 'icmpv6.pcap', 'arp-too-long-tha.pcap'];

describe.skipIf(!corpusPresent && !inCI)('bounded fuzzing: random mutations of good captures (seeded, deterministic)', () => {
  it.each(FUZZ_SEEDS)('%s: 150 mutations decode without an internal error', (f) => {
    const src = readFileSync(path.join(CORPUS, f));
    const rnd = prng(0x5eed ^ f.length * 7919);
    let withProblems = 0;
    for (let i = 0; i < 150; i++) {
      const { problems } = runBoth(mutate(src, rnd));
      expect(internal(problems), `mutation ${i} of ${f}`).toEqual([]);
      if (problems.length) withProblems++;
    }
    // The mutations must actually break things, or this test proves nothing.
    expect(withProblems).toBeGreaterThan(10);
  });
});
