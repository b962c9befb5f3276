import { describe, expect, it } from 'vitest';
import { linkTypeSupported } from '../../src/pcap/dissect.ts';
import { CORPUS, corpusCaptures, corpusPresent, decodeFile, tsharkJson, tsharkPresent } from './corpus.ts';
import { comparePacket } from './oracle.ts';
import path from 'node:path';

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

const ci = process.env.CI === 'true';
const missing = !corpusPresent ? `corpus ${CORPUS}` : !tsharkPresent ? 'tshark (apt-get install tshark)' : '';
if (missing && !ci) console.log(`pcap oracle tests skipped: missing ${missing}`);

describe.skipIf(!!missing && !ci)('decode agrees with tshark, packet by packet', () => {
  const files = corpusCaptures();
  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(100);
  });
  describe.concurrent.each(files)('%s', (file) => {
    it('layers and key fields equal tshark -T json', async () => {
      const full = path.join(CORPUS, file);
      const ours = decodeFile(full);
      const supported = ours.packets.filter((p) => linkTypeSupported(p.linkType));
      if (supported.length === 0) return;
      const ts = await tsharkJson(full);
      const diffs: string[] = [];
      for (const p of supported) {
        const t = ts[p.index - 1];
        if (!t) {
          diffs.push(`#${p.index}: tshark has no such packet`);
          continue;
        }
        diffs.push(...comparePacket(p, t, (_n, field) => TSHARK_GAPS[file]?.fields.includes(field) ?? false));
      }
      expect(diffs).toEqual([]);
    }, 60_000);
  });
});
