import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { domainCaptureFindings } from '../../domains/index.ts';
import { loadModel } from '../../model/index.ts';
import { numberListOpt, numberOpt, stringOpt, type Command } from '../command.ts';
import { UsageError } from '../../util/errors.ts';
import { analyzeFile } from '../../pcap/analyze.ts';
import { bySeverity } from '../../pcap/findings.ts';
import { loadExpectations } from '../../pcap/expectations.ts';
import { formatReport, type ReportFormat } from '../../pcap/format.ts';
import { CaptureFormatError } from '../../pcap/reader.ts';

export const pcapAnalyze: Command = {
  name: 'pcap analyze',
  summary: 'Decode a pcap/pcapng capture: flows, TCP health, VXLAN tunnels, BGP/OSPF sessions, findings against the intent',
  usage: 'netloom pcap analyze FILE [--intent DIR] [--format text|md|json] [--vxlan-port PORT]... [--arp-flood PPS]',
  options: {
    intent: { type: 'string', arg: 'DIR', help: 'compare VTEPs, VNIs, BGP and OSPF parameters with the fabric model of DIR, and TCP connections with its firewall policies' },
    format: { type: 'string', arg: 'FORMAT', choices: ['text', 'md', 'json'], default: 'text', help: 'report format' },
    'vxlan-port': { type: 'number', arg: 'PORT', integer: true, min: 1, max: 65535, multiple: true, help: 'decode this UDP port as VXLAN too (4789 always; Linux used 8472)' },
    'arp-flood': { type: 'number', arg: 'PPS', min: 1, default: 100, help: 'ARP packets per second above which a flood is reported' },
  },
  notes: ['exit status: 0 analysed; 1 with --intent when a finding is an error; 2 unreadable file or bad usage'],
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file || ctx.positionals.length > 1) throw new UsageError(`expected one capture file\nusage: ${this.usage}`);
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`no such file: ${file}`);
    const format = stringOpt(ctx, 'format') as ReportFormat;
    const ports = numberListOpt(ctx, 'vxlan-port');
    const intent = stringOpt(ctx, 'intent');
    const expectations = intent ? await loadExpectations(intent) : undefined;
    let report;
    try {
      report = analyzeFile(file, { vxlanPorts: ports, expectations, arpFloodPps: numberOpt(ctx, 'arp-flood') });
    } catch (e) {
      if (e instanceof CaptureFormatError) throw new UsageError(`${file}: ${e.message}`);
      throw e;
    }
    if (intent && !existsSync(path.join(intent, 'pcap-expectations.json'))) {
      // Each intent domain's own questions about the capture (the firewall: denied flows that passed).
      const extra = domainCaptureFindings(await loadModel(intent), report);
      if (extra.length) report.findings = bySeverity([...report.findings, ...extra]);
    }
    ctx.out(formatReport(report, format));
    return intent && report.findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
