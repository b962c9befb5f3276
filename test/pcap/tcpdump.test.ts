/**
 * Second reference: tcpdump's golden outputs (`*.out` in the corpus, made by tcpdump itself).
 * Per packet: the VXLAN VNIs, the BGP OPEN "my AS" values and the OSPFv2 packet types that
 * tcpdump printed must be what we decode.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, corpusPresent, decodeFile } from './corpus.ts';
import { inCI } from '../support/ci.ts';

interface Entry {
  name: string;
  capture: string;
  out: string;
  options: string;
}

function testList(): Entry[] {
  const f = path.join(CORPUS, 'TESTLIST.subset');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length >= 3 && !w[0].startsWith('#'))
    .map(([name, capture, out, ...opt]) => ({ name, capture, out, options: opt.join(' ') }));
}

/** tcpdump's text split per packet number (the outputs are numbered). */
function packets(text: string): Map<number, string> {
  const m = new Map<number, string>();
  let cur = -1;
  for (const line of text.split('\n')) {
    const s = /^\s{0,6}(\d+)\s{2}\S/.exec(line);
    if (s) cur = Number(s[1]);
    if (cur > 0) m.set(cur, (m.get(cur) ?? '') + line + '\n');
  }
  return m;
}

const OSPF_TYPE: Record<string, number> = { Hello: 1, 'Database Description': 2, 'LS-Request': 3, 'LS-Update': 4, 'LS-Ack': 5 };

const entries = testList().filter((e) => /vxlan|bgp|ospf(?!3|6)|OSPFv2/i.test(e.name) && !/-b$|asdot/.test(e.name) && existsSync(path.join(CORPUS, e.capture)) && existsSync(path.join(CORPUS, e.out)));
if (!corpusPresent && !inCI) console.log(`tcpdump golden-output tests skipped: missing corpus ${CORPUS}`);

describe.skipIf(!corpusPresent && !inCI)('decode agrees with tcpdump golden outputs', () => {
  let total = 0;
  it('has entries to compare', () => {
    expect(entries.length).toBeGreaterThan(20);
  });
  it.each(entries.map((e) => [e.name, e] as const))('%s', (_n, e) => {
    const ours = decodeFile(path.join(CORPUS, e.capture), e.capture.includes('8472') ? [8472] : []);
    const theirs = packets(readFileSync(path.join(CORPUS, e.out), 'utf8'));
    let compared = 0;
    const diffs: string[] = [];
    // `-c N` in the test list: tcpdump printed the first N packets only.
    const count = /(?:^|\s)-c\s*(\d+)/.exec(e.options);
    const printed = count ? ours.packets.slice(0, Number(count[1])) : ours.packets;
    expect(printed.length).toBeGreaterThan(0);
    for (const p of printed) {
      const t = theirs.get(p.index);
      if (!t) {
        diffs.push(`#${p.index}: tcpdump printed no such packet`);
        continue;
      }
      const vnis = [...t.matchAll(/VXLAN, flags \[[^\]]*\] \(0x[0-9a-f]+\), vni (\d+)/g)].map((m) => Number(m[1]));
      const mine = p.layers.flatMap((l) => (l.proto === 'vxlan' ? [l.vni] : []));
      if (vnis.length || mine.length) {
        compared++;
        if (JSON.stringify(vnis) !== JSON.stringify(mine)) diffs.push(`#${p.index} vni: tcpdump ${vnis}, ours ${mine}`);
      }
      // tcpdump does not reassemble TCP: compare OPENs only where it printed them whole.
      const myAs = [...t.matchAll(/my AS (\d+)/g)].map((m) => Number(m[1]));
      const opens = p.layers.flatMap((l) => (l.proto === 'bgp' && l.open ? [l.open.myAs] : []));
      if (myAs.length && !t.includes('[|BGP') && !t.includes('[|bgp')) {
        compared++;
        if (JSON.stringify(myAs) !== JSON.stringify(opens)) diffs.push(`#${p.index} BGP my AS: tcpdump ${myAs}, ours ${opens}`);
      }
      const ospf = [...t.matchAll(/OSPFv2, (Hello|Database Description|LS-Request|LS-Update|LS-Ack)/g)].map((m) => OSPF_TYPE[m[1]]);
      const myOspf = p.layers.flatMap((l) => (l.proto === 'ospf' && l.version === 2 ? [l.type] : []));
      if (ospf.length) {
        compared++;
        if (JSON.stringify(ospf) !== JSON.stringify(myOspf)) diffs.push(`#${p.index} OSPF type: tcpdump ${ospf}, ours ${myOspf}`);
      }
    }
    expect(diffs).toEqual([]);
    total += compared;
  });
  it('compared fields in many packets', () => {
    expect(total).toBeGreaterThan(100);
  });
  it('BIG TCP VXLAN (where tshark 4.0 stops): VNI 5001 as tcpdump prints it', () => {
    for (const f of ['bigtcp-ipv4-vxlan-ipv4', 'bigtcp-ipv6-vxlan-ipv6']) {
      const ours = decodeFile(path.join(CORPUS, `${f}.pcap`));
      const out = readFileSync(path.join(CORPUS, `${f}.out`), 'utf8');
      expect(out).toContain('vni 5001');
      expect(ours.packets[0].layers.find((l) => l.proto === 'vxlan')).toMatchObject({ vni: 5001 });
    }
  });
  it('RFC 9072 extended optional parameters (where tshark 4.0 is silent): AFI/SAFIs as tcpdump prints them', () => {
    const ours = decodeFile(path.join(CORPUS, 'bgp-extended-optional-parameters-length.pcapng'));
    const out = readFileSync(path.join(CORPUS, 'bgp-extended-optional-parameters-length.out'), 'utf8');
    const theirs = [...out.matchAll(/Multiprotocol Extensions \(1\), length: 4\s+AFI \S+ \((\d+)\), SAFI [^(]+\((\d+)\)/g)].map((m) => `${m[1]}/${m[2]}`);
    const bgp = ours.packets[0].layers.find((l) => l.proto === 'bgp');
    expect(theirs).toEqual(['1/1', '2/1']);
    expect(bgp && bgp.proto === 'bgp' && bgp.open?.afiSafis.map((a) => `${a.afi}/${a.safi}`)).toEqual(theirs);
  });
});
