import { describe, expect, it } from 'vitest';
import { linkTypeSupported } from '../../src/pcap/dissect.ts';
import { CORPUS, corpusCaptures, corpusPresent, decodeFile, first, tsharkJson, tsharkPresent } from './corpus.ts';
import { comparePacket } from './oracle.ts';
import path from 'node:path';
import { inCI } from '../support/ci.ts';

/**
 * Fields where tshark 4.0 (Debian 12) is the one that is wrong or silent, each checked
 * against tcpdump's golden output in tcpdump.test.ts instead.
 */
const TSHARK_GAPS: Record<string, { fields: string[]; why: string }> = {
  'bgp-extended-optional-parameters-length.pcapng': { fields: ['bgp.cap.mp.afi/safi'], why: 'tshark 4.0 does not decode RFC 9072 extended optional parameters' },
  'dns_udp_8053.pcap': { fields: ['missing:dns'], why: 'DNS on port 8053: tshark guesses DNS there, we decode DNS on port 53 only' },
  'dns_tcp_8053.pcap': { fields: ['missing:dns'], why: 'DNS on port 8053: tshark guesses DNS there, we decode DNS on port 53 only' },
};
for (const f of ['bigtcp-ipv6-vxlan-ipv4.pcap', 'bigtcp-ipv6-vxlan-ipv6.pcap']) {
  TSHARK_GAPS[f] = { fields: ['udp', 'vxlan', 'eth', 'ip', 'ipv6', 'tcp'].map((l) => `layer:${l}`), why: 'tshark 4.0 stops at IPv6 payload length 0 (BIG TCP jumbogram)' };
}

const missing = !corpusPresent ? `corpus ${CORPUS}` : !tsharkPresent ? 'tshark (apt-get install tshark)' : '';
if (missing && !inCI) console.log(`pcap oracle tests skipped: missing ${missing}`);

describe.skipIf(!!missing && !inCI)('decode agrees with tshark, packet by packet', () => {
  const files = corpusCaptures();
  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(100);
  });
  describe.concurrent.each(files)('%s', (file) => {
    it('frames, and on supported link types layers and key fields, equal tshark -T json', async () => {
      const full = path.join(CORPUS, file);
      const ours = decodeFile(full);
      const ts = await tsharkJson(full);
      // Every frame, whatever its link type: the same frames with the same lengths.
      expect(ours.packets.length).toBe(ts.length);
      const frames = (ps: typeof ours.packets) => ps.map((p) => `#${p.index} ${p.capLen}/${p.origLen}`);
      expect(frames(ours.packets)).toEqual(ts.map((t, i) => `#${i + 1} ${first(t, 'frame.cap_len')}/${first(t, 'frame.len')}`));
      const diffs: string[] = [];
      for (const p of ours.packets.filter((x) => linkTypeSupported(x.linkType))) {
        diffs.push(...comparePacket(p, ts[p.index - 1], (_n, field) => TSHARK_GAPS[file]?.fields.includes(field) ?? false));
      }
      expect(diffs).toEqual([]);
    }, 60_000);
  });
});
