// `pcap analyze --intent` with a firewall: TCP connections a capture shows completing their
// handshake although the policies on their path deny them, through the real CLI on fw1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pcapHeader, pcapRecord } from '../../src/pcap/writer.ts';
import { eth, ipv4, tcp } from './packets.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'netloom-pcap-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const SYN = 0x02;
const SYNACK = 0x12;
const ACK = 0x10;
const RST = 0x04;

/** A TCP exchange: [from client?, flags] steps between client and server. */
function conn(client: string, cport: number, server: string, sport: number, steps: [boolean, number][]): Buffer[] {
  return steps.map(([fromClient, flags], i) =>
    fromClient ? eth(M2, M1, 0x0800, ipv4(client, server, 6, tcp(cport, sport, 1000 + i, 2000 + i, flags))) : eth(M1, M2, 0x0800, ipv4(server, client, 6, tcp(sport, cport, 2000 + i, 1000 + i, flags))),
  );
}
const handshake: [boolean, number][] = [[true, SYN], [false, SYNACK], [true, ACK], [true, ACK]];

function analyze(packets: Buffer[], intent: string): { status: number | null; findings: { severity: string; category: string; message: string }[] } {
  const o = { linkType: 1 };
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.pcap`);
  writeFileSync(file, Buffer.concat([pcapHeader(o), ...packets.map((p, i) => pcapRecord(o, 1, i * 1000, p))]));
  const r = spawnSync(process.execPath, [path.join(root, 'src/cli/bin.mjs'), 'pcap', 'analyze', file, '--intent', intent, '--format', 'json'], { encoding: 'utf8' });
  return { status: r.status, findings: (JSON.parse(r.stdout) as { findings: { severity: string; category: string; message: string }[] }).findings };
}

describe('pcap analyze --intent: connections the firewall denies', () => {
  it('names a completed connection the policy rejects, with the rule and its line; allowed and refused ones pass', () => {
    const r = analyze(
      [
        // h1 -> h4 tcp/5432: rejected by db-deny, yet the handshake completed.
        ...conn('10.10.10.11', 40000, '10.20.30.14', 5432, handshake),
        // h1 -> h3 tcp/8080: accepted by web-to-app.
        ...conn('10.10.10.11', 40001, '10.10.20.13', 8080, handshake),
        // h1 -> h4 tcp/5432 again, refused as the policy says: no finding.
        ...conn('10.10.10.11', 40002, '10.20.30.14', 5432, [[true, SYN], [false, RST | ACK]]),
      ],
      path.join(root, 'intents/fw1'),
    );
    const fw = r.findings.filter((f) => f.category === 'firewall');
    expect(fw).toEqual([
      {
        severity: 'error',
        category: 'firewall',
        message: 'TCP 10.10.10.11:40000 -> 10.20.30.14:5432 completed its handshake (4 packets) although policy tenants rejects it (rule db-deny at intents/fw1/firewall.yaml:45:11)',
      },
    ]);
    expect(r.status).toBe(1);
  });

  it('a capture of allowed traffic only gives no firewall finding and exits 0', () => {
    const r = analyze(conn('10.10.20.13', 50000, '10.20.30.14', 5432, handshake), path.join(root, 'intents/fw1'));
    expect(r.findings.filter((f) => f.category === 'firewall')).toEqual([]);
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.status).toBe(0);
  });
});
