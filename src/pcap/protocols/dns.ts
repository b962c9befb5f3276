/** DNS messages (RFC 1035): questions and answers, with compression-loop protection. */
import { DecodeError, ipv4At, ipv6At, need } from '../bytes.ts';

export const DNS_TYPE_NAME: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 65: 'HTTPS', 256: 'URI',
};

export interface DnsRecord {
  name: string;
  type: number;
  typeName: string;
  ttl: number;
  data?: string;
}

export interface DnsMessage {
  id: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: Array<{ name: string; type: number; typeName: string }>;
  answers: DnsRecord[];
  counts: { qd: number; an: number; ns: number; ar: number };
}

/** Reads a (possibly compressed) name at p; returns it and where the name ends in place. */
function readName(buf: Buffer, base: number, p: number, end: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    need(p, 1, end, 'DNS name');
    const l = buf[p];
    if (l === 0) {
      p++;
      break;
    }
    if ((l & 0xc0) === 0xc0) {
      need(p, 2, end, 'DNS compression pointer');
      const target = base + (buf.readUInt16BE(p) & 0x3fff);
      if (next < 0) next = p + 2;
      if (++jumps > 64 || target >= p) throw new DecodeError('DNS compression pointer loop');
      p = target;
      continue;
    }
    if (l & 0xc0) throw new DecodeError(`DNS label type 0x${(l & 0xc0).toString(16)}`);
    need(p + 1, l, end, 'DNS label');
    labels.push(buf.toString('latin1', p + 1, p + 1 + l));
    total += l + 1;
    if (total > 255) throw new DecodeError('DNS name longer than 255 bytes');
    p += 1 + l;
  }
  return { name: labels.length ? labels.join('.') : '<Root>', next: next < 0 ? p : next };
}

export function decodeDns(buf: Buffer, off: number, end: number): DnsMessage {
  need(off, 12, end, 'DNS header');
  const flags = buf.readUInt16BE(off + 2);
  const counts = { qd: buf.readUInt16BE(off + 4), an: buf.readUInt16BE(off + 6), ns: buf.readUInt16BE(off + 8), ar: buf.readUInt16BE(off + 10) };
  const msg: DnsMessage = { id: buf.readUInt16BE(off), response: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 15, rcode: flags & 15, questions: [], answers: [], counts };
  let p = off + 12;
  for (let i = 0; i < counts.qd; i++) {
    const n = readName(buf, off, p, end);
    need(n.next, 4, end, 'DNS question');
    const type = buf.readUInt16BE(n.next);
    msg.questions.push({ name: n.name, type, typeName: DNS_TYPE_NAME[type] ?? `TYPE${type}` });
    p = n.next + 4;
  }
  for (let i = 0; i < counts.an; i++) {
    const n = readName(buf, off, p, end);
    need(n.next, 10, end, 'DNS resource record');
    const type = buf.readUInt16BE(n.next);
    const ttl = buf.readUInt32BE(n.next + 4);
    const rdlen = buf.readUInt16BE(n.next + 8);
    const rd = n.next + 10;
    need(rd, rdlen, end, 'DNS record data');
    const rec: DnsRecord = { name: n.name, type, typeName: DNS_TYPE_NAME[type] ?? `TYPE${type}`, ttl };
    if (type === 1 && rdlen === 4) rec.data = ipv4At(buf, rd);
    else if (type === 28 && rdlen === 16) rec.data = ipv6At(buf, rd);
    else if (type === 5 || type === 2 || type === 12) rec.data = readName(buf, off, rd, rd + rdlen).name;
    msg.answers.push(rec);
    p = rd + rdlen;
  }
  return msg;
}
