import { existsSync, statSync } from 'node:fs';
import { stringListOpt, stringOpt, type Command } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { analyzeFile } from '../../pcap/analyze.ts';
import { loadExpectations } from '../../pcap/expectations.ts';
import { formatReport, type ReportFormat } from '../../pcap/format.ts';
import { CaptureFormatError } from '../../pcap/reader.ts';

export const pcapAnalyze: Command = {
  name: 'pcap analyze',
  summary: 'Decode a pcap/pcapng capture: flows, TCP health, VXLAN tunnels, BGP/OSPF sessions, findings against the intent',
  usage: [
    'netloom pcap analyze FILE [--intent DIR] [--format text|md|json] [--vxlan-port PORT]... [--arp-flood PPS]',
    '',
    '  --intent DIR      compare VTEPs, VNIs, BGP and OSPF parameters with the fabric model of DIR',
    '  --format          text (default), md or json',
    '  --vxlan-port      decode this UDP port as VXLAN too (4789 always; Linux used 8472)',
    '  --arp-flood PPS   ARP packets per second above which a flood is reported (default 100)',
    '',
    'exit status: 0 analysed; 1 with --intent when a finding is an error; 2 unreadable file or bad usage',
  ].join('\n'),
  options: {
    intent: { type: 'string' },
    format: { type: 'string' },
    'vxlan-port': { type: 'string', multiple: true },
    'arp-flood': { type: 'string' },
  },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file || ctx.positionals.length > 1) throw new UsageError(`expected one capture file\nusage: ${this.usage.split('\n')[0]}`);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`no such file: ${file}`);
    const format = (stringOpt(ctx, 'format') ?? 'text') as ReportFormat;
    if (!['text', 'md', 'json'].includes(format)) throw new UsageError(`--format must be text, md or json, not '${format}'`);
    const ports = stringListOpt(ctx, 'vxlan-port').map((p) => {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--vxlan-port expects a UDP port, got '${p}'`);
      return n;
    });
    const arp = stringOpt(ctx, 'arp-flood');
    const intent = stringOpt(ctx, 'intent');
    const expectations = intent ? await loadExpectations(intent) : undefined;
    let report;
    try {
      report = analyzeFile(file, { vxlanPorts: ports, expectations, arpFloodPps: arp !== undefined ? Number(arp) : undefined });
    } catch (e) {
      if (e instanceof CaptureFormatError) throw new UsageError(`${file}: ${e.message}`);
      throw e;
    }
    ctx.out(formatReport(report, format));
    return intent && report.findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
